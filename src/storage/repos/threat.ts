/**
 * Threat analysis storage: file verdicts per (org, SHA-256) (R-ATP-6), submissions with their
 * R-DATA-8 metadata, allow/block lists, per-org threat settings and retained file bodies
 * (R-DATA-7). Personal fields arrive here already encrypted or pseudonymised.
 */
import type { Executor } from '../db.ts';

export interface ThreatVerdictRow {
  org_id: string;
  sha256: string;
  size_bytes: number;
  mime: string;
  category: string;
  subtype: string;
  description: string;
  type_basis: string;
  /** JSON object of structural facts (bits, machine, macros); no names. */
  type_details: string;
  score: number;
  state: string;
  complete: number;
  /** `analysis` when the pipeline ran; `lists` when an allow/block list decided without it. */
  basis: 'analysis' | 'lists';
  /** R-DATA-7: the reasons as JSON, encrypted under the org key (they may name archive entries). */
  reasons_enc: Buffer;
  /** JSON array of what each stage did (no content). */
  stages: string;
  analysis_version: string;
  analyzed_at: number;
  first_seen: number;
  last_seen: number;
  submission_count: number;
}

export interface ThreatSubmissionRow {
  id: string;
  org_id: string;
  sha256: string;
  received_at: number;
  /** When the submitting device says it saw the file (R-DATA-8, in clear). */
  submitted_at: number;
  source: string;
  actor: string;
  /** R-DATA-8 vendor or creator, in clear. */
  vendor: string | null;
  user_firewall: number;
  /** R-DATA-8 personal, encrypted under the org key; kept for the threat_metadata retention. */
  client_host_enc: Buffer | null;
  /** R-DATA-8 personal, encrypted. */
  client_ip_enc: Buffer | null;
  /** R-DATA-8 personal, encrypted. */
  file_name_enc: Buffer | null;
  /** R-DATA-8 personal, encrypted. */
  url_enc: Buffer | null;
  /** R-DATA-8 personal, encrypted. */
  device_name_enc: Buffer | null;
  /** R-DATA-8 personal, encrypted; only stored when the user firewall is on (R-ATP-3). */
  username_enc: Buffer | null;
  score: number;
  state: string;
}

export interface ThreatListEntryRow {
  id: string;
  org_id: string;
  list: 'allow' | 'block';
  kind: 'hash' | 'domain' | 'ip' | 'ja3' | 'ja4';
  /** The value for hash/domain/ja3/ja4; for IP entries a keyed pseudonym (R-DATA-8/9). */
  match_key: string;
  /** IP entries only: the address, encrypted under the org key, for display. */
  value_enc: Buffer | null;
  /** Free text of the admin, encrypted (it may name people or addresses). */
  note_enc: Buffer | null;
  created_at: number;
  created_by: string;
}

export interface ThreatSettingsRow {
  org_id: string;
  /** JSON object: category → days. */
  file_retention: string;
  encrypted_traffic: number;
  updated_at: number;
  updated_by: string;
}

export interface ThreatFileBodyRow {
  org_id: string;
  sha256: string;
  category: string;
  size_bytes: number;
  /** R-DATA-7 file body, encrypted under the org key. */
  body_enc: Buffer;
  stored_at: number;
  expires_at: number;
}

const VERDICT_COLS = 'org_id, sha256, size_bytes, mime, category, subtype, description, type_basis, type_details, score, state, complete, basis, reasons_enc, stages, analysis_version, analyzed_at, first_seen, last_seen, submission_count';
const SUBMISSION_COLS = 'id, org_id, sha256, received_at, submitted_at, source, actor, vendor, user_firewall, client_host_enc, client_ip_enc, file_name_enc, url_enc, device_name_enc, username_enc, score, state';
const ENTRY_COLS = 'id, org_id, list, kind, match_key, value_enc, note_enc, created_at, created_by';

export class ThreatRepo {
  constructor(private readonly x: Executor) {}

