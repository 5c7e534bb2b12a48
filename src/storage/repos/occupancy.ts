/**
 * Occupancy storage (issue 4, R-CT-1, R-LOC-4): per-org settings, per-zone baselines, hot-zone
 * alerts (counts; identities only as ciphertext), the live-count columns of the zone-minute
 * aggregates in `zone_presence`, and the read of an org's sites, floors and zones the live view
 * needs. No device identifier in clear.
 */
import type { Executor } from '../db.ts';
import { bulkInsert } from './location.ts';

export interface OccupancySettingsRow {
  org_id: string;
  /** JSON (see `tracing/occupancy/settings.ts`); no personal data. */
  settings: string;
  updated_at: number;
}

export interface BaselineRow {
  org_id: string;
  zone_id: string;
  /** 'fixed' | 'learned' | 'off'. */
  mode: string;
  fixed_limit: number | null;
  percentile: number;
  lookback_days: number;
  /** JSON array of 168 limits (hour of week in the site's time, Monday 00:00 first) or nulls. */
  learned: string | null;
  learned_at: number | null;
  learned_minutes: number;
  updated_at: number;
}

/**
 * R-CT-1 hot-zone alert (contact-tracing data, class `location`). `identities_enc`: the tracked
 * devices' pseudonyms (JSON), AES-GCM under the org key, only when the org reveals identities.
 */
export interface OccupancyAlertRow {
  id: string;
  org_id: string;
  site_id: string;
  floor_id: string;
  zone_id: string;
  /** 'violation' | 'ok'. */
  kind: string;
  episode_id: string;
  at_ms: number;
  occupancy: number;
  randomized: number;
  limit_devices: number;
  /** Where the limit came from: 'fixed', 'learned' or 'zone' (the zone's own occupancy limit). */
  baseline: string;
  identities_enc: Buffer | null;
}

/** One zone-minute live count to record (aggregate; `zone_id` '' = on the floor, in no zone). */
export interface OccupancyMinuteRow {
  org_id: string;
  floor_id: string;
  zone_id: string;
  bucket_ms: number;
  site_id: string;
  occupancy: number;
  occupancy_randomized: number;
  occupancy_peak: number;
  occupancy_peak_randomized: number;
}

/** A zone-minute of history as baselines and history views read it. */
export interface OccupancyHistoryRow {
  floor_id: string;
  zone_id: string;
  bucket_ms: number;
  devices: number;
  randomized: number;
  occupancy: number | null;
  occupancy_randomized: number | null;
  occupancy_peak: number | null;
  occupancy_peak_randomized: number | null;
}

export interface PlanSiteRow {
  id: string;
  name: string;
  timezone: string;
}
export interface PlanFloorRow {
  id: string;
  site_id: string;
  name: string;
  level: number;
}
export interface PlanZoneRow {
  id: string;
  site_id: string;
  floor_id: string;
  name: string;
  occupancy_limit: number | null;
}

const ALERT_COLS = 'id, org_id, site_id, floor_id, zone_id, kind, episode_id, at_ms, occupancy, randomized, limit_devices, baseline, identities_enc';
const MINUTE_COLS = ['org_id', 'floor_id', 'zone_id', 'bucket_ms', 'site_id', 'devices', 'randomized', 'occupancy', 'occupancy_randomized', 'occupancy_peak', 'occupancy_peak_randomized'] as const;

export class OccupancyRepo {
  constructor(private readonly x: Executor) {}

  // ---- plan -------------------------------------------------------------------------------

  /** The org's sites, floors and zones (names and limits), for the live view. */
  async plan(orgId: string): Promise<{ sites: PlanSiteRow[]; floors: PlanFloorRow[]; zones: PlanZoneRow[] }> {
    const sites = await this.x.all<PlanSiteRow>('SELECT id, name, timezone FROM sites WHERE org_id = $1 ORDER BY name, id', [orgId]);
    const floors = await this.x.all<PlanFloorRow>('SELECT id, site_id, name, level FROM floors WHERE org_id = $1 ORDER BY level, name, id', [orgId]);
    const zones = await this.x.all<PlanZoneRow>('SELECT id, site_id, floor_id, name, occupancy_limit FROM zones WHERE org_id = $1 ORDER BY name, id', [orgId]);
    return { sites, floors, zones };
  }

  // ---- settings ---------------------------------------------------------------------------

