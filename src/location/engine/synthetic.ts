/**
 * A seeded simulation of one floor: sensors on a grid, people walking between random
 * waypoints, and the RSSI each sensor reports, drawn from the log-distance path-loss model
 * with log-normal shadowing. Tests use it to hold the solver to an error budget, the
 * benchmark to feed it realistic reading sets. The same seed always gives the same readings.
 */
import type { Bounds, Point } from './geometry.ts';
import { type PathLossModel, rssiAtDistance } from './pathloss.ts';
import { seededNormal, seededRandom } from '../../kernel/prng.ts';

export interface SyntheticFloorOptions {
  seed: number;
  /** Floor size in metres; default 40 × 30. */
  widthMeters?: number;
  heightMeters?: number;
  /** Sensors on a cols × rows grid with equal margins; default 4 × 3 (10 m spacing on 40 × 30). */
  sensorGrid?: readonly [number, number];
  /** True path-loss model of every sensor; default −59 dBm at 1 m, n = 2.2. */
  model?: PathLossModel;
  /** Shadowing σ in dB (log-normal, independent per reading); default 4 (badge-level). */
  shadowingSigmaDb?: number;
  /** Readings weaker than this are not heard (dBm); default −90. */
  sensitivityDbm?: number;
  /** Keep at most this many of the strongest readings per set; default 6. */
  maxReadings?: number;
  devices?: number;
  durationSeconds?: number;
  /** Time between two reading sets of one device (ms); default 1000. */
  intervalMs?: number;
  /** Walking speed range (m/s); default [0.8, 1.4]. */
  speedMetersPerSecond?: readonly [number, number];
  /** Longest pause at a waypoint (s); default 10. */
  maxPauseSeconds?: number;
}

/** One device sighting: the sensors that heard it, strongest first, and the truth. */
export interface SyntheticReadingSet {
  deviceKey: string;
  atMs: number;
  truthX: number;
  truthY: number;
  /** Indices into `sensors`. */
  sensorIndex: Uint16Array;
  rssiDbm: Float64Array;
}

export interface SyntheticFloor {
  bounds: Bounds;
  sensors: Point[];
  model: PathLossModel;
  /** In time order. */
  readings: SyntheticReadingSet[];
}

/**
 * Simulates a floor (see module comment). Deterministic for a given `seed`.
 *
 * @example const floor = simulateFloor({ seed: 1, devices: 20, durationSeconds: 120 });
 */
export function simulateFloor(options: SyntheticFloorOptions): SyntheticFloor {
  const width = options.widthMeters ?? 40;
  const height = options.heightMeters ?? 30;
  const [cols, rows] = options.sensorGrid ?? [4, 3];
  const model = options.model ?? { txPowerDbm: -59, exponent: 2.2 };
  const sigma = options.shadowingSigmaDb ?? 4;
  const sensitivity = options.sensitivityDbm ?? -90;
  const maxReadings = options.maxReadings ?? 6;
  const devices = options.devices ?? 20;
  const duration = options.durationSeconds ?? 120;
  const interval = options.intervalMs ?? 1000;
  const [vMin, vMax] = options.speedMetersPerSecond ?? [0.8, 1.4];
  const maxPause = options.maxPauseSeconds ?? 10;
  const rand = seededRandom(options.seed);
  const gauss = seededNormal(rand);

  const sensors: Point[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sensors.push({ x: ((c + 0.5) * width) / cols, y: ((r + 0.5) * height) / rows });
  }

  const readings: SyntheticReadingSet[] = [];
  const heardIdx = new Uint16Array(sensors.length);
  const heardRssi = new Float64Array(sensors.length);
  const order: number[] = [];
  for (let d = 0; d < devices; d++) {
    const key = `dev-${d}`;
    let x = rand() * width, y = rand() * height;
    let tx = rand() * width, ty = rand() * height;
    let speed = vMin + rand() * (vMax - vMin);
    let pause = 0;
    const phaseMs = Math.floor(rand() * interval);
    for (let t = 0; t <= duration * 1000; t += interval) {
      // Move for one interval.
      let left = interval / 1000;
      while (left > 1e-9) {
        if (pause > 0) {
          const p = Math.min(pause, left);
          pause -= p;
          left -= p;
          continue;
        }
        const dx = tx - x, dy = ty - y;
        const dist = Math.hypot(dx, dy);
        const step = speed * left;
        if (step >= dist) {
          x = tx;
          y = ty;
          left -= dist / speed;
          pause = rand() * maxPause;
          tx = rand() * width;
          ty = rand() * height;
          speed = vMin + rand() * (vMax - vMin);
        } else {
          x += (dx / dist) * step;
          y += (dy / dist) * step;
          left = 0;
        }
      }
      let heard = 0;
      for (let s = 0; s < sensors.length; s++) {
        const sp = sensors[s]!;
        const rssi = rssiAtDistance(model, Math.hypot(x - sp.x, y - sp.y)) + sigma * gauss();
        if (rssi >= sensitivity) {
          heardIdx[heard] = s;
          heardRssi[heard] = Math.round(rssi); // sensors report whole dBm
          heard++;
        }
      }
      order.length = 0;
      for (let i = 0; i < heard; i++) order.push(i);
      order.sort((a, b) => heardRssi[b]! - heardRssi[a]! || a - b);
      const m = Math.min(heard, maxReadings);
      const set: SyntheticReadingSet = {
        deviceKey: key,
        atMs: t + phaseMs,
        truthX: x,
        truthY: y,
        sensorIndex: new Uint16Array(m),
        rssiDbm: new Float64Array(m),
      };
      for (let i = 0; i < m; i++) {
        set.sensorIndex[i] = heardIdx[order[i]!]!;
        set.rssiDbm[i] = heardRssi[order[i]!]!;
      }
      readings.push(set);
    }
  }
  readings.sort((a, b) => a.atMs - b.atMs || (a.deviceKey < b.deviceKey ? -1 : a.deviceKey > b.deviceKey ? 1 : 0));
  return { bounds: { minX: 0, minY: 0, maxX: width, maxY: height }, sensors, model, readings };
}
