/**
 * Journey storage (issue 4, R-CT-2): zone visits written by the ingest batch that saw them change
 * (R-DATA-3, device pseudonyms only, retention class `location`), the org's dwell bands, and the
 * names of sites, floors and zones a journey shows. Visits are keyed by (org, device, enter), so
 * one device's journey is one index range and a rewritten open visit is an upsert of its key.
 */
import type { Executor } from '../db.ts';
import { bulkInsert } from './location.ts';

/**
 * R-DATA-3 personal (precise location history, class `location`, 30 days by default): one stay
 * of a device in a zone. `device` is the org's keyed pseudonym (R-LOC-5).
 */
export interface VisitRow {
  org_id: string;
  device: string;
  enter_ms: number;
  site_id: string;
  floor_id: string;
  zone_id: string;
  /** The latest sighting written (while open, at most a refresh interval behind); = exit_ms once closed. */
  last_ms: number;
  /** Null while the device is still in the zone. */
  exit_ms: number | null;
}

/** Upper bounds of the dwell bands, seconds (inclusive). No personal data. */
export interface JourneySettingsRow {
  org_id: string;
  passerby_max_s: number;
  bounce_max_s: number;
  engaged_max_s: number;
  updated_at: number;
}

/** A site, floor or zone id with its name. */
export interface PlaceNameRow {
  kind: 'site' | 'floor' | 'zone';
  id: string;
  name: string;
}

const VISIT_COLS = ['org_id', 'device', 'enter_ms', 'site_id', 'floor_id', 'zone_id', 'last_ms', 'exit_ms'] as const;
const VISIT_SELECT = VISIT_COLS.join(', ');

export class JourneysRepo {
  constructor(private readonly x: Executor) {}

  /**
   * Write visits (new, refreshed or closed) by their key, in multi-row statements. A key written
   * again takes every column of the new row (a zero-length visit at the same instant is replaced).
   */
  async upsertVisits(rows: readonly VisitRow[]): Promise<void> {
    if (rows.length === 0) return;
    await bulkInsert(
      this.x,
      `zone_visits (${VISIT_SELECT})`,
      VISIT_COLS.length,
      rows.map((r) => [r.org_id, r.device, r.enter_ms, r.site_id, r.floor_id, r.zone_id, r.last_ms, r.exit_ms]),
      'ON CONFLICT (org_id, device, enter_ms) DO UPDATE SET site_id = excluded.site_id, floor_id = excluded.floor_id, zone_id = excluded.zone_id, last_ms = excluded.last_ms, exit_ms = excluded.exit_ms',
    );
  }

  /**
   * Every open visit of an org (after a restart: what the previous process left open). Reads the
   * org's visits whole (no index on open ones, see migration 230): once per process and org.
   */
  openVisits(orgId: string): Promise<VisitRow[]> {
    return this.x.all<VisitRow>(`SELECT ${VISIT_SELECT} FROM zone_visits WHERE org_id = $1 AND exit_ms IS NULL`, [orgId]);
  }

  /**
   * Visits of `devices` that overlap [fromMs, toMs), oldest first, at most `limit`. Personal: the
   * caller checks access and audits the read.
   */
  visitsOf(orgId: string, devices: readonly string[], fromMs: number, toMs: number, limit: number): Promise<VisitRow[]> {
    if (devices.length === 0) return Promise.resolve([]);
    if (devices.length === 1) {
      return this.x.all<VisitRow>(`SELECT ${VISIT_SELECT} FROM zone_visits WHERE org_id = $1 AND device = $2 AND enter_ms < $4 AND COALESCE(exit_ms, last_ms) >= $3 ORDER BY enter_ms LIMIT $5`, [orgId, devices[0], fromMs, toMs, limit]);
    }
    const list = devices.map((_, i) => `$${5 + i}`).join(', ');
    return this.x.all<VisitRow>(`SELECT ${VISIT_SELECT} FROM zone_visits WHERE org_id = $1 AND device IN (${list}) AND enter_ms < $3 AND COALESCE(exit_ms, last_ms) >= $2 ORDER BY enter_ms, device LIMIT $4`, [orgId, fromMs, toMs, limit, ...devices]);
  }

  /** Delete at most `limit` visits that ended before `beforeMs`, oldest first; returns rows deleted. */
  async purgeVisits(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (
      await this.x.run(
        'DELETE FROM zone_visits WHERE org_id = $1 AND (device, enter_ms) IN (SELECT device, enter_ms FROM zone_visits WHERE org_id = $1 AND enter_ms < $2 AND COALESCE(exit_ms, last_ms) < $2 ORDER BY enter_ms LIMIT $3)',
        [orgId, beforeMs, limit],
      )
    ).changes;
  }

  // ---- settings -------------------------------------------------------------------------

  getSettings(orgId: string): Promise<JourneySettingsRow | undefined> {
    return this.x.get<JourneySettingsRow>('SELECT org_id, passerby_max_s, bounce_max_s, engaged_max_s, updated_at FROM journey_settings WHERE org_id = $1', [orgId]);
  }
  async setSettings(r: JourneySettingsRow): Promise<void> {
    await this.x.run(
      `INSERT INTO journey_settings (org_id, passerby_max_s, bounce_max_s, engaged_max_s, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (org_id) DO UPDATE SET passerby_max_s = excluded.passerby_max_s, bounce_max_s = excluded.bounce_max_s, engaged_max_s = excluded.engaged_max_s, updated_at = excluded.updated_at`,
      [r.org_id, r.passerby_max_s, r.bounce_max_s, r.engaged_max_s, r.updated_at],
    );
  }

  /** Each floor of the org with its site (fixes name only the floor). */
  floorSites(orgId: string): Promise<{ id: string; site_id: string }[]> {
    return this.x.all<{ id: string; site_id: string }>('SELECT id, site_id FROM floors WHERE org_id = $1', [orgId]);
  }

  /** Names of the org's sites, floors and zones (a journey shows them next to the ids). */
  placeNames(orgId: string): Promise<PlaceNameRow[]> {
    return this.x.all<PlaceNameRow>(
      `SELECT 'site' AS kind, id, name FROM sites WHERE org_id = $1
       UNION ALL SELECT 'floor' AS kind, id, name FROM floors WHERE org_id = $1
       UNION ALL SELECT 'zone' AS kind, id, name FROM zones WHERE org_id = $1`,
      [orgId],
    );
  }
}