  getSettings(orgId: string): Promise<OccupancySettingsRow | undefined> {
    return this.x.get<OccupancySettingsRow>('SELECT * FROM occupancy_settings WHERE org_id = $1', [orgId]);
  }
  async putSettings(r: OccupancySettingsRow): Promise<void> {
    await this.x.run(
      'INSERT INTO occupancy_settings (org_id, settings, updated_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at',
      [r.org_id, r.settings, r.updated_at],
    );
  }

  // ---- baselines --------------------------------------------------------------------------

  listBaselines(orgId: string): Promise<BaselineRow[]> {
    return this.x.all<BaselineRow>('SELECT * FROM occupancy_baselines WHERE org_id = $1', [orgId]);
  }
  getBaseline(orgId: string, zoneId: string): Promise<BaselineRow | undefined> {
    return this.x.get<BaselineRow>('SELECT * FROM occupancy_baselines WHERE org_id = $1 AND zone_id = $2', [orgId, zoneId]);
  }
  async putBaseline(b: BaselineRow): Promise<void> {
    await this.x.run(
      `INSERT INTO occupancy_baselines (org_id, zone_id, mode, fixed_limit, percentile, lookback_days, learned, learned_at, learned_minutes, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (org_id, zone_id) DO UPDATE SET mode = excluded.mode, fixed_limit = excluded.fixed_limit, percentile = excluded.percentile,
         lookback_days = excluded.lookback_days, learned = excluded.learned, learned_at = excluded.learned_at, learned_minutes = excluded.learned_minutes, updated_at = excluded.updated_at`,
      [b.org_id, b.zone_id, b.mode, b.fixed_limit, b.percentile, b.lookback_days, b.learned, b.learned_at, b.learned_minutes, b.updated_at],
    );
  }
  async deleteBaseline(orgId: string, zoneId: string): Promise<number> {
    return (await this.x.run('DELETE FROM occupancy_baselines WHERE org_id = $1 AND zone_id = $2', [orgId, zoneId])).changes;
  }
  /** Orgs of this store with a learned baseline (the nightly re-learning walks them). */
  async orgsWithLearned(): Promise<string[]> {
    return (await this.x.all<{ org_id: string }>("SELECT DISTINCT org_id FROM occupancy_baselines WHERE mode = 'learned'")).map((r) => r.org_id);
  }

  // ---- zone-minute live counts (aggregates) ---------------------------------------------------

  /**
   * Record live counts per zone-minute in `zone_presence` (the row is created when the ingest
   * pipeline has not written one, with 0 devices sighted): the latest value replaces, the peak
   * keeps the larger.
   */
  async putOccupancyMinutes(rows: readonly OccupancyMinuteRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map((r) => [r.org_id, r.floor_id, r.zone_id, r.bucket_ms, r.site_id, 0, 0, r.occupancy, r.occupancy_randomized, r.occupancy_peak, r.occupancy_peak_randomized]);
    const bigger = 'excluded.occupancy_peak > COALESCE(zone_presence.occupancy_peak, -1)';
    await bulkInsert(
      this.x,
      `zone_presence (${MINUTE_COLS.join(', ')})`,
      MINUTE_COLS.length,
      values,
      `ON CONFLICT (org_id, floor_id, zone_id, bucket_ms) DO UPDATE SET occupancy = excluded.occupancy, occupancy_randomized = excluded.occupancy_randomized,
         occupancy_peak = CASE WHEN ${bigger} THEN excluded.occupancy_peak ELSE zone_presence.occupancy_peak END,
         occupancy_peak_randomized = CASE WHEN ${bigger} THEN excluded.occupancy_peak_randomized ELSE zone_presence.occupancy_peak_randomized END`,
    );
  }
  /** Zone-minute rows of a site in [fromMs, toMs), oldest first; `zoneId` narrows to one zone. */
  history(orgId: string, siteId: string, fromMs: number, toMs: number, zoneId: string | null, limit: number): Promise<OccupancyHistoryRow[]> {
    const cols = 'floor_id, zone_id, bucket_ms, devices, randomized, occupancy, occupancy_randomized, occupancy_peak, occupancy_peak_randomized';
    return zoneId === null
      ? this.x.all<OccupancyHistoryRow>(`SELECT ${cols} FROM zone_presence WHERE org_id = $1 AND bucket_ms >= $3 AND bucket_ms < $4 AND site_id = $2 ORDER BY bucket_ms, floor_id, zone_id LIMIT $5`, [orgId, siteId, fromMs, toMs, limit])
      : this.x.all<OccupancyHistoryRow>(`SELECT ${cols} FROM zone_presence WHERE org_id = $1 AND bucket_ms >= $3 AND bucket_ms < $4 AND site_id = $2 AND zone_id = $5 ORDER BY bucket_ms LIMIT $6`, [orgId, siteId, fromMs, toMs, zoneId, limit]);
  }
  /** The newest minute of a site with live counts recorded at or after `sinceMs`, and its rows. */
  async latestOccupancy(orgId: string, siteId: string, sinceMs: number): Promise<OccupancyHistoryRow[]> {
    const top = await this.x.get<{ b: number | null }>('SELECT MAX(bucket_ms) AS b FROM zone_presence WHERE org_id = $1 AND bucket_ms >= $3 AND site_id = $2 AND occupancy IS NOT NULL', [orgId, siteId, sinceMs]);
    if (top?.b === null || top?.b === undefined) return [];
    return this.history(orgId, siteId, Number(top.b), Number(top.b) + 1, null, 100_000);
  }
  /** When the zone's history starts (its first zone-minute row), or undefined. */
  async firstMinute(orgId: string, zoneId: string): Promise<number | undefined> {
    const r = await this.x.get<{ b: number | null }>('SELECT MIN(bucket_ms) AS b FROM zone_presence WHERE org_id = $1 AND zone_id = $2', [orgId, zoneId]);
    return r?.b === null || r?.b === undefined ? undefined : Number(r.b);
  }