  private greatest(a: string, b: string): string {
    return this.x.engine === 'postgres' ? `GREATEST(${a}, ${b})` : `MAX(${a}, ${b})`;
  }

  getVerdict(orgId: string, sha256: string): Promise<ThreatVerdictRow | undefined> {
    return this.x.get<ThreatVerdictRow>(`SELECT ${VERDICT_COLS} FROM threat_verdicts WHERE org_id = $1 AND sha256 = $2`, [orgId, sha256]);
  }

  /**
   * Insert a verdict or replace its content; first_seen stays, last_seen moves forward and
   * submission_count grows by the row's count.
   */
  async upsertVerdict(v: ThreatVerdictRow): Promise<void> {
    await this.x.run(
      `INSERT INTO threat_verdicts (${VERDICT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
       ON CONFLICT (org_id, sha256) DO UPDATE SET
         size_bytes = excluded.size_bytes, mime = excluded.mime, category = excluded.category, subtype = excluded.subtype,
         description = excluded.description, type_basis = excluded.type_basis, type_details = excluded.type_details,
         score = excluded.score, state = excluded.state, complete = excluded.complete, basis = excluded.basis,
         reasons_enc = excluded.reasons_enc, stages = excluded.stages, analysis_version = excluded.analysis_version,
         analyzed_at = excluded.analyzed_at, last_seen = ${this.greatest('threat_verdicts.last_seen', 'excluded.last_seen')},
         submission_count = threat_verdicts.submission_count + excluded.submission_count`,
      [v.org_id, v.sha256, v.size_bytes, v.mime, v.category, v.subtype, v.description, v.type_basis, v.type_details, v.score, v.state, v.complete, v.basis, v.reasons_enc, v.stages, v.analysis_version, v.analyzed_at, v.first_seen, v.last_seen, v.submission_count],
    );
  }

  /** Count one more submission of a known file without touching its verdict. */
  async touchVerdict(orgId: string, sha256: string, atMs: number): Promise<void> {
    await this.x.run(`UPDATE threat_verdicts SET last_seen = ${this.greatest('last_seen', '$3')}, submission_count = submission_count + 1 WHERE org_id = $1 AND sha256 = $2`, [orgId, sha256, atMs]);
  }

  async insertSubmission(s: ThreatSubmissionRow): Promise<void> {
    await this.x.run(`INSERT INTO threat_submissions (${SUBMISSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`, [
      s.id, s.org_id, s.sha256, s.received_at, s.submitted_at, s.source, s.actor, s.vendor, s.user_firewall, s.client_host_enc, s.client_ip_enc, s.file_name_enc, s.url_enc, s.device_name_enc, s.username_enc, s.score, s.state,
    ]);
  }

  /** Newest first. */
  listSubmissions(orgId: string, sha256: string, limit: number): Promise<ThreatSubmissionRow[]> {
    return this.x.all<ThreatSubmissionRow>(`SELECT ${SUBMISSION_COLS} FROM threat_submissions WHERE org_id = $1 AND sha256 = $2 ORDER BY received_at DESC, id DESC LIMIT $3`, [orgId, sha256, limit]);
  }

