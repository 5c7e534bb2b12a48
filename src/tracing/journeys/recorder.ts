/**
 * Zone visits, derived at ingest and stored with the batches (R-CT-2, R-DATA-3).
 *
 * The presence tracker knows, per device, which zone it is in and emits enter/exit transitions
 * after each commit. This recorder follows those transitions in memory and turns them into visit
 * rows (device pseudonym, site, floor, zone, enter, exit), written inside ingest transactions:
 * a device's first visit in the batch that saw it begin; a departure, the visit after it and the
 * closes of idle devices in the org's next batch (a second or so later); an open visit's last
 * sighting only when it moved on by {@link VISIT_REFRESH_MS} since it was last written (checked
 * every {@link VISIT_SWEEP_MS} of data time), not every batch. A batch therefore costs the
 * recorder its transitions, a map look-up each, not its sightings.
 *
 * Settling: positions carry metres of error (R-LOC-2), so a device standing near a zone border
 * flickers between zones. A device leaves its visit only once it has been out of the zone for
 * {@link VISIT_SETTLE_MS}; back sooner, the visit goes on. The visit then ends when it first left,
 * and where the device is by then (if in a zone) begins when it got there. Stays shorter than
 * the settle time are not visits. A device not seen for the idle time (the presence tracker's)
 * leaves at its last sighting in the zone.
 *
 * Nothing acknowledged is lost: every fix is stored with its zone in the batch's transaction,
 * and the visit changes not yet written at a crash lie within {@link recoveryWindowMs} after
 * the last sighting stored for the device's open visit. On the org's first batch after a
 * restart, the open visits are loaded and each device's fixes in that window are replayed
 * through the same rules ({@link replayVisits}); a device seen again in the same zone within the
 * idle time continues its visit.
 *
 * State changed inside a transaction is changed on copies and applied only after the commit,
 * so a rolled-back batch leaves the recorder as it was. Concurrent batches of one org (possible
 * on PostgreSQL) are applied in commit order, as the presence tracker's are.
 */
import { MINUTE_MS } from '../../kernel/clock.ts';
import type { EventBus, ZoneEvent } from '../../kernel/events.ts';
import { JourneysRepo, LocationRepo, type Executor, type FixRow, type VisitRow } from '../../storage/index.ts';
import type { IngestBatchHook } from '../../ingest/index.ts';
import type { PresenceBatch } from '../../location/index.ts';

/** An open visit is rewritten at most this often (data time) while only its last sighting moves. */
export const VISIT_REFRESH_MS = 20 * MINUTE_MS;
/** How long a device must be out of its zone before it has left it (shorter stays are not visits). */
export const VISIT_SETTLE_MS = MINUTE_MS;
/** Idle visits, settled departures and due refreshes are looked for at most this often (data time). */
export const VISIT_SWEEP_MS = MINUTE_MS;
/** The presence tracker's default idle time, used until the first batch reports the real one. */
const DEFAULT_IDLE_MS = 5 * MINUTE_MS;
/** Fixes read per query when recovering open visits. */
const RECOVERY_FIX_LIMIT = 2_000_000;

/**
 * How far past an open visit's stored last sighting its unwritten changes may lie: a refresh is
 * due a refresh interval on and written at the next sweep; a departure settles after the settle
 * time and is written by a sweep at the latest.
 */
export function recoveryWindowMs(refreshMs: number, settleMs = VISIT_SETTLE_MS): number {
  return refreshMs + settleMs + 2 * VISIT_SWEEP_MS;
}

/** A visit in progress, as the recorder holds it. */
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
  leftMs: number;
  /** Where it is meanwhile: zone ('' none), floor, site, and since when. */
  awayZoneId: string;
  awayFloorId: string;
  awaySiteId: string;
  awayCellMs: number;
}

interface OrgVisits {
  /** Device pseudonym → its open visit. */
  open: Map<string, OpenVisit>;
  /** Visit rows decided after a commit, for the org's next transaction, by visit key. */
  pending: Map<string, VisitRow>;
  /** Data time of the last sweep. */
  sweptMs: number;
  /** Data time of the last committed batch (what this state is as of). */
  nowMs: number;
  /** The presence tracker's state of the org (latest sightings of devices that stay put). */
  presence: ReadonlyMap<string, Readonly<DeviceState>> | undefined;
  /** The rules as followed after commits (rows into `pending`). */
  rules?: VisitRules;
}

