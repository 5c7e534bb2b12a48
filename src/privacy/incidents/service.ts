/**
 * Personal-data breach records (R-PRIV-8, GDPR Art. 33): what happened, when it was detected, the
 * categories and approximate numbers of people and records concerned, likely consequences and
 * measures. The 72-hour clock runs from detection: every view carries the deadline, whether it is
 * overdue and the hours left, and `cairn_incidents_overdue` counts open incidents past it. A
 * notice goes by e-mail to the org's admins and privacy officers (or is recorded as given another
 * way) and is stored per recipient; status moves open → notified → closed. Free text is encrypted
 * under the org key, and e-mails carry only the structured facts and the reference (the
 * description stays in Cairn). Every step is audited.
 */
import { CairnError, isCairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { HOUR_MS, toIso } from '../../kernel/clock.ts';
import { newId } from '../../kernel/ids.ts';
import { IncidentRepo, reposFor, type Database, type Executor, type IncidentNoticeRow, type IncidentRow, type IncidentStatus } from '../../storage/index.ts';
import { actorString, type Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { DATA_CLASSES } from '../retention/registry.ts';
import type { RightsMailer } from '../rights/mailer.ts';

/** GDPR Art. 33(1): notify within 72 hours of becoming aware. */
export const NOTIFY_WITHIN_MS = 72 * HOUR_MS;
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'notified', 'closed'];
/** Categories of people an incident may concern (Art. 33(3)(a)). */
export const SUBJECT_CATEGORIES = ['guests', 'staff', 'visitors', 'app_users', 'email_users', 'requesters', 'other'] as const;
export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];
/** Why an incident closes: resolved after notice, or closed without one because it was no breach of personal data. */
export const CLOSE_REASONS = ['resolved', 'false_positive', 'no_personal_data'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

const MAX_TITLE = 200;
const MAX_TEXT = 10_000;
/** A detection time may be at most this far ahead of the server's clock (clock skew). */
const FUTURE_SLACK_MS = 5 * 60_000;

/** Free text of an incident (personal: may name people; encrypted together). */
interface Details {
  title: string;
  description: string | null;
  consequences: string | null;
  measures: string | null;
}

export interface IncidentInput {
  title: string;
  description?: string | null;
  /** When the org (or operator) became aware, UTC ms; default now. */
  detectedAtMs?: number;
  occurredAtMs?: number | null;
  dataClasses?: string[];
  subjectCategories?: SubjectCategory[];
  approxSubjects?: number | null;
  approxRecords?: number | null;
  consequences?: string | null;
  measures?: string | null;
}

export type IncidentPatch = Partial<IncidentInput>;

export interface IncidentNoticeView {
  id: string;
  channel: 'email' | 'manual';
  userId: string | null;
  outcome: 'sent' | 'failed' | 'recorded';
  smtpCode: number | null;
  note: string | null;
  sentAt: string;
  sentBy: string;
}

export interface IncidentView {
  id: string;
  orgId: string;
  status: IncidentStatus;
  title: string;
  description: string | null;
  consequences: string | null;
  measures: string | null;
  detectedAt: string;
  occurredAt: string | null;
  /** detectedAt + 72 h. */
  deadlineAt: string;
  /** Not notified and past the deadline. */
  overdue: boolean;
  /** Hours until the deadline (negative when past it); null once notified or closed. */
  hoursLeft: number | null;
  notifiedAt: string | null;
  /** Whether the first notice went out after the deadline; null before any notice. */
  notifiedLate: boolean | null;
  closedAt: string | null;
  closeReason: string | null;
  dataClasses: string[];
  subjectCategories: SubjectCategory[];
  approxSubjects: number | null;
  approxRecords: number | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  /** Only in the detail view. */
  notices?: IncidentNoticeView[];
}

export interface NotifyResult {
  incident: IncidentView;
  /** E-mails accepted by the mail server. */
  sent: number;
  failed: number;
}

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

function optText(v: unknown, field: string, max = MAX_TEXT): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || v.length > max) throw bad(field, `${field} must be text of at most ${max} characters.`);
  return v.trim() || null;
}

