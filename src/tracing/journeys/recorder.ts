/**
 * Zone visits, derived at ingest and stored in the batch's own transaction (R-CT-2, R-DATA-3).
 *
 * The presence tracker already knows, per device, which zone it is in and emits enter/exit
 * transitions; this recorder turns a batch's transitions into visit rows (device pseudonym,
 * site, floor, zone, enter, exit) inside the batch's transaction, so whatever ingest
 * acknowledged is in the visits too. An open visit is rewritten only when it opens, closes, or
 * its last sighting moved on by {@link VISIT_REFRESH_MS} since it was last written, not every
 * batch. Devices that go idle leave through the tracker's exit events (after the commit): those
 * closes are written in a small transaction of their own at once, and again with the next batch.
 *
 * After a crash: the open visits the previous process left are loaded on the org's first batch
 * and their last sighting is taken from the stored fixes (at most one refresh interval of them,
 * read by time), so nothing acknowledged is lost; a device seen again in the same zone within
 * the idle time continues its visit, one not seen for longer leaves at its last sighting.
 *
 * Every change is made on an overlay and applied only after the commit; a rolled-back batch
 * leaves the recorder as it was. Concurrent batches of one org (possible on PostgreSQL) are
 * applied in commit order, as the presence tracker's are.
 */
import { MINUTE_MS } from '../../kernel/clock.ts';
import type { ZoneEvent } from '../../kernel/events.ts';
import type { Core } from '../../privacy/index.ts';
import { JourneysRepo, LocationRepo, type Executor, type FixRow, type VisitRow } from '../../storage/index.ts';
import type { IngestBatchHook } from '../../ingest/index.ts';
import type { PresenceBatch } from '../../location/index.ts';

/** An open visit is rewritten at most this often (data time) while only its last sighting moves. */
export const VISIT_REFRESH_MS = 5 * MINUTE_MS;
/** The presence tracker's default idle time, used until the first batch reports the real one. */
const DEFAULT_IDLE_MS = 5 * MINUTE_MS;
/** Fixes read per query when recovering open visits (a refresh interval of an org's fixes). */
const RECOVERY_FIX_LIMIT = 2_000_000;

/** A visit in progress, as the recorder holds it (immutable: changes replace the object). */
export interface OpenVisit {
  readonly device: string;
  readonly siteId: string;
  readonly floorId: string;
  readonly zoneId: string;
  readonly enterMs: number;
  /** Latest sighting in the zone, ms. */
  readonly lastMs: number;
  /** `lastMs` as last written to the store. */
  readonly writtenLastMs: number;
  /** Left open by an earlier process and not seen since: the presence tracker does not know it. */
  readonly recovered: boolean;
}

interface OrgVisits {
  /** Device pseudonym → its open visit. */
  open: Map<string, OpenVisit>;
  /** Visits closed after a commit (idle exits) not yet known to be written, by visit key. */
  pending: Map<string, VisitRow>;
  /** Devices whose open visit an earlier process left and that have not been seen since. */
  recovered: Set<string>;
  flushScheduled: boolean;
}

type Touched = PresenceBatch['changes']['touched'];

const keyOf = (device: string, enterMs: number): string => `${device}|${enterMs}`;

function rowOf(orgId: string, v: OpenVisit, exitMs: number | null): VisitRow {
  return { org_id: orgId, device: v.device, enter_ms: v.enterMs, site_id: v.siteId, floor_id: v.floorId, zone_id: v.zoneId, last_ms: exitMs ?? v.lastMs, exit_ms: exitMs };
}

/** The org's open visits with a batch's changes on top. */
class Overlay {
  readonly changed = new Map<string, OpenVisit | null>();
  constructor(private readonly base: ReadonlyMap<string, OpenVisit>) {}
  get(device: string): OpenVisit | undefined {
    const v = this.changed.get(device);
    return v === undefined ? this.base.get(device) : (v ?? undefined);
  }
  set(v: OpenVisit): void {
    this.changed.set(v.device, v);
  }
  remove(device: string): void {
    this.changed.set(device, null);
  }
}

