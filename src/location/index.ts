/**
 * Location: the pure engine (`engine/`), an org's plan as the hot path needs it (floors, zone
 * indexes, placed sensors with their path-loss models), the locator that turns one sighting into
 * one fix, the in-memory presence tracker behind zone enter/exit events and zone-minute counts,
 * the sensor/AP registry with per-site calibration, and the audited reads of one device's fixes
 * and association sessions (`history.ts`).
 */
export * from './engine/index.ts';
export { DEFAULT_SHADOWING_SIGMA_DB, DEFAULT_WIFI_MODEL, OrgPlan, PlanCache, loadOrgPlan, type FloorPlan, type PlacedSensor, type VendorZone } from './plan.ts';
export { EXPECTED_ACCURACY_M, Locator, type LocatorOptions, type Sighting, type SightingKind, type UnlocatedReason } from './locator.ts';
export { PRESENCE_BUCKET_MS, PresenceBatch, PresenceTracker, type PresenceDelta } from './presence.ts';
export { SensorService, type Calibration, type CalibrationInput, type Sensor, type SensorInput, type SensorKind } from './sensors.ts';
export {
  DEFAULT_WINDOW_MS,
  FIX_WINDOW_MAX_MS,
  LocationHistoryService,
  PAGE_DEFAULT,
  PAGE_MAX,
  SESSION_WINDOW_MAX_MS,
  type DeviceFix,
  type DeviceRef,
  type DeviceSession,
  type HistoryPage,
  type HistoryQuery,
} from './history.ts';