function optCount(v: unknown, field: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1e12) throw bad(field, `${field} must be a whole number ≥ 0.`);
  return v;
}

export class IncidentService {
  constructor(
    private readonly core: Core,
    private readonly mailer: RightsMailer | undefined,
  ) {}

  private checkFacts(i: IncidentPatch, nowMs: number): void {
    if (i.detectedAtMs !== undefined && (!Number.isFinite(i.detectedAtMs) || i.detectedAtMs > nowMs + FUTURE_SLACK_MS || i.detectedAtMs < Date.UTC(2000, 0, 1))) throw bad('detectedAt', 'detectedAt must be a time in the past.');
    if (i.occurredAtMs !== undefined && i.occurredAtMs !== null && (!Number.isFinite(i.occurredAtMs) || i.occurredAtMs > nowMs + FUTURE_SLACK_MS)) throw bad('occurredAt', 'occurredAt must be a time in the past.');
    if (i.dataClasses !== undefined) {
      if (!Array.isArray(i.dataClasses) || i.dataClasses.length > DATA_CLASSES.length) throw bad('dataClasses', 'dataClasses must be a list of data classes.');
      for (const c of i.dataClasses) if (!DATA_CLASSES.some((d) => d.id === c)) throw bad('dataClasses', `Unknown data class; known: ${DATA_CLASSES.map((d) => d.id).join(', ')}.`);
    }
    if (i.subjectCategories !== undefined) {
      if (!Array.isArray(i.subjectCategories)) throw bad('subjectCategories', 'subjectCategories must be a list.');
      for (const c of i.subjectCategories) if (!SUBJECT_CATEGORIES.includes(c)) throw bad('subjectCategories', `subjectCategories must be among ${SUBJECT_CATEGORIES.join(', ')}.`);
    }
  }