/**
 * Extend the last sighting of open visits from the stored fixes: each visit's device, same floor
 * and zone, in [last_ms, last_ms + refreshMs), up to its first fix elsewhere. A committed sighting
 * later than that would have rewritten the visit, so this window holds every one it may lack.
 * Mutates `rows`; returns those it changed. `perDevice` reads each device's window on its own
 * (a journey's few visits) instead of the org's whole window (recovery of many).
 */
export async function refineOpenVisits(x: Executor, orgId: string, rows: VisitRow[], refreshMs: number, perDevice = false): Promise<VisitRow[]> {
  if (rows.length === 0) return [];
  const loc = new LocationRepo(x);
  const byDevice = new Map<string, VisitRow>();
  for (const r of rows) byDevice.set(r.device, r);
  const apply = (fixes: readonly FixRow[], changed: Set<VisitRow>, stopped: Set<string>) => {
    for (const f of fixes) {
      const r = byDevice.get(f.device);
      if (!r || stopped.has(f.device) || f.at_ms < r.last_ms || f.at_ms >= r.last_ms + refreshMs) continue;
      if (f.floor_id === r.floor_id && f.zone_id === r.zone_id) {
        if (f.at_ms > r.last_ms) {
          r.last_ms = f.at_ms;
          changed.add(r);
        }
      } else if (f.at_ms > r.last_ms) stopped.add(f.device);
    }
  };
  const changed = new Set<VisitRow>();
  const stopped = new Set<string>();
  if (perDevice) {
    for (const r of rows) apply(await loc.fixesOfDevice(orgId, r.device, r.last_ms, r.last_ms + refreshMs, RECOVERY_FIX_LIMIT), changed, stopped);
    return [...changed];
  }
  // Windows over the sorted last sightings: one time-range read per cluster (bounded to an hour).
  const sorted = [...byDevice.values()].sort((a, b) => a.last_ms - b.last_ms);
  let i = 0;
  while (i < sorted.length) {
    const from = sorted[i]!.last_ms;
    let to = from + refreshMs;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.last_ms < to && sorted[j]!.last_ms - from < 60 * MINUTE_MS) to = Math.max(to, sorted[j++]!.last_ms + refreshMs);
    // Originals' bounds, fixed before `apply` moves last_ms on.
    const bounds = new Map(sorted.slice(i, j).map((r) => [r.device, r.last_ms]));
    const fixes = (await loc.fixesBetween(orgId, from, to, RECOVERY_FIX_LIMIT)).filter((f) => bounds.has(f.device) && f.at_ms < bounds.get(f.device)! + refreshMs);
    apply(fixes, changed, stopped);
    i = j;
  }
  return [...changed];
}

/**
 * Keeps zone visits per org and writes them in each ingest batch's transaction. Register
 * {@link VisitRecorder.hook} with `IngestService.addBatchHook`.
 *
 * @example ingest.addBatchHook(new VisitRecorder(core).hook)
 */
export class VisitRecorder {
  private readonly orgs = new Map<string, OrgVisits>();
  /** Transition exits the batch already handled (the same objects go out on the bus afterwards). */
  private readonly handled = new WeakSet<ZoneEvent>();
  private idle = DEFAULT_IDLE_MS;

  constructor(
    private readonly core: Core,
    readonly refreshMs = VISIT_REFRESH_MS,
  ) {
    core.bus.on('location.zone.exited', (ev) => this.onExit(ev));
    core.bus.on('org.deleted', ({ orgId }) => void this.orgs.delete(orgId));
  }

  /** Seconds without a sighting after which a device leaves its zone (the ingest's), ms. */
  get idleMs(): number {
    return this.idle;
  }

