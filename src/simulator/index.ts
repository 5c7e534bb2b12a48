/**
 * The simulator (`cairn simulate`): a seeded campus with people, their devices and the radio
 * signals Cairn's sources would report, emitted lazily in every ingest format, with the ground
 * truth (true positions, true contacts) to score Cairn against. Pure and deterministic: no I/O
 * except in `cli.ts` (files, loopback HTTP) and the pacing of `liveStream`.
 */
export { buildCampus, campusPlan, zoneAt, SIM_WIFI_MODEL, type Campus, type CampusOptions, type SimBuilding, type SimFloor, type SimSensor, type SimZone, type ZoneKind } from './campus.ts';
export { buildPopulation, rotatingMac, BADGE_IBEACON_UUID, type DeviceType, type SimDevice, type SimPerson } from './population.ts';
export { planDay, legAt, positionAt, positionOnLeg, type Activity, type DayPlan, type FloorPosition, type Leg, type Meeting, type PersonDay } from './schedule.ts';
export { Radio, type RadioOptions, type SimReading } from './radio.ts';
export {
  Simulation,
  DEFAULT_START_MS,
  type ResolvedSimulationOptions,
  type SimAssociation,
  type SimSighting,
  type SimTick,
  type SimulationOptions,
} from './simulation.ts';
export { contactsOfDay, withinInterval, type ContactOptions, type TrueContact } from './contacts.ts';
export { contactJson, deviceRegistry, trueContacts, truePositions, truthSampleJson, type TruthSample } from './truth.ts';
export * from './emit/index.ts';
export { evaluateLocation, type LocationEvalOptions, type LocationEvalReport } from './evaluate.ts';
export { liveBatches, liveStream, type LiveBatch, type LiveStreamOptions } from './live.ts';
