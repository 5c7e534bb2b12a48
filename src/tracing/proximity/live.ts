/**
 * The hours the tracing index has not closed yet, held in memory: per device and minute the
 * combined fix, filled from what the ingest pipeline stored (after its commit) and, after a
 * restart, from the stored fixes. A fix is taken once per device and second, so a batch seen
 * both ways counts once. Queries read the same smoothed minute points the index would hold for
 * these minutes. Personal (R-DATA-3), real time only: nothing here is written.
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
  private byMinuteCache: Map<number, LivePoint[]> | undefined;

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
    this.byMinuteCache = undefined;
  }

  /** Forget minutes before `minute` (the index has closed them). */
  dropBefore(minute: number): void {
    if (minute <= this.fromMinute) return;
    this.fromMinute = minute;
    this.acc.dropBefore(minute);
    this.smoothed.clear();
    this.byMinuteCache = undefined;
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

  /** Every device's smoothed point of `minute` (the view is built once per change of the live data). */
  atMinute(minute: number): readonly LivePoint[] {
    if (!this.byMinuteCache) {
      const map = new Map<number, LivePoint[]>();
      for (const device of this.acc.devices()) {
        for (const point of this.points(device)) {
          let l = map.get(point.minute);
          if (!l) map.set(point.minute, (l = []));
          l.push({ device, point });
        }
      }
      this.byMinuteCache = map;
    }
    return this.byMinuteCache.get(minute) ?? [];
  }
}