  /**
   * What this process knows of some devices' visits beyond the store: their open visits with the
   * latest sighting, and closes not yet written. Undefined when it holds nothing for the org (no
   * batch of it since start): the store, refined from fixes, is then the answer.
   */
  live(orgId: string, devices: readonly string[]): { open: OpenVisit[]; closed: VisitRow[] } | undefined {
    const st = this.orgs.get(orgId);
    if (!st) return undefined;
    const want = new Set(devices);
    const open: OpenVisit[] = [];
    for (const d of want) {
      const v = st.open.get(d);
      if (v) open.push(v);
    }
    return { open, closed: [...st.pending.values()].filter((r) => want.has(r.device)) };
  }

  /** The batch hook: derive the batch's visit changes and write them in its transaction. */
  readonly hook: IngestBatchHook = async (x, orgId, presence, at) => {
    this.idle = at.idleMs;
    const writes = new Map<string, VisitRow>();
    let st = this.orgs.get(orgId);
    let loaded: OrgVisits | undefined;
    if (!st) st = loaded = await this.load(x, orgId, writes);
    const pending = [...st.pending];
    for (const [k, r] of pending) writes.set(k, r);
    const b = new Overlay(st.open);
    const close = (v: OpenVisit, exitMs: number) => {
      writes.set(keyOf(v.device, v.enterMs), rowOf(orgId, v, Math.max(exitMs, v.enterMs)));
      b.remove(v.device);
    };
    const open = (device: string, siteId: string, floorId: string, zoneId: string, atMs: number) => {
      const v: OpenVisit = { device, siteId, floorId, zoneId, enterMs: atMs, lastMs: atMs, writtenLastMs: atMs, recovered: false };
      writes.set(keyOf(device, atMs), rowOf(orgId, v, null));
      b.set(v);
    };

    const { transitions, touched } = presence.changes;
    for (const [name, ev] of transitions) {
      if (ev.device === null) continue;
      const v = b.get(ev.device);
      const same = v !== undefined && v.zoneId === ev.zoneId && v.floorId === ev.floorId;
      if (name === 'location.zone.exited') {
        if (same) close(v!, ev.atMs);
        continue;
      }
      if (v) {
        // The tracker did not know the device (a restart): the same zone within the idle time goes on.
        if (same && ev.atMs >= v.enterMs && ev.atMs - v.lastMs <= at.idleMs) {
          b.set({ ...v, lastMs: Math.max(v.lastMs, ev.atMs), recovered: false });
          continue;
        }
        close(v, v.lastMs);
      }
      open(ev.device, ev.siteId, ev.floorId, ev.zoneId, ev.atMs);
    }
    this.touch(orgId, touched, b, writes, close, open);
    if (st.recovered.size > 0 && Number.isFinite(at.nowMs)) {
      // Visits an earlier process left open whose device has not come back within the idle time.
      for (const d of st.recovered) {
        const v = b.get(d);
        if (v?.recovered && at.nowMs - v.lastMs > at.idleMs) close(v, v.lastMs);
      }
    }
    if (writes.size > 0) await new JourneysRepo(x).upsertVisits([...writes.values()]);

    return () => {
      const target = loaded ?? st;
      if (loaded) this.orgs.set(orgId, loaded);
      for (const [d, v] of b.changed) {
        if (v) target.open.set(d, v);
        else target.open.delete(d);
      }
      for (const [k, r] of pending) if (target.pending.get(k) === r) target.pending.delete(k);
      for (const d of target.recovered) if (!target.open.get(d)?.recovered) target.recovered.delete(d);
      for (const [name, ev] of transitions) if (name === 'location.zone.exited') this.handled.add(ev);
    };
  };