  /** Delete at most `limit` submissions received before `beforeMs`. */
  async purgeSubmissionsBefore(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM threat_submissions WHERE id IN (SELECT id FROM threat_submissions WHERE org_id = $1 AND received_at < $2 ORDER BY received_at LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }

  /** Delete at most `limit` verdicts of files last seen before `beforeMs`. */
  async purgeVerdictsBefore(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM threat_verdicts WHERE org_id = $1 AND sha256 IN (SELECT sha256 FROM threat_verdicts WHERE org_id = $1 AND last_seen < $2 ORDER BY last_seen LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }

  async insertEntry(e: ThreatListEntryRow): Promise<void> {
    await this.x.run(`INSERT INTO threat_list_entries (${ENTRY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [e.id, e.org_id, e.list, e.kind, e.match_key, e.value_enc, e.note_enc, e.created_at, e.created_by]);
  }
  findEntry(orgId: string, kind: string, matchKey: string): Promise<ThreatListEntryRow | undefined> {
    return this.x.get<ThreatListEntryRow>(`SELECT ${ENTRY_COLS} FROM threat_list_entries WHERE org_id = $1 AND kind = $2 AND match_key = $3`, [orgId, kind, matchKey]);
  }
  getEntry(orgId: string, id: string): Promise<ThreatListEntryRow | undefined> {
    return this.x.get<ThreatListEntryRow>(`SELECT ${ENTRY_COLS} FROM threat_list_entries WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** Entries in creation order, optionally of one kind and/or one list. */
  listEntries(orgId: string, filter: { kind?: string; list?: string } = {}): Promise<ThreatListEntryRow[]> {
    return this.x.all<ThreatListEntryRow>(
      `SELECT ${ENTRY_COLS} FROM threat_list_entries WHERE org_id = $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR list = $3) ORDER BY created_at, id`,
      [orgId, filter.kind ?? '', filter.list ?? ''],
    );
  }
  async deleteEntry(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM threat_list_entries WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  getSettings(orgId: string): Promise<ThreatSettingsRow | undefined> {
    return this.x.get<ThreatSettingsRow>('SELECT org_id, file_retention, encrypted_traffic, updated_at, updated_by FROM threat_settings WHERE org_id = $1', [orgId]);
  }
  async putSettings(s: ThreatSettingsRow): Promise<void> {
    await this.x.run(
      'INSERT INTO threat_settings (org_id, file_retention, encrypted_traffic, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET file_retention = excluded.file_retention, encrypted_traffic = excluded.encrypted_traffic, updated_at = excluded.updated_at, updated_by = excluded.updated_by',
      [s.org_id, s.file_retention, s.encrypted_traffic, s.updated_at, s.updated_by],
    );
  }

  /** Keep (or refresh) a file body; a later submission extends its expiry. */
  async putBody(b: ThreatFileBodyRow): Promise<void> {
    await this.x.run(
      `INSERT INTO threat_file_bodies (org_id, sha256, category, size_bytes, body_enc, stored_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (org_id, sha256) DO UPDATE SET expires_at = ${this.greatest('threat_file_bodies.expires_at', 'excluded.expires_at')}`,
      [b.org_id, b.sha256, b.category, b.size_bytes, b.body_enc, b.stored_at, b.expires_at],
    );
  }
  getBody(orgId: string, sha256: string): Promise<ThreatFileBodyRow | undefined> {
    return this.x.get<ThreatFileBodyRow>('SELECT org_id, sha256, category, size_bytes, body_enc, stored_at, expires_at FROM threat_file_bodies WHERE org_id = $1 AND sha256 = $2', [orgId, sha256]);
  }
  /** Hashes of retained bodies (no content), for tests and operators. */
  listBodies(orgId: string): Promise<{ sha256: string; category: string; stored_at: number; expires_at: number }[]> {
    return this.x.all('SELECT sha256, category, stored_at, expires_at FROM threat_file_bodies WHERE org_id = $1 ORDER BY stored_at, sha256', [orgId]);
  }
  /** Delete at most `limit` bodies that expired by `nowMs` or were stored before `beforeMs`. */
  async purgeBodies(orgId: string, nowMs: number, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM threat_file_bodies WHERE org_id = $1 AND sha256 IN (SELECT sha256 FROM threat_file_bodies WHERE org_id = $1 AND (expires_at <= $2 OR stored_at < $3) ORDER BY expires_at LIMIT $4)', [orgId, nowMs, beforeMs, limit])).changes;
  }
}

/** The threat repository on an executor (a store, or an open transaction on it). */
export function threatRepo(x: Executor): ThreatRepo {
  return new ThreatRepo(x);
}
