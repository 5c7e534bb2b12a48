/**
 * Journeys (R-CT-2): the zones a device, or a person's linked devices, visited in a time window,
 * with enter, exit, dwell and dwell band, as JSON or CSV. A device is named by its pseudonym or
 * by its MAC, which is pseudonymised here and then forgotten (R-LOC-5); a person by Cairn's id
 * or the org's own person id (R-CT-5: only where the org linked devices).
 *
 * Access (R-CT-8): org admins, privacy officers and support under a grant see every site; a site
 * admin only the visits at their sites; observers and sensors are refused. Every read is audited
 * with the window and the number of visits, in a transaction of its own.
 *
 * Answers come from the stored visits, with the latest sighting of open visits from this
 * process's memory (the store lags by up to a refresh interval). A process that ingests nothing
 * for the org (the CLI) takes an open visit's last sighting from the stored fixes instead.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { DAY_MS, toIso } from '../../kernel/clock.ts';
import { AccessService, isSystem, normaliseMac, type Core, type Ctx } from '../../privacy/index.ts';
import { JourneysRepo, type Database, type VisitRow } from '../../storage/index.ts';
import type { PeopleService } from '../people/service.ts';
import { checkDwellBands, dwellBand, DWELL_BANDS, MIST_DWELL_BANDS, type DwellBand, type DwellBands } from './bands.ts';
import { toCsv } from './csv.ts';
import { recoveryWindowMs, replayVisits, type VisitRecorder } from './recorder.ts';

/** Who a journey is about: exactly one of these. */
export interface JourneySubject {
  /** A device pseudonym (32 hex digits). */
  device?: string;
  /** A raw MAC (personal): pseudonymised at once, never stored, logged or audited. */
  mac?: string;
  /** Cairn's id of a person in the org's directory. */
  personId?: string;
  /** The org's own id of a person (personal): found by its keyed hash. */
  personRef?: string;
  /** Either of the two (the CLI's --person): Cairn's id first, then the org's id. */
  person?: string;
}

export interface JourneyQuery extends JourneySubject {
  /** Start of the window, epoch ms (default: a day before its end). */
  fromMs?: number;
  /** End of the window (exclusive), epoch ms (default: now). */
  toMs?: number;
  /** At most this many visits (default and maximum {@link JOURNEY_MAX_VISITS}). */
  limit?: number;
}

/** One stay in a zone. `exit` is null while the device is still there. */
export interface JourneyVisit {
  device: string;
  siteId: string;
  siteName: string | null;
  floorId: string;
  floorName: string | null;
  zoneId: string;
  zoneName: string | null;
  enter: string;
  exit: string | null;
  /** Exit − enter (so far, while ongoing), seconds. */
  dwellSeconds: number;
  band: DwellBand;
  ongoing: boolean;
}

export interface Journey {
  orgId: string;
  subject: { kind: 'device' | 'person'; devices: string[]; personId?: string };
  from: string;
  to: string;
  bands: DwellBands;
  visits: JourneyVisit[];
  totals: { visits: number; dwellSeconds: number; byBand: Record<DwellBand, number> };
  /** True when more visits matched than `limit`. */
  truncated: boolean;
  /** True when some visits were left out because they are at sites the caller cannot see. */
  narrowed: boolean;
}

export const JOURNEY_MAX_VISITS = 10_000;
/** The longest window one query may span, days. */
export const JOURNEY_MAX_WINDOW_DAYS = 366;
const PSEUDONYM = /^[0-9a-f]{32}$/;
const NAMES_TTL_MS = 60_000;

export const JOURNEY_CSV_HEADER = ['device', 'site_id', 'site', 'floor_id', 'floor', 'zone_id', 'zone', 'enter', 'exit', 'dwell_seconds', 'band', 'ongoing'] as const;

/** A journey as CSV (one line per visit, RFC 4180, CRLF). */
export function journeyCsv(j: Journey): string {
  return toCsv(
    JOURNEY_CSV_HEADER,
    j.visits.map((v) => [v.device, v.siteId, v.siteName, v.floorId, v.floorName, v.zoneId, v.zoneName, v.enter, v.exit, v.dwellSeconds, v.band, v.ongoing]),
  );
}

export class JourneyService {
  private readonly names = new Map<string, { atMs: number; byId: Map<string, string> }>();

  constructor(
    private readonly core: Core,
    private readonly recorder: VisitRecorder,
    private readonly people: PeopleService,
  ) {
    core.bus.on('tenancy.plan.changed', ({ orgId }) => void this.names.delete(orgId));
    core.bus.on('org.deleted', ({ orgId }) => void this.names.delete(orgId));
  }

