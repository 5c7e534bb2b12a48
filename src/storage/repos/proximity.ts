/**
 * Proximity-tracing storage (issue 4, R-CT-3 … R-CT-8): badge encounters, the tracing index built
 * from fixes (device and place dictionaries, per device-hour tracks, per floor-cell-hour blobs,
 * the indexer's frontier and dirty hours), per-org thresholds and case reports. Devices are the
 * org's keyed pseudonyms; index blobs carry device numbers from the org's dictionary. Everything
 * but the thresholds is data class `location` (R-DATA-3, 30 days by default) and is purged here
 * in bounded batches.
 */
import type { Executor } from '../db.ts';
import { bulkInsert, LocationRepo, type FixRow } from './location.ts';

/** R-DATA-3 personal: an encounter of two badges (keyed pseudonyms, `a < b`). */
export interface EncounterRow {
  org_id: string;
  a: string;
  b: string;
  at_ms: number;
  duration_ms: number;
  rssi_dbm: number | null;
}

/** A place (floor or zone) by number, for the index blobs. Infrastructure, not personal. */
export interface TracePlaceRow {
  num: number;
  kind: 'floor' | 'zone';
  place_id: string;
}

/** One device-hour of the index (binary track). */
export interface TrackRow {
  device_num: number;
  hour_ms: number;
  data: Buffer;
}

/** One floor-cell-hour of the index (binary). */
export interface CellRow {
  floor_num: number;
  cell: number;
  data: Buffer;
}

/**
 * A stored case report. The purpose (free text, never health information) and the report are
 * encrypted under the org key; `subject` is a device pseudonym or a person id.
 */
export interface TraceCaseRow {
  id: string;
  org_id: string;
  created_at: number;
  /** Who ran the trace (`user:<id>`, `system:cli`). */
  created_by: string;
  subject_kind: 'device' | 'person';
  subject: string;
  from_ms: number;
  to_ms: number;
  contacts: number;
  purpose_enc: Buffer;
  report_enc: Buffer;
}

/** A fix as the indexer reads it (personal, R-DATA-3). */
export interface IndexFixRow {
  at_ms: number;
  device: string;
  floor_id: string;
  x_m: number;
  y_m: number;
  accuracy_m: number;
  method: string;
  zone_id: string | null;
}

const CASE_COLS = 'id, org_id, created_at, created_by, subject_kind, subject, from_ms, to_ms, contacts, purpose_enc, report_enc';

function inList(start: number, n: number): string {
  const p: string[] = new Array(n);
  for (let i = 0; i < n; i++) p[i] = `$${start + i}`;
  return p.join(',');
}

export class ProximityRepo {
  constructor(private readonly x: Executor) {}

  // ---- encounters ---------------------------------------------------------------------

  /** Store encounters; one already stored (same pair and start) is kept as it was. Returns rows written. */
  async insertEncounters(rows: readonly EncounterRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const values = rows.map((r) => [r.org_id, r.a, r.b, r.at_ms, r.duration_ms, r.rssi_dbm]);
    return (await bulkInsert(this.x, 'encounters (org_id, a, b, at_ms, duration_ms, rssi_dbm)', 6, values, 'ON CONFLICT (org_id, a, at_ms, b) DO NOTHING')).changes;
  }

  /**
   * A device's encounters overlapping [fromMs, toMs), oldest first. Starts up to `maxDurationMs`
   * before the window are read so encounters that reach into it count.
   */
  async encountersOf(orgId: string, device: string, fromMs: number, toMs: number, maxDurationMs: number): Promise<EncounterRow[]> {
    const lo = fromMs - maxDurationMs;
    const cols = 'org_id, a, b, at_ms, duration_ms, rssi_dbm';
    const rows = [
      ...(await this.x.all<EncounterRow>(`SELECT ${cols} FROM encounters WHERE org_id = $1 AND a = $2 AND at_ms >= $3 AND at_ms < $4`, [orgId, device, lo, toMs])),
      ...(await this.x.all<EncounterRow>(`SELECT ${cols} FROM encounters WHERE org_id = $1 AND b = $2 AND at_ms >= $3 AND at_ms < $4`, [orgId, device, lo, toMs])),
    ];
    return rows.filter((r) => r.at_ms + r.duration_ms > fromMs).sort((p, q) => p.at_ms - q.at_ms);
  }

