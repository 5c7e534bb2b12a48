/**
 * From fixes to the minute track proximity tracing works on (R-CT-3). A device's fixes are
 * combined per minute (inverse-variance mean: a minute of six badge fixes is √6 times as precise
 * as one), then smoothed over the neighbouring minutes where the device stayed put (a neighbour
 * counts only while its position agrees with this minute's within the two accuracies, so a walk
 * is not blurred into a seat), and short gaps on one floor are bridged. The result, one point per
 * device and minute with its own accuracy, is what the tracing index stores and what contacts
 * are measured on.
 *
 * Association-only fixes (a device placed on its AP, R-LOC-1 coarse data) are kept as they are
 * and flagged: they support co-presence at the same AP (the WiFiTrace model), not distances.
 * Pure and synchronous: the indexer calls it per hour, the live hour per query.
 */

/** One fix as the tracing index takes it in; `floor` and `zone` are the org's place numbers (zone 0: none). */
export interface TraceFix {
  atMs: number;
  floor: number;
  zone: number;
  xMeters: number;
  yMeters: number;
  accuracyMeters: number;
  /** Placed on an AP (association-only), not positioned. */
  association: boolean;
}

/** One device-minute of the track. Personal (R-DATA-3) when tied to a device. */
export interface MinutePoint {
  /** Minutes since the epoch (`Math.floor(atMs / 60 000)`). */
  minute: number;
  floor: number;
  zone: number;
  xMeters: number;
  yMeters: number;
  /** Accuracy radius of this point, metres (after combining and smoothing). */
  accuracyMeters: number;
  /** Bit flags: `ASSOCIATION`, `BRIDGED`. */
  flags: number;
}

/** The point is a device's AP (association-only data): co-presence, not distance. */
export const ASSOCIATION = 1;
/** The point bridges a short gap between two measured minutes. */
export const BRIDGED = 2;

/** How tracks are built. Changing them changes the index: rebuild it (`ProximityIndexer.rebuild`). */
export interface TrackParams {
  /** Neighbouring minutes (each side) a point is smoothed over; 0 turns smoothing off. */
  smoothingMinutes: number;
  /** A neighbour joins the smoothing when it lies within `gate` × the two accuracies combined. */
  gate: number;
  /** Longest gap (minutes without a fix) bridged on one floor. */
  maxGapMinutes: number;
  /** Floor on a point's accuracy, metres (a vendor's 0 m is not believed). */
  minAccuracyMeters: number;
}

/**
 * Chosen on the simulator's ground truth (bench/tracing.ts, test/tracing-correctness.test.ts):
 * seated contacts are 1.6-1.9 m apart and the nearest non-contacts 2.2-2.3 m, so a contact
 * decision needs the relative position to well under half a metre; at badge accuracy (1.4-2.8 m
 * per fix) only a long window over a stay gets there. 30 minutes each side, gated at twice the
 * combined accuracy, came closest to the bound an estimator that knows the true stays reaches.
 */
export const DEFAULT_TRACK_PARAMS: Readonly<TrackParams> = Object.freeze({ smoothingMinutes: 30, gate: 2, maxGapMinutes: 2, minAccuracyMeters: 0.3 });

/** Per-minute sums of one device (inverse-variance weights). */
interface MinuteSum {
  minute: number;
  floor: number;
  zone: number;
  /** Σ w·x, Σ w·y, Σ w with w = 1/accuracy². */
  wx: number;
  wy: number;
  w: number;
  /** Only association fixes so far (their position is the AP's, kept from the last one). */
  association: boolean;
  /** Seconds of the minute already taken (bits 0-29, 30-59): one fix per device and second. */
  lo: number;
  hi: number;
}

/**
 * Collects fixes per device and minute, one per device and second (a fix seen twice counts
 * once). Feed fixes in any order; `points(device)` gives the device's combined minutes in time
 * order.
 *
 * @example const acc = new MinuteAccumulator(); acc.add('dev', fix); acc.points('dev')
 */
export class MinuteAccumulator<K = string> {
  private readonly byDevice = new Map<K, Map<number, MinuteSum>>();
  constructor(private readonly minAccuracyMeters = DEFAULT_TRACK_PARAMS.minAccuracyMeters) {}

  /** Devices seen. */
  devices(): IterableIterator<K> {
    return this.byDevice.keys();
  }

  get size(): number {
    return this.byDevice.size;
  }

  /** Take one fix; false when it changed nothing (its device and second were taken). */
  add(device: K, f: TraceFix): boolean {
    return this.addRaw(device, f.atMs, f.floor, f.zone, f.xMeters, f.yMeters, f.accuracyMeters, f.association);
  }

  /** `add` without a fix object (the indexer's hot loop). */
  addRaw(device: K, atMs: number, floor: number, zone: number, x: number, y: number, accuracyMeters: number, association: boolean): boolean {
    let m = this.byDevice.get(device);
    if (!m) this.byDevice.set(device, (m = new Map()));
    const minute = Math.floor(atMs / 60_000);
    const acc = accuracyMeters > this.minAccuracyMeters ? accuracyMeters : this.minAccuracyMeters;
    const w = 1 / (acc * acc);
    const second = Math.floor(atMs / 1000) - minute * 60;
    const bit = 1 << (second % 30);
    const s = m.get(minute);
    if (!s) {
      m.set(minute, { minute, floor, zone, wx: x * w, wy: y * w, w, association, lo: second < 30 ? bit : 0, hi: second < 30 ? 0 : bit });
      return true;
    }
    if (second < 30 ? s.lo & bit : s.hi & bit) return false; // this second was taken
    if (second < 30) s.lo |= bit;
    else s.hi |= bit;
    if (s.floor !== floor) return false; // one floor per minute: the first one heard
    if (association && !s.association) return false; // a position beats an AP
    if (association || s.association) {
      // Association-only: the latest AP; a first real position replaces it.
      s.wx = x * w;
      s.wy = y * w;
      s.w = w;
      s.zone = zone;
      s.association = association;
      return true;
    }
    s.wx += x * w;
    s.wy += y * w;
    s.w += w;
    return true;
  }

