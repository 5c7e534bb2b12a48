/**
 * Zone visits, derived at ingest and stored in the batch's own transaction (R-CT-2, R-DATA-3).
 *
 * The presence tracker already knows, per device, which zone it is in and emits enter/exit
 * transitions; this recorder turns a batch's transitions into visit rows (device pseudonym,
 * site, floor, zone, enter, exit) inside the batch's transaction, so whatever ingest
 * acknowledged is in the visits too. A row is written when a visit opens and when it closes;
 * while it stays open, only when its last sighting moved on by {@link VISIT_REFRESH_MS} since it
 * was last written (checked every {@link VISIT_SWEEP_MS} of data time), not every batch. A batch
 * costs the recorder its transitions, not its sightings: the last sighting of a device that
 * stays put is read from the presence tracker when needed.
 *
 * Settling: positions carry metres of error (R-LOC-2), so a device standing near a zone border
 * flickers between zones. A device leaves its visit only once it has been out of the zone for
 * {@link VISIT_SETTLE_MS}; back sooner, the visit goes on. The visit then ends when it first left
 * (and a stay of at least the settle time elsewhere becomes a visit from when it began there).
 * Stays shorter than the settle time are not visits. A device not seen for the idle time (the
 * presence tracker's) leaves at its last sighting in the zone; that close is written by a later
 * batch of the org, whose data time shows it.
 *
 * After a crash: the open visits the previous process left are loaded on the org's first batch
 * and their last sighting is taken from the stored fixes (at most {@link recoveryWindowMs} of
 * them, read by time), so nothing acknowledged is lost; a device seen again in the same zone within
 * the idle time continues its visit, one not seen for longer leaves at its last sighting.
 *
 * Every change is made on an overlay and applied only after the commit; a rolled-back batch
 * leaves the recorder as it was. Concurrent batches of one org (possible on PostgreSQL) are
 * applied in commit order, as the presence tracker's are.
 */
import { MINUTE_MS } from '../../kernel/clock.ts';
import { JourneysRepo, LocationRepo, type Executor, type FixRow, type VisitRow } from '../../storage/index.ts';
import type { EventBus } from '../../kernel/events.ts';
import type { IngestBatchHook } from '../../ingest/index.ts';
import type { PresenceBatch } from '../../location/index.ts';

/** An open visit is rewritten at most this often (data time) while only its last sighting moves. */
export const VISIT_REFRESH_MS = 5 * MINUTE_MS;
/** How long a device must be out of its zone before it has left it (shorter stays are not visits). */
export const VISIT_SETTLE_MS = MINUTE_MS;
/** The presence tracker's default idle time, used until the first batch reports the real one. */
const DEFAULT_IDLE_MS = 5 * MINUTE_MS;
/** Idle visits and due refreshes are looked for at most this often (data time). */
export const VISIT_SWEEP_MS = 60_000;

/**
 * How far past an open visit's stored last sighting a later one may lie: a refresh is written
 * once it is {@link VISIT_REFRESH_MS} newer, at the next sweep.
 */
export function recoveryWindowMs(refreshMs: number): number {
  return refreshMs + 2 * VISIT_SWEEP_MS;
}
/** Fixes read per query when recovering open visits (a refresh interval of an org's fixes). */
const RECOVERY_FIX_LIMIT = 2_000_000;

/**
 * A visit in progress, as the recorder holds it. Mutable only inside the recorder: a batch works
 * on its own copies and its changes replace the originals after the commit.
 */
export interface OpenVisit {
  device: string;
  siteId: string;
  floorId: string;
  zoneId: string;
  enterMs: number;
  /** Latest sighting in the zone known here, ms (the presence tracker may know a later one). */
  lastMs: number;
  /** `lastMs` as last written to the store. */
  writtenLastMs: number;
  /** Left open by an earlier process and not seen since: the presence tracker does not know it. */
  recovered: boolean;
  /** When the device left the zone, not yet for the settle time; −1 while it is there. */
  awayMs: number;
  /** Where it is meanwhile: zone ('' none), floor, site, and since when. */
  awayZoneId: string;
  awayFloorId: string;
  awaySiteId: string;
  awayCellMs: number;
}