  /** The org's dwell bands (Mist's defaults until the org sets its own). */
  async bands(ctx: Ctx, orgId: string): Promise<DwellBands> {
    const { db } = await this.core.access.enforce(ctx, 'journey', 'readConfig', { orgId });
    return this.bandsOf(db, orgId);
  }

  /** Set the org's dwell bands (whole minutes, strictly increasing); `null` restores Mist's defaults. */
  async setBands(ctx: Ctx, orgId: string, bands: DwellBands | null): Promise<DwellBands> {
    const { db } = await this.core.access.enforce(ctx, 'journey', 'configure', { orgId });
    const b = checkDwellBands(bands ?? MIST_DWELL_BANDS);
    await db.tx(async (x) => {
      await new JourneysRepo(x).setSettings({ org_id: orgId, passerby_max_s: b.passerbyMaxMinutes * 60, bounce_max_s: b.bounceMaxMinutes * 60, engaged_max_s: b.engagedMaxMinutes * 60, updated_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'journey.settings', `org:${orgId}`, { ...b });
    });
    return b;
  }

  private async bandsOf(db: Database, orgId: string): Promise<DwellBands> {
    const r = await new JourneysRepo(db).getSettings(orgId);
    return r ? { passerbyMaxMinutes: r.passerby_max_s / 60, bounceMaxMinutes: r.bounce_max_s / 60, engagedMaxMinutes: r.engaged_max_s / 60 } : { ...MIST_DWELL_BANDS };
  }

  /**
   * The journey of a device or person in [fromMs, toMs): visits overlapping the window, oldest
   * first, narrowed to the sites the caller may see. Audited.
   *
   * @example await journeys.query(ctx, orgId, { mac: 'aa:bb:cc:dd:ee:ff', fromMs, toMs })
   */
  async query(ctx: Ctx, orgId: string, q: JourneyQuery): Promise<Journey> {
    const given = (['device', 'mac', 'personId', 'personRef', 'person'] as const).filter((k) => q[k] !== undefined);
    const target = q.device !== undefined && PSEUDONYM.test(q.device) ? `device:${q.device}` : q.personId !== undefined ? `person:${q.personId.slice(0, 64)}` : `org:${orgId}`;
    const { db, view } = await this.core.access.enforce(ctx, 'journey', 'query', { orgId }, target);
    if (given.length !== 1) throw new CairnError('CAIRN_ERR_VALIDATION', 'Name exactly one of device, mac, personId, personRef or person.', { field: 'device' });
    const toMs = q.toMs ?? this.core.clock.nowMs();
    const fromMs = q.fromMs ?? toMs - DAY_MS;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) throw new CairnError('CAIRN_ERR_VALIDATION', 'The window must end after it starts.', { field: 'to' });
    if (toMs - fromMs > JOURNEY_MAX_WINDOW_DAYS * DAY_MS) throw new CairnError('CAIRN_ERR_VALIDATION', `A journey spans at most ${JOURNEY_MAX_WINDOW_DAYS} days.`, { field: 'from' });
    const limit = Math.min(Math.max(1, q.limit ?? JOURNEY_MAX_VISITS), JOURNEY_MAX_VISITS);

    let subject: Journey['subject'];
    if (q.device !== undefined) {
      if (!PSEUDONYM.test(q.device)) throw new CairnError('CAIRN_ERR_VALIDATION', 'device must be a device id (32 hex digits); give a MAC as mac.', { field: 'device' });
      subject = { kind: 'device', devices: [q.device] };
    } else if (q.mac !== undefined) {
      const mac = normaliseMac(q.mac);
      if (!mac) throw new CairnError('CAIRN_ERR_VALIDATION', 'mac is not a MAC address.', { field: 'mac' });
      subject = { kind: 'device', devices: [await this.core.keys.pseudonym(db, orgId, 'mac', mac)] };
    } else {
      const p = await this.people.resolve(db, orgId, q.personId !== undefined ? { id: q.personId } : q.personRef !== undefined ? { personId: q.personRef } : { id: q.person!, personId: q.person! });
      if (!p) {
        await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'journey.read', target, { found: false }, 'error'));
        throw notFoundOrNoAccess();
      }
      subject = { kind: 'person', devices: p.devices, personId: p.id };
    }

    const rows = await this.visits(db, orgId, subject.devices, fromMs, toMs, limit + 1);
    const truncated = rows.length > limit;
    if (truncated) rows.length = limit;
    const bands = await this.bandsOf(db, orgId);
    const names = await this.placeNames(db, orgId);
    const now = this.core.clock.nowMs();
    const idle = this.recorder.idleMs;
    const seeSite = new Map<string, boolean>();
    const mayRead = (siteId: string): boolean => {
      let ok = seeSite.get(siteId);
      if (ok === undefined) seeSite.set(siteId, (ok = isSystem(ctx) || AccessService.allows(view, 'journey', 'read', { orgId, siteId })));
      return ok;
    };
    const byBand = Object.fromEntries(DWELL_BANDS.map((b) => [b, 0])) as Record<DwellBand, number>;
    let dwellTotal = 0;
    let narrowed = false;
    const visits: JourneyVisit[] = [];
    for (const r of rows) {
      if (!mayRead(r.site_id)) {
        narrowed = true;
        continue;
      }
      const ongoing = r.exit_ms === null && now - r.last_ms <= idle;
      const endMs = r.exit_ms ?? r.last_ms;
      const dwellSeconds = Math.max(0, Math.round((endMs - r.enter_ms) / 1000));
      const band = dwellBand(dwellSeconds, bands);
      byBand[band]++;
      dwellTotal += dwellSeconds;
      visits.push({
        device: r.device,
        siteId: r.site_id,
        siteName: names.get(r.site_id) ?? null,
        floorId: r.floor_id,
        floorName: names.get(r.floor_id) ?? null,
        zoneId: r.zone_id,
        zoneName: names.get(r.zone_id) ?? null,
        enter: toIso(r.enter_ms),
        exit: ongoing ? null : toIso(endMs),
        dwellSeconds,
        band,
        ongoing,
      });
    }
    const from = toIso(fromMs);
    const to = toIso(toMs);
    const auditTarget = subject.kind === 'person' ? `person:${subject.personId}` : `device:${subject.devices[0]}`;
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'journey.read', auditTarget, { from, to, visits: visits.length, ...(narrowed ? { narrowed: true } : {}) }));
    return { orgId, subject, from, to, bands, visits, totals: { visits: visits.length, dwellSeconds: dwellTotal, byBand }, truncated, narrowed };
  }

  /** Stored visits overlapping the window, with this process's newer knowledge on top; oldest first. */
  private async visits(db: Database, orgId: string, devices: readonly string[], fromMs: number, toMs: number, limit: number): Promise<VisitRow[]> {
    if (devices.length === 0) return [];
    const { refreshMs, settleMs, idleMs } = this.recorder;
    // An open visit's stored last sighting may lag by up to the recovery window: read that much earlier.
    const stored = await new JourneysRepo(db).visitsOf(orgId, devices, fromMs - recoveryWindowMs(refreshMs, settleMs), toMs, limit + 64);
    const byKey = new Map(stored.map((r) => [`${r.device}|${r.enter_ms}`, { ...r }]));
    const live = this.recorder.live(orgId, devices);
    if (live) {
      // Rows decided but not written yet, and open visits with their latest sighting.
      for (const r of live.pending) byKey.set(`${r.device}|${r.enter_ms}`, { ...r });
      const open = new Set<string>();
      for (const v of live.open) {
        const k = `${v.device}|${v.enterMs}`;
        open.add(k);
        byKey.set(k, { org_id: orgId, device: v.device, enter_ms: v.enterMs, site_id: v.siteId, floor_id: v.floorId, zone_id: v.zoneId, last_ms: v.lastMs, exit_ms: null });
      }
      // Stored as open but not open here: ended (at its last sighting) without the close being written.
      for (const [k, r] of byKey) if (r.exit_ms === null && !open.has(k)) r.exit_ms = r.last_ms;
    } else {
      // Nothing of this org in memory (no batch of it in this process): replay the fixes after the open visits.
      const replay = await replayVisits(db, orgId, [...byKey.values()].filter((r) => r.exit_ms === null), { refreshMs, settleMs, idleMs, perDevice: true });
      for (const r of replay.rows) byKey.set(`${r.device}|${r.enter_ms}`, r);
      for (const v of replay.open.values()) byKey.set(`${v.device}|${v.enterMs}`, { org_id: orgId, device: v.device, enter_ms: v.enterMs, site_id: v.siteId, floor_id: v.floorId, zone_id: v.zoneId, last_ms: v.lastMs, exit_ms: null });
    }
    return [...byKey.values()]
      .filter((r) => r.enter_ms < toMs && (r.exit_ms ?? r.last_ms) >= fromMs)
      .sort((a, b) => a.enter_ms - b.enter_ms || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0))
      .slice(0, limit);
  }

  /** Site, floor and zone names by id, cached for a minute (and dropped when the plan changes). */
  private async placeNames(db: Database, orgId: string): Promise<Map<string, string>> {
    const now = Date.now();
    const c = this.names.get(orgId);
    if (c && now - c.atMs < NAMES_TTL_MS) return c.byId;
    const byId = new Map((await new JourneysRepo(db).placeNames(orgId)).map((r) => [r.id, r.name]));
    this.names.set(orgId, { atMs: now, byId });
    return byId;
  }
}
