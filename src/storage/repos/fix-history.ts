/**
 * One device's fixes (R-DATA-3), a page at a time, for the audited location API. `fixes` has no
 * device index on purpose (see migration 101: it halved the insert rate), so a read walks the
 * (org, time) index over the window and keeps the device's rows; windows are bounded by the
 * caller and each page stops soon after it is full.
 */
import type { Executor } from '../db.ts';
import type { FixRow } from './location.ts';

const COLS = 'org_id, at_ms, device, source, kind, floor_id, x_m, y_m, accuracy_m, method, zone_id';
/** The first time slice a page reads, and the longest it grows to. */
const SLICE_MIN_MS = 3_600_000;
const SLICE_MAX_MS = 86_400_000;

/** Where the previous page stopped: its last fix's time and how many fixes at that time it gave. */
export interface FixPageCursor {
  atMs: number;
  skip: number;
}

export class FixHistoryRepo {
  constructor(private readonly x: Executor) {}

  /**
   * Up to `limit` fixes of `device` in [fromMs, toMs), oldest first, from `after` on. Fixes have
   * no key, so the cursor is (time, rows already given at that time), and ties at one time are
   * ordered by their content. `siteIds` confines the answer to floors of those sites, null for all.
   * Personal: the caller checks access and audits the read.
   *
   * Cost: every fix of the org between the cursor and the page's last fix is read and dropped
   * unless it is the device's. The window is walked in time slices (1 hour, doubling up to a day
   * while the page stays short), each one bounded statement, so a page stops close to where it is
   * full on both engines whatever plan the engine picks (bench/history.ts measures it).
   */
  async pageOfDevice(orgId: string, device: string, fromMs: number, toMs: number, opts: { after?: FixPageCursor; siteIds: readonly string[] | null; limit: number }): Promise<FixRow[]> {
    if (opts.siteIds && opts.siteIds.length === 0) return [];
    let start = opts.after ? Math.max(fromMs, opts.after.atMs) : fromMs;
    let skip = opts.after && opts.after.atMs >= fromMs ? opts.after.skip : 0;
    let where = 'org_id = $1 AND at_ms >= $3 AND at_ms < $4 AND device = $2';
    if (opts.siteIds) where += ` AND floor_id IN (SELECT id FROM floors WHERE org_id = $1 AND site_id IN (${opts.siteIds.map((_, i) => `$${7 + i}`).join(', ')}))`;
    const sql = `SELECT ${COLS} FROM fixes WHERE ${where} ORDER BY at_ms, source, method, floor_id, x_m, y_m, accuracy_m LIMIT $5 OFFSET $6`;
    const out: FixRow[] = [];
    let sliceMs = SLICE_MIN_MS;
    while (start < toMs && out.length < opts.limit) {
      const end = Math.min(toMs, start + sliceMs);
      out.push(...(await this.x.all<FixRow>(sql, [orgId, device, start, end, opts.limit - out.length, skip, ...(opts.siteIds ?? [])])));
      start = end;
      skip = 0;
      sliceMs = Math.min(SLICE_MAX_MS, sliceMs * 2);
    }
    return out;
  }
}
