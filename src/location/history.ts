/**
 * One device's location history, read through the API (R-DATA-3 personal data, R-CT-8): its
 * fixes and its association sessions in a bounded time window, a page at a time. The device is
 * named by pseudonym, or by MAC (pseudonymised here, never stored, logged or echoed). Who may
 * read: policy `deviceLocation` (org and site admins, a site admin only for its own sites; the
 * privacy officer; support under the tenant's grant). Every page read is an audit event naming
 * the device's pseudonym, the window and the count.
 *
 * Fixes have no device index (migration 101: it halved the ingest rate), so a read walks the
 * org's fixes in time order over the window: windows are capped at 7 days and pages stop once
 * full. Sessions are indexed by device, so their window may be 31 days.
 */
import { CairnError, notFoundOrNoAccess } from '../kernel/errors.ts';
import { DAY_MS, toIso } from '../kernel/clock.ts';
import { AccessService, normaliseMac, type Core, type Ctx } from '../privacy/index.ts';
import { AssociationSessionRepo, FixHistoryRepo, type Database, type FixPageCursor } from '../storage/index.ts';

/** Longest window one fixes read may cover: 7 days (the read scans the org's fixes in it). */
export const FIX_WINDOW_MAX_MS = 7 * DAY_MS;
/** Longest window one sessions read may cover: 31 days (indexed by device). */
export const SESSION_WINDOW_MAX_MS = 31 * DAY_MS;
/** Window when none is given: the last 24 hours. */
export const DEFAULT_WINDOW_MS = DAY_MS;
/** Items per page: default and most. */
export const PAGE_DEFAULT = 1000;
export const PAGE_MAX = 5000;

/** The device asked about: its pseudonym, or a raw MAC (R-DATA-1 personal, pseudonymised at once). */
export type DeviceRef = { id: string } | { mac: string };

export interface HistoryQuery {
  /** Window start, UTC epoch ms (default: `toMs` − 24 h). */
  fromMs?: number;
  /** Window end, exclusive, UTC epoch ms (default: now). */
  toMs?: number;
  /** Only this site (a site admin may name only its own). */
  siteId?: string;
  /** The previous page's `next`. */
  cursor?: string;
  limit?: number;
}

/** A fix as the API shows it (R-DATA-3). */
export interface DeviceFix {
  at: string;
  source: string;
  kind: string;
  floorId: string;
  xM: number;
  yM: number;
  accuracyM: number;
  method: string;
  zoneId: string | null;
}

/** An association session as the API shows it (R-DATA-3). */
export interface DeviceSession {
  id: string;
  siteId: string | null;
  /** The co-presence key: the registered AP's sensor id, else the controller's AP name lower-cased. */
  ap: string;
  sensorId: string | null;
  /** The AP as the controller logged it (infrastructure). */
  apKey: string;
  apMac: string | null;
  start: string;
  /** The end; while the session is open, its last event. */
  end: string;
  open: boolean;
  endReason: string | null;
  eventCount: number;
  randomized: boolean;
  source: string;
}

export interface HistoryPage<T> {
  /** The device's pseudonym. */
  deviceId: string;
  from: string;
  to: string;
  items: T[];
  /** Pass as `cursor` for the next page; null when this one was the last. */
  next: string | null;
}

const FIX_CURSOR = /^f\.(\d{1,16})\.(\d{1,9})$/;
const SESSION_CURSOR = /^s\.(-?\d{1,16})\.([0-9a-f-]{36})$/;

function invalid(field: string, message: string, details: Record<string, unknown> = {}): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field, ...details });
}

export class LocationHistoryService {
  constructor(private readonly core: Core) {}

  /**
   * A page of the device's fixes in [from, to) (at most 7 days), oldest first. Audited.
   *
   * @example await history.fixes(ctx, orgId, { id: pseudonym }, { fromMs: Date.now() - DAY_MS })
   */
  async fixes(ctx: Ctx, orgId: string, ref: DeviceRef, q: HistoryQuery = {}): Promise<HistoryPage<DeviceFix>> {
    const { db, siteIds } = await this.scope(ctx, orgId, q.siteId);
    const { fromMs, toMs, limit } = this.window(q, FIX_WINDOW_MAX_MS);
    let after: FixPageCursor | undefined;
    if (q.cursor !== undefined) {
      const m = FIX_CURSOR.exec(q.cursor);
      if (!m) throw invalid('cursor', 'cursor is not a fixes cursor from this API.');
      after = { atMs: Number(m[1]), skip: Number(m[2]) };
    }
    const device = await this.device(db, orgId, ref);
    const rows = await new FixHistoryRepo(db).pageOfDevice(orgId, device, fromMs, toMs, { ...(after ? { after } : {}), siteIds, limit });
    let next: string | null = null;
    if (rows.length === limit) {
      const lastAt = rows[rows.length - 1]!.at_ms;
      let skip = 0;
      for (const r of rows) if (r.at_ms === lastAt) skip++;
      if (after && after.atMs === lastAt && rows[0]!.at_ms === lastAt) skip += after.skip;
      next = `f.${lastAt}.${skip}`;
    }
    await this.audit(db, ctx, orgId, 'device.fixes.read', device, ref, fromMs, toMs, rows.length, siteIds);
    return {
      deviceId: device,
      from: toIso(fromMs),
      to: toIso(toMs),
      items: rows.map((r) => ({ at: toIso(r.at_ms), source: r.source, kind: r.kind, floorId: r.floor_id, xM: r.x_m, yM: r.y_m, accuracyM: r.accuracy_m, method: r.method, zoneId: r.zone_id })),
      next,
    };
  }