interface OrgVisits {
  /** Device pseudonym → its open visit. */
  open: Map<string, OpenVisit>;
  /** Devices out of their visit's zone for less than the settle time so far. */
  away: Set<string>;
  /** Data time of the last sweep. */
  sweptMs: number;
  /** The presence tracker's state of the org (latest sightings of devices that stay put). */
  presence: ReadonlyMap<string, Readonly<DeviceState>> | undefined;
}

type Changes = PresenceBatch['changes'];
type DeviceState = Changes['state'] extends ReadonlyMap<string, infer S> ? S : never;

/** The latest sighting of `v`'s device in its zone: `s` (the tracker's state of it) when it is there. */
function lastIn(v: OpenVisit, s: Readonly<DeviceState> | undefined): number {
  if (v.awayMs >= 0) return v.awayMs;
  return s !== undefined && s.lastMs > v.lastMs && s.zoneId === v.zoneId && s.floorId === v.floorId ? s.lastMs : v.lastMs;
}

const keyOf = (device: string, enterMs: number): string => `${device}|${enterMs}`;

/** The org's open visits with a batch's changes on top (copy on first write, per device). */
class Overlay {
  readonly changed = new Map<string, OpenVisit | null>();
  constructor(private readonly base: ReadonlyMap<string, OpenVisit>) {}
  /** The device's visit as the batch sees it; do not change it (see `mut`). */
  get(device: string): OpenVisit | undefined {
    const v = this.changed.get(device);
    return v === undefined ? this.base.get(device) : (v ?? undefined);
  }
  /** The batch's own copy of the device's visit, to change. */
  mut(device: string): OpenVisit | undefined {
    const v = this.changed.get(device);
    if (v !== undefined) return v ?? undefined;
    const b = this.base.get(device);
    if (b === undefined) return undefined;
    const c = { ...b };
    this.changed.set(device, c);
    return c;
  }
  put(v: OpenVisit): void {
    this.changed.set(v.device, v);
  }
  remove(device: string): void {
    this.changed.set(device, null);
  }
}

/** One batch's visit changes: the overlay and the rows to write, by visit key. */
class VisitBatch {
  readonly b: Overlay;
  readonly writes = new Map<string, VisitRow>();
  constructor(
    private readonly orgId: string,
    base: ReadonlyMap<string, OpenVisit>,
    private readonly refreshMs: number,
    private readonly settleMs: number,
    private readonly idleMs: number,
  ) {
    this.b = new Overlay(base);
  }

  row(v: OpenVisit, exitMs: number | null): void {
    this.writes.set(keyOf(v.device, v.enterMs), { org_id: this.orgId, device: v.device, enter_ms: v.enterMs, site_id: v.siteId, floor_id: v.floorId, zone_id: v.zoneId, last_ms: exitMs ?? v.lastMs, exit_ms: exitMs });
  }

  open(device: string, siteId: string, floorId: string, zoneId: string, enterMs: number): OpenVisit {
    const v: OpenVisit = { device, siteId, floorId, zoneId, enterMs, lastMs: enterMs, writtenLastMs: enterMs, recovered: false, awayMs: -1, awayZoneId: '', awayFloorId: '', awaySiteId: '', awayCellMs: 0 };
    this.row(v, null);
    this.b.put(v);
    return v;
  }

  close(v: OpenVisit, exitMs: number): void {
    this.row(v, Math.max(exitMs, v.enterMs));
    this.b.remove(v.device);
  }