  // ---- alerts (R-CT-1) --------------------------------------------------------------------

  async insertAlert(a: OccupancyAlertRow): Promise<void> {
    await this.x.run(`INSERT INTO occupancy_alerts (${ALERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, [
      a.id, a.org_id, a.site_id, a.floor_id, a.zone_id, a.kind, a.episode_id, a.at_ms, a.occupancy, a.randomized, a.limit_devices, a.baseline, a.identities_enc,
    ]);
  }
  /** Alerts of an org in [fromMs, toMs), newest first, optionally one site or zone. */
  listAlerts(orgId: string, q: { siteId: string | null; zoneId: string | null; fromMs: number; toMs: number; limit: number }): Promise<OccupancyAlertRow[]> {
    const where = ['org_id = $1', 'at_ms >= $2', 'at_ms < $3'];
    const p: unknown[] = [orgId, q.fromMs, q.toMs];
    if (q.siteId !== null) {
      p.push(q.siteId);
      where.push(`site_id = $${p.length}`);
    }
    if (q.zoneId !== null) {
      p.push(q.zoneId);
      where.push(`zone_id = $${p.length}`);
    }
    p.push(q.limit);
    return this.x.all<OccupancyAlertRow>(`SELECT ${ALERT_COLS} FROM occupancy_alerts WHERE ${where.join(' AND ')} ORDER BY at_ms DESC, id DESC LIMIT $${p.length}`, p);
  }
  /** Violations of an org with no ok after them (episodes still open, e.g. across a restart). */
  openViolations(orgId: string): Promise<OccupancyAlertRow[]> {
    return this.x.all<OccupancyAlertRow>(
      `SELECT ${ALERT_COLS} FROM occupancy_alerts a WHERE a.org_id = $1 AND a.kind = 'violation'
         AND NOT EXISTS (SELECT 1 FROM occupancy_alerts b WHERE b.org_id = a.org_id AND b.episode_id = a.id AND b.kind = 'ok')`,
      [orgId],
    );
  }
  /** Orgs of this store with an open episode (resumed at start). */
  async orgsWithOpenViolations(): Promise<string[]> {
    return (
      await this.x.all<{ org_id: string }>(
        `SELECT DISTINCT a.org_id FROM occupancy_alerts a WHERE a.kind = 'violation'
           AND NOT EXISTS (SELECT 1 FROM occupancy_alerts b WHERE b.org_id = a.org_id AND b.episode_id = a.id AND b.kind = 'ok')`,
      )
    ).map((r) => r.org_id);
  }
  /** Delete at most `limit` alerts older than `beforeMs`; returns rows deleted. */
  async purgeAlerts(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM occupancy_alerts WHERE id IN (SELECT id FROM occupancy_alerts WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
}