  /** Last sightings of devices that stayed in their zone; refresh writes; odd cases of a restart. */
  private touch(orgId: string, touched: Touched, b: Overlay, writes: Map<string, VisitRow>, close: (v: OpenVisit, exitMs: number) => void, open: (d: string, s: string, f: string, z: string, atMs: number) => void): void {
    for (const [device, s] of touched) {
      const v = b.get(device);
      if (s.eventDevice === null || s.zoneId === '') {
        // No longer followed (tracking withdrawn), or on the floor outside every zone.
        if (v) close(v, v.lastMs);
        continue;
      }
      if (v === undefined || v.zoneId !== s.zoneId || v.floorId !== s.floorId) {
        // In a zone without a visit the batch saw begin (a recovered visit elsewhere, or state
        // dropped): the visit starts at its latest sighting, the least this batch can vouch for.
        if (v) close(v, v.lastMs);
        open(device, s.siteId, s.floorId, s.zoneId, s.lastMs);
        continue;
      }
      if (s.lastMs <= v.lastMs && v.lastMs - v.writtenLastMs < this.refreshMs) continue;
      const lastMs = Math.max(v.lastMs, s.lastMs);
      if (lastMs - v.writtenLastMs >= this.refreshMs) {
        const nv: OpenVisit = { ...v, lastMs, writtenLastMs: lastMs, recovered: false };
        b.set(nv);
        writes.set(keyOf(device, v.enterMs), rowOf(orgId, nv, null));
      } else {
        b.set({ ...v, lastMs, recovered: false });
      }
    }
  }

  /** The org's open visits as the store has them, their last sightings refined from fixes. */
  private async load(x: Executor, orgId: string, writes: Map<string, VisitRow>): Promise<OrgVisits> {
    const st: OrgVisits = { open: new Map(), pending: new Map(), recovered: new Set(), flushScheduled: false };
    const rows = await new JourneysRepo(x).openVisits(orgId);
    if (rows.length === 0) return st;
    // Two open visits of one device (an interrupted concurrent write): the older one ends at its last sighting.
    rows.sort((a, b) => a.enter_ms - b.enter_ms);
    const latest = new Map<string, VisitRow>();
    for (const r of rows) {
      const prev = latest.get(r.device);
      if (prev) writes.set(keyOf(prev.device, prev.enter_ms), { ...prev, exit_ms: prev.last_ms });
      latest.set(r.device, r);
    }
    const current = [...latest.values()];
    for (const r of await refineOpenVisits(x, orgId, current, this.refreshMs)) writes.set(keyOf(r.device, r.enter_ms), { ...r });
    for (const r of current) {
      st.open.set(r.device, { device: r.device, siteId: r.site_id, floorId: r.floor_id, zoneId: r.zone_id, enterMs: r.enter_ms, lastMs: r.last_ms, writtenLastMs: r.last_ms, recovered: true });
      st.recovered.add(r.device);
    }
    return st;
  }

  /** An idle exit from the tracker (after a commit): close the visit, write it soon. */
  private onExit(ev: ZoneEvent): void {
    if (ev.device === null || this.handled.has(ev)) return;
    const st = this.orgs.get(ev.orgId);
    const v = st?.open.get(ev.device);
    if (!st || !v || v.zoneId !== ev.zoneId || v.floorId !== ev.floorId || ev.atMs < v.enterMs) return;
    st.open.delete(ev.device);
    st.pending.set(keyOf(v.device, v.enterMs), rowOf(ev.orgId, v, Math.max(ev.atMs, v.lastMs)));
    if (!st.flushScheduled) {
      st.flushScheduled = true;
      setImmediate(() => void this.flush(ev.orgId, st));
    }
  }

  /** Write pending closes in a transaction of their own (the next batch writes them too). */
  private async flush(orgId: string, st: OrgVisits): Promise<void> {
    st.flushScheduled = false;
    const rows = [...st.pending];
    if (rows.length === 0) return;
    try {
      const db = await this.core.directory.storeOf(orgId);
      await db.tx((x) => new JourneysRepo(x).upsertVisits(rows.map(([, r]) => r)));
      for (const [k, r] of rows) if (st.pending.get(k) === r) st.pending.delete(k);
    } catch (e) {
      this.core.log.warn({ err: e }, 'zone visit closes not written yet; the next batch writes them');
    }
  }
}
