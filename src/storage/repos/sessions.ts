/**
 * Association sessions (WiFiTrace): a device's stay at one AP, R-DATA-3 `location` data kept 30
 * days by default. Written in bulk by the ingest session feed (open sessions rewritten as events
 * arrive, so a restart resumes them), read per device for the audited location API, and joined
 * per AP for contact tracing's co-presence. Devices appear only as keyed pseudonyms; APs are
 * infrastructure and kept in clear.
 */
import type { Executor } from '../db.ts';
import { bulkInsert } from './location.ts';

/**
 * R-DATA-3 personal (location history, 30 days by default): one device's stay at one AP.
 * `device` is the org's keyed pseudonym (R-LOC-5), never a MAC.
 */
export interface AssociationSessionRow {
  /** UUIDv7, assigned when the session opens. */
  id: string;
  org_id: string;
  device: string;
  /** The AP's site (the registered sensor's, else the feed's), when known. */
  site_id: string | null;
  /** The co-presence key: the registered sensor's id, else `ap_key` lower-cased. Infrastructure. */
  ap: string;
  /** The AP as the controller logged it (name, hostname or BSSID). Infrastructure. */
  ap_key: string;
  sensor_id: string | null;
  /** The AP's own MAC or BSSID (infrastructure, not a client's), when logged in clear. */
  ap_mac: string | null;
  start_ms: number;
  /** End of the session; while it is open, its last event (the last moment there is evidence for). */
  end_ms: number;
  /** null while the session is open; else disassociation, roam, timeout, flush or evicted. */
  end_reason: string | null;
  event_count: number;
  randomized: number;
  source: string;
  /** The stream that built it: `listener`, or `file:<keyed digest>`. */
  feed: string;
}

/** A session at the index device's AP that overlaps one of the index device's sessions. */
export interface CoPresenceRow {
  /** The index device's session it overlaps. */
  index_session_id: string;
  index_start_ms: number;
  index_end_ms: number;
  id: string;
  /** The other device's pseudonym (R-DATA-3). */
  device: string;
  ap: string;
  site_id: string | null;
  start_ms: number;
  end_ms: number;
  end_reason: string | null;
}

const COLS = ['id', 'org_id', 'device', 'site_id', 'ap', 'ap_key', 'sensor_id', 'ap_mac', 'start_ms', 'end_ms', 'end_reason', 'event_count', 'randomized', 'source', 'feed'] as const;
const SELECT = COLS.join(', ');

/** `$first, $first+1, …` for a list of `n` values (an IN list). */
function list(first: number, n: number): string {
  return Array.from({ length: n }, (_, i) => `$${first + i}`).join(', ');
}

export class AssociationSessionRepo {
  constructor(private readonly x: Executor) {}

  /**
   * Insert sessions, or rewrite the ones already stored (same id): an open session grows (end,
   * event count) and finally gets its end reason. One statement per chunk of rows.
   */
  async upsert(rows: readonly AssociationSessionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await bulkInsert(
      this.x,
      `association_sessions (${SELECT})`,
      COLS.length,
      rows.map((r) => COLS.map((c) => r[c])),
      `ON CONFLICT (id) DO UPDATE SET site_id = excluded.site_id, ap = excluded.ap, sensor_id = excluded.sensor_id, ap_mac = excluded.ap_mac,
         end_ms = excluded.end_ms, end_reason = excluded.end_reason, event_count = excluded.event_count`,
    );
  }

  /** The sessions a feed left open, oldest activity first (to resume them after a restart). */
  openOfFeed(orgId: string, feed: string): Promise<AssociationSessionRow[]> {
    return this.x.all<AssociationSessionRow>(`SELECT ${SELECT} FROM association_sessions WHERE org_id = $1 AND feed = $2 AND end_reason IS NULL ORDER BY end_ms, id`, [orgId, feed]);
  }

  /** Raise the org's longest-session bound to `durationMs` if it is longer. */
  async widenBound(orgId: string, durationMs: number): Promise<void> {
    const max = this.x.engine === 'postgres' ? 'GREATEST' : 'MAX';
    await this.x.run(
      `INSERT INTO association_session_bounds (org_id, max_duration_ms) VALUES ($1, $2)
       ON CONFLICT (org_id) DO UPDATE SET max_duration_ms = ${max}(association_session_bounds.max_duration_ms, excluded.max_duration_ms)`,
      [orgId, durationMs],
    );
  }

