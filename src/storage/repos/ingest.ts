/**
 * Ingest storage: per-org ingest settings (what is collected; webhook secrets encrypted under the
 * org key), each org's Cisco Spaces firehose (API key encrypted) and its resume cursor, vendor
 * record ids already stored (idempotent re-delivery) and the bulk device upsert the pipeline
 * uses: same table, columns and merge rules as `DevicesRepo.upsert`, many rows per statement.
 */
import type { Executor } from '../db.ts';
import type { DeviceRow } from './devices.ts';
import { bulkInsert } from './location.ts';

export interface IngestSettingsRow {
  org_id: string;
  /** JSON: location services, per-source collected fields, tracking flags, vendor floor map. */
  settings: string;
  /** Mist webhook secret, AES-GCM under the org data key (a credential, not personal data). */
  mist_secret_enc: Buffer | null;
  /** Meraki Scanning API shared secret, AES-GCM under the org data key. */
  meraki_secret_enc: Buffer | null;
  updated_at: number;
}

export interface SpacesFirehoseRow {
  org_id: string;
  /** 1 when `serve` streams this org's firehose. */
  enabled: number;
  /** The partner firehose endpoint (infrastructure, not personal). */
  url: string | null;
  /** The partner app's API key, AES-GCM under the org data key (a credential, not personal data). */
  api_key_enc: Buffer | null;
  updated_at: number;
}

export interface SpacesCursorRow {
  org_id: string;
  /** Highest `recordTimestamp` committed, epoch ms. */
  record_ms: number;
  /** JSON array of the recordUids committed in the resume overlap before `record_ms` (Spaces event ids). */
  boundary_uids: string;
  updated_at: number;
}

const DEVICE_COLS = ['org_id', 'pseudonym', 'site_id', 'kind', 'randomized', 'first_seen', 'last_seen', 'ip_enc', 'username_enc', 'hostname_enc'] as const;

export class IngestRepo {
  constructor(private readonly x: Executor) {}

  getSettings(orgId: string): Promise<IngestSettingsRow | undefined> {
    return this.x.get<IngestSettingsRow>('SELECT * FROM ingest_settings WHERE org_id = $1', [orgId]);
  }
  async putSettings(r: IngestSettingsRow): Promise<void> {
    await this.x.run(
      `INSERT INTO ingest_settings (org_id, settings, mist_secret_enc, meraki_secret_enc, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings, mist_secret_enc = excluded.mist_secret_enc, meraki_secret_enc = excluded.meraki_secret_enc, updated_at = excluded.updated_at`,
      [r.org_id, r.settings, r.mist_secret_enc, r.meraki_secret_enc, r.updated_at],
    );
  }

  getFirehose(orgId: string): Promise<SpacesFirehoseRow | undefined> {
    return this.x.get<SpacesFirehoseRow>('SELECT * FROM spaces_firehose WHERE org_id = $1', [orgId]);
  }
  /** Orgs of this store whose firehose is on. */
  listEnabledFirehoses(): Promise<SpacesFirehoseRow[]> {
    return this.x.all<SpacesFirehoseRow>('SELECT * FROM spaces_firehose WHERE enabled = 1 ORDER BY org_id');
  }
  async putFirehose(r: SpacesFirehoseRow): Promise<void> {
    await this.x.run(
      `INSERT INTO spaces_firehose (org_id, enabled, url, api_key_enc, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (org_id) DO UPDATE SET enabled = excluded.enabled, url = excluded.url, api_key_enc = excluded.api_key_enc, updated_at = excluded.updated_at`,
      [r.org_id, r.enabled, r.url, r.api_key_enc, r.updated_at],
    );
  }
  getFirehoseCursor(orgId: string): Promise<SpacesCursorRow | undefined> {
    return this.x.get<SpacesCursorRow>('SELECT * FROM spaces_firehose_cursor WHERE org_id = $1', [orgId]);
  }
  async putFirehoseCursor(r: SpacesCursorRow): Promise<void> {
    await this.x.run(
      `INSERT INTO spaces_firehose_cursor (org_id, record_ms, boundary_uids, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (org_id) DO UPDATE SET record_ms = excluded.record_ms, boundary_uids = excluded.boundary_uids, updated_at = excluded.updated_at`,
      [r.org_id, r.record_ms, r.boundary_uids, r.updated_at],
    );
  }
  async deleteFirehoseCursor(orgId: string): Promise<void> {
    await this.x.run('DELETE FROM spaces_firehose_cursor WHERE org_id = $1', [orgId]);
  }

  /**
   * Record vendor record ids as stored; returns the ids that were new (the others were delivered
   * before and must be skipped). Ids repeated inside `records` count once.
   */
  async claimRecords(orgId: string, source: string, records: readonly { id: string; atMs: number }[]): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    const seen = new Set<string>();
    const rows: unknown[][] = [];
    for (const r of records) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      rows.push([orgId, source, r.id, r.atMs]);
    }
    const { returned } = await bulkInsert(this.x, 'ingest_records (org_id, source, record_id, at_ms)', 4, rows, 'ON CONFLICT DO NOTHING', 'record_id');
    return new Set(returned as string[]);
  }
  /** Delete at most `limit` record ids older than `beforeMs`; returns rows deleted. */
  async purgeRecords(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (
      await this.x.run(
        'DELETE FROM ingest_records WHERE org_id = $1 AND (source, record_id) IN (SELECT source, record_id FROM ingest_records WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3)',
        [orgId, beforeMs, limit],
      )
    ).changes;
  }

  /**
   * Upsert device records in bulk with `DevicesRepo.upsert`'s rules: first/last seen widen,
   * personal fields keep their last non-null ciphertext. Each pseudonym at most once per call.
   */
  async upsertDevices(rows: readonly DeviceRow[]): Promise<void> {
    if (rows.length === 0) return;
    const pg = this.x.engine === 'postgres';
    const values = rows.map((d) => [d.org_id, d.pseudonym, d.site_id, d.kind, d.randomized, d.first_seen, d.last_seen, d.ip_enc, d.username_enc, d.hostname_enc]);
    await bulkInsert(
      this.x,
      `devices (${DEVICE_COLS.join(', ')})`,
      DEVICE_COLS.length,
      values,
      `ON CONFLICT (org_id, pseudonym) DO UPDATE SET
         site_id = COALESCE(excluded.site_id, devices.site_id), kind = excluded.kind, randomized = excluded.randomized,
         first_seen = ${pg ? 'LEAST' : 'MIN'}(devices.first_seen, excluded.first_seen), last_seen = ${pg ? 'GREATEST' : 'MAX'}(devices.last_seen, excluded.last_seen),
         ip_enc = COALESCE(excluded.ip_enc, devices.ip_enc), username_enc = COALESCE(excluded.username_enc, devices.username_enc),
         hostname_enc = COALESCE(excluded.hostname_enc, devices.hostname_enc)`,
    );
  }
}
