/**
 * Data-subject request storage (R-PRIV-4): the requests (deadlines, verification state, keyed
 * subject lookup, ciphertext under a per-request key), the devices whose processing a subject
 * restricted, access archives waiting for download, and signed audit redactions. No identifier
 * is stored in clear; see migration 310 for what each column holds.
 */
import type { Executor } from '../db.ts';

export type DsarKind = 'access' | 'correction' | 'deletion' | 'restriction' | 'objection' | 'opt_out_sale';
export type DsarRegime = 'gdpr' | 'ccpa';
export type DsarIdKind = 'email' | 'mac' | 'badge' | 'username';
export type DsarStatus = 'unverified' | 'verified' | 'approved' | 'fulfilled' | 'rejected' | 'locked';

/** A request as stored. Personal: `subject_key` (keyed lookup), `subject_enc`, `details_enc` (ciphertext). */
export interface DsarRow {
  id: string;
  org_id: string;
  kind: DsarKind;
  regime: DsarRegime;
  id_kind: DsarIdKind;
  /** Where it came in: `page`, `api`, `officer`. */
  channel: string;
  lang: string;
  status: DsarStatus;
  /** R-PRIV-4 personal: HMAC(org pseudonym key, identifier); null once the subject was erased. */
  subject_key: string | null;
  /** The request's own data key, wrapped by the org data key; null once shredded. */
  dek_enc: Buffer | null;
  /** R-PRIV-4 personal: identifier and contact address (JSON), AES-256-GCM under the request key. */
  subject_enc: Buffer | null;
  /** R-PRIV-4 personal: correction and resolved subject (JSON), AES-256-GCM under the request key. */
  details_enc: Buffer | null;
  /** SHA-256 of the status token the subject holds. */
  token_hash: string;
  verify_method: string | null;
  code_hash: string | null;
  code_expires_at: number | null;
  code_attempts: number;
  codes_sent: number;
  received_at: number;
  due_at: number;
  extended_at: number | null;
  extension_reason: string | null;
  receipt_due_at: number | null;
  receipt_sent_at: number | null;
  verified_at: number | null;
  approved_at: number | null;
  approved_by: string | null;
  fulfil_started_at: number | null;
  closed_at: number | null;
  reject_reason: string | null;
  lifted_at: number | null;
  /** What fulfilment did, as JSON counts per handler; never an identifier. */
  result: string | null;
}

export interface DsarArchiveRow {
  request_id: string;
  org_id: string;
  archive_enc: Buffer;
  size_bytes: number;
  created_at: number;
  expires_at: number;
  downloads: number;
}

const COLS = [
  'id', 'org_id', 'kind', 'regime', 'id_kind', 'channel', 'lang', 'status', 'subject_key', 'dek_enc', 'subject_enc', 'details_enc', 'token_hash', 'verify_method', 'code_hash', 'code_expires_at', 'code_attempts', 'codes_sent', 'received_at', 'due_at', 'extended_at', 'extension_reason', 'receipt_due_at', 'receipt_sent_at', 'verified_at', 'approved_at', 'approved_by', 'fulfil_started_at', 'closed_at', 'reject_reason', 'lifted_at', 'result',
] as const;
const COL_LIST = COLS.join(', ');
/** Columns a state change may set (everything but the id, org and what the subject gave at intake). */
const MUTABLE = new Set<string>(['status', 'subject_key', 'dek_enc', 'subject_enc', 'details_enc', 'verify_method', 'code_hash', 'code_expires_at', 'code_attempts', 'codes_sent', 'due_at', 'extended_at', 'extension_reason', 'receipt_sent_at', 'verified_at', 'approved_at', 'approved_by', 'fulfil_started_at', 'closed_at', 'reject_reason', 'lifted_at', 'result']);

export interface DsarListFilter {
  status?: DsarStatus;
  /** Only open requests (not closed). */
  open?: boolean;
  /** Only open requests whose deadline has passed at this time (UTC ms). */
  overdueAt?: number;
  limit: number;
  /** Newest first; the id of the last row of the previous page. */
  beforeId?: string;
}

export class RightsRepo {
  constructor(private readonly x: Executor) {}

  // ---- requests -----------------------------------------------------------------------------

