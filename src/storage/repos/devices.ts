/** R-DATA-1/2 device records: pseudonym, coarse facts, encrypted personal fields. 60 days rolling. */
import type { Executor } from '../db.ts';

export interface DeviceRow {
  org_id: string;
  pseudonym: string;
  site_id: string | null;
  kind: string;
  randomized: number;
  first_seen: number;
  last_seen: number;
  /** R-DATA-1 personal: IP address, encrypted under the org data key. */
  ip_enc: Buffer | null;
  /** R-DATA-1 personal: username, encrypted under the org data key. */
  username_enc: Buffer | null;
  /** R-DATA-1 personal: hostname, encrypted under the org data key. */
  hostname_enc: Buffer | null;
}

export class DevicesRepo {
  constructor(private readonly x: Executor) {}
  async upsert(d: DeviceRow): Promise<void> {
    await this.x.run(
      `INSERT INTO devices (org_id, pseudonym, site_id, kind, randomized, first_seen, last_seen, ip_enc, username_enc, hostname_enc)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (org_id, pseudonym) DO UPDATE SET
         site_id = COALESCE(excluded.site_id, devices.site_id), kind = excluded.kind, randomized = excluded.randomized,
         first_seen = MIN(devices.first_seen, excluded.first_seen), last_seen = MAX(devices.last_seen, excluded.last_seen),
         ip_enc = COALESCE(excluded.ip_enc, devices.ip_enc), username_enc = COALESCE(excluded.username_enc, devices.username_enc),
         hostname_enc = COALESCE(excluded.hostname_enc, devices.hostname_enc)`.replace(
        /MIN\(devices\.first_seen, excluded\.first_seen\)|MAX\(devices\.last_seen, excluded\.last_seen\)/g,
        (m) => (this.x.engine === 'postgres' ? (m.startsWith('MIN') ? 'LEAST(devices.first_seen, excluded.first_seen)' : 'GREATEST(devices.last_seen, excluded.last_seen)') : m),
      ),
      [d.org_id, d.pseudonym, d.site_id, d.kind, d.randomized, d.first_seen, d.last_seen, d.ip_enc, d.username_enc, d.hostname_enc],
    );
  }
  get(orgId: string, pseudonym: string): Promise<DeviceRow | undefined> {
    return this.x.get<DeviceRow>('SELECT * FROM devices WHERE org_id = $1 AND pseudonym = $2', [orgId, pseudonym]);
  }
  list(orgId: string, siteId: string | null, limit: number, afterPseudonym: string): Promise<DeviceRow[]> {
    return siteId
      ? this.x.all<DeviceRow>('SELECT * FROM devices WHERE org_id = $1 AND site_id = $2 AND pseudonym > $3 ORDER BY pseudonym LIMIT $4', [orgId, siteId, afterPseudonym, limit])
      : this.x.all<DeviceRow>('SELECT * FROM devices WHERE org_id = $1 AND pseudonym > $2 ORDER BY pseudonym LIMIT $3', [orgId, afterPseudonym, limit]);
  }
  async count(orgId: string, siteId: string | null, sinceMs: number): Promise<{ total: number; randomized: number }> {
    const r = siteId
      ? await this.x.get<{ total: number; randomized: number | null }>('SELECT COUNT(*) AS total, SUM(randomized) AS randomized FROM devices WHERE org_id = $1 AND site_id = $2 AND last_seen >= $3', [orgId, siteId, sinceMs])
      : await this.x.get<{ total: number; randomized: number | null }>('SELECT COUNT(*) AS total, SUM(randomized) AS randomized FROM devices WHERE org_id = $1 AND last_seen >= $2', [orgId, sinceMs]);
    return { total: Number(r?.total ?? 0), randomized: Number(r?.randomized ?? 0) };
  }
  /** Delete at most `limit` devices not seen since `beforeMs`; returns rows deleted. */
  async purgeBefore(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM devices WHERE org_id = $1 AND pseudonym IN (SELECT pseudonym FROM devices WHERE org_id = $1 AND last_seen < $2 ORDER BY last_seen LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
  async deleteOne(orgId: string, pseudonym: string): Promise<number> {
    return (await this.x.run('DELETE FROM devices WHERE org_id = $1 AND pseudonym = $2', [orgId, pseudonym])).changes;
  }
}
