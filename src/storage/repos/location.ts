/**
 * Location storage: the sensor/AP registry and per-site path-loss calibration (infrastructure,
 * in clear), precise fixes (R-DATA-3, device pseudonyms only; 30 days by default) and per-minute
 * zone presence aggregates (no device identifier). Bulk writes go out as multi-row statements.
 */
import type { Executor } from '../db.ts';

/** An AP or BLE sensor on a floor. Its MAC identifies equipment, not a person: kept in clear. */
export interface SensorRow {
  id: string;
  org_id: string;
  site_id: string;
  floor_id: string;
  kind: 'ap' | 'ble-sensor';
  name: string;
  /** Infrastructure MAC, normalised `aa:bb:cc:dd:ee:ff`; not personal data. */
  mac: string | null;
  /** The vendor's id of the device (Mist device id, AP name in syslog), lower-case. */
  vendor_id: string | null;
  x_m: number;
  y_m: number;
  coverage_radius_m: number;
  /** RSSI at 1 m for this sensor, overriding the site's calibration. */
  tx_power_dbm: number | null;
  created_at: number;
  updated_at: number;
}

/** A site's log-distance path-loss model. */
export interface CalibrationRow {
  site_id: string;
  org_id: string;
  tx_power_dbm: number;
  exponent: number;
  shadowing_sigma_db: number;
  samples: number;
  residual_sigma_db: number | null;
  updated_at: number;
}

/**
 * R-DATA-3 personal (precise location history, 30 days by default): one fix of one device.
 * `device` is the org's keyed pseudonym (R-LOC-5).
 */
export interface FixRow {
  org_id: string;
  at_ms: number;
  device: string;
  source: string;
  kind: string;
  /** The floor (its site is the floor's). */
  floor_id: string;
  x_m: number;
  y_m: number;
  accuracy_m: number;
  method: string;
  zone_id: string | null;
}

/** Distinct devices in a zone during one minute (aggregate; `zone_id` '' = in no zone). */
export interface ZonePresenceRow {
  org_id: string;
  floor_id: string;
  zone_id: string;
  bucket_ms: number;
  site_id: string;
  devices: number;
  randomized: number;
}

const SENSOR_COLS = 'id, org_id, site_id, floor_id, kind, name, mac, vendor_id, x_m, y_m, coverage_radius_m, tx_power_dbm, created_at, updated_at';
const FIX_COLS = ['org_id', 'at_ms', 'device', 'source', 'kind', 'floor_id', 'x_m', 'y_m', 'accuracy_m', 'method', 'zone_id'] as const;
const PRESENCE_COLS = ['org_id', 'floor_id', 'zone_id', 'bucket_ms', 'site_id', 'devices', 'randomized'] as const;

const fixSqlCache: string[] = [];
/** The fixes INSERT for `rows` rows, one string object per size (the driver's caches then hash it once). */
function fixInsertSql(rows: number): string {
  return (fixSqlCache[rows] ??= `INSERT INTO fixes (${FIX_COLS.join(', ')}) VALUES ${placeholders(rows, FIX_COLS.length)}`);
}

const placeholderCache = new Map<string, string>();
/** `($1,$2),($3,$4)` for `rows` rows of `width` columns (cached: the hot path reuses a few shapes). */
function placeholders(rows: number, width: number): string {
  const key = `${rows}x${width}`;
  let s = placeholderCache.get(key);
  if (s === undefined) {
    const parts: string[] = new Array(rows);
    for (let r = 0; r < rows; r++) {
      const cells: string[] = new Array(width);
      for (let c = 0; c < width; c++) cells[c] = `$${r * width + c + 1}`;
      parts[r] = `(${cells.join(',')})`;
    }
    s = parts.join(',');
    placeholderCache.set(key, s);
  }
  return s;
}

/**
 * Run `INSERT INTO head VALUES (…),(…) tail` over `rows` in chunks, one statement per chunk
 * (SQLite: 64 rows, a bounded set of cached statements; PostgreSQL: up to 30 000 parameters).
 * Returns the rows each statement reports as written, summed, or with `returning`, the values of
 * that column for the rows written.
 *
 * @example await bulkInsert(x, 'fixes (org_id, …)', 12, rows, 'ON CONFLICT DO NOTHING')
 */