  /**
   * A page of the device's association sessions overlapping [from, to] (at most 31 days), by
   * start. Open sessions come with `open: true` and their last event as `end`. Audited.
   *
   * @example await history.sessions(ctx, orgId, { mac: 'aa:bb:cc:dd:ee:ff' }, {})
   */
  async sessions(ctx: Ctx, orgId: string, ref: DeviceRef, q: HistoryQuery = {}): Promise<HistoryPage<DeviceSession>> {
    const { db, siteIds } = await this.scope(ctx, orgId, q.siteId);
    const { fromMs, toMs, limit } = this.window(q, SESSION_WINDOW_MAX_MS);
    let after: { startMs: number; id: string } | undefined;
    if (q.cursor !== undefined) {
      const m = SESSION_CURSOR.exec(q.cursor);
      if (!m) throw invalid('cursor', 'cursor is not a sessions cursor from this API.');
      after = { startMs: Number(m[1]), id: m[2]! };
    }
    const device = await this.device(db, orgId, ref);
    const rows = await new AssociationSessionRepo(db).pageOfDevice(orgId, device, fromMs, toMs, { ...(after ? { after } : {}), siteIds, limit });
    const last = rows[rows.length - 1];
    await this.audit(db, ctx, orgId, 'device.sessions.read', device, ref, fromMs, toMs, rows.length, siteIds);
    return {
      deviceId: device,
      from: toIso(fromMs),
      to: toIso(toMs),
      items: rows.map((r) => ({
        id: r.id,
        siteId: r.site_id,
        ap: r.ap,
        sensorId: r.sensor_id,
        apKey: r.ap_key,
        apMac: r.ap_mac,
        start: toIso(r.start_ms),
        end: toIso(r.end_ms),
        open: r.end_reason === null,
        endReason: r.end_reason,
        eventCount: r.event_count,
        randomized: r.randomized === 1,
        source: r.source,
      })),
      next: rows.length === limit && last ? `s.${last.start_ms}.${last.id}` : null,
    };
  }

  /**
   * The caller's reach: the whole org (siteIds null), one named site, or, for a caller bound to
   * sites only (a site admin), the sites where it may read. Refusals are audited and "not found".
   */
  private async scope(ctx: Ctx, orgId: string, siteId: string | undefined): Promise<{ db: Database; siteIds: string[] | null }> {
    const target = { orgId, siteId: siteId ?? null };
    const c = await this.core.access.check(ctx, 'deviceLocation', 'read', target);
    if (c.allowed) return { db: c.db, siteIds: siteId !== undefined ? [siteId] : null };
    if (siteId === undefined) {
      const sites = [...new Set(ctx.bindings.filter((b) => b.orgId === orgId && b.siteId !== null).map((b) => b.siteId!))];
      const mine = sites.filter((s) => AccessService.allows(c.view, 'deviceLocation', 'read', { orgId, siteId: s }));
      if (mine.length > 0) return { db: c.db, siteIds: mine };
    }
    await this.core.access.enforce(ctx, 'deviceLocation', 'read', target);
    throw notFoundOrNoAccess();
  }

  private window(q: HistoryQuery, maxMs: number): { fromMs: number; toMs: number; limit: number } {
    const toMs = q.toMs ?? this.core.clock.nowMs();
    const fromMs = q.fromMs ?? toMs - DEFAULT_WINDOW_MS;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw invalid('from', 'from and to must be times.');
    if (fromMs >= toMs) throw invalid('from', 'from must be before to.');
    if (toMs - fromMs > maxMs) throw invalid('to', `The window may cover at most ${maxMs / DAY_MS} days; page through longer periods window by window.`, { maxDays: maxMs / DAY_MS });
    const limit = q.limit ?? PAGE_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) throw invalid('limit', `limit must be between 1 and ${PAGE_MAX}.`);
    return { fromMs, toMs, limit };
  }

  /** The device's pseudonym; a MAC is pseudonymised here and goes no further. */
  private async device(db: Database, orgId: string, ref: DeviceRef): Promise<string> {
    if ('id' in ref) {
      if (!/^[0-9a-f]{32}$/.test(ref.id)) throw invalid('deviceId', 'deviceId is not a device id (32 hex digits).');
      return ref.id;
    }
    const mac = normaliseMac(ref.mac);
    if (!mac) throw invalid('mac', 'mac is not a MAC address.');
    return this.core.keys.pseudonym(db, orgId, 'mac', mac);
  }

  private async audit(db: Database, ctx: Ctx, orgId: string, action: string, device: string, ref: DeviceRef, fromMs: number, toMs: number, count: number, siteIds: readonly string[] | null): Promise<void> {
    await db.tx((x) =>
      this.core.audit.record(x, ctx, orgId, action, `device:${device}`, { from: toIso(fromMs), to: toIso(toMs), count, by: 'mac' in ref ? 'mac' : 'id', ...(siteIds ? { sites: siteIds } : {}) }),
    );
  }
}