  async countEncounters(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM encounters WHERE org_id = $1', [orgId]))?.n ?? 0);
  }

  /** Delete at most `limit` encounters that started before `beforeMs`; returns rows deleted. */
  async purgeEncounters(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (
      await this.x.run(
        'DELETE FROM encounters WHERE org_id = $1 AND (a, b, at_ms) IN (SELECT a, b, at_ms FROM encounters WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3)',
        [orgId, beforeMs, limit],
      )
    ).changes;
  }

  // ---- index: fixes in, dictionaries ------------------------------------------------------

  /**
   * Visit the fixes of [fromMs, toMs) in time order (personal; for the indexer). On SQLite rows
   * come as arrays straight from the statement, with no object per row: an hour of a large campus
   * is half a million fixes.
   */
  async eachFixForIndex(orgId: string, fromMs: number, toMs: number, fn: (atMs: number, device: string, floorId: string, x: number, y: number, accuracy: number, method: string, zoneId: string | null) => void): Promise<void> {
    const sql = 'SELECT at_ms, device, floor_id, x_m, y_m, accuracy_m, method, zone_id FROM fixes WHERE org_id = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms';
    const raw = (this.x as { iterateRaw?: (sql: string, params: readonly unknown[]) => IterableIterator<unknown[]> }).iterateRaw;
    if (typeof raw === 'function') {
      for (const r of raw.call(this.x, sql, [orgId, fromMs, toMs])) fn(r[0] as number, r[1] as string, r[2] as string, r[3] as number, r[4] as number, r[5] as number, r[6] as string, r[7] as string | null);
      return;
    }
    for (const r of await this.x.all<IndexFixRow>(sql, [orgId, fromMs, toMs])) fn(Number(r.at_ms), r.device, r.floor_id, r.x_m, r.y_m, r.accuracy_m, r.method, r.zone_id);
  }

  /** The newest fix time of an org, or undefined. */
  async newestFix(orgId: string): Promise<number | undefined> {
    const r = await this.x.get<{ m: number | null }>('SELECT MAX(at_ms) AS m FROM fixes WHERE org_id = $1', [orgId]);
    return r?.m === null || r?.m === undefined ? undefined : Number(r.m);
  }

  /** The earliest fix of an org at or after `fromMs` (where the indexer starts), or undefined. */
  async firstFixAtOrAfter(orgId: string, fromMs: number): Promise<number | undefined> {
    const r = await this.x.get<{ at_ms: number }>('SELECT at_ms FROM fixes WHERE org_id = $1 AND at_ms >= $2 ORDER BY at_ms LIMIT 1', [orgId, fromMs]);
    return r?.at_ms;
  }