export async function bulkInsert(x: Executor, head: string, width: number, rows: readonly (readonly unknown[])[], tail = '', returning?: string): Promise<{ changes: number; returned: unknown[] }> {
  const chunk = x.engine === 'postgres' ? Math.max(1, Math.floor(30_000 / width)) : 64;
  let changes = 0;
  const returned: unknown[] = [];
  for (let i = 0; i < rows.length; i += chunk) {
    const n = Math.min(chunk, rows.length - i);
    const flat: unknown[] = new Array(n * width);
    for (let r = 0; r < n; r++) {
      const row = rows[i + r]!;
      for (let c = 0; c < width; c++) flat[r * width + c] = row[c];
    }
    const sql = `INSERT INTO ${head} VALUES ${placeholders(n, width)} ${tail}`;
    if (returning) {
      const got = await x.all<Record<string, unknown>>(`${sql} RETURNING ${returning}`, flat);
      for (const g of got) returned.push(g[returning]);
      changes += got.length;
    } else {
      changes += (await x.run(sql, flat)).changes;
    }
  }
  return { changes, returned };
}

export class LocationRepo {
  constructor(private readonly x: Executor) {}

  // ---- sensors --------------------------------------------------------------------------

  async insertSensor(s: SensorRow): Promise<void> {
    await this.x.run(`INSERT INTO sensors (${SENSOR_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, [
      s.id, s.org_id, s.site_id, s.floor_id, s.kind, s.name, s.mac, s.vendor_id, s.x_m, s.y_m, s.coverage_radius_m, s.tx_power_dbm, s.created_at, s.updated_at,
    ]);
  }
  async updateSensor(s: SensorRow): Promise<void> {
    await this.x.run(
      'UPDATE sensors SET floor_id = $3, kind = $4, name = $5, mac = $6, vendor_id = $7, x_m = $8, y_m = $9, coverage_radius_m = $10, tx_power_dbm = $11, updated_at = $12 WHERE org_id = $1 AND id = $2',
      [s.org_id, s.id, s.floor_id, s.kind, s.name, s.mac, s.vendor_id, s.x_m, s.y_m, s.coverage_radius_m, s.tx_power_dbm, s.updated_at],
    );
  }
  getSensor(orgId: string, id: string): Promise<SensorRow | undefined> {
    return this.x.get<SensorRow>(`SELECT ${SENSOR_COLS} FROM sensors WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** Another sensor of the org with this MAC or vendor id (uniqueness check before a write). */
  findClash(orgId: string, mac: string | null, vendorId: string | null, exceptId: string): Promise<SensorRow | undefined> {
    return this.x.get<SensorRow>(`SELECT ${SENSOR_COLS} FROM sensors WHERE org_id = $1 AND id <> $4 AND ((mac IS NOT NULL AND mac = $2) OR (vendor_id IS NOT NULL AND vendor_id = $3)) LIMIT 1`, [orgId, mac, vendorId, exceptId]);
  }
  listSensors(orgId: string, siteId: string, floorId: string | null): Promise<SensorRow[]> {
    return floorId
      ? this.x.all<SensorRow>(`SELECT ${SENSOR_COLS} FROM sensors WHERE org_id = $1 AND site_id = $2 AND floor_id = $3 ORDER BY name, id`, [orgId, siteId, floorId])
      : this.x.all<SensorRow>(`SELECT ${SENSOR_COLS} FROM sensors WHERE org_id = $1 AND site_id = $2 ORDER BY name, id`, [orgId, siteId]);
  }
  listOrgSensors(orgId: string): Promise<SensorRow[]> {
    return this.x.all<SensorRow>(`SELECT ${SENSOR_COLS} FROM sensors WHERE org_id = $1`, [orgId]);
  }
  async deleteSensor(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM sensors WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  // ---- calibration ----------------------------------------------------------------------

  getCalibration(orgId: string, siteId: string): Promise<CalibrationRow | undefined> {
    return this.x.get<CalibrationRow>('SELECT * FROM site_calibration WHERE org_id = $1 AND site_id = $2', [orgId, siteId]);
  }
  listCalibrations(orgId: string): Promise<CalibrationRow[]> {
    return this.x.all<CalibrationRow>('SELECT * FROM site_calibration WHERE org_id = $1', [orgId]);
  }
  async setCalibration(c: CalibrationRow): Promise<void> {
    await this.x.run(
      `INSERT INTO site_calibration (site_id, org_id, tx_power_dbm, exponent, shadowing_sigma_db, samples, residual_sigma_db, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (site_id) DO UPDATE SET tx_power_dbm = excluded.tx_power_dbm, exponent = excluded.exponent, shadowing_sigma_db = excluded.shadowing_sigma_db,
         samples = excluded.samples, residual_sigma_db = excluded.residual_sigma_db, updated_at = excluded.updated_at`,
      [c.site_id, c.org_id, c.tx_power_dbm, c.exponent, c.shadowing_sigma_db, c.samples, c.residual_sigma_db, c.updated_at],
    );
  }
  async deleteCalibration(orgId: string, siteId: string): Promise<number> {
    return (await this.x.run('DELETE FROM site_calibration WHERE org_id = $1 AND site_id = $2', [orgId, siteId])).changes;
  }

  // ---- fixes (R-DATA-3) -----------------------------------------------------------------

  /**
   * Append fixes (re-delivery is filtered before: see `IngestRepo.claimRecords`). Returns rows
   * written. SQLite takes 256 rows per statement (a tenth less CPU per row than 64), then 64, then
   * the rest, so a few statement shapes serve every batch size.
   */
  async insertFixes(rows: readonly FixRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    const width = FIX_COLS.length;
    const pg = this.x.engine === 'postgres';
    let n = 0;
    for (let i = 0; i < rows.length; ) {
      const left = rows.length - i;
      const m = pg ? Math.min(Math.floor(30_000 / width), left) : left >= 256 ? 256 : Math.min(64, left);
      // Flat parameters built directly: one array per statement, none per row.
      const p: unknown[] = new Array(m * width);
      for (let r = 0, o = 0; r < m; r++, o += width) {
        const f = rows[i + r]!;
        p[o] = f.org_id;
        p[o + 1] = f.at_ms;
        p[o + 2] = f.device;
        p[o + 3] = f.source;
        p[o + 4] = f.kind;
        p[o + 5] = f.floor_id;
        p[o + 6] = f.x_m;
        p[o + 7] = f.y_m;
        p[o + 8] = f.accuracy_m;
        p[o + 9] = f.method;
        p[o + 10] = f.zone_id;
      }
      n += (await this.x.run(fixInsertSql(m), p)).changes;
      i += m;
    }
    return n;
  }
  /** A device's fixes in a time window, oldest first (reads the window; personal: the caller audits it). */
  fixesOfDevice(orgId: string, device: string, fromMs: number, toMs: number, limit: number): Promise<FixRow[]> {
    return this.x.all<FixRow>(`SELECT ${FIX_COLS.join(', ')} FROM fixes WHERE org_id = $1 AND at_ms >= $3 AND at_ms < $4 AND device = $2 ORDER BY at_ms LIMIT $5`, [orgId, device, fromMs, toMs, limit]);
  }
  /** Fixes of an org in a time window, oldest first. */
  fixesBetween(orgId: string, fromMs: number, toMs: number, limit: number): Promise<FixRow[]> {
    return this.x.all<FixRow>(`SELECT ${FIX_COLS.join(', ')} FROM fixes WHERE org_id = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms, device LIMIT $4`, [orgId, fromMs, toMs, limit]);
  }
  async countFixes(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM fixes WHERE org_id = $1', [orgId]))?.n ?? 0);
  }
  /** Delete at most `limit` fixes older than `beforeMs`, oldest first; returns rows deleted. */
  async purgeFixes(orgId: string, beforeMs: number, limit: number): Promise<number> {
    // Rows have no key of their own: the engine's row address picks the batch.
    const sql =
      this.x.engine === 'postgres'
        ? 'DELETE FROM fixes WHERE ctid = ANY(ARRAY(SELECT ctid FROM fixes WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3))'
        : 'DELETE FROM fixes WHERE rowid IN (SELECT rowid FROM fixes WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3)';
    return (await this.x.run(sql, [orgId, beforeMs, limit])).changes;
  }

  // ---- zone presence (aggregates) -------------------------------------------------------

  /** Add distinct-device counts to their zone-minute rows. */
  async addPresence(rows: readonly ZonePresenceRow[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map((r) => [r.org_id, r.floor_id, r.zone_id, r.bucket_ms, r.site_id, r.devices, r.randomized]);
    await bulkInsert(
      this.x,
      `zone_presence (${PRESENCE_COLS.join(', ')})`,
      PRESENCE_COLS.length,
      values,
      'ON CONFLICT (org_id, floor_id, zone_id, bucket_ms) DO UPDATE SET devices = zone_presence.devices + excluded.devices, randomized = zone_presence.randomized + excluded.randomized',
    );
  }
  presenceBetween(orgId: string, fromMs: number, toMs: number): Promise<ZonePresenceRow[]> {
    return this.x.all<ZonePresenceRow>('SELECT * FROM zone_presence WHERE org_id = $1 AND bucket_ms >= $2 AND bucket_ms < $3 ORDER BY bucket_ms, floor_id, zone_id', [orgId, fromMs, toMs]);
  }
  /** Delete at most `limit` presence rows older than `beforeMs`; returns rows deleted. */
  async purgePresence(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (
      await this.x.run(
        'DELETE FROM zone_presence WHERE org_id = $1 AND (floor_id, zone_id, bucket_ms) IN (SELECT floor_id, zone_id, bucket_ms FROM zone_presence WHERE org_id = $1 AND bucket_ms < $2 ORDER BY bucket_ms LIMIT $3)',
        [orgId, beforeMs, limit],
      )
    ).changes;
  }
}
