/**
 * Radio propagation: what each sensor hears of a device at a point. The received power follows
 * the log-distance path-loss model of the location engine with log-normal shadowing,
 *
 *   rssi = txPower − 10·n·log10(d) − floorLoss·|Δlevel| + σ·N(0, 1),
 *
 * with d the 3-D distance (floors are `floorHeightM` apart) and σ per technology (a badge's
 * few dB, Wi-Fi clients more). A reading weaker than the sensor's sensitivity is not heard;
 * readings are whole dBm, strongest first, at most `maxReadings`. Sensors too far to be heard
 * even with 3.5 σ of luck are skipped before any noise is drawn.
 */
import { rssiAtDistance, type PathLossModel } from '../location/engine/index.ts';
import type { Campus } from './campus.ts';

/** One sensor's reading of one sighting. */
export interface SimReading {
  /** Index into `Campus.sensors`. */
  sensor: number;
  /** Whole dBm, negative. */
  rssiDbm: number;
}

export interface RadioTechnology {
  /** Shadowing σ, dB. */
  sigmaDb: number;
  /** Weakest reading a sensor reports, dBm. */
  sensitivityDbm: number;
}

export interface RadioOptions {
  ble: RadioTechnology;
  wifi: RadioTechnology;
  /** Extra loss per floor between device and sensor, dB. */
  floorLossDb: number;
  maxReadings: number;
}

interface Table {
  index: Int32Array;
  x: Float64Array;
  y: Float64Array;
  level: Int32Array;
  model: PathLossModel;
  tech: RadioTechnology;
  /** Squared distance (m²) beyond which a sensor `Δlevel` floors away cannot be heard. */
  reach2: Float64Array;
}

/**
 * Per-building sensor tables and the hearing computation. One per simulation; not re-entrant.
 *
 * @example const n = radio.hear('ble', building, level, x, y, gauss); radio.readings(n)
 */
export class Radio {
  private readonly tables: { ble: Table; wifi: Table }[] = [];
  private readonly floorLossDb: number;
  private readonly floorHeightM: number;
  private readonly maxReadings: number;
  private readonly bufSensor: Int32Array;
  private readonly bufRssi: Float64Array;
  /** The sensor with the strongest mean (noise-free) signal in the last `hear`, or -1. */
  bestSensor = -1;
  bestMeanDbm = -Infinity;

  constructor(private readonly campus: Campus, opts: RadioOptions) {
    this.floorLossDb = opts.floorLossDb;
    this.floorHeightM = campus.floorHeightM;
    this.maxReadings = opts.maxReadings;
    let largest = 1;
    for (const b of campus.buildings) {
      const pick = (kind: 'ap' | 'ble-sensor', model: PathLossModel, tech: RadioTechnology): Table => {
        const list = b.floors.flatMap((fi) => (kind === 'ap' ? campus.floors[fi]!.aps : campus.floors[fi]!.bleSensors));
        largest = Math.max(largest, list.length);
        const t: Table = {
          index: Int32Array.from(list),
          x: Float64Array.from(list, (i) => campus.sensors[i]!.xM),
          y: Float64Array.from(list, (i) => campus.sensors[i]!.yM),
          level: Int32Array.from(list, (i) => campus.sensors[i]!.level),
          model,
          tech,
          reach2: new Float64Array(b.floors.length),
        };
        for (let dl = 0; dl < b.floors.length; dl++) {
          // Mean RSSI at distance d: tx − 10 n log10(d) − loss·Δl; reachable while ≥ sensitivity − 3.5σ.
          const budget = model.txPowerDbm - this.floorLossDb * dl - (tech.sensitivityDbm - 3.5 * tech.sigmaDb);
          const d = Math.pow(10, budget / (10 * model.exponent)) * (model.refDistanceMeters ?? 1);
          t.reach2[dl] = d * d;
        }
        return t;
      };
      this.tables.push({ ble: pick('ble-sensor', campus.bleModel, opts.ble), wifi: pick('ap', campus.wifiModel, opts.wifi) });
    }
    this.bufSensor = new Int32Array(largest);
    this.bufRssi = new Float64Array(largest);
  }

  /**
   * What the building's sensors of one technology hear of a device at (x, y) on `level`, drawing
   * shadowing from `gauss`. Returns how many heard it; `readings()` gives them. Also sets
   * `bestSensor`/`bestMeanDbm` (the strongest noise-free signal, for association).
   */
  hear(tech: 'ble' | 'wifi', building: number, level: number, x: number, y: number, gauss: () => number): number {
    const t = this.tables[building]![tech];
    const m = t.model;
    const d0sq = (m.refDistanceMeters ?? 1) ** 2;
    const sigma = t.tech.sigmaDb;
    const sens = t.tech.sensitivityDbm;
    let n = 0;
    this.bestSensor = -1;
    this.bestMeanDbm = -Infinity;
    for (let j = 0; j < t.index.length; j++) {
      const dl = Math.abs(t.level[j]! - level);
      const reach2 = t.reach2[dl]!;
      const dz = dl * this.floorHeightM;
      const dx = t.x[j]! - x, dy = t.y[j]! - y;
      const d2 = dx * dx + dy * dy + dz * dz;
      if (d2 > reach2) continue;
      // 10·n·log10(d/d0) = 5·n·log10(d²/d0²); closer than 0.5 m counts as 0.5 m.
      const mean = m.txPowerDbm - 5 * m.exponent * Math.log10(Math.max(d2, 0.25) / d0sq) - this.floorLossDb * dl;
      if (mean > this.bestMeanDbm) {
        this.bestMeanDbm = mean;
        this.bestSensor = t.index[j]!;
      }
      const r = Math.round(mean + sigma * gauss());
      if (r >= sens) {
        this.bufSensor[n] = t.index[j]!;
        this.bufRssi[n] = r > -1 ? -1 : r;
        n++;
      }
    }
    return n;
  }

  /** The last `hear`'s readings, strongest first (ties: lower sensor index), at most `maxReadings`. */
  readings(n: number): SimReading[] {
    // Insertion sort of the (few) heard readings, in place in the buffers.
    const rs = this.bufRssi, ss = this.bufSensor;
    for (let i = 1; i < n; i++) {
      const r = rs[i]!, si = ss[i]!;
      let j = i - 1;
      while (j >= 0 && (rs[j]! < r || (rs[j] === r && ss[j]! > si))) {
        rs[j + 1] = rs[j]!;
        ss[j + 1] = ss[j]!;
        j--;
      }
      rs[j + 1] = r;
      ss[j + 1] = si;
    }
    const k = Math.min(n, this.maxReadings);
    const out: SimReading[] = new Array(k);
    for (let i = 0; i < k; i++) out[i] = { sensor: ss[i]!, rssiDbm: rs[i]! };
    return out;
  }

  /** The noise-free signal (dBm) of a device at (x, y) on `level` at one sensor. */
  meanAt(sensor: number, level: number, x: number, y: number): number {
    const s = this.campus.sensors[sensor]!;
    const dl = Math.abs(s.level - level);
    const d = Math.hypot(s.xM - x, s.yM - y, dl * this.floorHeightM);
    return rssiAtDistance(s.model, Math.max(d, 0.5)) - this.floorLossDb * dl;
  }
}
