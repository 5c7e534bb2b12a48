/**
 * Which zone each device is in now, in memory only (real time, R-LOC-4): zone enter/exit events
 * and per-minute distinct-device counts per zone. A batch works on a copy-on-write overlay
 * ({@link PresenceBatch}); its counts are written in the batch's transaction, and only after the
 * commit are its state changes applied and its events emitted, so a failed batch leaves no trace.
 *
 * Counting rule: a device counts once per zone and minute. Sightings older than the device's
 * current minute do not count again (they may be a re-delivery); a late sighting of a minute
 * already closed is therefore not counted. Randomised addresses are counted apart (R-LOC-5): one
 * phone behind several random MACs counts several times there.
 */
import type { EventBus, ZoneEvent } from '../kernel/events.ts';

/** Length of an aggregate bucket, ms. */
export const PRESENCE_BUCKET_MS = 60_000;

interface DeviceState {
  siteId: string;
  floorId: string;
  /** Zone now, or '' for "on the floor, in no zone". */
  zoneId: string;
  lastMs: number;
  bucketMs: number;
  /** `floorId|zoneId` already counted in `bucketMs`. */
  counted: string[];
  /** Pseudonym in events, or null when only aggregates may be kept for the device. */
  eventDevice: string | null;
  randomized: boolean;
}

/** One zone-minute count to add. */
export interface PresenceDelta {
  siteId: string;
  floorId: string;
  zoneId: string;
  bucketMs: number;
  devices: number;
  randomized: number;
}

type Transition = ['location.zone.entered' | 'location.zone.exited', ZoneEvent];

/** The devices of one org. */
export class PresenceTracker {
  readonly state = new Map<string, DeviceState>();
  private lastSweepMs = 0;

  constructor(
    readonly orgId: string,
    private readonly idleMs: number,
  ) {}

  begin(): PresenceBatch {
    return new PresenceBatch(this);
  }

  /**
   * Devices not seen for `idleMs` before `nowMs` leave their zone (exit at their last sighting)
   * and are forgotten. Sweeps at most once per 30 s of data time.
   */
  expire(nowMs: number, bus: EventBus): number {
    if (nowMs - this.lastSweepMs < 30_000) return 0;
    this.lastSweepMs = nowMs;
    let n = 0;
    for (const [key, s] of this.state) {
      if (nowMs - s.lastMs <= this.idleMs) continue;
      if (s.zoneId !== '') bus.emit('location.zone.exited', this.event(s, s.zoneId, s.lastMs));
      this.state.delete(key);
      n++;
    }
    return n;
  }

  event(s: DeviceState, zoneId: string, atMs: number): ZoneEvent {
    return { orgId: this.orgId, siteId: s.siteId, floorId: s.floorId, zoneId, device: s.eventDevice, randomized: s.randomized, atMs };
  }
}

/** One batch's view of a tracker: reads through to it, writes to an overlay. */
export class PresenceBatch {
  private readonly touched = new Map<string, DeviceState>();
  private readonly deltas = new Map<string, PresenceDelta>();
  private readonly transitions: Transition[] = [];

  constructor(private readonly tracker: PresenceTracker) {}

  /**
   * A device (`key`: its pseudonym) seen at (floor, zone or '') at `atMs`. `tracked` says whether
   * events may name it (else its events carry `device: null`).
   */
  observe(key: string, tracked: boolean, randomized: boolean, siteId: string, floorId: string, zoneId: string, atMs: number): void {
    let s = this.touched.get(key);
    if (!s) {
      const base = this.tracker.state.get(key);
      s = base
        ? { ...base, counted: base.counted.slice() }
        : { siteId, floorId, zoneId: '', lastMs: -Infinity, bucketMs: -Infinity, counted: [], eventDevice: tracked ? key : null, randomized };
      this.touched.set(key, s);
    }
    s.eventDevice = tracked ? key : null;
    s.randomized = randomized;
    const bucket = atMs - (atMs % PRESENCE_BUCKET_MS);
    if (bucket > s.bucketMs) {
      s.bucketMs = bucket;
      s.counted.length = 0;
    }
    if (bucket === s.bucketMs) {
      const ck = `${floorId}|${zoneId}`;
      if (!s.counted.includes(ck)) {
        s.counted.push(ck);
        const dk = `${ck}|${bucket}`;
        let d = this.deltas.get(dk);
        if (!d) {
          d = { siteId, floorId, zoneId, bucketMs: bucket, devices: 0, randomized: 0 };
          this.deltas.set(dk, d);
        }
        d.devices++;
        if (randomized) d.randomized++;
      }
    }
    if (atMs < s.lastMs) return; // late: counts, but does not move the device
    if (s.floorId !== floorId || s.zoneId !== zoneId) {
      if (s.zoneId !== '') this.transitions.push(['location.zone.exited', this.tracker.event(s, s.zoneId, atMs)]);
      s.siteId = siteId;
      s.floorId = floorId;
      s.zoneId = zoneId;
      if (zoneId !== '') this.transitions.push(['location.zone.entered', this.tracker.event(s, zoneId, atMs)]);
    }
    s.lastMs = atMs;
  }

  /** The zone-minute counts to add in the batch's transaction. */
  get counts(): PresenceDelta[] {
    return [...this.deltas.values()];
  }

  /** After the commit: apply the overlay and emit the zone transitions in order. */
  commit(bus: EventBus): number {
    for (const [k, s] of this.touched) this.tracker.state.set(k, s);
    for (const [name, ev] of this.transitions) bus.emit(name, ev);
    return this.transitions.length;
  }
}
