/**
 * Reading an org's tables whole for its export (R-PRIV-3), a page at a time, and the records of
 * processing the controller fills in (GDPR Art. 30). `EXPORT_TABLES` names every table an
 * exporter may read with the columns that order it: pages are keyset pages (`(k1, k2) > (…)`),
 * so each costs one index range however deep the export is, and an org of millions of fixes is
 * read without OFFSET and without holding more than a page. `fixes` has no unique key (it is
 * appended, see migration 101): it is read by time, and the rows sharing the time at a page's end
 * are read whole before moving on.
 */
import type { Executor } from '../db.ts';

export interface ExportTableSpec {
  /** Columns that order the table within an org; unique together unless `unique` is false. */
  key: readonly string[];
  /** false: the key can repeat (rows at one time are read as a group). Default true. */
  unique?: boolean;
  /** The column holding the org id (default `org_id`). */
  orgColumn?: string;
}

/**
 * Every table an exporter may read, with its keyset order. Tables holding one row per org have an
 * empty key. Adding a table that holds org data: add it here and register an exporter for it (or
 * name it in the portability module's list of tables not exported, with the reason).
 */
export const EXPORT_TABLES = {
  orgs: { key: ['id'], orgColumn: 'id' },
  sites: { key: ['id'] },
  floors: { key: ['id'] },
  zones: { key: ['id'] },
  users: { key: ['id'] },
  role_bindings: { key: ['id'] },
  tokens: { key: ['id'] },
  support_grants: { key: [] },
  retention_policies: { key: ['data_class'] },
  audit_events: { key: ['seq'] },
  audit_checkpoints: { key: ['seq'] },
  audit_anchors: { key: [] },
  audit_redactions: { key: ['seq'] },
  devices: { key: ['pseudonym'] },
  sensors: { key: ['id'] },
  site_calibration: { key: ['site_id'] },
  ingest_settings: { key: [] },
  fixes: { key: ['at_ms'], unique: false },
  zone_presence: { key: ['floor_id', 'zone_id', 'bucket_ms'] },
  association_sessions: { key: ['id'] },
  mqtt_credentials: { key: ['sensor_id'] },
  spaces_firehose: { key: [] },
  encounters: { key: ['a', 'at_ms', 'b'] },
  trace_settings: { key: [] },
  trace_cases: { key: ['id'] },
  occupancy_settings: { key: [] },
  occupancy_baselines: { key: ['zone_id'] },
  occupancy_alerts: { key: ['id'] },
  delivery_channels: { key: ['id'] },
  delivery_queue: { key: ['id'] },
  delivery_attempts: { key: ['delivery_id', 'attempt'] },
  zone_visits: { key: ['device', 'enter_ms'] },
  notice_settings: { key: [] },
  notice_person_languages: { key: ['person_id'] },
  notice_batches: { key: ['id'] },
  notice_recipients: { key: ['batch_id', 'person_id'] },
  notice_sends: { key: ['delivery_id'] },
  journey_settings: { key: [] },
  people_settings: { key: [] },
  people: { key: ['id'] },
  person_devices: { key: ['device'] },
  consent_terms: { key: ['id'] },
  consent_portals: { key: ['site_id'] },
  consent_records: { key: ['id'] },
  consent_sdk_state: { key: ['subject'] },
  consent_marketing: { key: ['id'] },
  dsar_requests: { key: ['id'] },
  dsar_restrictions: { key: ['device', 'request_id'] },
  dsar_archives: { key: ['request_id'] },
  threat_verdicts: { key: ['sha256'] },
  threat_submissions: { key: ['id'] },
  threat_list_entries: { key: ['id'] },
  threat_settings: { key: [] },
  threat_file_bodies: { key: ['sha256'] },
  threat_yara_rules: { key: ['id'] },
  tls_handshakes: { key: ['id'] },
  email_settings: { key: [] },
  email_domains: { key: ['domain'] },
  email_quarantine: { key: ['id'] },
  incidents: { key: ['id'] },
  incident_notices: { key: ['id'] },
  ropa_controller: { key: [] },
  ropa_activities: { key: ['activity_id'] },
} as const satisfies Record<string, ExportTableSpec>;

export type ExportTable = keyof typeof EXPORT_TABLES;
export type ExportRow = Record<string, unknown>;

/** Read-only access to whole org tables, a keyset page at a time. */
export class OrgExportRepo {
  constructor(private readonly x: Executor) {}

  /**
   * The org's rows of `table`, `pageRows` at a time, in key order. Each page is one statement (no
   * transaction spans the export: rows written meanwhile behind the cursor are not seen, those
   * ahead of it are).
   * @example for await (const page of new OrgExportRepo(db).pages('sites', orgId, 1000)) …
   */
  async *pages(table: ExportTable, orgId: string, pageRows: number): AsyncGenerator<ExportRow[]> {
    const spec: ExportTableSpec = EXPORT_TABLES[table];
    const org = spec.orgColumn ?? 'org_id';
    const n = Math.max(1, Math.floor(pageRows));
    if (spec.key.length === 0) {
      const rows = await this.x.all<ExportRow>(`SELECT * FROM ${table} WHERE ${org} = $1`, [orgId]);
      if (rows.length > 0) yield rows;
      return;
    }
    if (spec.unique === false) {
      yield* this.byNonUniqueKey(table, org, spec.key[0]!, orgId, n);
      return;
    }
    const keys = spec.key.join(', ');
    let after: unknown[] | null = null;
    for (;;) {
      const cond = after ? ` AND (${keys}) > (${spec.key.map((_, i) => `$${i + 2}`).join(', ')})` : '';
      const params: unknown[] = after ? [orgId, ...after, n] : [orgId, n];
      const rows: ExportRow[] = await this.x.all<ExportRow>(`SELECT * FROM ${table} WHERE ${org} = $1${cond} ORDER BY ${keys} LIMIT $${params.length}`, params);
      if (rows.length > 0) yield rows;
      if (rows.length < n) return;
      const last = rows[rows.length - 1]!;
      after = spec.key.map((k) => last[k]);
    }
  }

