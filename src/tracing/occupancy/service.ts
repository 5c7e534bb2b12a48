/**
 * Live occupancy and hot-zone alerts (issue 4: R-CT-1, R-LOC-4, R-LOC-5).
 *
 * The ingest pipeline's presence tracker knows, in memory, the cell (zone, or floor outside any
 * zone) each device was last seen in and when. After each committed batch its zone events reach
 * this service over the event bus; the service then re-counts the org (at most every
 * {@link EVAL_INTERVAL_MS}, and once a second from the scheduler so that counts age and hold
 * times run out): devices per cell seen within the org's window, no identifiers kept. Each zone's
 * figure (randomised-address policy applied) goes through its alert state machine against the
 * zone's limit (fixed, learned per hour of week, or the zone's own occupancy limit); a violation
 * or recovery is stored, audited and queued for delivery in one transaction, then sent at once
 * (Mist `occupancy-alerts` payload, signed) and pushed to live streams. Per zone-minute, the
 * latest and peak counts are written to `zone_presence` (aggregates; learned baselines read
 * them, and so does a process without the live state, such as the CLI).
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { DAY_MS, MINUTE_MS, toIso } from '../../kernel/clock.ts';
import type { Core, Ctx, RetentionService } from '../../privacy/index.ts';
import { OccupancyRepo, type BaselineRow, type Database, type Executor, type OccupancyAlertRow, type OccupancyMinuteRow, type QueueRow } from '../../storage/index.ts';
import type { DeliveryService } from '../delivery/index.ts';
import { SseStream, type SseOptions, type SseTarget } from '../delivery/sse.ts';
import { newAlertState, step, type AlertState, type Phase } from './alerts.ts';
import { HourOfWeek, HOURS_OF_WEEK, learnLimits, limitFor, type BaselineSource, type ZoneBaseline } from './baseline.ts';
import { cellKey, countCells, identitiesIn, policyFigure, type CellCount, type PresenceView } from './live.ts';
import { OCCUPANCY_TOPIC, mistOccupancyPayload, occupancyEmail, type HotZoneAlert } from './mist.ts';
import { applyOccupancyPatch, parseOccupancySettings, type OccupancySettings, type OccupancySettingsPatch, type RandomizedPolicy } from './settings.ts';

/** Shortest time between two counts of one org triggered by ingest, ms. */
export const EVAL_INTERVAL_MS = 50;
const TICK_MS = 1_000;
const FLUSH_EVERY_MS = 10_000;
const MODEL_TTL_MS = 30_000;

export interface OccupancyDeps {
  /** This process's presence state of an org (the ingest pipeline's tracker), if it has one. */
  presence(orgId: string): { readonly state: ReadonlyMap<string, PresenceView> } | undefined;
  /** How long a device may go unseen before it has left its zone, ms (the largest window). */
  presenceTimeoutMs: number;
  delivery: DeliveryService;
}

// ---- views ----------------------------------------------------------------------------------

export interface Counted {
  /** What alerts compare with (the randomised-address policy applied). */
  figure: number;
  /** Every address counted. */
  devices: number;
  /** Randomised addresses among `devices`. */
  randomized: number;
}

export interface ZoneLive extends Counted {
  zoneId: string;
  floorId: string;
  name: string;
  limit: number | null;
  baseline: BaselineSource | null;
  alert: Phase;
}

export interface FloorLive extends Counted {
  floorId: string;
  name: string;
  level: number;
  /** Devices on the floor outside every zone. */
  outsideZones: Counted;
}

export interface SiteLive extends Counted {
  orgId: string;
  siteId: string;
  name: string;
  /** When the counts were taken. */
  at: string;
  /** `memory`: this process's live state; `store`: the latest minute recorded (another process counts). */
  source: 'memory' | 'store';
  /** For `store`: the minute the counts are from (null: nothing recorded within the window). */
  asOf: string | null;
  windowMinutes: number;
  randomizedPolicy: RandomizedPolicy;
  floors: FloorLive[];
  zones: ZoneLive[];
}

export interface BaselineView {
  zoneId: string;
  /** `zone`: the zone's own occupancy limit (no baseline set). */
  mode: 'zone' | 'fixed' | 'learned' | 'off';
  limit: number | null;
  percentile: number | null;
  lookbackDays: number | null;
  /** Learned limits per hour of week (site time, Monday 00:00 first). */
  learned: (number | null)[] | null;
  learnedAt: string | null;
  learnedMinutes: number;
  /** The limit in force now. */
  current: { limit: number; source: BaselineSource } | null;
}

export interface BaselineInput {
  mode: 'zone' | 'fixed' | 'learned' | 'off';
  limit?: number;
  percentile?: number;
  lookbackDays?: number;
}

export interface AlertView {
  id: string;
  type: 'COMPLIANCE-VIOLATION' | 'COMPLIANCE-OK';
  episodeId: string;
  siteId: string;
  floorId: string;
  zoneId: string;
  at: string;
  occupancy: number;
  randomized: number;
  limit: number;
  baseline: string;
  /** Pseudonyms, only when identities were recorded and the caller asked (audited). */
  devices?: string[];
}

