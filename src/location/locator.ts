/**
 * From one sighting to one fix on one floor, with the estimator the data allows (R-LOC-2: every
 * fix carries an accuracy):
 *  - a vendor position (Mist, Meraki, Spaces x/y) is passed through with the vendor's accuracy,
 *    or the accuracy R-LOC-2 expects for the device kind;
 *  - readings from registered sensors are solved by weighted least squares on the site's
 *    path-loss model, then smoothed per device (Kalman);
 *  - a device known only to be on an AP is placed on the AP with its coverage radius.
 * Synchronous and allocation-light: the pipeline calls it once per observation.
 */
import { DeviceSmoother, RssiPositionSolver, associationFix, vendorFix, type PositionFix } from './engine/index.ts';
import type { FloorPlan, OrgPlan, PlacedSensor } from './plan.ts';

/** What kind of device a sighting is of (the ingest kinds, R-LOC-1). */
export type SightingKind = 'wifi-connected' | 'wifi-unconnected' | 'ble-badge' | 'ble-asset' | 'sdk' | 'wired';

/** The part of an observation the locator reads (`RawObservation` fits it). */
export interface Sighting {
  kind: SightingKind;
  atMs: number;
  sensorId?: string;
  apMac?: string;
  rssiDbm?: number;
  readings?: readonly { sensorId: string; rssiDbm: number }[];
  vendorX?: number;
  vendorY?: number;
  vendorFloorId?: string;
  vendorAccuracyM?: number;
}

/** Why a sighting got no fix (a metrics and summary label). */
export type UnlocatedReason = 'unknown_floor' | 'unknown_sensor' | 'other_site' | 'no_position';

/**
 * Accuracy (metres) R-LOC-2 expects when a vendor gives none: connected Wi-Fi 5–10 m, unconnected
 * about 10 m, BLE badge 3–5 m, SDK app 1–3 m.
 */
export const EXPECTED_ACCURACY_M: Readonly<Record<SightingKind, number>> = Object.freeze({
  'wifi-connected': 7.5,
  'wifi-unconnected': 10,
  'ble-badge': 4,
  'ble-asset': 4,
  sdk: 2,
  wired: 10,
});

/** Idle smoothing state is swept at most this often per org, ms of data time. */
const SWEEP_EVERY_MS = 30_000;

export interface LocatorOptions {
  /** Forget a device's smoothing state after this much silence (ms); default 30 s. */
  resetAfterMs?: number;
}

/**
 * One per pipeline (not re-entrant): solvers by shadowing σ, a smoother per org.
 *
 * @example
 * const where = locator.locate(plan, obs, pseudonym, null, vendorFloors, fix);
 * if (typeof where !== 'string') zone = where.zones.zoneAt(fix.xMeters, fix.yMeters);
 */
export class Locator {
  private readonly solvers = new Map<number, RssiPositionSolver>();
  /** Per org, per floor: coordinates of two floors are never averaged. */
  private readonly smoothers = new Map<string, Map<string, DeviceSmoother>>();
  /** Per org, the data time of the last idle sweep. */
  private readonly sweptAtMs = new Map<string, number>();
  private readonly raw: PositionFix = { xMeters: 0, yMeters: 0, accuracyMeters: 0, method: 'centroid', sensorCount: 0 };
  private readonly resetAfterMs: number;

  constructor(opts: LocatorOptions = {}) {
    this.resetAfterMs = opts.resetAfterMs ?? 30_000;
  }

  private solver(sigmaDb: number): RssiPositionSolver {
    let s = this.solvers.get(sigmaDb);
    if (!s) {
      s = new RssiPositionSolver({ shadowingSigmaDb: sigmaDb, capacity: 32 });
      this.solvers.set(sigmaDb, s);
    }
    return s;
  }

  /** A floor's smoother (device keys are the org's pseudonyms; state is real time only). */
  smoother(orgId: string, floorId: string): DeviceSmoother {
    let byFloor = this.smoothers.get(orgId);
    if (!byFloor) {
      byFloor = new Map();
      this.smoothers.set(orgId, byFloor);
    }
    let s = byFloor.get(floorId);
    if (!s) {
      s = new DeviceSmoother({ resetAfterMs: this.resetAfterMs });
      byFloor.set(floorId, s);
    }
    return s;
  }

  /**
   * Drop idle devices' smoothing state (call after each batch with the data's clock). Sweeps an
   * org at most once per {@link SWEEP_EVERY_MS} of data time: a sweep visits every device, and
   * running it per batch cost as much as locating the batch with 10 000 live devices.
   */
  evictIdle(orgId: string, cutoffMs: number): number {
    const last = this.sweptAtMs.get(orgId);
    if (last !== undefined && cutoffMs >= last && cutoffMs - last < SWEEP_EVERY_MS) return 0;
    this.sweptAtMs.set(orgId, cutoffMs);
    let n = 0;
    for (const s of this.smoothers.get(orgId)?.values() ?? []) n += s.evictIdle(cutoffMs);
    return n;
  }

  /** Drop an org's state (org deleted). */
  forgetOrg(orgId: string): void {
    this.smoothers.delete(orgId);
    this.sweptAtMs.delete(orgId);
  }