  /** Seen in the visit's zone at `atMs`: back if it was away; a refresh write when one is due. */
  seen(device: string, atMs: number): void {
    const m = this.b.mut(device)!;
    m.awayMs = -1;
    m.recovered = false;
    if (atMs > m.lastMs) m.lastMs = atMs;
    if (m.lastMs - m.writtenLastMs >= this.refreshMs) {
      m.writtenLastMs = m.lastMs;
      this.row(m, null);
    }
  }

  /** Out of the visit's zone since `sinceMs` (kept when already away), now in `zoneId` ('' none) since `atMs`. */
  away(device: string, sinceMs: number, siteId: string, floorId: string, zoneId: string, atMs: number): void {
    const m = this.b.mut(device)!;
    if (m.awayMs < 0) m.awayMs = sinceMs;
    m.awaySiteId = siteId;
    m.awayFloorId = floorId;
    m.awayZoneId = zoneId;
    m.awayCellMs = atMs;
  }

  /**
   * Whether the device has left `v` by `atMs` (out of its zone for the settle time): then `v`
   * ends when it left, a stay elsewhere since becomes the open visit, and that is returned
   * (undefined: no visit now). Otherwise `v` itself.
   */
  settle(v: OpenVisit, atMs: number): OpenVisit | undefined {
    if (v.awayMs < 0 || v.recovered || atMs - v.awayMs < this.settleMs) return v;
    this.close(v, v.awayMs);
    return v.awayZoneId === '' ? undefined : this.open(v.device, v.awaySiteId, v.awayFloorId, v.awayZoneId, v.awayCellMs);
  }