  /**
   * Record an incident (status open; the 72-hour clock starts at detection). Audited.
   * @example await incidents.create(ctx, orgId, { title: 'Laptop with an export stolen', dataClasses: ['location'], subjectCategories: ['staff'], approxSubjects: 120 })
   */
  async create(ctx: Ctx, orgId: string, input: IncidentInput): Promise<IncidentView> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'create', { orgId });
    const now = this.core.clock.nowMs();
    const title = optText(input.title, 'title', MAX_TITLE);
    if (!title) throw bad('title', 'title is required (what happened, in a line).');
    this.checkFacts(input, now);
    const detected = input.detectedAtMs ?? now;
    const details: Details = { title, description: optText(input.description, 'description'), consequences: optText(input.consequences, 'consequences'), measures: optText(input.measures, 'measures') };
    return db.tx(async (x) => {
      const row: IncidentRow = {
        id: newId(now),
        org_id: orgId,
        status: 'open',
        detected_at: detected,
        occurred_at: input.occurredAtMs ?? null,
        deadline_at: detected + NOTIFY_WITHIN_MS,
        data_classes: JSON.stringify([...new Set(input.dataClasses ?? [])].sort()),
        subject_categories: JSON.stringify([...new Set(input.subjectCategories ?? [])].sort()),
        approx_subjects: optCount(input.approxSubjects, 'approxSubjects'),
        approx_records: optCount(input.approxRecords, 'approxRecords'),
        details_enc: await this.seal(x, orgId, details),
        created_at: now,
        created_by: actorString(ctx.actor),
        updated_at: now,
        notified_at: null,
        closed_at: null,
        close_reason: null,
      };
      await new IncidentRepo(x).insert(row);
      await this.core.audit.record(x, ctx, orgId, 'incident.create', `incident:${row.id}`, { detectedAt: toIso(detected), dataClasses: JSON.parse(row.data_classes) as string[], approxSubjects: row.approx_subjects });
      return this.view(row, details, now);
    });
  }

  /** An org's incidents, newest first (optionally one status, or only overdue ones). */
  async list(ctx: Ctx, orgId: string, o: { status?: IncidentStatus; overdue?: boolean; limit?: number } = {}): Promise<IncidentView[]> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'list', { orgId });
    const now = this.core.clock.nowMs();
    const rows = await new IncidentRepo(db).list(orgId, { ...(o.status ? { status: o.status } : {}), ...(o.overdue ? { overdueAtMs: now } : {}), limit: Math.min(Math.max(1, o.limit ?? 100), 1000) });
    const out: IncidentView[] = [];
    for (const r of rows) out.push(this.view(r, await this.open(db, r), now));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'incident.list', `org:${orgId}`, { count: out.length }));
    return out;
  }

  /** One incident with its notices. */
  async get(ctx: Ctx, orgId: string, id: string): Promise<IncidentView> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'read', { orgId }, `incident:${id}`);
    const row = await this.load(db, orgId, id);
    const v = await this.detail(db, row);
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'incident.read', `incident:${id}`, {}));
    return v;
  }

  /** Change the facts while the incident is not closed (a new detection time moves the deadline). Audited by field name. */
  async update(ctx: Ctx, orgId: string, id: string, patch: IncidentPatch): Promise<IncidentView> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'update', { orgId }, `incident:${id}`);
    const now = this.core.clock.nowMs();
    this.checkFacts(patch, now);
    return db.tx(async (x) => {
      const row = await this.load(x, orgId, id);
      if (row.status === 'closed') throw new CairnError('CAIRN_ERR_INCIDENT_STATE', 'A closed incident no longer changes.');
      const d = await this.open(x, row);
      if (patch.title !== undefined) {
        const t = optText(patch.title, 'title', MAX_TITLE);
        if (!t) throw bad('title', 'title cannot be empty.');
        d.title = t;
      }
      if (patch.description !== undefined) d.description = optText(patch.description, 'description');
      if (patch.consequences !== undefined) d.consequences = optText(patch.consequences, 'consequences');
      if (patch.measures !== undefined) d.measures = optText(patch.measures, 'measures');
      if (patch.detectedAtMs !== undefined) {
        row.detected_at = patch.detectedAtMs;
        row.deadline_at = patch.detectedAtMs + NOTIFY_WITHIN_MS;
      }
      if (patch.occurredAtMs !== undefined) row.occurred_at = patch.occurredAtMs;
      if (patch.dataClasses !== undefined) row.data_classes = JSON.stringify([...new Set(patch.dataClasses)].sort());
      if (patch.subjectCategories !== undefined) row.subject_categories = JSON.stringify([...new Set(patch.subjectCategories)].sort());
      if (patch.approxSubjects !== undefined) row.approx_subjects = optCount(patch.approxSubjects, 'approxSubjects');
      if (patch.approxRecords !== undefined) row.approx_records = optCount(patch.approxRecords, 'approxRecords');
      row.details_enc = await this.seal(x, orgId, d);
      row.updated_at = now;
      await new IncidentRepo(x).update(row);
      await this.core.audit.record(x, ctx, orgId, 'incident.update', `incident:${id}`, { fields: Object.keys(patch).sort() });
      return this.detail(x, row);
    });
  }

  /**
   * Tell the org: an e-mail to every active org admin and privacy officer (through `smtpUpstream`),
   * each recorded with its outcome; or, with `manual`, record a notice given another way (phone,
   * letter: how and to whom). The first notice moves the incident to `notified`. Sending again
   * (an update) is allowed until it is closed.
   */
  async notify(ctx: Ctx, orgId: string, id: string, o: { manual?: string } = {}): Promise<NotifyResult> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'notify', { orgId }, `incident:${id}`);
    const first = await this.load(db, orgId, id);
    if (first.status === 'closed') throw new CairnError('CAIRN_ERR_INCIDENT_STATE', 'A closed incident is not notified again.');
    const manual = optText(o.manual, 'manual', 2000);
    const by = actorString(ctx.actor);
    const notices: IncidentNoticeRow[] = [];
    let sent = 0;
    let failed = 0;
    if (manual !== null) {
      notices.push({ id: newId(), org_id: orgId, incident_id: id, channel: 'manual', user_id: null, outcome: 'recorded', smtp_code: null, note_enc: await this.core.keys.encrypt(db, orgId, 'incident_notices.note', manual), sent_at: this.core.clock.nowMs(), sent_by: by });
    } else {
      if (!this.mailer) throw new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'No mail server is configured (smtpUpstream): notify by another way and record it with "manual".');
      const recipients = await new IncidentRepo(db).recipients(orgId);
      if (recipients.length === 0) throw new CairnError('CAIRN_ERR_CONFLICT', 'The org has no active org admin or privacy officer to notify; record a notice given another way with "manual".');
      const org = await reposFor(db).tenancy.getOrg(orgId);
      const mail = noticeMail(org?.name ?? orgId, first, this.core.clock.nowMs());
      for (const r of recipients) {
        const to = await this.core.keys.decrypt(db, orgId, 'users.email', r.email_enc);
        let outcome: 'sent' | 'failed' = 'sent';
        let code: number | null = null;
        try {
          await this.mailer.send({ to, subject: mail.subject, text: mail.text });
          sent++;
        } catch (e) {
          if (!isCairnError(e) || e.code !== 'CAIRN_ERR_MAIL_UPSTREAM') throw e;
          outcome = 'failed';
          code = typeof e.details?.smtpCode === 'number' ? e.details.smtpCode : null;
          failed++;
        }
        notices.push({ id: newId(), org_id: orgId, incident_id: id, channel: 'email', user_id: r.id, outcome, smtp_code: code, note_enc: null, sent_at: this.core.clock.nowMs(), sent_by: by });
      }
    }
    const delivered = manual !== null || sent > 0;
    const view = await db.tx(async (x) => {
      const repo = new IncidentRepo(x);
      const row = await this.load(x, orgId, id);
      for (const n of notices) await repo.insertNotice(n);
      const now = this.core.clock.nowMs();
      if (delivered && row.status === 'open') {
        row.status = 'notified';
        row.notified_at = now;
        row.updated_at = now;
        await repo.update(row);
      }
      await this.core.audit.record(x, ctx, orgId, 'incident.notify', `incident:${id}`, { channel: manual !== null ? 'manual' : 'email', sent, failed, late: row.notified_at !== null && row.notified_at > row.deadline_at }, delivered ? 'ok' : 'error');
      return this.detail(x, row);
    });
    if (!delivered) throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', `No notice could be delivered (${failed} e-mail${failed === 1 ? '' : 's'} refused); the attempts are recorded. Try again or record a notice given another way.`);
    return { incident: view, sent, failed };
  }

  /**
   * Close an incident: after its notice (`resolved`), or without one only when it turned out not to
   * be a breach of personal data (`false_positive`, `no_personal_data`). Final measures may be set.
   */
  async close(ctx: Ctx, orgId: string, id: string, o: { reason?: CloseReason; measures?: string | null } = {}): Promise<IncidentView> {
    const { db } = await this.core.access.enforce(ctx, 'incident', 'close', { orgId }, `incident:${id}`);
    const reason = o.reason ?? 'resolved';
    if (!CLOSE_REASONS.includes(reason)) throw bad('reason', `reason must be one of ${CLOSE_REASONS.join(', ')}.`);
    const measures = o.measures === undefined ? undefined : optText(o.measures, 'measures');
    return db.tx(async (x) => {
      const row = await this.load(x, orgId, id);
      if (row.status === 'closed') throw new CairnError('CAIRN_ERR_INCIDENT_STATE', 'The incident is closed already.');
      if (row.status === 'open' && reason === 'resolved') throw new CairnError('CAIRN_ERR_INCIDENT_STATE', 'Notify the org before closing the incident, or close it as false_positive or no_personal_data.');
      if (row.status === 'notified' && reason !== 'resolved') throw new CairnError('CAIRN_ERR_INCIDENT_STATE', 'A notified incident closes as resolved.');
      const now = this.core.clock.nowMs();
      const d = await this.open(x, row);
      if (measures !== undefined) {
        d.measures = measures;
        row.details_enc = await this.seal(x, orgId, d);
      }
      row.status = 'closed';
      row.closed_at = now;
      row.close_reason = reason;
      row.updated_at = now;
      await new IncidentRepo(x).update(row);
      await this.core.audit.record(x, ctx, orgId, 'incident.close', `incident:${id}`, { reason });
      return this.detail(x, row);
    });
  }

  /** Close the mail transport (app shutdown). */
  shutdown(): void {
    this.mailer?.close();
  }

  /** Open incidents past their 72-hour deadline, over every org (`cairn_incidents_overdue`). */
  async overdueCount(): Promise<number> {
    const now = this.core.clock.nowMs();
    let n = 0;
    for (const r of this.core.stores.regions) n += await new IncidentRepo(this.core.stores.region(r)).overdueCount(now);
    return n;
  }

  /** Open (not yet notified) incidents, over every org (`cairn_incidents_open`). */
  async openCount(): Promise<number> {
    let n = 0;
    for (const r of this.core.stores.regions) n += await new IncidentRepo(this.core.stores.region(r)).openCount();
    return n;
  }

  /** Retention of class incidents: closed incidents older than the period go, with their notices. */
  purge(x: Executor, orgId: string, beforeMs: number, limit: number): Promise<number> {
    return new IncidentRepo(x).purgeClosed(orgId, beforeMs, limit);
  }

  private async load(x: Executor | Database, orgId: string, id: string): Promise<IncidentRow> {
    const row = /^[0-9a-f-]{36}$/.test(id) ? await new IncidentRepo(x).get(orgId, id) : undefined;
    if (!row) throw notFoundOrNoAccess();
    return row;
  }

  private seal(x: Executor, orgId: string, d: Details): Promise<Buffer> {
    return this.core.keys.encrypt(x, orgId, 'incidents.details', JSON.stringify(d));
  }

  private async open(x: Executor, r: IncidentRow): Promise<Details> {
    return JSON.parse(await this.core.keys.decrypt(x, r.org_id, 'incidents.details', r.details_enc)) as Details;
  }

  private async detail(x: Executor, row: IncidentRow): Promise<IncidentView> {
    const v = this.view(row, await this.open(x, row), this.core.clock.nowMs());
    const notices: IncidentNoticeView[] = [];
    for (const n of await new IncidentRepo(x).notices(row.org_id, row.id)) {
      notices.push({ id: n.id, channel: n.channel, userId: n.user_id, outcome: n.outcome, smtpCode: n.smtp_code === null ? null : Number(n.smtp_code), note: n.note_enc ? await this.core.keys.decrypt(x, row.org_id, 'incident_notices.note', n.note_enc) : null, sentAt: toIso(Number(n.sent_at)), sentBy: n.sent_by });
    }
    return { ...v, notices };
  }

  private view(r: IncidentRow, d: Details, nowMs: number): IncidentView {
    const deadline = Number(r.deadline_at);
    const notified = r.notified_at === null ? null : Number(r.notified_at);
    return {
      id: r.id,
      orgId: r.org_id,
      status: r.status,
      title: d.title,
      description: d.description,
      consequences: d.consequences,
      measures: d.measures,
      detectedAt: toIso(Number(r.detected_at)),
      occurredAt: r.occurred_at === null ? null : toIso(Number(r.occurred_at)),
      deadlineAt: toIso(deadline),
      overdue: r.status === 'open' && nowMs > deadline,
      hoursLeft: r.status === 'open' ? Math.round(((deadline - nowMs) / HOUR_MS) * 10) / 10 : null,
      notifiedAt: notified === null ? null : toIso(notified),
      notifiedLate: notified === null ? null : notified > deadline,
      closedAt: r.closed_at === null ? null : toIso(Number(r.closed_at)),
      closeReason: r.close_reason,
      dataClasses: JSON.parse(r.data_classes) as string[],
      subjectCategories: JSON.parse(r.subject_categories) as SubjectCategory[],
      approxSubjects: r.approx_subjects === null ? null : Number(r.approx_subjects),
      approxRecords: r.approx_records === null ? null : Number(r.approx_records),
      createdAt: toIso(Number(r.created_at)),
      createdBy: r.created_by,
      updatedAt: toIso(Number(r.updated_at)),
    };
  }
}