  /**
   * Locate one sighting of `deviceKey` into `out`; returns the floor, or why there is no fix.
   * `siteId` (when set) confines it to that site's floors and sensors; `vendorFloors` maps the
   * vendor's map/floor-plan ids to Cairn floor ids (a Cairn floor id is accepted as it is).
   */
  locate(plan: OrgPlan, o: Sighting, deviceKey: string, siteId: string | null, vendorFloors: Readonly<Record<string, string>>, out: PositionFix): FloorPlan | UnlocatedReason {
    if (o.vendorX !== undefined && o.vendorY !== undefined) {
      let floor: FloorPlan | undefined;
      if (o.vendorFloorId !== undefined) floor = plan.floors.get(vendorFloors[o.vendorFloorId] ?? o.vendorFloorId);
      floor ??= this.strongestFloor(plan, o, siteId);
      if (!floor) return 'unknown_floor';
      if (siteId !== null && floor.siteId !== siteId) return 'other_site';
      if (!Number.isFinite(o.vendorX) || !Number.isFinite(o.vendorY)) return 'no_position';
      vendorFix(o.vendorX, o.vendorY, o.vendorAccuracyM, EXPECTED_ACCURACY_M[o.kind], out);
      return floor;
    }
    const readings = o.readings;
    if ((readings && readings.length > 0) || (o.sensorId !== undefined && o.rssiDbm !== undefined)) {
      const r = this.solveReadings(plan, o, deviceKey, siteId, out);
      if (typeof r !== 'string' || r === 'other_site') return r;
    }
    const ap = (o.apMac !== undefined ? plan.sensor(o.apMac) : undefined) ?? (o.sensorId !== undefined ? plan.sensor(o.sensorId) : undefined);
    if (ap) {
      if (siteId !== null && ap.siteId !== siteId) return 'other_site';
      const floor = plan.floors.get(ap.floorId);
      if (!floor) return 'unknown_floor';
      associationFix(ap, out);
      return floor;
    }
    return o.apMac !== undefined || o.sensorId !== undefined || (readings && readings.length > 0) ? 'unknown_sensor' : 'no_position';
  }

  /** The floor of the strongest reading from a registered sensor (in the site, when confined). */
  private strongestFloor(plan: OrgPlan, o: Sighting, siteId: string | null): FloorPlan | undefined {
    const best = this.strongest(plan, o, siteId);
    return best ? plan.floors.get(best.floorId) : undefined;
  }

  private strongest(plan: OrgPlan, o: Sighting, siteId: string | null): PlacedSensor | undefined {
    let best: PlacedSensor | undefined;
    let bestRssi = -Infinity;
    const rs = o.readings;
    if (rs) {
      for (let i = 0; i < rs.length; i++) {
        const r = rs[i]!;
        if (r.rssiDbm <= bestRssi) continue;
        const s = plan.sensor(r.sensorId);
        if (s && (siteId === null || s.siteId === siteId)) {
          best = s;
          bestRssi = r.rssiDbm;
        }
      }
    }
    if (!best && o.sensorId !== undefined) {
      const s = plan.sensor(o.sensorId);
      if (s && (siteId === null || s.siteId === siteId)) best = s;
    }
    if (!best && o.apMac !== undefined) {
      const s = plan.sensor(o.apMac);
      if (s && (siteId === null || s.siteId === siteId)) best = s;
    }
    return best;
  }

  private solveReadings(plan: OrgPlan, o: Sighting, deviceKey: string, siteId: string | null, out: PositionFix): FloorPlan | UnlocatedReason {
    const rs = o.readings && o.readings.length > 0 ? o.readings : undefined;
    const anchor = this.strongest(plan, o, null);
    if (!anchor) return 'unknown_sensor';
    if (siteId !== null && anchor.siteId !== siteId) return 'other_site';
    const floor = plan.floors.get(anchor.floorId);
    if (!floor) return 'unknown_floor';
    const solver = this.solver(anchor.shadowingSigmaDb).reset();
    const ble = o.kind === 'ble-badge' || o.kind === 'ble-asset';
    if (rs) {
      // Only readings from sensors on the anchor's floor; the same sensor twice (two bands)
      // counts once, with its stronger reading.
      const n = rs.length;
      for (let i = 0; i < n; i++) {
        const r = rs[i]!;
        const s = plan.sensor(r.sensorId);
        if (s === undefined || s.floorId !== anchor.floorId) continue;
        let shadowed = false;
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const q = rs[j]!;
          if (q.sensorId === r.sensorId && (q.rssiDbm > r.rssiDbm || (q.rssiDbm === r.rssiDbm && j < i))) {
            shadowed = true;
            break;
          }
        }
        if (!shadowed) solver.add(s.xMeters, s.yMeters, r.rssiDbm, ble ? s.bleModel : s.wifiModel);
      }
    }
    // One sensor cannot place a device better than "near it": that is an association fix.
    if (solver.count < 2) {
      associationFix(anchor, out);
      return floor;
    }
    solver.solve(floor.bounds, this.raw);
    this.smoother(plan.orgId, floor.id).update(deviceKey, o.atMs, this.raw, out);
    return floor;
  }
}