  /** The batch's transitions, in order. */
  transitions(list: Changes['transitions']): void {
    for (const [name, ev] of list) {
      const device = ev.device;
      if (device === null) continue;
      let v = this.b.get(device);
      if (v) v = this.settle(v, ev.atMs);
      const here = v !== undefined && v.zoneId === ev.zoneId && v.floorId === ev.floorId;
      if (name === 'location.zone.exited') {
        if (!v || v.recovered) continue;
        if (here && v.awayMs < 0) this.away(device, ev.atMs, ev.siteId, ev.floorId, '', ev.atMs);
        else if (v.awayMs >= 0 && v.awayZoneId === ev.zoneId && v.awayFloorId === ev.floorId) this.away(device, v.awayMs, ev.siteId, ev.floorId, '', ev.atMs);
        continue;
      }
      if (!v) {
        this.open(device, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
      } else if (v.recovered) {
        // The tracker did not know the device (a restart): the same zone within the idle time goes on.
        if (here && ev.atMs >= v.enterMs && ev.atMs - v.lastMs <= this.idleMs) this.seen(device, ev.atMs);
        else {
          this.close(v, v.lastMs);
          this.open(device, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
        }
      } else if (here) {
        // Back within the settle time: the visit goes on (back after the idle time: a new one).
        if (ev.atMs - v.lastMs > this.idleMs && v.awayMs < 0) {
          this.close(v, v.lastMs);
          this.open(device, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
        } else this.seen(device, ev.atMs);
      } else {
        this.away(device, ev.atMs, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
      }
    }
  }

  /**
   * Devices seen in this batch while away from their visit's zone (`away`: those away before it,
   * and those that left in it): gone for the settle time by their latest sighting?
   */
  settleAway(away: ReadonlySet<string>, touched: Changes['touched']): void {
    const check = (d: string, s: Readonly<DeviceState>) => {
      const v = this.b.get(d);
      if (v !== undefined && v.awayMs >= 0) this.settle(v, s.lastMs);
    };
    if (away.size < touched.size) {
      for (const d of away) {
        const s = touched.get(d);
        if (s !== undefined) check(d, s);
      }
    } else for (const [d, s] of touched) if (away.has(d)) check(d, s);
    for (const [d, v] of this.b.changed) {
      const s = v !== null && v.awayMs >= 0 && !away.has(d) ? touched.get(d) : undefined;
      if (s !== undefined) check(d, s);
    }
  }

  /**
   * Every open visit, now and then: one whose device has not been seen for the idle time by
   * `nowMs` ends at its last sighting there; one no longer followed (tracking withdrawn) ends at
   * its last sighting; one whose last sighting moved on by the refresh interval is rewritten.
   */
  sweep(devices: Iterable<string>, touched: Changes['touched'], state: Changes['state'], nowMs: number): void {
    for (const d of devices) {
      const v = this.b.get(d);
      if (!v) continue;
      const s = touched.get(d) ?? state.get(d);
      const lastMs = lastIn(v, s);
      if (nowMs - lastMs > this.idleMs || (s !== undefined && s.eventDevice === null)) this.close(v, lastMs);
      else if (lastMs - v.writtenLastMs >= this.refreshMs) {
        const m = this.b.mut(d)!;
        m.lastMs = m.writtenLastMs = lastMs;
        this.row(m, null);
      }
    }
  }
}

/**
 * Extend the last sighting of open visits from the stored fixes: each visit's device, same floor
 * and zone, in [last_ms, last_ms + recoveryWindowMs), until it has been out of the zone for the
 * settle time. A committed sighting later than that would have rewritten the visit, so this
 * window holds every one it may lack. Mutates `rows`; returns those it changed. `perDevice` reads each
 * device's window on its own (a journey's few visits) instead of the org's whole window.
 */
export async function refineOpenVisits(x: Executor, orgId: string, rows: VisitRow[], refreshMs: number, perDevice = false, settleMs = VISIT_SETTLE_MS): Promise<VisitRow[]> {
  if (rows.length === 0) return [];
  const window = recoveryWindowMs(refreshMs);
  const loc = new LocationRepo(x);
  const byDevice = new Map<string, { r: VisitRow; from: number; outSince: number | null; done: boolean }>();
  for (const r of rows) byDevice.set(r.device, { r, from: r.last_ms, outSince: null, done: false });
  const changed = new Set<VisitRow>();
  const apply = (fixes: readonly FixRow[]) => {
    for (const f of fixes) {
      const e = byDevice.get(f.device);
      if (!e || e.done || f.at_ms < e.from || f.at_ms >= e.from + window) continue;
      const inZone = f.floor_id === e.r.floor_id && f.zone_id === e.r.zone_id;
      if (e.outSince !== null && f.at_ms - e.outSince >= settleMs) e.done = true;
      else if (inZone) {
        e.outSince = null;
        if (f.at_ms > e.r.last_ms) {
          e.r.last_ms = f.at_ms;
          changed.add(e.r);
        }
      } else if (f.at_ms > e.r.last_ms) e.outSince ??= f.at_ms;
    }
  };
  if (perDevice) {
    for (const r of rows) apply(await loc.fixesOfDevice(orgId, r.device, r.last_ms, r.last_ms + window, RECOVERY_FIX_LIMIT));
    return [...changed];
  }
  // Windows over the sorted last sightings: one time-range read per cluster (bounded to an hour).
  const sorted = [...rows].sort((a, b) => a.last_ms - b.last_ms);
  let i = 0;
  while (i < sorted.length) {
    const from = sorted[i]!.last_ms;
    let to = from + window;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.last_ms < to && sorted[j]!.last_ms - from < 60 * MINUTE_MS) to = Math.max(to, sorted[j++]!.last_ms + window);
    apply(await loc.fixesBetween(orgId, from, to, RECOVERY_FIX_LIMIT));
    i = j;
  }
  return [...changed];
}

/**
 * Keeps zone visits per org and writes them in each ingest batch's transaction. Register
 * {@link VisitRecorder.hook} with `IngestService.addBatchHook`.
 *
 * @example ingest.addBatchHook(new VisitRecorder(core.bus).hook)
 */
export class VisitRecorder {
  private readonly orgs = new Map<string, OrgVisits>();
  private idle = DEFAULT_IDLE_MS;

  constructor(
    bus: EventBus,
    readonly refreshMs = VISIT_REFRESH_MS,
    readonly settleMs = VISIT_SETTLE_MS,
  ) {
    bus.on('org.deleted', ({ orgId }) => void this.orgs.delete(orgId));
  }

  /** Time without a sighting after which a device leaves its zone (the ingest's), ms. */
  get idleMs(): number {
    return this.idle;
  }

  /**
   * The open visits this process holds for some devices, with their latest sighting (the store
   * may lag by up to a refresh interval and a sweep). Undefined when it holds nothing for the
   * org (no batch of it since start): the store, refined from fixes, is then the answer.
   */
  live(orgId: string, devices: readonly string[]): Readonly<OpenVisit>[] | undefined {
    const st = this.orgs.get(orgId);
    if (!st) return undefined;
    const out: OpenVisit[] = [];
    for (const d of new Set(devices)) {
      const v = st.open.get(d);
      if (v) out.push({ ...v, lastMs: lastIn(v, st.presence?.get(d)) });
    }
    return out;
  }

  /** The batch hook: derive the batch's visit changes and write them in its transaction. */
  readonly hook: IngestBatchHook = async (x, orgId, presence, at) => {
    this.idle = at.idleMs;
    let st = this.orgs.get(orgId);
    const loaded = st === undefined ? await this.load(x, orgId) : undefined;
    st ??= loaded!.st;
    const vb = new VisitBatch(orgId, st.open, this.refreshMs, this.settleMs, at.idleMs);
    if (loaded) for (const r of loaded.refined) vb.writes.set(keyOf(r.device, r.enter_ms), r);
    const { transitions, touched, state } = presence.changes;
    vb.transitions(transitions);
    vb.settleAway(st.away, touched);
    const sweep = Number.isFinite(at.nowMs) && at.nowMs - st.sweptMs >= VISIT_SWEEP_MS;
    if (sweep) {
      vb.sweep(st.open.keys(), touched, state, at.nowMs);
      vb.sweep([...vb.b.changed.keys()].filter((d) => !st.open.has(d)), touched, state, at.nowMs);
    }
    if (vb.writes.size > 0) await new JourneysRepo(x).upsertVisits([...vb.writes.values()]);

    const target = st;
    return () => {
      if (loaded) this.orgs.set(orgId, target);
      target.presence = state;
      for (const [d, v] of vb.b.changed) {
        if (v) target.open.set(d, v);
        else target.open.delete(d);
        if (v && v.awayMs >= 0) target.away.add(d);
        else target.away.delete(d);
      }
      if (sweep) target.sweptMs = at.nowMs;
    };
  };

  /** The org's open visits as the store has them, their last sightings refined from fixes. */
  private async load(x: Executor, orgId: string): Promise<{ st: OrgVisits; refined: VisitRow[] }> {
    const st: OrgVisits = { open: new Map(), away: new Set(), sweptMs: -Infinity, presence: undefined };
    const rows = await new JourneysRepo(x).openVisits(orgId);
    if (rows.length === 0) return { st, refined: [] };
    // Two open visits of one device (an interrupted concurrent write): the older one ends at its last sighting.
    rows.sort((a, b) => a.enter_ms - b.enter_ms);
    const latest = new Map<string, VisitRow>();
    const refined: VisitRow[] = [];
    for (const r of rows) {
      const prev = latest.get(r.device);
      if (prev) refined.push({ ...prev, exit_ms: prev.last_ms });
      latest.set(r.device, r);
    }
    const current = [...latest.values()];
    for (const r of await refineOpenVisits(x, orgId, current, this.refreshMs, false, this.settleMs)) refined.push({ ...r });
    for (const r of current) st.open.set(r.device, { device: r.device, siteId: r.site_id, floorId: r.floor_id, zoneId: r.zone_id, enterMs: r.enter_ms, lastMs: r.last_ms, writtenLastMs: r.last_ms, recovered: true, awayMs: -1, awayZoneId: '', awayFloorId: '', awaySiteId: '', awayCellMs: 0 });
    return { st, refined };
  }
}
