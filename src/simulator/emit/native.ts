/**
 * Cairn's native batch format (`POST /api/v1/ingest/observations`): each sighting becomes one
 * observation with the readings of the sensors that heard it (sensor MACs), the AP of a
 * connected client, the app's own position for SDK phones, and a `sourceRecordId` built from
 * the seed, the time and the device number (never from a MAC), so a re-sent batch is stored once.
 */
import { NATIVE_MAX_BATCH, type NativeObservation } from '../../ingest/index.ts';
import type { SimBuilding, SimFloor } from '../campus.ts';
import type { Simulation, SimSighting, SimTick } from '../simulation.ts';
import { JSON_HEADERS, JsonBatcher, windowClosed, type SimPayload } from './types.ts';

export interface NativeEmitOptions {
  /** Observations per batch (at most `NATIVE_MAX_BATCH`, 1 000). */
  maxBatch?: number;
  /** A batch is sent at least this often (simulated time), ms; default 10 000. */
  windowMs?: number;
  /** Your site id for a building; default its key (`b1`). */
  siteIdOf?: (b: SimBuilding) => string;
  /** Your floor id for a floor (SDK positions name it); default its key (`b1-f2`). */
  floorIdOf?: (f: SimFloor) => string;
}

/**
 * One sighting as a native observation.
 *
 * @example nativeObservation(sim, sighting) // { kind: 'ble-badge', deviceId: 'ibeacon:…', readings: [{ sensorId: 'd4:20:b0:…', rssiDbm: -63 }, …], … }
 */
export function nativeObservation(sim: Simulation, s: SimSighting, opts: NativeEmitOptions = {}): NativeObservation {
  const campus = sim.campus;
  const floor = campus.floors[s.floor]!;
  const building = campus.buildings[floor.building]!;
  const o: NativeObservation = {
    kind: s.kind,
    deviceId: s.deviceId,
    idType: s.idType,
    atMs: s.atMs,
    siteId: opts.siteIdOf ? opts.siteIdOf(building) : building.key,
    sourceRecordId: `sim:${sim.options.seed}:${s.atMs}:${s.device}`,
  };
  if (s.kind === 'sdk') {
    o.x = s.estX;
    o.y = s.estY;
    o.floorId = opts.floorIdOf ? opts.floorIdOf(floor) : floor.key;
    o.accuracyM = s.estAccuracyM;
    return o;
  }
  if (s.readings.length > 0) {
    const best = s.readings[0]!;
    o.sensorId = campus.sensors[best.sensor]!.mac;
    o.rssiDbm = best.rssiDbm;
    o.readings = s.readings.map((r) => (s.band ? { sensorId: campus.sensors[r.sensor]!.mac, rssiDbm: r.rssiDbm, band: s.band } : { sensorId: campus.sensors[r.sensor]!.mac, rssiDbm: r.rssiDbm }));
  }
  if (s.band) o.band = s.band;
  if (s.ap >= 0) o.apMac = campus.sensors[s.ap]!.mac;
  return o;
}

/**
 * Native batches (`{"observations":[…]}`), each at most `maxBatch` observations and one window.
 *
 * @example for (const p of emitNative(sim, sim.ticks())) await fetch(url, { method: 'POST', headers: p.headers, body: p.body })
 */
export function* emitNative(sim: Simulation, ticks: Iterable<SimTick>, opts: NativeEmitOptions = {}): Generator<SimPayload> {
  const max = Math.min(opts.maxBatch ?? NATIVE_MAX_BATCH, NATIVE_MAX_BATCH);
  const windowMs = opts.windowMs ?? 10_000;
  const batch = new JsonBatcher(max, 1_000_000);
  const flush = (): SimPayload => ({ format: 'native', headers: { ...JSON_HEADERS }, ...batch.take('{"observations":[', ']}') });
  let windowStart = -Infinity;
  for (const tick of ticks) {
    if (batch.size > 0 && windowClosed(windowStart, tick.atMs, windowMs)) yield flush();
    if (batch.size === 0) windowStart = tick.atMs;
    for (const s of tick.sightings) {
      const json = JSON.stringify(nativeObservation(sim, s, opts));
      if (batch.full(json)) {
        yield flush();
        windowStart = tick.atMs;
      }
      batch.add(json, s.atMs);
    }
  }
  if (batch.size > 0) yield flush();
}