/**
 * The notice e-mail, English then Dutch: structured facts and the reference only. The title and
 * description may name people, and mail may cross servers in clear; they stay in Cairn.
 */
export function noticeMail(orgName: string, r: IncidentRow, nowMs: number): { subject: string; text: string } {
  const classes = (JSON.parse(r.data_classes) as string[]).map((c) => DATA_CLASSES.find((d) => d.id === c)?.name ?? c);
  const subjects = JSON.parse(r.subject_categories) as string[];
  const deadline = toIso(Number(r.deadline_at));
  const late = nowMs > Number(r.deadline_at);
  const n = (v: number | null) => (v === null ? 'unknown / onbekend' : `about ${v} / ongeveer ${v}`);
  const cleanName = orgName.replace(/[\r\n]+/g, ' ').slice(0, 120);
  return {
    subject: `Personal-data breach recorded for ${cleanName} (reference ${r.id.slice(0, 8)})`,
    text: [
      `A personal-data breach was recorded for ${cleanName} in Cairn (R-PRIV-8).`,
      '',
      `Reference:            ${r.id}`,
      `Detected:             ${toIso(Number(r.detected_at))}`,
      `72-hour deadline:     ${deadline}${late ? '  (PASSED)' : ''}`,
      `Data concerned:       ${classes.join(', ') || 'not yet known'}`,
      `People concerned:     ${subjects.join(', ') || 'not yet known'}`,
      `Number of people:     ${n(r.approx_subjects === null ? null : Number(r.approx_subjects))}`,
      `Number of records:    ${n(r.approx_records === null ? null : Number(r.approx_records))}`,
      '',
      'GDPR Art. 33 requires notifying the supervisory authority within 72 hours of becoming aware of',
      'a breach, unless it is unlikely to result in a risk to people. What happened, the likely',
      'consequences and the measures taken are in Cairn; they are not sent by e-mail:',
      `  cairn incident show ${r.id} --org ${r.org_id}`,
      `  GET /api/v1/orgs/${r.org_id}/incidents/${r.id}`,
      '',
      '---',
      '',
      `In Cairn is een inbreuk in verband met persoonsgegevens vastgelegd voor ${cleanName}.`,
      '',
      `Kenmerk:              ${r.id}`,
      `Ontdekt:              ${toIso(Number(r.detected_at))}`,
      `Termijn van 72 uur:   ${deadline}${late ? '  (VERSTREKEN)' : ''}`,
      '',
      'De AVG (art. 33) vraagt melding aan de toezichthouder binnen 72 uur na ontdekking, tenzij het',
      'onwaarschijnlijk is dat de inbreuk een risico voor mensen inhoudt. Wat er gebeurde, de',
      'gevolgen en de maatregelen staan in Cairn en worden niet per e-mail verstuurd.',
      '',
    ].join('\n'),
  };
}
