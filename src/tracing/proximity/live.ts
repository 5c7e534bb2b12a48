/**
 * The hours the tracing index has not closed yet, held in memory: per device and minute the
 * combined fix, filled from what the ingest pipeline stored (after its commit) and, after a
 * restart, from the stored fixes. A fix is taken once per device and second, so a batch seen
 * both ways counts once. Queries read the same smoothed minute points the index would hold for
 * these minutes, and only for devices near the index device: per minute and floor the devices
 * heard are listed, their raw points pick the candidates, and only those are smoothed.
 * Personal (R-DATA-3), real time only: nothing here is written.
 */
import { MinuteAccumulator, smoothTrack, type MinutePoint, type TraceFix, type TrackParams } from './minutes.ts';

/** One device's point in a minute, for the per-minute view. */
export interface LivePoint {
  device: string;
  point: MinutePoint;
}

export class LiveTracks {
  private readonly acc: MinuteAccumulator<string>;
  /** Smoothed points per device, until the next fix of that device changes them. */
  private readonly smoothed = new Map<string, MinutePoint[]>();
  /** Per minute and floor, the devices with a point there. */
  private readonly heard = new Map<number, Map<number, Set<string>>>();

  constructor(
    private readonly params: Readonly<TrackParams>,
    /** Minutes before this are dropped and ignored (the index holds them). */
    private fromMinute = -Infinity,
  ) {
    this.acc = new MinuteAccumulator<string>(params.minAccuracyMeters);
  }

  get deviceCount(): number {
    return this.acc.size;
  }

  /** Take one fix of `device` (ignored before the floor minute, or when its second was taken). */
  add(device: string, f: TraceFix): void {
    if (f.atMs < this.fromMinute * 60_000) return;
    if (!this.acc.add(device, f)) return;
    this.smoothed.delete(device);
    const minute = Math.floor(f.atMs / 60_000);
    let floors = this.heard.get(minute);
    if (!floors) this.heard.set(minute, (floors = new Map()));
    let devices = floors.get(f.floor);
    if (!devices) floors.set(f.floor, (devices = new Set()));
    devices.add(device);
  }

  /** Forget minutes before `minute` (the index has closed them). */
  dropBefore(minute: number): void {
    if (minute <= this.fromMinute) return;
    this.fromMinute = minute;
    this.acc.dropBefore(minute);
    this.smoothed.clear();
    for (const m of this.heard.keys()) if (m < minute) this.heard.delete(m);
  }

  /** A device's smoothed points from `fromMinute` on (minute order). */
  points(device: string, fromMinute = -Infinity): MinutePoint[] {
    let s = this.smoothed.get(device);
    if (!s) {
      s = smoothTrack(this.acc.points(device), this.params);
      this.smoothed.set(device, s);
    }
    return fromMinute === -Infinity ? s : s.filter((p) => p.minute >= fromMinute);
  }

  /**
   * Other devices' smoothed points of `minute` on `floor` that may lie within `reachMeters` of
   * (x, y): those whose combined (unsmoothed) point is within the reach plus three times its
   * accuracy and 2 m (smoothing moves a point by less than that).
   */
  near(minute: number, floor: number, x: number, y: number, reachMeters: number): LivePoint[] {
    const out: LivePoint[] = [];
    for (const device of this.heard.get(minute)?.get(floor) ?? []) {
      const raw = this.acc.pointAt(device, minute);
      if (!raw) continue;
      const r = reachMeters + 3 * raw.accuracyMeters + 2;
      const dx = raw.xMeters - x, dy = raw.yMeters - y;
      if (dx * dx + dy * dy > r * r) continue;
      const point = smoothedAt(this.points(device), minute);
      if (point && point.floor === floor) out.push({ device, point });
    }
    return out;
  }
}

/** The point of `minute` in a minute-ordered track (binary search). */
function smoothedAt(track: readonly MinutePoint[], minute: number): MinutePoint | undefined {
  let lo = 0, hi = track.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = track[mid]!.minute;
    if (m === minute) return track[mid];
    if (m < minute) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}