export interface HistoryRow {
  at: string;
  floorId: string;
  zoneId: string;
  /** Distinct devices sighted in the minute (ingest's count). */
  sighted: number;
  sightedRandomized: number;
  /** Live count at the end of the minute and its peak (null: not tracked then). */
  occupancy: number | null;
  occupancyRandomized: number | null;
  peak: number | null;
  peakRandomized: number | null;
}

// ---- internal state -------------------------------------------------------------------------

interface Model {
  loadedAtMs: number;
  settings: OccupancySettings;
  sites: Map<string, { name: string; how: HourOfWeek }>;
  floors: Map<string, { siteId: string; name: string; level: number }>;
  zones: Map<string, { siteId: string; floorId: string; name: string; limit: number | null }>;
  baselines: Map<string, ZoneBaseline>;
}

interface MinuteCell {
  siteId: string;
  floorId: string;
  zoneId: string;
  last: number;
  lastR: number;
  peak: number;
  peakR: number;
  dirty: boolean;
}

interface Subscriber {
  siteId: string;
  stream: SseStream;
  alerts: boolean;
  last: Map<string, string>;
}

interface OrgLive {
  alerts: Map<string, AlertState>;
  restored: boolean;
  cells: Map<string, CellCount>;
  minuteMs: number;
  minute: Map<string, MinuteCell>;
  lastFlushMs: number;
  lastEvalAt: number;
  scheduled: boolean;
  chain: Promise<void>;
  subs: Set<Subscriber>;
}

const ALERT_CTX_ID = 'occupancy';
function alertCtx(): Ctx {
  return { actor: { kind: 'system', id: ALERT_CTX_ID }, bindings: [], requestId: newId() };
}

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

function counted(c: { devices: number; randomized: number } | undefined, policy: RandomizedPolicy): Counted {
  const devices = c?.devices ?? 0;
  const randomized = c?.randomized ?? 0;
  return { figure: policyFigure({ devices, randomized }, policy), devices, randomized };
}

function add(a: Counted, b: Counted): void {
  a.figure += b.figure;
  a.devices += b.devices;
  a.randomized += b.randomized;
}

