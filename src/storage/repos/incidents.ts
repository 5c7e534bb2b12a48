/**
 * Personal-data breach records (R-PRIV-8) and the notices sent about them. Free text is ciphertext
 * under the org key; recipients are user ids. The 72-hour deadline is stored with the record so
 * overdue incidents of every org are one index range (`incidents_open`).
 */
import type { Executor } from '../db.ts';

export type IncidentStatus = 'open' | 'notified' | 'closed';

export interface IncidentRow {
  id: string;
  org_id: string;
  status: IncidentStatus;
  detected_at: number;
  occurred_at: number | null;
  /** detected_at + 72 h (UTC ms). */
  deadline_at: number;
  /** JSON array of data-class ids (retention registry). */
  data_classes: string;
  /** JSON array of categories of data subjects. */
  subject_categories: string;
  approx_subjects: number | null;
  approx_records: number | null;
  /** Personal (may name people): title, description, consequences, measures; org key. */
  details_enc: Buffer;
  created_at: number;
  /** Actor string (`user:<id>`), never an e-mail address. */
  created_by: string;
  updated_at: number;
  notified_at: number | null;
  closed_at: number | null;
  close_reason: string | null;
}

export interface IncidentNoticeRow {
  id: string;
  org_id: string;
  incident_id: string;
  channel: 'email' | 'manual';
  /** The admin an e-mail went to (user id), null for a manual notice. */
  user_id: string | null;
  outcome: 'sent' | 'failed' | 'recorded';
  smtp_code: number | null;
  /** Manual notice: how and to whom (personal; org key). */
  note_enc: Buffer | null;
  sent_at: number;
  sent_by: string;
}

/** An admin an incident notice goes to: id and encrypted e-mail address. */
export interface IncidentRecipientRow {
  id: string;
  email_enc: Buffer;
}

const COLS = 'id, org_id, status, detected_at, occurred_at, deadline_at, data_classes, subject_categories, approx_subjects, approx_records, details_enc, created_at, created_by, updated_at, notified_at, closed_at, close_reason';
const NOTICE_COLS = 'id, org_id, incident_id, channel, user_id, outcome, smtp_code, note_enc, sent_at, sent_by';

export class IncidentRepo {
  constructor(private readonly x: Executor) {}

  async insert(r: IncidentRow): Promise<void> {
    await this.x.run(
      `INSERT INTO incidents (${COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
      [r.id, r.org_id, r.status, r.detected_at, r.occurred_at, r.deadline_at, r.data_classes, r.subject_categories, r.approx_subjects, r.approx_records, r.details_enc, r.created_at, r.created_by, r.updated_at, r.notified_at, r.closed_at, r.close_reason],
    );
  }

  /** Rewrite the changeable fields of an incident (status, facts, details, times). */
  async update(r: IncidentRow): Promise<void> {
    await this.x.run(
      'UPDATE incidents SET status = $3, detected_at = $4, occurred_at = $5, deadline_at = $6, data_classes = $7, subject_categories = $8, approx_subjects = $9, approx_records = $10, details_enc = $11, updated_at = $12, notified_at = $13, closed_at = $14, close_reason = $15 WHERE org_id = $1 AND id = $2',
      [r.org_id, r.id, r.status, r.detected_at, r.occurred_at, r.deadline_at, r.data_classes, r.subject_categories, r.approx_subjects, r.approx_records, r.details_enc, r.updated_at, r.notified_at, r.closed_at, r.close_reason],
    );
  }

  get(orgId: string, id: string): Promise<IncidentRow | undefined> {
    return this.x.get<IncidentRow>(`SELECT ${COLS} FROM incidents WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }

  /** An org's incidents, newest detection first; `status` narrows, `overdueAtMs` keeps open ones past their deadline. */
  list(orgId: string, o: { status?: IncidentStatus; overdueAtMs?: number; limit: number }): Promise<IncidentRow[]> {
    const where = ['org_id = $1'];
    const params: unknown[] = [orgId];
    if (o.status) where.push(`status = $${params.push(o.status)}`);
    if (o.overdueAtMs !== undefined) where.push(`status = 'open' AND deadline_at < $${params.push(o.overdueAtMs)}`);
    params.push(o.limit);
    return this.x.all<IncidentRow>(`SELECT ${COLS} FROM incidents WHERE ${where.join(' AND ')} ORDER BY detected_at DESC, id DESC LIMIT $${params.length}`, params);
  }

  /** Open incidents past their deadline, over every org of this store (the metric). */
  async overdueCount(nowMs: number): Promise<number> {
    const r = await this.x.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM incidents WHERE status = 'open' AND deadline_at < $1", [nowMs]);
    return Number(r?.n ?? 0);
  }

  /** Open (not yet notified) incidents over every org of this store. */
  async openCount(): Promise<number> {
    const r = await this.x.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM incidents WHERE status = 'open'");
    return Number(r?.n ?? 0);
  }

  async insertNotice(n: IncidentNoticeRow): Promise<void> {
    await this.x.run(`INSERT INTO incident_notices (${NOTICE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [n.id, n.org_id, n.incident_id, n.channel, n.user_id, n.outcome, n.smtp_code, n.note_enc, n.sent_at, n.sent_by]);
  }

  notices(orgId: string, incidentId: string): Promise<IncidentNoticeRow[]> {
    return this.x.all<IncidentNoticeRow>(`SELECT ${NOTICE_COLS} FROM incident_notices WHERE org_id = $1 AND incident_id = $2 ORDER BY sent_at, id`, [orgId, incidentId]);
  }

  /** Active users holding an org-wide org_admin or privacy_officer role: who incident notices go to. */
  recipients(orgId: string): Promise<IncidentRecipientRow[]> {
    return this.x.all<IncidentRecipientRow>(
      "SELECT u.id AS id, u.email_enc AS email_enc FROM users u WHERE u.org_id = $1 AND u.disabled = 0 AND EXISTS (SELECT 1 FROM role_bindings b WHERE b.user_id = u.id AND b.org_id = $1 AND b.site_id IS NULL AND b.role IN ('org_admin', 'privacy_officer')) ORDER BY u.id",
      [orgId],
    );
  }

  /** Retention (class incidents): delete up to `limit` incidents closed before `beforeMs` (their notices go with them). */
  async purgeClosed(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const ids = await this.x.all<{ id: string }>('SELECT id FROM incidents WHERE org_id = $1 AND closed_at IS NOT NULL AND closed_at < $2 ORDER BY closed_at LIMIT $3', [orgId, beforeMs, limit]);
    if (ids.length === 0) return 0;
    const list = ids.map((_, i) => `$${i + 2}`).join(', ');
    const params = [orgId, ...ids.map((r) => r.id)];
    await this.x.run(`DELETE FROM incident_notices WHERE org_id = $1 AND incident_id IN (${list})`, params);
    return (await this.x.run(`DELETE FROM incidents WHERE org_id = $1 AND id IN (${list})`, params)).changes;
  }
}