  /** The longest session the org ever stored, ms (0 when none). */
  async maxDurationMs(orgId: string): Promise<number> {
    return Number((await this.x.get<{ m: number }>('SELECT max_duration_ms AS m FROM association_session_bounds WHERE org_id = $1', [orgId]))?.m ?? 0);
  }

  /**
   * One page of a device's sessions overlapping [fromMs, toMs], by start then id. `after` is the
   * last (start, id) of the previous page. `siteIds` confines the answer to those sites (a site
   * admin's), null for all. Personal: the caller checks access and audits the read.
   *
   * Cost: the (org, device, start) index from `fromMs − longest session` to `toMs`; a device
   * has a few sessions an hour, so a page is a short index range.
   */
  async pageOfDevice(orgId: string, device: string, fromMs: number, toMs: number, opts: { after?: { startMs: number; id: string }; siteIds: readonly string[] | null; limit: number }): Promise<AssociationSessionRow[]> {
    const maxDur = await this.maxDurationMs(orgId);
    const p: unknown[] = [orgId, device, fromMs - maxDur, toMs, fromMs, opts.limit];
    let where = 'org_id = $1 AND device = $2 AND start_ms >= $3 AND start_ms <= $4 AND end_ms >= $5';
    if (opts.after) {
      p.push(opts.after.startMs, opts.after.id);
      where += ` AND (start_ms > $${p.length - 1} OR (start_ms = $${p.length - 1} AND id > $${p.length}))`;
    }
    if (opts.siteIds) {
      if (opts.siteIds.length === 0) return [];
      where += ` AND site_id IN (${list(p.length + 1, opts.siteIds.length)})`;
      p.push(...opts.siteIds);
    }
    return this.x.all<AssociationSessionRow>(`SELECT ${SELECT} FROM association_sessions WHERE ${where} ORDER BY start_ms, id LIMIT $6`, p);
  }

  /**
   * Co-presence for contact tracing (WiFiTrace): every session of another device at the same AP
   * that overlaps one of `device`'s sessions, both clipped to [fromMs, toMs] (closed intervals:
   * a session of one event still counts). Rows come by index session, then start; the caller
   * sums overlaps per contact. Personal: the caller checks access and audits.
   *
   * Cost, with L the org's longest session: one range of the (org, device, start) index over
   * [fromMs − L, toMs] for the index device's sessions, then per index session i one range of
   * the (org, ap, start, end, device) index over [i.start − L, i.end], end and device checked
   * inside the index. So it reads the index device's sessions plus the sessions at its APs that
   * started within L before each of its visits: O(k · (log n + m)) for k index sessions and m
   * sessions per AP and visit, independent of the org's total and of the window's other APs.
   * `bench/history.ts` measures it on a 14-day window.
   *
   * @example const rows = await repo.coPresence(orgId, device, Date.now() - 14 * DAY_MS, Date.now())
   */
  async coPresence(orgId: string, device: string, fromMs: number, toMs: number, limit = 100_000): Promise<CoPresenceRow[]> {
    const maxDur = await this.maxDurationMs(orgId);
    return this.x.all<CoPresenceRow>(
      `SELECT i.id AS index_session_id, i.start_ms AS index_start_ms, i.end_ms AS index_end_ms,
              o.id, o.device, o.ap, o.site_id, o.start_ms, o.end_ms, o.end_reason
         FROM association_sessions i
         JOIN association_sessions o
           ON o.org_id = $1 AND o.ap = i.ap
          AND o.start_ms >= i.start_ms - $5 AND o.start_ms <= i.end_ms AND o.start_ms <= $4
          AND o.end_ms >= i.start_ms AND o.end_ms >= $3 AND o.device <> $2
        WHERE i.org_id = $1 AND i.device = $2 AND i.start_ms >= $7 AND i.start_ms <= $4 AND i.end_ms >= $3
        ORDER BY i.start_ms, i.id, o.start_ms, o.id
        LIMIT $6`,
      [orgId, device, fromMs, toMs, maxDur, limit, fromMs - maxDur],
    );
  }

  async countOfOrg(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM association_sessions WHERE org_id = $1', [orgId]))?.n ?? 0);
  }

  /** Delete at most `limit` sessions that ended before `beforeMs`, oldest first; returns rows deleted. */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM association_sessions WHERE id IN (SELECT id FROM association_sessions WHERE org_id = $1 AND end_ms < $2 ORDER BY end_ms LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
}