export class OccupancyService {
  private readonly orgs = new Map<string, OrgLive>();
  private readonly models = new Map<string, Promise<Model>>();
  private timer: NodeJS.Timeout | undefined;
  private relearnTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly core: Core,
    private readonly deps: OccupancyDeps,
    retention: RetentionService,
  ) {
    retention.register('location', (x, orgId, before, limit) => new OccupancyRepo(x).purgeAlerts(orgId, before, limit));
    deps.delivery.registerTopic(OCCUPANCY_TOPIC);
    core.bus.on('location.zone.entered', (e) => this.touch(e.orgId));
    core.bus.on('location.zone.exited', (e) => this.touch(e.orgId));
    core.bus.on('tenancy.plan.changed', ({ orgId }) => void this.models.delete(orgId));
    core.bus.on('org.deleted', ({ orgId }) => {
      this.models.delete(orgId);
      const live = this.orgs.get(orgId);
      if (live) for (const s of live.subs) s.stream.close();
      this.orgs.delete(orgId);
    });
  }

  /** The longest window an org may set, minutes. */
  get maxWindowMinutes(): number {
    return Math.max(1, Math.floor(this.deps.presenceTimeoutMs / MINUTE_MS));
  }

  // ---- settings -------------------------------------------------------------------------------

  async getSettings(ctx: Ctx, orgId: string): Promise<OccupancySettings> {
    const { db } = await this.core.access.enforce(ctx, 'occupancy', 'readConfig', { orgId });
    return parseOccupancySettings((await new OccupancyRepo(db).getSettings(orgId))?.settings);
  }

  /** Change the org's window, randomised-address policy or alert rules; audited with the fields changed. */
  async updateSettings(ctx: Ctx, orgId: string, patch: OccupancySettingsPatch): Promise<OccupancySettings> {
    const { db } = await this.core.access.enforce(ctx, 'occupancy', 'configure', { orgId });
    const out = await db.tx(async (x) => {
      const repo = new OccupancyRepo(x);
      const next = applyOccupancyPatch(parseOccupancySettings((await repo.getSettings(orgId))?.settings), patch, this.maxWindowMinutes);
      await repo.putSettings({ org_id: orgId, settings: JSON.stringify(next), updated_at: this.core.clock.nowMs() });
      const fields = [...Object.keys(patch).filter((k) => k !== 'alerts'), ...Object.keys(patch.alerts ?? {}).map((k) => `alerts.${k}`)].sort();
      await this.core.audit.record(x, ctx, orgId, 'occupancy.settings.update', `org:${orgId}`, { fields, ...next.alerts, windowMinutes: next.windowMinutes, randomized: next.randomized });
      return next;
    });
    this.models.delete(orgId);
    this.touch(orgId);
    return out;
  }

  // ---- the org model --------------------------------------------------------------------------

  private model(orgId: string, db?: Database): Promise<Model> {
    const hit = this.models.get(orgId);
    const now = this.core.clock.nowMs();
    if (hit) return hit.then((m) => (Math.abs(now - m.loadedAtMs) < MODEL_TTL_MS ? m : this.reload(orgId, db)));
    return this.reload(orgId, db);
  }

  private reload(orgId: string, db?: Database): Promise<Model> {
    const p = (async (): Promise<Model> => {
      const store = db ?? (await this.core.directory.storeOf(orgId));
      const repo = new OccupancyRepo(store);
      const plan = await repo.plan(orgId);
      const settings = parseOccupancySettings((await repo.getSettings(orgId))?.settings);
      const baselines = new Map<string, ZoneBaseline>();
      for (const b of await repo.listBaselines(orgId)) baselines.set(b.zone_id, { mode: b.mode as ZoneBaseline['mode'], fixedLimit: b.fixed_limit, learned: b.learned ? (JSON.parse(b.learned) as (number | null)[]) : null });
      return {
        loadedAtMs: this.core.clock.nowMs(),
        settings,
        sites: new Map(plan.sites.map((s) => [s.id, { name: s.name, how: new HourOfWeek(s.timezone) }])),
        floors: new Map(plan.floors.map((f) => [f.id, { siteId: f.site_id, name: f.name, level: f.level }])),
        zones: new Map(plan.zones.map((z) => [z.id, { siteId: z.site_id, floorId: z.floor_id, name: z.name, limit: z.occupancy_limit }])),
        baselines,
      };
    })();
    this.models.set(orgId, p);
    p.catch(() => this.models.delete(orgId));
    return p;
  }

  private orgLive(orgId: string): OrgLive {
    let l = this.orgs.get(orgId);
    if (!l) {
      l = { alerts: new Map(), restored: false, cells: new Map(), minuteMs: 0, minute: new Map(), lastFlushMs: 0, lastEvalAt: -Infinity, scheduled: false, chain: Promise.resolve(), subs: new Set() };
      this.orgs.set(orgId, l);
    }
    return l;
  }

  // ---- evaluation -----------------------------------------------------------------------------

  /** Something changed for an org (a committed batch moved devices): count it again soon. */
  private touch(orgId: string): void {
    if (this.stopped) return;
    const l = this.orgLive(orgId);
    if (l.scheduled) return;
    l.scheduled = true;
    const wait = Math.max(0, l.lastEvalAt + EVAL_INTERVAL_MS - performance.now());
    const run = () => {
      l.scheduled = false;
      this.evaluate(orgId).catch((e) => this.core.log.error({ err: e }, 'occupancy evaluation failed'));
    };
    if (wait === 0) setImmediate(run);
    else setTimeout(run, wait);
  }

  /**
   * Count the org now, advance its zones' alert states, record and send what they raise, push
   * changes to live streams. Evaluations of one org run one after another.
   *
   * @example await occupancy.evaluate(orgId) // tests: after ingesting, before asserting
   */
  evaluate(orgId: string): Promise<void> {
    const l = this.orgLive(orgId);
    const next = l.chain.then(() => this.evaluateNow(orgId, l));
    l.chain = next.catch(() => undefined);
    return next;
  }

  private async evaluateNow(orgId: string, l: OrgLive): Promise<void> {
    if (this.stopped || this.orgs.get(orgId) !== l) return;
    l.lastEvalAt = performance.now();
    const db = await this.core.directory.storeOf(orgId);
    const m = await this.model(orgId, db);
    const now = this.core.clock.nowMs();
    const s = m.settings;
    const since = now - s.windowMinutes * MINUTE_MS;
    const tracker = this.deps.presence(orgId);
    const cells = tracker ? countCells(tracker.state.values(), since) : new Map<string, CellCount>();
    l.cells = cells;
    await this.accumulate(orgId, l, cells, now, db);

    if (!l.restored) {
      l.restored = true;
      for (const v of await new OccupancyRepo(db).openViolations(orgId)) {
        if (m.zones.has(v.zone_id) && !l.alerts.has(v.zone_id)) l.alerts.set(v.zone_id, { phase: 'violation', sinceMs: now, episodeId: v.id, limit: v.limit_devices });
      }
    }

    const raised: { zoneId: string; type: 'violation' | 'ok'; figure: number; randomized: number; limit: number; source: BaselineSource; prev: AlertState; state: AlertState }[] = [];
    const rule = { holdMs: s.alerts.holdMinutes * MINUTE_MS, hysteresisPercent: s.alerts.hysteresisPercent };
    for (const [zoneId, z] of m.zones) {
      const site = m.sites.get(z.siteId);
      const lim = s.alerts.enabled && site ? limitFor(m.baselines.get(zoneId), z.limit, site.how.at(now)) : null;
      let st = l.alerts.get(zoneId);
      if (!st) {
        if (lim === null) continue;
        st = newAlertState();
        l.alerts.set(zoneId, st);
      }
      const c = cells.get(cellKey(z.floorId, zoneId));
      const figure = policyFigure(c ?? { devices: 0, randomized: 0 }, s.randomized);
      const prev = { ...st };
      const ev = step(st, figure, lim?.limit ?? null, now, rule);
      if (ev) raised.push({ zoneId, type: ev, figure, randomized: c?.randomized ?? 0, limit: ev === 'ok' && lim === null ? (prev.limit ?? 0) : (lim?.limit ?? prev.limit ?? 0), source: lim?.source ?? 'fixed', prev, state: st });
      if (st.phase === 'ok' && lim === null) l.alerts.delete(zoneId);
    }
    // Zones that disappeared from the plan: forget their state.
    for (const zoneId of l.alerts.keys()) if (!m.zones.has(zoneId)) l.alerts.delete(zoneId);

    if (raised.length > 0) await this.record(orgId, db, m, raised, tracker, since, now);
    this.publish(orgId, l, m, now);
  }

  /** Store, audit and queue the alerts raised by one evaluation (one transaction), then send. */
  private async record(
    orgId: string,
    db: Database,
    m: Model,
    raised: { zoneId: string; type: 'violation' | 'ok'; figure: number; randomized: number; limit: number; source: BaselineSource; prev: AlertState; state: AlertState }[],
    tracker: { readonly state: ReadonlyMap<string, PresenceView> } | undefined,
    since: number,
    now: number,
  ): Promise<void> {
    const s = m.settings;
    const ctx = alertCtx();
    const alerts: HotZoneAlert[] = [];
    const queued: QueueRow[] = [];
    try {
      await db.tx(async (x) => {
        const repo = new OccupancyRepo(x);
        for (const r of raised) {
          const z = m.zones.get(r.zoneId)!;
          const id = newId(now);
          const episodeId = r.type === 'violation' ? id : (r.prev.episodeId ?? id);
          const devices = r.type === 'violation' && s.alerts.revealIdentities && tracker ? identitiesIn(tracker.state.values(), z.floorId, r.zoneId, since, s.randomized) : undefined;
          const a: HotZoneAlert = {
            id,
            episodeId,
            type: r.type === 'violation' ? 'COMPLIANCE-VIOLATION' : 'COMPLIANCE-OK',
            orgId,
            siteId: z.siteId,
            siteName: m.sites.get(z.siteId)?.name ?? '',
            floorId: z.floorId,
            floorName: m.floors.get(z.floorId)?.name ?? '',
            zoneId: r.zoneId,
            zoneName: z.name,
            atMs: now,
            occupancy: r.figure,
            randomized: r.randomized,
            limit: r.limit,
            baseline: r.source,
            windowMinutes: s.windowMinutes,
            randomizedPolicy: s.randomized,
            holdMinutes: s.alerts.holdMinutes,
            ...(devices ? { devices } : {}),
          };
          const row: OccupancyAlertRow = {
            id,
            org_id: orgId,
            site_id: z.siteId,
            floor_id: z.floorId,
            zone_id: r.zoneId,
            kind: r.type,
            episode_id: episodeId,
            at_ms: now,
            occupancy: r.figure,
            randomized: r.randomized,
            limit_devices: r.limit,
            baseline: r.source,
            identities_enc: devices ? await this.core.keys.encrypt(x, orgId, 'occupancy_alerts.identities', JSON.stringify(devices)) : null,
          };
          await repo.insertAlert(row);
          await this.core.audit.record(x, ctx, orgId, `occupancy.alert.${r.type}`, `zone:${r.zoneId}`, { alertId: id, episodeId, occupancy: r.figure, limit: r.limit, baseline: r.source, ...(devices ? { identities: devices.length } : {}) });
          queued.push(...(await this.deps.delivery.enqueueClaimed(x, orgId, { topic: OCCUPANCY_TOPIC, siteId: z.siteId, sourceId: id, body: mistOccupancyPayload(a), email: occupancyEmail(a) })));
          alerts.push(a);
        }
      });
    } catch (e) {
      // Nothing was recorded: put the zones back so the next evaluation raises again.
      for (const r of raised) Object.assign(r.state, r.prev);
      throw e;
    }
    for (let i = 0; i < raised.length; i++) {
      const r = raised[i]!;
      r.state.episodeId = r.type === 'violation' ? alerts[i]!.id : null;
      if (r.type === 'ok') r.state.limit = null;
    }
    this.deps.delivery.sendNow(db, queued);
    const l = this.orgs.get(orgId);
    if (l) {
      for (const sub of l.subs) {
        if (!sub.alerts) continue;
        for (const a of alerts) if (a.siteId === sub.siteId) sub.stream.send('alert', alertOut(a));
      }
    }
  }

  /** Fold the counts into this minute's latest and peak per cell; a new minute writes the last one. */
  private async accumulate(orgId: string, l: OrgLive, cells: Map<string, CellCount>, now: number, db: Database): Promise<void> {
    const bucket = now - (now % MINUTE_MS);
    if (bucket !== l.minuteMs) {
      const done = l.minuteMs;
      const prev = l.minute;
      l.minuteMs = bucket;
      l.minute = new Map();
      if (done !== 0) await this.write(orgId, db, done, [...prev.values()], true);
    }
    for (const [k, c] of cells) {
      let mc = l.minute.get(k);
      if (!mc) {
        mc = { siteId: c.siteId, floorId: c.floorId, zoneId: c.zoneId, last: -1, lastR: 0, peak: -1, peakR: 0, dirty: true };
        l.minute.set(k, mc);
      }
      if (mc.last !== c.devices || mc.lastR !== c.randomized) {
        mc.last = c.devices;
        mc.lastR = c.randomized;
        mc.dirty = true;
      }
      if (c.devices > mc.peak) {
        mc.peak = c.devices;
        mc.peakR = c.randomized;
        mc.dirty = true;
      }
    }
    for (const [k, mc] of l.minute) {
      if (!cells.has(k) && mc.last !== 0) {
        mc.last = 0;
        mc.lastR = 0;
        mc.dirty = true;
      }
    }
    if (l.minute.size === 0 && cells.size === 0) return;
    if (now - l.lastFlushMs >= FLUSH_EVERY_MS) await this.flushOrg(orgId, l, db);
  }

  private async flushOrg(orgId: string, l: OrgLive, db: Database): Promise<void> {
    l.lastFlushMs = this.core.clock.nowMs();
    await this.write(orgId, db, l.minuteMs, [...l.minute.values()], false);
  }

  private async write(orgId: string, db: Database, bucketMs: number, cells: MinuteCell[], all: boolean): Promise<void> {
    const rows: OccupancyMinuteRow[] = [];
    for (const c of cells) {
      if (!all && !c.dirty) continue;
      if (c.peak <= 0 && c.last <= 0) continue;
      c.dirty = false;
      rows.push({ org_id: orgId, floor_id: c.floorId, zone_id: c.zoneId, bucket_ms: bucketMs, site_id: c.siteId, occupancy: Math.max(0, c.last), occupancy_randomized: c.lastR, occupancy_peak: Math.max(0, c.peak), occupancy_peak_randomized: c.peakR });
    }
    if (rows.length > 0) await db.tx((x) => new OccupancyRepo(x).putOccupancyMinutes(rows));
  }

  /** Write every org's current minute now (tests; shutdown). */
  async flushMinutes(): Promise<void> {
    for (const [orgId, l] of this.orgs) {
      await l.chain;
      await this.flushOrg(orgId, l, await this.core.directory.storeOf(orgId));
    }
  }

  // ---- live views -----------------------------------------------------------------------------

  private siteLive(orgId: string, m: Model, siteId: string, cells: Map<string, CellCount>, alerts: ReadonlyMap<string, { phase: Phase }>, now: number, source: 'memory' | 'store', asOfMs: number | null): SiteLive {
    const s = m.settings;
    const site = m.sites.get(siteId)!;
    const how = site.how.at(now);
    const floors = new Map<string, FloorLive>();
    for (const [floorId, f] of m.floors) {
      if (f.siteId !== siteId) continue;
      const outside = counted(cells.get(cellKey(floorId, '')), s.randomized);
      floors.set(floorId, { floorId, name: f.name, level: f.level, ...outside, outsideZones: { ...outside } });
    }
    const zones: ZoneLive[] = [];
    for (const [zoneId, z] of m.zones) {
      if (z.siteId !== siteId) continue;
      const c = counted(cells.get(cellKey(z.floorId, zoneId)), s.randomized);
      const lim = limitFor(m.baselines.get(zoneId), z.limit, how);
      zones.push({ zoneId, floorId: z.floorId, name: z.name, ...c, limit: lim?.limit ?? null, baseline: lim?.source ?? null, alert: alerts.get(zoneId)?.phase ?? 'ok' });
      const f = floors.get(z.floorId);
      if (f) add(f, c);
    }
    const total: Counted = { figure: 0, devices: 0, randomized: 0 };
    for (const f of floors.values()) add(total, f);
    return {
      orgId,
      siteId,
      name: site.name,
      at: toIso(now),
      source,
      asOf: asOfMs === null ? null : toIso(asOfMs),
      windowMinutes: s.windowMinutes,
      randomizedPolicy: s.randomized,
      ...total,
      floors: [...floors.values()],
      zones,
    };
  }

  /**
   * Live counts of a site, per zone and floor (aggregates: every reader of the site, observers
   * included). From this process's live state when it has one for the org, else from the latest
   * minute recorded (the CLI, a second server).
   *
   * @example const v = await occupancy.live(ctx, orgId, siteId); v.zones[0].figure
   */
  async live(ctx: Ctx, orgId: string, siteId: string): Promise<SiteLive> {
    const { db } = await this.core.access.enforce(ctx, 'occupancy', 'readLive', { orgId, siteId });
    const m = await this.model(orgId, db);
    if (!m.sites.has(siteId)) throw notFoundOrNoAccess();
    const now = this.core.clock.nowMs();
    if (this.deps.presence(orgId)) {
      await this.evaluate(orgId);
      const l = this.orgLive(orgId);
      return this.siteLive(orgId, m, siteId, l.cells, l.alerts, now, 'memory', null);
    }
    const repo = new OccupancyRepo(db);
    const rows = await repo.latestOccupancy(orgId, siteId, now - m.settings.windowMinutes * MINUTE_MS);
    const cells = new Map<string, CellCount>();
    for (const r of rows) if ((r.occupancy ?? 0) > 0) cells.set(cellKey(r.floor_id, r.zone_id), { siteId, floorId: r.floor_id, zoneId: r.zone_id, devices: r.occupancy ?? 0, randomized: r.occupancy_randomized ?? 0 });
    const open = new Map<string, { phase: Phase }>();
    for (const v of await repo.openViolations(orgId)) open.set(v.zone_id, { phase: 'violation' });
    return this.siteLive(orgId, m, siteId, cells, open, now, 'store', rows[0]?.bucket_ms ?? null);
  }

  /**
   * Open a server-sent-events stream of a site's live counts: a `snapshot` event first, then an
   * `occupancy` event with the zones and floors whose counts changed, and (for callers who may
   * read alerts) an `alert` event per violation or recovery, without identities. `open` is called
   * once access is granted and returns the response to write to.
   */
  async stream(ctx: Ctx, orgId: string, siteId: string, open: () => SseTarget, opts: SseOptions = {}): Promise<SseStream> {
    const first = await this.live(ctx, orgId, siteId);
    const { allowed } = await this.core.access.check(ctx, 'occupancy', 'readAlerts', { orgId, siteId });
    const stream = new SseStream(open(), opts);
    const sub: Subscriber = { siteId, stream, alerts: allowed, last: new Map() };
    remember(sub, first);
    stream.send('snapshot', first);
    if (stream.isClosed) return stream;
    const l = this.orgLive(orgId);
    l.subs.add(sub);
    stream.whenClosed(() => l.subs.delete(sub));
    return stream;
  }

  private publish(orgId: string, l: OrgLive, m: Model, now: number): void {
    if (l.subs.size === 0) return;
    const bySite = new Map<string, SiteLive>();
    for (const sub of l.subs) {
      if (!m.sites.has(sub.siteId)) continue;
      let v = bySite.get(sub.siteId);
      if (!v) {
        v = this.siteLive(orgId, m, sub.siteId, l.cells, l.alerts, now, 'memory', null);
        bySite.set(sub.siteId, v);
      }
      const zones = v.zones.filter((z) => changed(sub, `z:${z.zoneId}`, z));
      const floors = v.floors.filter((f) => changed(sub, `f:${f.floorId}`, f));
      if (zones.length === 0 && floors.length === 0) continue;
      changed(sub, 'site', v);
      sub.stream.send('occupancy', { at: v.at, figure: v.figure, devices: v.devices, randomized: v.randomized, floors, zones });
    }
  }

  // ---- baselines -----------------------------------------------------------------------------

  private async zoneOf(ctx: Ctx, orgId: string, zoneId: string, action: 'readConfig' | 'configureZone'): Promise<{ db: Database; siteId: string; floorId: string; limit: number | null }> {
    const db = await this.core.directory.storeOf(orgId);
    const m = await this.model(orgId, db);
    let z = m.zones.get(zoneId);
    if (!z) {
      this.models.delete(orgId);
      z = (await this.model(orgId, db)).zones.get(zoneId);
    }
    // An unknown zone is refused like a forbidden one (and the refusal audited).
    await this.core.access.enforce(ctx, 'occupancy', action, { orgId, siteId: z?.siteId ?? null }, `zone:${zoneId}`);
    if (!z) throw notFoundOrNoAccess();
    return { db, siteId: z.siteId, floorId: z.floorId, limit: z.limit };
  }

  async getBaseline(ctx: Ctx, orgId: string, zoneId: string): Promise<BaselineView> {
    const { db, siteId, limit } = await this.zoneOf(ctx, orgId, zoneId, 'readConfig');
    const m = await this.model(orgId, db);
    return baselineOut(zoneId, await new OccupancyRepo(db).getBaseline(orgId, zoneId), limit, m.sites.get(siteId)?.how.at(this.core.clock.nowMs()) ?? 0);
  }

  /**
   * Set a zone's baseline: `fixed` (an admin's limit), `learned` (learned now from the history,
   * and again every night), `off` (no alerts), or `zone` (back to the zone's occupancy limit).
   *
   * @example await occupancy.setBaseline(ctx, orgId, zoneId, { mode: 'learned', percentile: 95, lookbackDays: 28 })
   */
  async setBaseline(ctx: Ctx, orgId: string, zoneId: string, input: BaselineInput): Promise<BaselineView> {
    const { db, siteId, limit } = await this.zoneOf(ctx, orgId, zoneId, 'configureZone');
    const percentile = input.percentile ?? 95;
    const lookbackDays = input.lookbackDays ?? 28;
    if (input.mode === 'fixed' && (input.limit === undefined || !Number.isInteger(input.limit) || input.limit < 0 || input.limit > 100_000)) throw bad('limit', 'A fixed baseline needs limit: a whole number of devices, 0-100000.');
    if (input.mode !== 'fixed' && input.limit !== undefined) throw bad('limit', 'limit goes with mode fixed only.');
    if (!(percentile >= 50 && percentile <= 100)) throw bad('percentile', 'percentile must be 50-100.');
    if (!Number.isInteger(lookbackDays) || lookbackDays < 7 || lookbackDays > 365) throw bad('lookbackDays', 'lookbackDays must be 7-365.');
    const m = await this.model(orgId, db);
    const now = this.core.clock.nowMs();
    const row = await db.tx(async (x) => {
      const repo = new OccupancyRepo(x);
      let r: BaselineRow | undefined;
      if (input.mode === 'zone') await repo.deleteBaseline(orgId, zoneId);
      else {
        r = { org_id: orgId, zone_id: zoneId, mode: input.mode, fixed_limit: input.mode === 'fixed' ? input.limit! : null, percentile, lookback_days: lookbackDays, learned: null, learned_at: null, learned_minutes: 0, updated_at: now };
        if (input.mode === 'learned') await this.learnInto(x, r, siteId, m, now);
        await repo.putBaseline(r);
      }
      await this.core.audit.record(x, ctx, orgId, 'occupancy.baseline.set', `zone:${zoneId}`, { mode: input.mode, ...(input.mode === 'fixed' ? { limit: input.limit } : {}), ...(input.mode === 'learned' ? { percentile, lookbackDays, learnedMinutes: r?.learned_minutes } : {}) });
      return r;
    });
    this.models.delete(orgId);
    this.touch(orgId);
    return baselineOut(zoneId, row, limit, m.sites.get(siteId)?.how.at(now) ?? 0);
  }

  /** Learn a zone's limits again from its history now (its baseline must be `learned`). */
  async learn(ctx: Ctx, orgId: string, zoneId: string): Promise<BaselineView> {
    const { db, siteId, limit } = await this.zoneOf(ctx, orgId, zoneId, 'configureZone');
    const m = await this.model(orgId, db);
    const now = this.core.clock.nowMs();
    const row = await db.tx(async (x) => {
      const repo = new OccupancyRepo(x);
      const r = await repo.getBaseline(orgId, zoneId);
      if (!r || r.mode !== 'learned') throw new CairnError('CAIRN_ERR_CONFLICT', 'This zone has no learned baseline; set mode learned first.', { field: 'mode' });
      await this.learnInto(x, r, siteId, m, now);
      await repo.putBaseline(r);
      await this.core.audit.record(x, ctx, orgId, 'occupancy.baseline.learn', `zone:${zoneId}`, { percentile: r.percentile, lookbackDays: r.lookback_days, learnedMinutes: r.learned_minutes });
      return r;
    });
    this.models.delete(orgId);
    return baselineOut(zoneId, row, limit, m.sites.get(siteId)?.how.at(now) ?? 0);
  }

  private async learnInto(x: Executor, r: BaselineRow, siteId: string, m: Model, now: number): Promise<void> {
    const repo = new OccupancyRepo(x);
    const to = now - (now % MINUTE_MS);
    const first = await repo.firstMinute(r.org_id, r.zone_id);
    const from = Math.max(to - r.lookback_days * DAY_MS, first ?? to);
    const rows = await repo.history(r.org_id, siteId, from, to, r.zone_id, 1_000_000);
    const policy = m.settings.randomized;
    const samples = rows.map((h) => ({ bucketMs: h.bucket_ms, value: h.occupancy_peak !== null ? policyFigure({ devices: h.occupancy_peak, randomized: h.occupancy_peak_randomized ?? 0 }, policy) : policyFigure({ devices: h.devices, randomized: h.randomized }, policy) }));
    const how = m.sites.get(siteId)?.how ?? new HourOfWeek('UTC');
    const learned = learnLimits(samples, from, to, how, r.percentile);
    r.learned = JSON.stringify(learned.limits);
    r.learned_at = now;
    r.learned_minutes = learned.minutes;
    r.updated_at = now;
  }

  /** Learn every learned baseline again (the nightly job), as the scheduler, audited. */
  async relearnAll(): Promise<number> {
    let n = 0;
    const ctx: Ctx = { actor: { kind: 'system', id: 'scheduler' }, bindings: [], requestId: newId() };
    for (const region of this.core.stores.regions) {
      const db = this.core.stores.region(region);
      for (const orgId of await new OccupancyRepo(db).orgsWithLearned()) {
        for (const b of await new OccupancyRepo(db).listBaselines(orgId)) {
          if (b.mode !== 'learned') continue;
          try {
            await this.learn(ctx, orgId, b.zone_id);
            n++;
          } catch (e) {
            this.core.log.error({ err: e }, 'occupancy baseline learning failed');
          }
        }
      }
    }
    return n;
  }

  // ---- alerts and history -------------------------------------------------------------------

  /**
   * Hot-zone alerts, newest first. `identities: true` also returns the devices' pseudonyms where
   * the org recorded them: org admins, privacy officers and support only, and audited.
   */
  async alerts(ctx: Ctx, orgId: string, q: { siteId?: string; zoneId?: string; from?: string; to?: string; limit?: number; identities?: boolean } = {}): Promise<AlertView[]> {
    const { db } = await this.core.access.enforce(ctx, 'occupancy', 'readAlerts', { orgId, siteId: q.siteId ?? null });
    if (q.identities) await this.core.access.enforce(ctx, 'occupancy', 'readIdentities', { orgId });
    const now = this.core.clock.nowMs();
    const toMs = q.to ? Date.parse(q.to) : now + 1;
    const fromMs = q.from ? Date.parse(q.from) : toMs - 7 * DAY_MS;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs > toMs) throw bad('from', 'from and to must be ISO times with from before to.');
    const rows = await new OccupancyRepo(db).listAlerts(orgId, { siteId: q.siteId ?? null, zoneId: q.zoneId ?? null, fromMs, toMs, limit: Math.min(Math.max(q.limit ?? 200, 1), 1000) });
    const out: AlertView[] = [];
    let revealed = 0;
    for (const r of rows) {
      const v: AlertView = { id: r.id, type: r.kind === 'violation' ? 'COMPLIANCE-VIOLATION' : 'COMPLIANCE-OK', episodeId: r.episode_id, siteId: r.site_id, floorId: r.floor_id, zoneId: r.zone_id, at: toIso(r.at_ms), occupancy: r.occupancy, randomized: r.randomized, limit: r.limit_devices, baseline: r.baseline };
      if (q.identities && r.identities_enc) {
        v.devices = JSON.parse(await this.core.keys.decrypt(db, orgId, 'occupancy_alerts.identities', r.identities_enc)) as string[];
        revealed += v.devices.length;
      }
      out.push(v);
    }
    if (q.identities) await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'occupancy.alerts.identities.read', q.siteId ? `site:${q.siteId}` : `org:${orgId}`, { alerts: out.length, devices: revealed }));
    return out;
  }

  /** Zone-minute aggregates of a site in a time range (default the last hour, at most 7 days; aggregates, every site reader). */
  async history(ctx: Ctx, orgId: string, siteId: string, q: { from?: string; to?: string; zoneId?: string } = {}): Promise<HistoryRow[]> {
    const { db } = await this.core.access.enforce(ctx, 'occupancy', 'readLive', { orgId, siteId });
    const toMs = q.to ? Date.parse(q.to) : this.core.clock.nowMs();
    const fromMs = q.from ? Date.parse(q.from) : toMs - 3_600_000;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs >= toMs || toMs - fromMs > 7 * DAY_MS) throw bad('from', 'from and to must be ISO times, from before to, at most 7 days apart.');
    const rows = await new OccupancyRepo(db).history(orgId, siteId, fromMs, toMs, q.zoneId ?? null, 100_000);
    return rows.map((r) => ({ at: toIso(r.bucket_ms), floorId: r.floor_id, zoneId: r.zone_id, sighted: r.devices, sightedRandomized: r.randomized, occupancy: r.occupancy, occupancyRandomized: r.occupancy_randomized, peak: r.occupancy_peak, peakRandomized: r.occupancy_peak_randomized }));
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Count every active org once (the scheduler calls this every second; tests call it by hand). */
  async tick(): Promise<void> {
    for (const [orgId, l] of [...this.orgs]) {
      await this.evaluate(orgId).catch((e) => this.core.log.error({ err: e }, 'occupancy evaluation failed'));
      // Forget orgs with nothing left to watch.
      const quiet = l.cells.size === 0 && l.subs.size === 0 && [...l.alerts.values()].every((a) => a.phase === 'ok') && [...l.minute.values()].every((c) => c.last <= 0 && !c.dirty);
      if (quiet && !this.deps.presence(orgId)) this.orgs.delete(orgId);
    }
  }

  /** Start the per-second count (ageing, hold times) and the nightly re-learning; resume open episodes. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    this.relearnTimer = setInterval(() => void this.relearnAll().catch((e) => this.core.log.error({ err: e }, 'occupancy re-learning failed')), DAY_MS);
    this.relearnTimer.unref();
    void (async () => {
      for (const region of this.core.stores.regions) for (const orgId of await new OccupancyRepo(this.core.stores.region(region)).orgsWithOpenViolations()) this.orgLive(orgId);
    })().catch((e) => this.core.log.error({ err: e }, 'occupancy resume failed'));
  }

  /** Stop counting (no evaluation starts after this), close live streams, write the current minutes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.relearnTimer) clearInterval(this.relearnTimer);
    this.timer = undefined;
    this.stopped = true;
    for (const l of this.orgs.values()) {
      await l.chain;
      for (const s of l.subs) s.stream.close();
    }
    await this.flushMinutes().catch((e) => this.core.log.error({ err: e }, 'occupancy flush failed'));
  }
}

function alertOut(a: HotZoneAlert): AlertView {
  return { id: a.id, type: a.type, episodeId: a.episodeId, siteId: a.siteId, floorId: a.floorId, zoneId: a.zoneId, at: toIso(a.atMs), occupancy: a.occupancy, randomized: a.randomized, limit: a.limit, baseline: a.baseline };
}

function baselineOut(zoneId: string, r: BaselineRow | undefined, zoneLimit: number | null, hourOfWeek: number): BaselineView {
  const learned = r?.learned ? (JSON.parse(r.learned) as (number | null)[]) : null;
  const b: ZoneBaseline | undefined = r ? { mode: r.mode as ZoneBaseline['mode'], fixedLimit: r.fixed_limit, learned } : undefined;
  return {
    zoneId,
    mode: r ? (r.mode as BaselineView['mode']) : 'zone',
    limit: r ? r.fixed_limit : zoneLimit,
    percentile: r ? r.percentile : null,
    lookbackDays: r ? r.lookback_days : null,
    learned: learned && learned.length === HOURS_OF_WEEK ? learned : null,
    learnedAt: r?.learned_at ? toIso(r.learned_at) : null,
    learnedMinutes: r?.learned_minutes ?? 0,
    current: limitFor(b, zoneLimit, hourOfWeek),
  };
}

function signature(c: object): string {
  const o = c as Record<string, unknown>;
  return `${o.figure}|${o.devices}|${o.randomized}|${o.alert ?? ''}|${o.limit ?? ''}`;
}

function remember(sub: Subscriber, v: SiteLive): void {
  sub.last.set('site', signature(v));
  for (const z of v.zones) sub.last.set(`z:${z.zoneId}`, signature(z));
  for (const f of v.floors) sub.last.set(`f:${f.floorId}`, signature(f));
}

/** Whether `c` differs from what `sub` last saw under `key` (and remember it). */
function changed(sub: Subscriber, key: string, c: object): boolean {
  const s = signature(c);
  if (sub.last.get(key) === s) return false;
  sub.last.set(key, s);
  return true;
}