type Changes = PresenceBatch['changes'];
type DeviceState = Changes['state'] extends ReadonlyMap<string, infer S> ? S : never;

const keyOf = (device: string, enterMs: number): string => `${device}|${enterMs}`;

function newVisit(device: string, siteId: string, floorId: string, zoneId: string, enterMs: number, lastMs = enterMs): OpenVisit {
  return { device, siteId, floorId, zoneId, enterMs, lastMs, writtenLastMs: lastMs, recovered: false, leftMs: -1, awayZoneId: '', awayFloorId: '', awaySiteId: '', awayCellMs: 0 };
}

function rowOf(orgId: string, v: OpenVisit, exitMs: number | null): VisitRow {
  return { org_id: orgId, device: v.device, enter_ms: v.enterMs, site_id: v.siteId, floor_id: v.floorId, zone_id: v.zoneId, last_ms: exitMs ?? v.lastMs, exit_ms: exitMs === null ? null : Math.max(exitMs, v.enterMs) };
}

/** The latest sighting of `v`'s device in its zone: `s` (the tracker's state of it) when it is there. */
function lastIn(v: OpenVisit, s: Readonly<DeviceState> | undefined): number {
  if (v.leftMs >= 0) return v.leftMs;
  return s !== undefined && s.lastMs > v.lastMs && s.zoneId === v.zoneId && s.floorId === v.floorId ? s.lastMs : v.lastMs;
}

/**
 * The visit rules, on a map of open visits that the caller owns (changed in place), reporting
 * every row to write through `emit`. Used after commits (on the org's live state), inside
 * transactions (on a batch's copies) and by {@link replayVisits} (on fixes).
 */
export class VisitRules {
  constructor(
    readonly orgId: string,
    readonly settleMs: number,
    readonly idleMs: number,
    private readonly emit: (row: VisitRow) => void,
  ) {}

  open(open: Map<string, OpenVisit>, device: string, siteId: string, floorId: string, zoneId: string, enterMs: number, lastMs = enterMs): OpenVisit {
    const v = newVisit(device, siteId, floorId, zoneId, enterMs, lastMs);
    open.set(device, v);
    this.emit(rowOf(this.orgId, v, null));
    return v;
  }

  close(open: Map<string, OpenVisit>, v: OpenVisit, exitMs: number): void {
    open.delete(v.device);
    this.emit(rowOf(this.orgId, v, exitMs));
  }

  /** Out of the zone for the settle time by `atMs`: `v` ends when it left, where the device is begins. */
  settle(open: Map<string, OpenVisit>, v: OpenVisit, atMs: number): OpenVisit | undefined {
    if (v.leftMs < 0 || atMs - v.leftMs < this.settleMs) return v;
    this.close(open, v, v.leftMs);
    return v.awayZoneId === '' ? undefined : this.open(open, v.device, v.awaySiteId, v.awayFloorId, v.awayZoneId, v.awayCellMs, Math.max(v.awayCellMs, atMs));
  }

  /** The device left `v`'s zone at `atMs` (or moved on while away): now in `zoneId` ('' none). */
  away(v: OpenVisit, atMs: number, siteId: string, floorId: string, zoneId: string): void {
    if (v.leftMs < 0) v.leftMs = atMs;
    v.awaySiteId = siteId;
    v.awayFloorId = floorId;
    v.awayZoneId = zoneId;
    v.awayCellMs = atMs;
  }

  /** A sighting (or transition) of the device at `atMs` in `zoneId` ('' none) on a floor of a site. */
  seen(open: Map<string, OpenVisit>, device: string, atMs: number, siteId: string, floorId: string, zoneId: string, lastSeenMs: number): void {
    let v = open.get(device);
    if (v && atMs - lastSeenMs > this.idleMs) {
      // Not seen for the idle time: it left at its last sighting there.
      this.close(open, v, v.leftMs >= 0 ? v.leftMs : v.lastMs);
      v = undefined;
    }
    if (v) v = this.settle(open, v, atMs);
    if (!v) {
      if (zoneId !== '') this.open(open, device, siteId, floorId, zoneId, atMs);
      return;
    }
    if (v.zoneId === zoneId && v.floorId === floorId) {
      v.leftMs = -1;
      if (atMs > v.lastMs) v.lastMs = atMs;
    } else if (v.leftMs < 0 || v.awayZoneId !== zoneId || v.awayFloorId !== floorId) this.away(v, atMs, siteId, floorId, zoneId);
  }
}