  /** Forget every minute before `minute`; returns the devices left with no minute (removed). */
  dropBefore(minute: number): K[] {
    const gone: K[] = [];
    for (const [k, m] of this.byDevice) {
      for (const t of m.keys()) if (t < minute) m.delete(t);
      if (m.size === 0) {
        this.byDevice.delete(k);
        gone.push(k);
      }
    }
    return gone;
  }

  /** The device's combined point of one minute (not smoothed), if it has one. */
  pointAt(device: K, minute: number): MinutePoint | undefined {
    const s = this.byDevice.get(device)?.get(minute);
    return s ? { minute, floor: s.floor, zone: s.zone, xMeters: s.wx / s.w, yMeters: s.wy / s.w, accuracyMeters: 1 / Math.sqrt(s.w), flags: s.association ? ASSOCIATION : 0 } : undefined;
  }

  /** The device's combined minutes, in time order (not yet smoothed). */
  points(device: K): MinutePoint[] {
    const m = this.byDevice.get(device);
    if (!m) return [];
    const out: MinutePoint[] = [];
    for (const s of m.values()) {
      out.push({ minute: s.minute, floor: s.floor, zone: s.zone, xMeters: s.wx / s.w, yMeters: s.wy / s.w, accuracyMeters: 1 / Math.sqrt(s.w), flags: s.association ? ASSOCIATION : 0 });
    }
    return out.sort((a, b) => a.minute - b.minute);
  }

  /** Forget a device (its minutes were handed on). */
  delete(device: K): void {
    this.byDevice.delete(device);
  }
}

/**
 * Smooth a device's combined minutes (sorted by minute) and bridge short gaps. Each point becomes
 * the inverse-variance mean of itself and the neighbours within `smoothingMinutes` on the same
 * floor that agree with it (within `gate` × the two accuracies), with the accuracy that mean
 * has. Association points are left alone and never mixed in.
 *
 * @example smoothTrack(acc.points('dev'), DEFAULT_TRACK_PARAMS)
 */
export function smoothTrack(raw: readonly MinutePoint[], p: Readonly<TrackParams> = DEFAULT_TRACK_PARAMS): MinutePoint[] {
  const n = raw.length;
  const out: MinutePoint[] = [];
  const W = p.smoothingMinutes;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const a = raw[i]!;
    if (a.flags & ASSOCIATION || W <= 0) {
      out.push({ ...a });
      continue;
    }
    while (raw[lo]!.minute < a.minute - W) lo++;
    const wa = 1 / (a.accuracyMeters * a.accuracyMeters);
    let sw = wa;
    let sx = a.xMeters * wa;
    let sy = a.yMeters * wa;
    for (let j = lo; j < n; j++) {
      const b = raw[j]!;
      if (b.minute > a.minute + W) break;
      if (j === i || b.floor !== a.floor || b.flags & ASSOCIATION) continue;
      const dx = b.xMeters - a.xMeters;
      const dy = b.yMeters - a.yMeters;
      const lim = p.gate * p.gate * (a.accuracyMeters * a.accuracyMeters + b.accuracyMeters * b.accuracyMeters);
      if (dx * dx + dy * dy > lim) continue;
      const wb = 1 / (b.accuracyMeters * b.accuracyMeters);
      sw += wb;
      sx += b.xMeters * wb;
      sy += b.yMeters * wb;
    }
    out.push({ minute: a.minute, floor: a.floor, zone: a.zone, xMeters: sx / sw, yMeters: sy / sw, accuracyMeters: 1 / Math.sqrt(sw), flags: a.flags });
  }
  return p.maxGapMinutes > 0 ? bridgeGaps(out, p.maxGapMinutes) : out;
}

/** Linear bridges over gaps of at most `maxGap` minutes between positioned minutes on one floor. */
function bridgeGaps(pts: MinutePoint[], maxGap: number): MinutePoint[] {
  let gaps = false;
  for (let i = 1; i < pts.length && !gaps; i++) gaps = pts[i]!.minute - pts[i - 1]!.minute > 1;
  if (!gaps) return pts;
  const out: MinutePoint[] = [];
  for (let i = 0; i < pts.length; i++) {
    const b = pts[i]!;
    const a = out[out.length - 1];
    if (a !== undefined) {
      const gap = b.minute - a.minute - 1;
      if (gap > 0 && gap <= maxGap && a.floor === b.floor && !(a.flags & ASSOCIATION) && !(b.flags & ASSOCIATION)) {
        const acc = Math.max(a.accuracyMeters, b.accuracyMeters);
        for (let k = 1; k <= gap; k++) {
          const f = k / (gap + 1);
          out.push({ minute: a.minute + k, floor: a.floor, zone: f < 0.5 ? a.zone : b.zone, xMeters: a.xMeters + (b.xMeters - a.xMeters) * f, yMeters: a.yMeters + (b.yMeters - a.yMeters) * f, accuracyMeters: acc, flags: BRIDGED });
        }
      }
    }
    out.push(b);
  }
  return out;
}
