/**
 * Scores the location engine on the simulator's ground truth, the way Cairn's locator uses it:
 * for each sighting of one kind, the floor is that of the strongest reading, the readings of
 * that floor's sensors are solved by weighted least squares (`RssiPositionSolver`) on each
 * sensor's path-loss model, the fix is smoothed per device and floor (`DeviceSmoother`), and
 * the error is the distance to where the device truly was. A fix on the wrong floor counts as
 * an infinite error (it can only raise the median). Only sightings heard by at least
 * `minSensors` sensors of the chosen floor are scored, as the acceptance figure asks.
 */
import { DeviceSmoother, RssiPositionSolver, emptyFix, type Bounds } from '../location/engine/index.ts';
import type { SimTick, Simulation } from './simulation.ts';

export interface LocationEvalOptions {
  kind: 'ble-badge' | 'wifi-connected' | 'wifi-unconnected';
  /** Least readings from the fix's floor for a sighting to count; default 3. */
  minSensors?: number;
  /** Stop after scoring this many sightings. */
  maxSightings?: number;
  /** Shadowing σ the solver weights by; default the simulation's σ for the kind. */
  shadowingSigmaDb?: number;
}

export interface LocationEvalReport {
  kind: string;
  /** Sightings of the kind seen, and those scored (enough readings). */
  sightings: number;
  scored: number;
  /** Share of scored fixes on the true floor. */
  floorHitRate: number;
  /** Smoothed fixes (what Cairn reports), metres; wrong floors count as infinite. */
  medianErrorM: number;
  p90ErrorM: number;
  /** Mean over fixes on the right floor. */
  meanErrorM: number;
  /** Raw (unsmoothed) fixes' median. */
  rawMedianErrorM: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * Locate every sighting of `kind` in the ticks and compare with the truth.
 *
 * @example evaluateLocation(sim, sim.ticks({ toMs }), { kind: 'ble-badge' }).medianErrorM // ≈ 1.5
 */
export function evaluateLocation(sim: Simulation, ticks: Iterable<SimTick>, opts: LocationEvalOptions): LocationEvalReport {
  const campus = sim.campus;
  const minSensors = opts.minSensors ?? 3;
  const sigma = opts.shadowingSigmaDb ?? (opts.kind === 'ble-badge' ? sim.options.badgeSigmaDb : sim.options.wifiSigmaDb);
  const solver = new RssiPositionSolver({ shadowingSigmaDb: Math.max(sigma, 1), capacity: 64 });
  const smoother = new DeviceSmoother();
  const raw = emptyFix();
  const smoothed = emptyFix();
  const bounds: Bounds[] = campus.floors.map((f) => ({ minX: 0, minY: 0, maxX: f.widthM, maxY: f.heightM }));
  const errors: number[] = [];
  const rawErrors: number[] = [];
  let sightings = 0;
  let hits = 0;
  let sum = 0;
  outer: for (const tick of ticks) {
    for (const s of tick.sightings) {
      if (s.kind !== opts.kind || s.readings.length === 0) continue;
      sightings++;
      const anchorFloor = campus.sensors[s.readings[0]!.sensor]!.floor;
      solver.reset();
      for (const r of s.readings) {
        const sensor = campus.sensors[r.sensor]!;
        if (sensor.floor === anchorFloor) solver.add(sensor.xM, sensor.yM, r.rssiDbm, sensor.model);
      }
      if (solver.count < minSensors) continue;
      solver.solve(bounds[anchorFloor]!, raw);
      smoother.update(`${anchorFloor}:${s.deviceId}`, s.atMs, raw, smoothed);
      if (anchorFloor !== s.floor) {
        errors.push(Infinity);
        rawErrors.push(Infinity);
      } else {
        hits++;
        const e = Math.hypot(smoothed.xMeters - s.x, smoothed.yMeters - s.y);
        errors.push(e);
        rawErrors.push(Math.hypot(raw.xMeters - s.x, raw.yMeters - s.y));
        sum += e;
      }
      if (opts.maxSightings !== undefined && errors.length >= opts.maxSightings) break outer;
    }
  }
  errors.sort((a, b) => a - b);
  rawErrors.sort((a, b) => a - b);
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    kind: opts.kind,
    sightings,
    scored: errors.length,
    floorHitRate: errors.length ? r2(hits / errors.length) : NaN,
    medianErrorM: r2(quantile(errors, 0.5)),
    p90ErrorM: r2(quantile(errors, 0.9)),
    meanErrorM: hits ? r2(sum / hits) : NaN,
    rawMedianErrorM: r2(quantile(rawErrors, 0.5)),
  };
}