/**
 * Replay stored fixes through the visit rules, from open visits on: each device's fixes in
 * [last_ms, last_ms + recoveryWindowMs) in time order, as the live recorder would have followed
 * them. Returns the rows to write (visits closed, begun or moved on) and the open visits after.
 * `perDevice` reads each device's fixes on its own (a journey's few visits) instead of the org's
 * whole window (a recovery of many).
 */
export async function replayVisits(x: Executor, orgId: string, rows: readonly VisitRow[], opts: { refreshMs: number; settleMs: number; idleMs: number; perDevice?: boolean }): Promise<{ rows: VisitRow[]; open: Map<string, OpenVisit> }> {
  const open = new Map<string, OpenVisit>();
  const out = new Map<string, VisitRow>();
  const rules = new VisitRules(orgId, opts.settleMs, opts.idleMs, (r) => void out.set(keyOf(r.device, r.enter_ms), r));
  const window = recoveryWindowMs(opts.refreshMs, opts.settleMs);
  const until = new Map<string, { fromMs: number; toMs: number; lastSeenMs: number }>();
  for (const r of rows) {
    open.set(r.device, { ...newVisit(r.device, r.site_id, r.floor_id, r.zone_id, r.enter_ms, r.last_ms), recovered: true });
    until.set(r.device, { fromMs: r.last_ms, toMs: r.last_ms + window, lastSeenMs: r.last_ms });
  }
  const siteOf = new Map((await new JourneysRepo(x).floorSites(orgId)).map((f) => [f.id, f.site_id]));
  const apply = (fixes: readonly FixRow[]) => {
    for (const f of fixes) {
      const u = until.get(f.device);
      const siteId = siteOf.get(f.floor_id);
      if (!u || siteId === undefined || f.at_ms < u.fromMs || f.at_ms >= u.toMs) continue;
      const v = open.get(f.device);
      if (v) v.recovered = false;
      rules.seen(open, f.device, f.at_ms, siteId, f.floor_id, f.zone_id ?? '', u.lastSeenMs);
      u.lastSeenMs = Math.max(u.lastSeenMs, f.at_ms);
    }
  };
  const loc = new LocationRepo(x);
  if (opts.perDevice) {
    for (const r of rows) apply(await loc.fixesOfDevice(orgId, r.device, r.last_ms, r.last_ms + window, RECOVERY_FIX_LIMIT));
  } else {
    // Windows over the sorted last sightings: one time-range read per cluster (bounded to an hour).
    const sorted = [...rows].sort((a, b) => a.last_ms - b.last_ms);
    for (let i = 0; i < sorted.length; ) {
      const from = sorted[i]!.last_ms;
      let to = from + window;
      let j = i + 1;
      while (j < sorted.length && sorted[j]!.last_ms < to && sorted[j]!.last_ms - from < 60 * MINUTE_MS) to = Math.max(to, sorted[j++]!.last_ms + window);
      apply(await loc.fixesBetween(orgId, from, to, RECOVERY_FIX_LIMIT));
      i = j;
    }
  }
  return { rows: [...out.values()], open };
}

