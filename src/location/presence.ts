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
import type { FloorPlan } from './plan.ts';

/** Length of an aggregate bucket, ms. */
export const PRESENCE_BUCKET_MS = 60_000;

interface DeviceState {
  siteId: string;
  floorId: string;
  /** Zone now, or '' for "on the floor, in no zone". */
  zoneId: string;
  /** `floorId|zoneId` of where the device is now. */
  cellKey: string;
  lastMs: number;
  bucketMs: number;
  /** Cell keys already counted in `bucketMs`: the first, then any others. */
  counted: string;
  countedMore: string[] | null;
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
    readonly idleMs: number,
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
  /** Deltas by bucket, then by cell key; the last bucket's map is kept at hand. */
  private readonly deltas = new Map<number, Map<string, PresenceDelta>>();
  private lastBucket = NaN;
  private lastDeltas: Map<string, PresenceDelta> | undefined;
  private readonly transitions: Transition[] = [];

  constructor(private readonly tracker: PresenceTracker) {}

  /**
   * A device (`key`: its pseudonym) seen on `floor` in zone `zoneIdx` (the floor's
   * `zones.zoneIndexAt`, −1 for none) at `atMs`. `tracked` says whether events may name it.
   */
  observe(key: string, tracked: boolean, randomized: boolean, floor: FloorPlan, zoneIdx: number, atMs: number): void {
    const cellKey = floor.cellKeys[zoneIdx + 1]!;
    let s = this.touched.get(key);
    if (s === undefined) {
      const b = this.tracker.state.get(key);
      s =
        b === undefined
          ? { siteId: floor.siteId, floorId: floor.id, zoneId: '', cellKey: '', lastMs: -Infinity, bucketMs: -Infinity, counted: '', countedMore: null, eventDevice: null, randomized }
          : { siteId: b.siteId, floorId: b.floorId, zoneId: b.zoneId, cellKey: b.cellKey, lastMs: b.lastMs, bucketMs: b.bucketMs, counted: b.counted, countedMore: b.countedMore && b.countedMore.slice(), eventDevice: b.eventDevice, randomized: b.randomized };
      this.touched.set(key, s);
    }
    s.eventDevice = tracked ? key : null;
    s.randomized = randomized;
    const bucket = atMs - (atMs % PRESENCE_BUCKET_MS);
    if (bucket > s.bucketMs) {
      s.bucketMs = bucket;
      s.counted = '';
      s.countedMore = null;
    }
    if (bucket === s.bucketMs && s.counted !== cellKey && !(s.countedMore !== null && s.countedMore.includes(cellKey))) {
      if (s.counted === '') s.counted = cellKey;
      else (s.countedMore ??= []).push(cellKey);
      this.count(floor, zoneIdx, cellKey, bucket, randomized);
    }
    if (atMs < s.lastMs) return; // late: counted, but it does not move the device
    // Back after more than the idle time (before a sweep forgot it): it left at its last sighting.
    const gone = atMs - s.lastMs > this.tracker.idleMs;
    if (s.cellKey !== cellKey || gone) {
      if (s.zoneId !== '') this.transitions.push(['location.zone.exited', this.tracker.event(s, s.zoneId, gone ? s.lastMs : atMs)]);
      s.siteId = floor.siteId;
      s.floorId = floor.id;
      s.zoneId = zoneIdx < 0 ? '' : floor.zoneIds[zoneIdx]!;
      s.cellKey = cellKey;
      if (s.zoneId !== '') this.transitions.push(['location.zone.entered', this.tracker.event(s, s.zoneId, atMs)]);
    }
    s.lastMs = atMs;
  }

  /**
   * Where the device is now, as this batch sees it: `floorId|zoneId` (`floorId|` on the floor in
   * no zone), or undefined when it is not being followed. Vendor zone exits check it, so an exit
   * from a zone the device already left moves nothing.
   */
  cellOf(key: string): string | undefined {
    return (this.touched.get(key) ?? this.tracker.state.get(key))?.cellKey;
  }

  private count(floor: FloorPlan, zoneIdx: number, cellKey: string, bucket: number, randomized: boolean): void {
    let m = this.lastDeltas;
    if (bucket !== this.lastBucket || m === undefined) {
      m = this.deltas.get(bucket);
      if (m === undefined) {
        m = new Map();
        this.deltas.set(bucket, m);
      }
      this.lastBucket = bucket;
      this.lastDeltas = m;
    }
    let d = m.get(cellKey);
    if (d === undefined) {
      d = { siteId: floor.siteId, floorId: floor.id, zoneId: zoneIdx < 0 ? '' : floor.zoneIds[zoneIdx]!, bucketMs: bucket, devices: 0, randomized: 0 };
      m.set(cellKey, d);
    }
    d.devices++;
    if (randomized) d.randomized++;
  }

  /** The zone-minute counts to add in the batch's transaction. */
  get counts(): PresenceDelta[] {
    const out: PresenceDelta[] = [];
    for (const m of this.deltas.values()) for (const d of m.values()) out.push(d);
    return out;
  }

  /**
   * What the batch changed, for state kept durably in its transaction (zone visits, issue 4): the
   * zone transitions in order (the event objects `commit` emits), each touched device's new state
   * by pseudonym (`eventDevice` null: only aggregates may be kept for it), and the tracker's
   * committed state (every device it follows; this batch's changes land there on `commit`).
   */
  get changes(): { readonly transitions: readonly Transition[]; readonly touched: ReadonlyMap<string, Readonly<DeviceState>>; readonly state: ReadonlyMap<string, Readonly<DeviceState>> } {
    return { transitions: this.transitions, touched: this.touched, state: this.tracker.state };
  }

  /** After the commit: apply the overlay and emit the zone transitions in order. */
  commit(bus: EventBus): number {
    for (const [k, s] of this.touched) this.tracker.state.set(k, s);
    for (const [name, ev] of this.transitions) bus.emit(name, ev);
    return this.transitions.length;
  }
}
