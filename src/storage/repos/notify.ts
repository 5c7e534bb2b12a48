/**
 * Notices to exposed people (issue 4, R-CT-3, R-CT-6): per-org templates and default language, a
 * person's notice language, notice batches (draft → approved → sent) with their recipients and
 * sends. Rendered notices, the case's purpose and the unlinked contacts are AES-256-GCM ciphertext
 * under the org key; recipients are people-directory record ids, never addresses. Batches,
 * recipients and sends are class `location` (purged together by the batch's creation time).
 */
import type { Executor } from '../db.ts';

export interface NoticeSettingsRow {
  org_id: string;
  default_language: string;
  /** JSON: the org's own templates by language; no personal data. */
  templates: string;
  updated_at: number;
}

/** A batch of notices drafted from one case report (R-DATA-3, class `location`). */
export interface NoticeBatchRow {
  id: string;
  org_id: string;
  case_id: string;
  channel_id: string;
  /** 'draft' | 'approved' | 'sent'. */
  state: string;
  /** The case's purpose, AES-256-GCM under the org key. */
  purpose_enc: Buffer;
  /** R-DATA-3 personal: contacts without a person (pseudonyms, when, where, how long), AES-GCM JSON. */
  unlinked_enc: Buffer;
  recipients: number;
  created_at: number;
  created_by: string;
  approved_at: number | null;
  approved_by: string | null;
  sent_at: number | null;
  sent_by: string | null;
  updated_at: number;
}

/** One person to notify in a batch (R-DATA-3 with the batch). */
export interface NoticeRecipientRow {
  batch_id: string;
  /** The people directory's record id (never the org's own id, a name or an address). */
  person_id: string;
  org_id: string;
  rank: number;
  language: string;
  /** 'ready' | 'no_address'. */
  state: string;
  /** R-DATA-3 personal: when, where, how long and the rendered notice, AES-GCM JSON. */
  notice_enc: Buffer;
}

/** One send of a notice: the delivery it queued. */
export interface NoticeSendRow {
  delivery_id: string;
  org_id: string;
  batch_id: string;
  person_id: string;
  /** The person's sends in the batch are numbered 1, 2, … (a new one only after a failure). */
  send_no: number;
  channel_id: string;
  queued_at: number;
  queued_by: string;
}

const BATCH_COLS = 'id, org_id, case_id, channel_id, state, purpose_enc, unlinked_enc, recipients, created_at, created_by, approved_at, approved_by, sent_at, sent_by, updated_at';
const RECIPIENT_COLS = 'batch_id, person_id, org_id, rank, language, state, notice_enc';
const SEND_COLS = 'delivery_id, org_id, batch_id, person_id, send_no, channel_id, queued_at, queued_by';
/** Values per `IN (…)` list: well under both engines' parameter limits. */
const IN_CHUNK = 500;

export class NotifyRepo {
  constructor(private readonly x: Executor) {}

  // ---- settings and languages -------------------------------------------------------------