/**
 * Keeps zone visits per org and writes them in ingest transactions. Register
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
    bus.on('location.zone.exited', (ev) => this.onEvent(ev, false));
    bus.on('location.zone.entered', (ev) => this.onEvent(ev, true));
  }

  /** Time without a sighting after which a device leaves its zone (the ingest's), ms. */
  get idleMs(): number {
    return this.idle;
  }

  /**
   * The open visits this process holds for some devices, with their latest sighting, and the
   * rows it decided but has not written yet (the store lags by up to a refresh interval and a
   * sweep). Undefined when it holds nothing for the org (no batch of it since start): the store,
   * with its fixes replayed, is then the answer.
   */
  live(orgId: string, devices: readonly string[]): { open: OpenVisit[]; pending: VisitRow[] } | undefined {
    const st = this.orgs.get(orgId);
    if (!st) return undefined;
    const want = new Set(devices);
    const open: OpenVisit[] = [];
    for (const d of want) {
      const v = st.open.get(d);
      if (v) open.push({ ...v, lastMs: lastIn(v, st.presence?.get(d)) });
    }
    return { open, pending: [...st.pending.values()].filter((r) => want.has(r.device)) };
  }

  /** After a commit: follow one transition on the org's live state (rows for the next transaction). */
  private onEvent(ev: ZoneEvent, entered: boolean): void {
    const device = ev.device;
    if (device === null) return;
    const st = this.orgs.get(ev.orgId);
    if (!st) return;
    const v = st.open.get(device);
    if (v === undefined && !entered) return;
    let rules = st.rules;
    if (rules === undefined || rules.idleMs !== this.idle) rules = st.rules = new VisitRules(ev.orgId, this.settleMs, this.idle, (r) => void st.pending.set(keyOf(r.device, r.enter_ms), r));
    if (v?.recovered) {
      // Left open by an earlier process: the same zone within the idle time goes on, else it ended.
      if (!entered) return;
      if (v.zoneId === ev.zoneId && v.floorId === ev.floorId && ev.atMs >= v.enterMs && ev.atMs - v.lastMs <= this.idle) {
        v.recovered = false;
        if (ev.atMs > v.lastMs) v.lastMs = ev.atMs;
      } else {
        rules.close(st.open, v, v.lastMs);
        rules.open(st.open, device, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
      }
      return;
    }
    // The tracker's own transitions say when a device was gone for the idle time: no gap check here.
    if (entered) rules.seen(st.open, device, ev.atMs, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
    else if (v !== undefined) {
      const cur = rules.settle(st.open, v, ev.atMs);
      if (cur !== undefined && cur.zoneId === ev.zoneId && cur.floorId === ev.floorId) {
        if (cur.leftMs < 0) rules.away(cur, ev.atMs, ev.siteId, ev.floorId, '');
      } else if (cur !== undefined && cur.leftMs >= 0 && cur.awayZoneId === ev.zoneId && cur.awayFloorId === ev.floorId) rules.away(cur, ev.atMs, ev.siteId, ev.floorId, '');
    }
  }

  /** The batch hook: write what is due inside the batch's transaction. */
  readonly hook: IngestBatchHook = async (x, orgId, presence, at) => {
    this.idle = at.idleMs;
    let st = this.orgs.get(orgId);
    const loaded = st === undefined ? await this.load(x, orgId, at.idleMs) : undefined;
    st ??= loaded!.st;
    const { transitions, touched, state } = presence.changes;
    const writes = new Map<string, VisitRow>(loaded?.rows.map((r) => [keyOf(r.device, r.enter_ms), r]));
    const pending = [...st.pending];
    for (const [k, r] of pending) writes.set(k, r);
    // This batch's changes to the live state, on copies: applied after the commit.
    const copies = new Map<string, OpenVisit>();
    const removed = new Set<string>();
    const work = new Map<string, OpenVisit>();
    const copy = (d: string): OpenVisit | undefined => {
      if (removed.has(d)) return undefined;
      let c = copies.get(d);
      if (c === undefined) {
        const b = st!.open.get(d);
        if (b === undefined) return undefined;
        copies.set(d, (c = { ...b }));
      }
      return c;
    };
    const rules = new VisitRules(orgId, this.settleMs, at.idleMs, (r) => void writes.set(keyOf(r.device, r.enter_ms), r));
    const withWork = (d: string, f: (open: Map<string, OpenVisit>) => void) => {
      work.clear();
      const c = copy(d);
      if (c) work.set(d, c);
      f(work);
      const after = work.get(d);
      if (after) {
        copies.set(d, after);
        removed.delete(d);
      } else if (c || copies.has(d)) {
        copies.delete(d);
        removed.add(d);
      }
    };

    // The sweep judges the state as of the last commit (its transitions followed, the tracker's
    // state then, its data time): this batch's transitions are followed after this commit.
    const nowMs = st.nowMs;
    const sweep = Number.isFinite(nowMs) && nowMs - st.sweptMs >= VISIT_SWEEP_MS;
    if (sweep) {
      for (const [d, b] of st.open) {
        const s = state.get(d);
        // Most visits need nothing: look before copying.
        const lastB = lastIn(b, s);
        const due = (b.leftMs >= 0 && s !== undefined && s.lastMs - b.leftMs >= this.settleMs) || nowMs - lastB > at.idleMs || s?.eventDevice === null || (b.leftMs < 0 && lastB - b.writtenLastMs >= this.refreshMs);
        if (!due) continue;
        withWork(d, (open) => {
          let v = open.get(d);
          if (!v) return;
          if (v.leftMs >= 0 && s !== undefined) v = rules.settle(open, v, s.lastMs);
          if (!v) return;
          const lastMs = lastIn(v, s);
          // Idle, or no longer followed (tracking withdrawn): it left at its last sighting there.
          if (nowMs - lastMs > at.idleMs || (s !== undefined && s.eventDevice === null)) rules.close(open, v, lastMs);
          else {
            if (v.leftMs < 0) v.lastMs = lastMs;
            if (v.lastMs - v.writtenLastMs >= this.refreshMs) {
              v.writtenLastMs = v.lastMs;
              writes.set(keyOf(d, v.enterMs), rowOf(orgId, v, null));
            }
          }
        });
      }
    }

    // A device's first visit, and visits left open by an earlier process, are decided here. Only
    // devices the tracker did not know before this batch can be either: look for them first.
    let fresh = loaded !== undefined;
    if (!fresh) {
      for (const [d, s] of touched) {
        if (s.eventDevice === null || state.has(d)) continue;
        const b = st.open.get(d);
        if (b === undefined || b.recovered) {
          fresh = true;
          break;
        }
      }
    }
    for (const [name, ev] of fresh ? transitions : []) {
      const d = ev.device;
      if (d === null || name !== 'location.zone.entered') continue;
      const base = copies.get(d) ?? (removed.has(d) ? undefined : st.open.get(d));
      if (base !== undefined && !base.recovered) continue;
      withWork(d, (open) => {
        const v = open.get(d);
        if (v && v.zoneId === ev.zoneId && v.floorId === ev.floorId && ev.atMs >= v.enterMs && ev.atMs - v.lastMs <= at.idleMs) {
          v.recovered = false;
          if (ev.atMs > v.lastMs) v.lastMs = ev.atMs;
        } else {
          if (v) rules.close(open, v, v.lastMs);
          rules.open(open, d, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
        }
      });
    }

    // Closed as idle by the sweep yet seen in its zone in this batch (a late sighting the tracker
    // took as no move): it is there, so a visit begins at that sighting.
    for (const d of removed) {
      const s = touched.get(d);
      if (s !== undefined && s.eventDevice !== null && s.zoneId !== '' && !copies.has(d)) withWork(d, (open) => void rules.open(open, d, s.siteId, s.floorId, s.zoneId, s.lastMs));
    }

    if (writes.size > 0) await new JourneysRepo(x).upsertVisits([...writes.values()]);

    const target = st;
    return () => {
      if (loaded) this.orgs.set(orgId, target);
      target.presence = state;
      for (const d of removed) target.open.delete(d);
      for (const [d, v] of copies) target.open.set(d, v);
      for (const [k, r] of pending) if (target.pending.get(k) === r) target.pending.delete(k);
      if (sweep) target.sweptMs = nowMs;
      if (at.nowMs > target.nowMs) target.nowMs = at.nowMs;
    };
  };

  /** The org's open visits as the store has them, moved on by replaying their fixes. */
  private async load(x: Executor, orgId: string, idleMs: number): Promise<{ st: OrgVisits; rows: VisitRow[] }> {
    const st: OrgVisits = { open: new Map(), pending: new Map(), sweptMs: -Infinity, nowMs: -Infinity, presence: undefined };
    const stored = await new JourneysRepo(x).openVisits(orgId);
    if (stored.length === 0) return { st, rows: [] };
    // Two open visits of one device (an interrupted concurrent write): the older one ends at its last sighting.
    stored.sort((a, b) => a.enter_ms - b.enter_ms);
    const latest = new Map<string, VisitRow>();
    const rows: VisitRow[] = [];
    for (const r of stored) {
      const prev = latest.get(r.device);
      if (prev) rows.push({ ...prev, exit_ms: prev.last_ms });
      latest.set(r.device, r);
    }
    const replay = await replayVisits(x, orgId, [...latest.values()], { refreshMs: this.refreshMs, settleMs: this.settleMs, idleMs });
    rows.push(...replay.rows);
    for (const [d, v] of replay.open) {
      // Moved on by the replay: written now. The presence tracker knows none of these devices yet.
      if (!v.recovered) rows.push(rowOf(orgId, v, null));
      v.writtenLastMs = v.lastMs;
      v.leftMs = -1;
      v.recovered = true;
      st.open.set(d, v);
    }
    return { st, rows };
  }
}