  /** Device numbers of these pseudonyms (those known). */
  async deviceNums(orgId: string, devices: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < devices.length; i += 500) {
      const part = devices.slice(i, i + 500);
      const rows = await this.x.all<{ num: number; device: string }>(`SELECT num, device FROM trace_devices WHERE org_id = $1 AND device IN (${inList(2, part.length)})`, [orgId, ...part]);
      for (const r of rows) out.set(r.device, Number(r.num));
    }
    return out;
  }

  /** Pseudonyms of these device numbers (those still known). */
  async devicesByNum(orgId: string, nums: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (let i = 0; i < nums.length; i += 500) {
      const part = nums.slice(i, i + 500);
      const rows = await this.x.all<{ num: number; device: string }>(`SELECT num, device FROM trace_devices WHERE org_id = $1 AND num IN (${inList(2, part.length)})`, [orgId, ...part]);
      for (const r of rows) out.set(Number(r.num), r.device);
    }
    return out;
  }

  async maxDeviceNum(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number | null }>('SELECT MAX(num) AS n FROM trace_devices WHERE org_id = $1', [orgId]))?.n ?? 0);
  }

  /** Add dictionary entries (numbers chosen by the caller, never reused). */
  async insertDevices(orgId: string, rows: readonly { num: number; device: string; lastMs: number }[]): Promise<void> {
    if (rows.length === 0) return;
    await bulkInsert(this.x, 'trace_devices (org_id, num, device, last_ms)', 4, rows.map((r) => [orgId, r.num, r.device, r.lastMs]));
  }

  /** Move devices' last-indexed time forward (the dictionary purge keys on it). */
  async touchDevices(orgId: string, nums: readonly number[], lastMs: number): Promise<void> {
    for (let i = 0; i < nums.length; i += 500) {
      const part = nums.slice(i, i + 500);
      await this.x.run(`UPDATE trace_devices SET last_ms = $2 WHERE org_id = $1 AND last_ms < $2 AND num IN (${inList(3, part.length)})`, [orgId, lastMs, ...part]);
    }
  }

  listPlaces(orgId: string): Promise<TracePlaceRow[]> {
    return this.x.all<TracePlaceRow>('SELECT num, kind, place_id FROM trace_places WHERE org_id = $1', [orgId]);
  }

  async insertPlaces(orgId: string, rows: readonly TracePlaceRow[]): Promise<void> {
    if (rows.length === 0) return;
    await bulkInsert(this.x, 'trace_places (org_id, num, kind, place_id)', 4, rows.map((r) => [orgId, r.num, r.kind, r.place_id]), 'ON CONFLICT DO NOTHING');
  }

  // ---- index: tracks and cells ------------------------------------------------------------

  /** Replace one hour of the index (a rebuilt hour loses its old rows first). */
  async replaceHour(orgId: string, hourMs: number, tracks: readonly TrackRow[], cells: readonly CellRow[]): Promise<void> {
    await this.x.run('DELETE FROM trace_tracks WHERE org_id = $1 AND hour_ms = $2', [orgId, hourMs]);
    await this.x.run('DELETE FROM trace_cells WHERE org_id = $1 AND hour_ms = $2', [orgId, hourMs]);
    if (tracks.length > 0) await bulkInsert(this.x, 'trace_tracks (org_id, device_num, hour_ms, data)', 4, tracks.map((t) => [orgId, t.device_num, hourMs, t.data]));
    if (cells.length > 0) await bulkInsert(this.x, 'trace_cells (org_id, floor_num, hour_ms, cell, data)', 5, cells.map((c) => [orgId, c.floor_num, hourMs, c.cell, c.data]));
  }

  /** A device's track rows of hours in [fromHourMs, toHourMs), oldest first. */
  tracksOf(orgId: string, deviceNum: number, fromHourMs: number, toHourMs: number): Promise<{ hour_ms: number; data: Buffer }[]> {
    return this.x.all('SELECT hour_ms, data FROM trace_tracks WHERE org_id = $1 AND device_num = $2 AND hour_ms >= $3 AND hour_ms < $4 ORDER BY hour_ms', [orgId, deviceNum, fromHourMs, toHourMs]);
  }

  /** These cells of one floor-hour (those that exist). */
  cellsOf(orgId: string, floorNum: number, hourMs: number, cells: readonly number[]): Promise<{ cell: number; data: Buffer }[]> {
    return this.x.all(`SELECT cell, data FROM trace_cells WHERE org_id = $1 AND floor_num = $2 AND hour_ms = $3 AND cell IN (${inList(4, cells.length)})`, [orgId, floorNum, hourMs, ...cells]);
  }

  /** Rows and bytes of the index (figures). */
  async indexSize(orgId: string): Promise<{ tracks: number; trackBytes: number; cells: number; cellBytes: number }> {
    const t = await this.x.get<{ n: number; b: number | null }>(`SELECT COUNT(*) AS n, SUM(${this.x.engine === 'postgres' ? 'octet_length' : 'length'}(data)) AS b FROM trace_tracks WHERE org_id = $1`, [orgId]);
    const c = await this.x.get<{ n: number; b: number | null }>(`SELECT COUNT(*) AS n, SUM(${this.x.engine === 'postgres' ? 'octet_length' : 'length'}(data)) AS b FROM trace_cells WHERE org_id = $1`, [orgId]);
    return { tracks: Number(t?.n ?? 0), trackBytes: Number(t?.b ?? 0), cells: Number(c?.n ?? 0), cellBytes: Number(c?.b ?? 0) };
  }

  // ---- index: progress --------------------------------------------------------------------

  async indexedUntil(orgId: string): Promise<number | undefined> {
    const r = await this.x.get<{ indexed_until_ms: number }>('SELECT indexed_until_ms FROM trace_index_state WHERE org_id = $1', [orgId]);
    return r ? Number(r.indexed_until_ms) : undefined;
  }

  async setIndexedUntil(orgId: string, untilMs: number, nowMs: number): Promise<void> {
    await this.x.run(
      'INSERT INTO trace_index_state (org_id, indexed_until_ms, updated_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET indexed_until_ms = excluded.indexed_until_ms, updated_at = excluded.updated_at',
      [orgId, untilMs, nowMs],
    );
  }

  /** Orgs that have index progress (the background indexer's list). */
  async indexedOrgs(): Promise<{ org_id: string; indexed_until_ms: number }[]> {
    return this.x.all('SELECT org_id, indexed_until_ms FROM trace_index_state');
  }

  /** Mark hours as changed after indexing; a mark already there is bumped (its sequence grows). */
  async markDirty(orgId: string, hours: readonly number[]): Promise<void> {
    if (hours.length === 0) return;
    await bulkInsert(this.x, 'trace_index_dirty (org_id, hour_ms, mark_seq)', 3, hours.map((h) => [orgId, h, 1]), 'ON CONFLICT (org_id, hour_ms) DO UPDATE SET mark_seq = trace_index_dirty.mark_seq + 1');
  }

  /** The oldest changed hours with the sequence of their mark. */
  async dirtyHours(orgId: string, limit: number): Promise<{ hour_ms: number; mark_seq: number }[]> {
    return (await this.x.all<{ hour_ms: number; mark_seq: number }>('SELECT hour_ms, mark_seq FROM trace_index_dirty WHERE org_id = $1 ORDER BY hour_ms LIMIT $2', [orgId, limit])).map((r) => ({ hour_ms: Number(r.hour_ms), mark_seq: Number(r.mark_seq) }));
  }

  /** Clear a mark, unless it was bumped since `markSeq` was read (the hour changed again). */
  async clearDirty(orgId: string, hourMs: number, markSeq: number): Promise<void> {
    await this.x.run('DELETE FROM trace_index_dirty WHERE org_id = $1 AND hour_ms = $2 AND mark_seq = $3', [orgId, hourMs, markSeq]);
  }

  /** Drop an org's whole index (rebuild starts from its oldest fix). */
  async dropIndex(orgId: string): Promise<void> {
    for (const t of ['trace_tracks', 'trace_cells', 'trace_index_dirty', 'trace_index_state', 'trace_devices', 'trace_places']) await this.x.run(`DELETE FROM ${t} WHERE org_id = $1`, [orgId]);
  }

  /**
   * Delete at most `limit` index rows of hours that ended before `beforeMs` (tracks first, then
   * cells, then dirty marks), and dictionary entries not indexed for 12 hours before that.
   */
  async purgeIndex(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const lastHour = beforeMs - 3_600_000;
    let n = (await this.x.run('DELETE FROM trace_tracks WHERE org_id = $1 AND (device_num, hour_ms) IN (SELECT device_num, hour_ms FROM trace_tracks WHERE org_id = $1 AND hour_ms <= $2 ORDER BY hour_ms LIMIT $3)', [orgId, lastHour, limit])).changes;
    if (n < limit) n += (await this.x.run('DELETE FROM trace_cells WHERE org_id = $1 AND (floor_num, hour_ms, cell) IN (SELECT floor_num, hour_ms, cell FROM trace_cells WHERE org_id = $1 AND hour_ms <= $2 ORDER BY hour_ms LIMIT $3)', [orgId, lastHour, limit - n])).changes;
    if (n < limit) n += (await this.x.run('DELETE FROM trace_index_dirty WHERE org_id = $1 AND hour_ms IN (SELECT hour_ms FROM trace_index_dirty WHERE org_id = $1 AND hour_ms <= $2 ORDER BY hour_ms LIMIT $3)', [orgId, lastHour, limit - n])).changes;
    // The indexer marks a device's entry at most every 6 hours: an entry goes 12 hours after the
    // hours that could still name it, so a number is never reused while a row holds it.
    if (n < limit) n += (await this.x.run('DELETE FROM trace_devices WHERE org_id = $1 AND num IN (SELECT num FROM trace_devices WHERE org_id = $1 AND last_ms < $2 ORDER BY num LIMIT $3)', [orgId, lastHour - 12 * 3_600_000, limit - n])).changes;
    return n;
  }

  // ---- figures (bench/tracing.ts) ----------------------------------------------------------

  /** Bytes on disk per table of this store, indexes included (figures; every org). */
  async tableBytes(): Promise<Map<string, number>> {
    const rows =
      this.x.engine === 'postgres'
        ? await this.x.all<{ name: string; bytes: number }>("SELECT relname AS name, pg_total_relation_size(oid) AS bytes FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'")
        : await this.x.all<{ name: string; bytes: number }>('SELECT s.tbl_name AS name, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema s ON s.name = d.name GROUP BY s.tbl_name');
    return new Map(rows.map((r) => [r.name, Number(r.bytes)]));
  }

  /**
   * Load fixes in bulk for the figures' baseline store: on PostgreSQL one statement per 20 000
   * rows through arrays (`unnest`), several times faster than multi-row VALUES; elsewhere the
   * ingest path's insert.
   */
  async loadFixes(rows: readonly FixRow[]): Promise<void> {
    if (this.x.engine !== 'postgres') {
      await new LocationRepo(this.x).insertFixes(rows);
      return;
    }
    for (let i = 0; i < rows.length; i += 20_000) {
      const part = rows.slice(i, i + 20_000);
      const col = <K extends keyof FixRow>(k: K) => part.map((r) => r[k]);
      await this.x.run(
        `INSERT INTO fixes (org_id, at_ms, device, source, kind, floor_id, x_m, y_m, accuracy_m, method, zone_id)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[])`,
        [col('org_id'), col('at_ms'), col('device'), col('source'), col('kind'), col('floor_id'), col('x_m'), col('y_m'), col('accuracy_m'), col('method'), col('zone_id')],
      );
    }
  }

  /**
   * The baseline the tracing index is measured against: the indexes a plain SQL self-join over
   * `fixes` needs (by device, and by floor and time). `fixes` does not have them in production
   * (they halved the ingest rate); the bench adds them to its own store.
   */
  async addBaselineIndexes(): Promise<void> {
    await this.x.run('CREATE INDEX IF NOT EXISTS fixes_baseline_device ON fixes (org_id, device, at_ms)');
    await this.x.run('CREATE INDEX IF NOT EXISTS fixes_baseline_floor ON fixes (org_id, floor_id, at_ms)');
    await this.x.run(this.x.engine === 'postgres' ? 'ANALYZE fixes' : 'ANALYZE');
  }

  /**
   * The proximity question as one indexed SQL self-join over `fixes` (the baseline of the
   * figures): per minute the device's mean position, then every other fix on that floor in that
   * minute within `radiusMeters` (a box on the index, then the circle), counted in distinct
   * minutes per device (closest distance squared, m²). No smoothing and no accuracy widening: if
   * anything, less work. On PostgreSQL call it inside a transaction: JIT compilation (seconds per
   * query) is turned off for it, as a DBA would for such queries.
   */
  async baselineContacts(orgId: string, device: string, fromMs: number, toMs: number, radiusMeters: number, minMinutes: number): Promise<{ device: string; minutes: number; closest_sq_m2: number; first_ms: number; last_ms: number }[]> {
    if (this.x.engine === 'postgres') await this.x.run('SET LOCAL jit = off');
    // PostgreSQL's planner prefers a merge join on the floor that compares every pair of a
    // floor's fixes; a LATERAL subquery it cannot flatten (OFFSET 0) asks for what the indexes
    // are for: one range read per index minute.
    const join =
      this.x.engine === 'postgres'
        ? `idx CROSS JOIN LATERAL (SELECT device, at_ms, x_m, y_m FROM fixes WHERE org_id = $1 AND floor_id = idx.floor_id AND at_ms >= idx.m * 60000 AND at_ms < idx.m * 60000 + 60000
             AND x_m >= idx.x - $5 AND x_m <= idx.x + $5 AND y_m >= idx.y - $5 AND y_m <= idx.y + $5 OFFSET 0) f`
        : `idx JOIN fixes f ON f.org_id = $1 AND f.floor_id = idx.floor_id AND f.at_ms >= idx.m * 60000 AND f.at_ms < idx.m * 60000 + 60000
             AND f.x_m >= idx.x - $5 AND f.x_m <= idx.x + $5 AND f.y_m >= idx.y - $5 AND f.y_m <= idx.y + $5`;
    return this.x.all(
      `WITH idx AS (
         SELECT floor_id, at_ms / 60000 AS m, AVG(x_m) AS x, AVG(y_m) AS y
           FROM fixes WHERE org_id = $1 AND device = $2 AND at_ms >= $3 AND at_ms < $4
          GROUP BY floor_id, at_ms / 60000)
       SELECT f.device, COUNT(DISTINCT f.at_ms / 60000) AS minutes, MIN((f.x_m - idx.x) * (f.x_m - idx.x) + (f.y_m - idx.y) * (f.y_m - idx.y)) AS closest_sq_m2,
              MIN(f.at_ms) AS first_ms, MAX(f.at_ms) AS last_ms
         FROM ${join}
        WHERE f.device <> $2 AND (f.x_m - idx.x) * (f.x_m - idx.x) + (f.y_m - idx.y) * (f.y_m - idx.y) <= $5 * $5
        GROUP BY f.device
       HAVING COUNT(DISTINCT f.at_ms / 60000) >= $6`,
      [orgId, device, fromMs, toMs, radiusMeters, minMinutes],
    );
  }

  // ---- settings -----------------------------------------------------------------------------

  async getSettings(orgId: string): Promise<string | undefined> {
    return (await this.x.get<{ settings: string }>('SELECT settings FROM trace_settings WHERE org_id = $1', [orgId]))?.settings;
  }

  async setSettings(orgId: string, settings: string, nowMs: number): Promise<void> {
    await this.x.run('INSERT INTO trace_settings (org_id, settings, updated_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at', [orgId, settings, nowMs]);
  }

  // ---- case reports ---------------------------------------------------------------------------

  async insertCase(r: TraceCaseRow): Promise<void> {
    await this.x.run(`INSERT INTO trace_cases (${CASE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      r.id, r.org_id, r.created_at, r.created_by, r.subject_kind, r.subject, r.from_ms, r.to_ms, r.contacts, r.purpose_enc, r.report_enc,
    ]);
  }

  getCase(orgId: string, id: string): Promise<TraceCaseRow | undefined> {
    return this.x.get<TraceCaseRow>(`SELECT ${CASE_COLS} FROM trace_cases WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }

  /** Newest first; `before` is the id of the last row of the previous page. */
  listCases(orgId: string, limit: number, beforeId?: string): Promise<TraceCaseRow[]> {
    return beforeId
      ? this.x.all<TraceCaseRow>(`SELECT ${CASE_COLS} FROM trace_cases WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, [orgId, beforeId, limit])
      : this.x.all<TraceCaseRow>(`SELECT ${CASE_COLS} FROM trace_cases WHERE org_id = $1 ORDER BY id DESC LIMIT $2`, [orgId, limit]);
  }

  async deleteCase(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM trace_cases WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  /** Delete at most `limit` case reports created before `beforeMs`; returns rows deleted. */
  async purgeCases(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM trace_cases WHERE id IN (SELECT id FROM trace_cases WHERE org_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
}