  getSettings(orgId: string): Promise<NoticeSettingsRow | undefined> {
    return this.x.get<NoticeSettingsRow>('SELECT org_id, default_language, templates, updated_at FROM notice_settings WHERE org_id = $1', [orgId]);
  }
  async setSettings(r: NoticeSettingsRow): Promise<void> {
    await this.x.run(
      'INSERT INTO notice_settings (org_id, default_language, templates, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET default_language = excluded.default_language, templates = excluded.templates, updated_at = excluded.updated_at',
      [r.org_id, r.default_language, r.templates, r.updated_at],
    );
  }
  /** Set (or, with null, clear) a person's notice language. */
  async setPersonLanguage(orgId: string, personId: string, language: string | null, atMs: number): Promise<void> {
    if (language === null) {
      await this.x.run('DELETE FROM notice_person_languages WHERE org_id = $1 AND person_id = $2', [orgId, personId]);
      return;
    }
    await this.x.run(
      'INSERT INTO notice_person_languages (org_id, person_id, language, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, person_id) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at',
      [orgId, personId, language, atMs],
    );
  }
  /** The languages set for these people (person id → language); people without one are absent. */
  async languagesOf(orgId: string, personIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < personIds.length; i += IN_CHUNK) {
      const chunk = personIds.slice(i, i + IN_CHUNK);
      const rows = await this.x.all<{ person_id: string; language: string }>(`SELECT person_id, language FROM notice_person_languages WHERE org_id = $1 AND person_id IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`, [orgId, ...chunk]);
      for (const r of rows) out.set(r.person_id, r.language);
    }
    return out;
  }
  /** Which of these people have an e-mail address on file (without decrypting it). */
  async withEmail(orgId: string, personIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < personIds.length; i += IN_CHUNK) {
      const chunk = personIds.slice(i, i + IN_CHUNK);
      const rows = await this.x.all<{ id: string }>(`SELECT id FROM people WHERE org_id = $1 AND email_enc IS NOT NULL AND id IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`, [orgId, ...chunk]);
      for (const r of rows) out.add(r.id);
    }
    return out;
  }
  /** Users holding the org admin role for the whole org and not disabled (the four-eyes rule's count). */
  async activeOrgAdmins(orgId: string): Promise<number> {
    const r = await this.x.get<{ n: number }>(
      "SELECT COUNT(DISTINCT b.user_id) AS n FROM role_bindings b JOIN users u ON u.id = b.user_id WHERE b.org_id = $1 AND b.role = 'org_admin' AND b.site_id IS NULL AND u.disabled = 0",
      [orgId],
    );
    return Number(r?.n ?? 0);
  }

  // ---- batches ----------------------------------------------------------------------------

  async insertBatch(b: NoticeBatchRow): Promise<void> {
    await this.x.run(`INSERT INTO notice_batches (${BATCH_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
      b.id, b.org_id, b.case_id, b.channel_id, b.state, b.purpose_enc, b.unlinked_enc, b.recipients, b.created_at, b.created_by, b.approved_at, b.approved_by, b.sent_at, b.sent_by, b.updated_at,
    ]);
  }
  getBatch(orgId: string, id: string): Promise<NoticeBatchRow | undefined> {
    return this.x.get<NoticeBatchRow>(`SELECT ${BATCH_COLS} FROM notice_batches WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** An org's batches, newest first (optionally of one case, or before a batch id). */
  listBatches(orgId: string, q: { caseId?: string; beforeId?: string; limit: number }): Promise<NoticeBatchRow[]> {
    const where = ['org_id = $1'];
    const p: unknown[] = [orgId];
    if (q.caseId !== undefined) {
      p.push(q.caseId);
      where.push(`case_id = $${p.length}`);
    }
    if (q.beforeId !== undefined) {
      p.push(q.beforeId);
      where.push(`id < $${p.length}`);
    }
    p.push(q.limit);
    return this.x.all<NoticeBatchRow>(`SELECT ${BATCH_COLS} FROM notice_batches WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${p.length}`, p);
  }
  /**
   * Move a batch from one of `from` to `to`, stamping who and when; 0 when it was in no such state
   * (another request moved it first). On PostgreSQL the row stays locked until the transaction
   * ends, so concurrent steps on one batch run one after the other.
   */
  async transition(orgId: string, id: string, from: readonly string[], to: string, atMs: number, by: string): Promise<number> {
    const stamp = to === 'approved' ? ', approved_at = $3, approved_by = $4' : to === 'sent' ? ', sent_at = $3, sent_by = $4' : '';
    const marks = from.map((_, i) => `$${i + 6}`).join(', ');
    return (await this.x.run(`UPDATE notice_batches SET state = $5, updated_at = $3${stamp} WHERE org_id = $1 AND id = $2 AND state IN (${marks})`, [orgId, id, atMs, by, to, ...from])).changes;
  }
  /** Lock a batch in `state` for the transaction (a retried send); 0 when it is not in that state. */
  async touch(orgId: string, id: string, state: string, atMs: number): Promise<number> {
    return (await this.x.run('UPDATE notice_batches SET updated_at = $3 WHERE org_id = $1 AND id = $2 AND state = $4', [orgId, id, atMs, state])).changes;
  }
  /** Delete a batch in one of `states` with its recipients and sends; 0 when there was none. */
  async deleteBatch(orgId: string, id: string, states: readonly string[]): Promise<number> {
    const marks = states.map((_, i) => `$${i + 3}`).join(', ');
    const b = await this.x.get<{ id: string }>(`SELECT id FROM notice_batches WHERE org_id = $1 AND id = $2 AND state IN (${marks})`, [orgId, id, ...states]);
    if (!b) return 0;
    await this.x.run('DELETE FROM notice_sends WHERE org_id = $1 AND batch_id = $2', [orgId, id]);
    await this.x.run('DELETE FROM notice_recipients WHERE org_id = $1 AND batch_id = $2', [orgId, id]);
    return (await this.x.run('DELETE FROM notice_batches WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
  /** Delete at most `limit` batches created before `beforeMs`, with their recipients and sends (retention). */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const ids = (await this.x.all<{ id: string }>('SELECT id FROM notice_batches WHERE org_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3', [orgId, beforeMs, limit])).map((r) => r.id);
    if (ids.length === 0) return 0;
    const marks = ids.map((_, i) => `$${i + 2}`).join(', ');
    await this.x.run(`DELETE FROM notice_sends WHERE org_id = $1 AND batch_id IN (${marks})`, [orgId, ...ids]);
    await this.x.run(`DELETE FROM notice_recipients WHERE org_id = $1 AND batch_id IN (${marks})`, [orgId, ...ids]);
    return (await this.x.run(`DELETE FROM notice_batches WHERE org_id = $1 AND id IN (${marks})`, [orgId, ...ids])).changes;
  }
  /** Every batch of an org with its unlinked contacts (data-subject requests read and rewrite them), by id. */
  batchesAfter(orgId: string, afterId: string, limit: number): Promise<Pick<NoticeBatchRow, 'id' | 'unlinked_enc' | 'created_at'>[]> {
    return this.x.all('SELECT id, unlinked_enc, created_at FROM notice_batches WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3', [orgId, afterId, limit]);
  }
  async setUnlinked(orgId: string, id: string, unlinked: Buffer): Promise<void> {
    await this.x.run('UPDATE notice_batches SET unlinked_enc = $3 WHERE org_id = $1 AND id = $2', [orgId, id, unlinked]);
  }

  // ---- recipients and sends ---------------------------------------------------------------

  async insertRecipients(rows: readonly NoticeRecipientRow[]): Promise<void> {
    for (const r of rows) {
      await this.x.run(`INSERT INTO notice_recipients (${RECIPIENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [r.batch_id, r.person_id, r.org_id, r.rank, r.language, r.state, r.notice_enc]);
    }
  }
  recipientsOf(orgId: string, batchId: string): Promise<NoticeRecipientRow[]> {
    return this.x.all<NoticeRecipientRow>(`SELECT ${RECIPIENT_COLS} FROM notice_recipients WHERE org_id = $1 AND batch_id = $2 ORDER BY rank, person_id`, [orgId, batchId]);
  }
  /** Every notice of these people (data-subject requests), oldest batch first. */
  recipientsOfPeople(orgId: string, personIds: readonly string[]): Promise<NoticeRecipientRow[]> {
    if (personIds.length === 0) return Promise.resolve([]);
    return this.x.all<NoticeRecipientRow>(`SELECT ${RECIPIENT_COLS} FROM notice_recipients WHERE org_id = $1 AND person_id IN (${personIds.map((_, i) => `$${i + 2}`).join(', ')}) ORDER BY batch_id`, [orgId, ...personIds]);
  }
  /** Delete these people's notices and sends (erasure); returns rows deleted. */
  async deletePeople(orgId: string, personIds: readonly string[]): Promise<number> {
    if (personIds.length === 0) return 0;
    const marks = personIds.map((_, i) => `$${i + 2}`).join(', ');
    const s = (await this.x.run(`DELETE FROM notice_sends WHERE org_id = $1 AND person_id IN (${marks})`, [orgId, ...personIds])).changes;
    return s + (await this.x.run(`DELETE FROM notice_recipients WHERE org_id = $1 AND person_id IN (${marks})`, [orgId, ...personIds])).changes;
  }
  async insertSend(s: NoticeSendRow): Promise<void> {
    await this.x.run(`INSERT INTO notice_sends (${SEND_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [s.delivery_id, s.org_id, s.batch_id, s.person_id, s.send_no, s.channel_id, s.queued_at, s.queued_by]);
  }
  /** A batch's sends, in order per person (send_no). */
  sendsOf(orgId: string, batchId: string): Promise<NoticeSendRow[]> {
    return this.x.all<NoticeSendRow>(`SELECT ${SEND_COLS} FROM notice_sends WHERE org_id = $1 AND batch_id = $2 ORDER BY person_id, send_no`, [orgId, batchId]);
  }
  /** The delivery state of these deliveries (delivery id → state, attempts, last error, done time). */
  async deliveryStates(orgId: string, ids: readonly string[]): Promise<Map<string, { state: string; attempts: number; last_error: string | null; done_at: number | null }>> {
    const out = new Map<string, { state: string; attempts: number; last_error: string | null; done_at: number | null }>();
    for (let i = 0; i < ids.length; i += IN_CHUNK) {
      const chunk = ids.slice(i, i + IN_CHUNK);
      const rows = await this.x.all<{ id: string; state: string; attempts: number; last_error: string | null; done_at: number | null }>(
        `SELECT id, state, attempts, last_error, done_at FROM delivery_queue WHERE org_id = $1 AND id IN (${chunk.map((_, j) => `$${j + 2}`).join(', ')})`,
        [orgId, ...chunk],
      );
      for (const r of rows) out.set(r.id, { state: r.state, attempts: Number(r.attempts), last_error: r.last_error, done_at: r.done_at === null ? null : Number(r.done_at) });
    }
    return out;
  }
}