  async insert(r: DsarRow): Promise<void> {
    await this.x.run(`INSERT INTO dsar_requests (${COL_LIST}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, COLS.map((c) => r[c]));
  }

  get(orgId: string, id: string): Promise<DsarRow | undefined> {
    return this.x.get<DsarRow>(`SELECT ${COL_LIST} FROM dsar_requests WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }

  /** The row for update: locked until the transaction ends on PostgreSQL (SQLite transactions are serialised). */
  getForUpdate(orgId: string, id: string): Promise<DsarRow | undefined> {
    return this.x.get<DsarRow>(`SELECT ${COL_LIST} FROM dsar_requests WHERE org_id = $1 AND id = $2${this.x.engine === 'postgres' ? ' FOR UPDATE' : ''}`, [orgId, id]);
  }

  /** Set some columns of a request. */
  async update(orgId: string, id: string, set: Partial<DsarRow>): Promise<void> {
    const keys = Object.keys(set).filter((k) => MUTABLE.has(k));
    if (keys.length === 0) return;
    await this.x.run(`UPDATE dsar_requests SET ${keys.map((k, i) => `${k} = $${i + 3}`).join(', ')} WHERE org_id = $1 AND id = $2`, [orgId, id, ...keys.map((k) => (set as Record<string, unknown>)[k])]);
  }

  list(orgId: string, f: DsarListFilter): Promise<DsarRow[]> {
    const where = ['org_id = $1'];
    const params: unknown[] = [orgId];
    if (f.status) {
      params.push(f.status);
      where.push(`status = $${params.length}`);
    }
    if (f.open || f.overdueAt !== undefined) where.push('closed_at IS NULL');
    if (f.overdueAt !== undefined) {
      params.push(f.overdueAt);
      where.push(`status IN ('verified', 'approved') AND (due_at < $${params.length} OR (receipt_due_at IS NOT NULL AND receipt_sent_at IS NULL AND receipt_due_at < $${params.length}))`);
    }
    if (f.beforeId) {
      params.push(f.beforeId);
      where.push(`id < $${params.length}`);
    }
    params.push(f.limit);
    return this.x.all<DsarRow>(`SELECT ${COL_LIST} FROM dsar_requests WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${params.length}`, params);
  }

  /** Requests of one subject (by keyed lookup) received at or after `sinceMs`. */
  bySubject(orgId: string, subjectKey: string, sinceMs = 0): Promise<DsarRow[]> {
    return this.x.all<DsarRow>(`SELECT ${COL_LIST} FROM dsar_requests WHERE org_id = $1 AND subject_key = $2 AND received_at >= $3 ORDER BY received_at`, [orgId, subjectKey, sinceMs]);
  }

  /** Open requests past a deadline at `atMs`, per org (for the overdue metric). */
  async overdueCounts(atMs: number): Promise<{ org_id: string; n: number }[]> {
    return (
      await this.x.all<{ org_id: string; n: number }>(
        "SELECT org_id, COUNT(*) AS n FROM dsar_requests WHERE closed_at IS NULL AND status IN ('verified', 'approved') AND (due_at < $1 OR (receipt_due_at IS NOT NULL AND receipt_sent_at IS NULL AND receipt_due_at < $1)) GROUP BY org_id",
        [atMs],
      )
    ).map((r) => ({ org_id: r.org_id, n: Number(r.n) }));
  }

  /**
   * Forget a subject on every request of theirs (erasure): the keyed lookup, the per-request key,
   * its ciphertext and any access archive go; what kind of request it was, when and how it was
   * answered stay. `exceptId`: the request being fulfilled, which forgets the subject last.
   */
  async scrubSubject(orgId: string, subjectKeys: readonly string[], exceptId = ''): Promise<number> {
    let n = 0;
    for (const k of subjectKeys) {
      await this.x.run('DELETE FROM dsar_archives WHERE org_id = $1 AND request_id IN (SELECT id FROM dsar_requests WHERE org_id = $1 AND subject_key = $2 AND id <> $3)', [orgId, k, exceptId]);
      n += (await this.x.run('UPDATE dsar_requests SET subject_key = NULL, dek_enc = NULL, subject_enc = NULL, details_enc = NULL, code_hash = NULL WHERE org_id = $1 AND subject_key = $2 AND id <> $3', [orgId, k, exceptId])).changes;
    }
    return n;
  }

  /**
   * Delete at most `limit` requests closed before `beforeMs` (retention class dsar), except
   * restrictions and objections still in force; their archives go with them.
   */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const ids = (
      await this.x.all<{ id: string }>(
        "SELECT id FROM dsar_requests WHERE org_id = $1 AND closed_at IS NOT NULL AND closed_at < $2 AND NOT (status = 'fulfilled' AND kind IN ('restriction', 'objection') AND lifted_at IS NULL) ORDER BY closed_at LIMIT $3",
        [orgId, beforeMs, limit],
      )
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    const list = ids.map((_, i) => `$${i + 2}`).join(', ');
    await this.x.run(`DELETE FROM dsar_restrictions WHERE org_id = $1 AND request_id IN (${list})`, [orgId, ...ids]);
    await this.x.run(`DELETE FROM dsar_archives WHERE org_id = $1 AND request_id IN (${list})`, [orgId, ...ids]);
    return (await this.x.run(`DELETE FROM dsar_requests WHERE org_id = $1 AND id IN (${list})`, [orgId, ...ids])).changes;
  }

  /** Requests never verified, received before `beforeMs`: their identifiers are deleted (the row stays, status locked/rejected). */
  async expireUnverified(orgId: string, beforeMs: number, nowMs: number, limit: number): Promise<number> {
    return (
      await this.x.run(
        "UPDATE dsar_requests SET status = 'rejected', reject_reason = 'unverified', closed_at = $3, subject_key = NULL, dek_enc = NULL, subject_enc = NULL, details_enc = NULL, code_hash = NULL WHERE id IN (SELECT id FROM dsar_requests WHERE org_id = $1 AND status = 'unverified' AND received_at < $2 ORDER BY received_at LIMIT $4)",
        [orgId, beforeMs, nowMs, limit],
      )
    ).changes;
  }

  // ---- restrictions -------------------------------------------------------------------------

  async restrict(orgId: string, requestId: string, devices: readonly string[], atMs: number): Promise<void> {
    if (devices.length === 0) return;
    await this.x.many('INSERT INTO dsar_restrictions (org_id, device, request_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', devices.map((d) => [orgId, d, requestId, atMs]));
  }

  /** Lift one request's restrictions; returns the devices it covered. */
  async lift(orgId: string, requestId: string): Promise<string[]> {
    const rows = await this.x.all<{ device: string }>('SELECT device FROM dsar_restrictions WHERE org_id = $1 AND request_id = $2', [orgId, requestId]);
    await this.x.run('DELETE FROM dsar_restrictions WHERE org_id = $1 AND request_id = $2', [orgId, requestId]);
    return rows.map((r) => r.device);
  }

  /** Restrictions naming these devices (erasure); returns rows deleted. */
  async deleteRestrictions(orgId: string, devices: readonly string[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < devices.length; i += 500) {
      const part = devices.slice(i, i + 500);
      n += (await this.x.run(`DELETE FROM dsar_restrictions WHERE org_id = $1 AND device IN (${part.map((_, j) => `$${j + 2}`).join(', ')})`, [orgId, ...part])).changes;
    }
    return n;
  }

  /** Every restricted device of every org in this store (loaded once at start). */
  allRestrictions(): Promise<{ org_id: string; device: string }[]> {
    return this.x.all<{ org_id: string; device: string }>('SELECT DISTINCT org_id, device FROM dsar_restrictions');
  }

  /** Restricted devices of one org. */
  restrictionsOf(orgId: string): Promise<string[]> {
    return this.x.all<{ device: string }>('SELECT DISTINCT device FROM dsar_restrictions WHERE org_id = $1', [orgId]).then((r) => r.map((x) => x.device));
  }

  // ---- archives -----------------------------------------------------------------------------

  async putArchive(a: DsarArchiveRow): Promise<void> {
    await this.x.run(
      'INSERT INTO dsar_archives (request_id, org_id, archive_enc, size_bytes, created_at, expires_at, downloads) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO UPDATE SET archive_enc = excluded.archive_enc, size_bytes = excluded.size_bytes, created_at = excluded.created_at, expires_at = excluded.expires_at, downloads = 0',
      [a.request_id, a.org_id, a.archive_enc, a.size_bytes, a.created_at, a.expires_at, a.downloads],
    );
  }

  getArchive(orgId: string, requestId: string): Promise<DsarArchiveRow | undefined> {
    return this.x.get<DsarArchiveRow>('SELECT request_id, org_id, archive_enc, size_bytes, created_at, expires_at, downloads FROM dsar_archives WHERE org_id = $1 AND request_id = $2', [orgId, requestId]);
  }

  async countDownload(orgId: string, requestId: string): Promise<void> {
    await this.x.run('UPDATE dsar_archives SET downloads = downloads + 1 WHERE org_id = $1 AND request_id = $2', [orgId, requestId]);
  }

  async deleteArchive(orgId: string, requestId: string): Promise<number> {
    return (await this.x.run('DELETE FROM dsar_archives WHERE org_id = $1 AND request_id = $2', [orgId, requestId])).changes;
  }

  /** Delete at most `limit` archives past their download window. */
  async purgeArchives(orgId: string, nowMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM dsar_archives WHERE request_id IN (SELECT request_id FROM dsar_archives WHERE org_id = $1 AND expires_at < $2 ORDER BY expires_at LIMIT $3)', [orgId, nowMs, limit])).changes;
  }
}