  /** Pages of a table ordered by one non-unique column: rows at a page's last value are read as a group. */
  private async *byNonUniqueKey(table: string, org: string, key: string, orgId: string, n: number): AsyncGenerator<ExportRow[]> {
    let after: unknown = null;
    for (;;) {
      const rows = after === null
        ? await this.x.all<ExportRow>(`SELECT * FROM ${table} WHERE ${org} = $1 ORDER BY ${key} LIMIT $2`, [orgId, n])
        : await this.x.all<ExportRow>(`SELECT * FROM ${table} WHERE ${org} = $1 AND ${key} > $2 ORDER BY ${key} LIMIT $3`, [orgId, after, n]);
      if (rows.length < n) {
        if (rows.length > 0) yield rows;
        return;
      }
      const last = rows[rows.length - 1]![key];
      const head = rows.filter((r) => r[key] !== last);
      if (head.length > 0) yield head;
      // The group at `last`, ordered by every column so OFFSET pages are stable (identical rows are interchangeable).
      const order = Object.keys(rows[0]!).join(', ');
      for (let offset = 0; ; offset += n) {
        const group = await this.x.all<ExportRow>(`SELECT * FROM ${table} WHERE ${org} = $1 AND ${key} = $2 ORDER BY ${order} LIMIT $3 OFFSET $4`, [orgId, last, n, offset]);
        if (group.length > 0) yield group;
        if (group.length < n) break;
      }
      after = last;
    }
  }

  /** Rows of an org in a table (tests compare an archive's counts with it). */
  async count(table: ExportTable, orgId: string): Promise<number> {
    const spec: ExportTableSpec = EXPORT_TABLES[table];
    const r = await this.x.get<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${spec.orgColumn ?? 'org_id'} = $1`, [orgId]);
    return Number(r?.n ?? 0);
  }

  /** The org's row of a one-row-per-org table (settings), or undefined. */
  first(table: ExportTable, orgId: string): Promise<ExportRow | undefined> {
    const spec: ExportTableSpec = EXPORT_TABLES[table];
    return this.x.get<ExportRow>(`SELECT * FROM ${table} WHERE ${spec.orgColumn ?? 'org_id'} = $1 LIMIT 1`, [orgId]);
  }

  /** Whether the org has any row in a table (records of processing: is a feature in use). */
  async any(table: ExportTable, orgId: string): Promise<boolean> {
    const spec: ExportTableSpec = EXPORT_TABLES[table];
    return (await this.x.get(`SELECT 1 AS one FROM ${table} WHERE ${spec.orgColumn ?? 'org_id'} = $1 LIMIT 1`, [orgId])) !== undefined;
  }

  /** Every table of this store with an `org_id` column (the export's coverage check). */
  async tablesWithOrgColumn(): Promise<string[]> {
    if (this.x.engine === 'sqlite') {
      const rows = await this.x.all<{ name: string }>("SELECT m.name AS name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND c.name = 'org_id' ORDER BY m.name");
      return rows.map((r) => r.name);
    }
    const rows = await this.x.all<{ name: string }>("SELECT c.table_name AS name FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name WHERE c.table_schema = current_schema() AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE' ORDER BY c.table_name");
    return rows.map((r) => r.name);
  }
}

/** The controller's details for its records of processing (personal: encrypted JSON). */
export interface RopaControllerRow {
  org_id: string;
  details_enc: Buffer;
  updated_at: number;
}

/** The legal basis the controller chose for one processing activity. */
export interface RopaActivityRow {
  org_id: string;
  activity_id: string;
  legal_basis: string | null;
  /** Free text (may name people): org key. */
  note_enc: Buffer | null;
  updated_at: number;
}

/** What the controller filled in of its records of processing (GDPR Art. 30). */
export class RopaRepo {
  constructor(private readonly x: Executor) {}

  getController(orgId: string): Promise<RopaControllerRow | undefined> {
    return this.x.get<RopaControllerRow>('SELECT org_id, details_enc, updated_at FROM ropa_controller WHERE org_id = $1', [orgId]);
  }

  async putController(r: RopaControllerRow): Promise<void> {
    await this.x.run('INSERT INTO ropa_controller (org_id, details_enc, updated_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET details_enc = excluded.details_enc, updated_at = excluded.updated_at', [r.org_id, r.details_enc, r.updated_at]);
  }

  listActivities(orgId: string): Promise<RopaActivityRow[]> {
    return this.x.all<RopaActivityRow>('SELECT org_id, activity_id, legal_basis, note_enc, updated_at FROM ropa_activities WHERE org_id = $1 ORDER BY activity_id', [orgId]);
  }

  async putActivity(r: RopaActivityRow): Promise<void> {
    await this.x.run(
      'INSERT INTO ropa_activities (org_id, activity_id, legal_basis, note_enc, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, activity_id) DO UPDATE SET legal_basis = excluded.legal_basis, note_enc = excluded.note_enc, updated_at = excluded.updated_at',
      [r.org_id, r.activity_id, r.legal_basis, r.note_enc, r.updated_at],
    );
  }
}
