/**
 * Notices to exposed people (issue 4, R-CT-3, R-CT-5, R-CT-6, R-CT-8). From a stored case report,
 * the contacts whose devices are linked to a person in the org's directory become recipients;
 * contacts without a link are listed as pseudonyms for the admin to act on (link them, then draft
 * again) and are never notified. A batch of notices goes draft → approved → sent:
 *
 * - draft: an org admin picks the case and a delivery channel subscribed to `contact-notices`
 *   (e-mail through the org's SMTP server, or a signed webhook); each notice is rendered in the
 *   person's language (their own, else the org's default) from the org's template, and stored
 *   encrypted: what the approver reads is what is sent.
 * - approved: by an org admin; by another actor than the drafter whenever the org has more than
 *   one active org admin (four eyes). With one admin, that admin approves their own draft.
 * - sent: each ready recipient gets one delivery through the delivery queue (retries with
 *   back-off, every attempt recorded) and one `notice_sends` row (channel, time, by whom). The
 *   person's e-mail address is decrypted only by the sender, per attempt, through the recipient
 *   resolver registered with delivery; it is never stored with the message and never logged.
 *   Sending again is idempotent: a person whose notice is delivered or still on its way is never
 *   queued again; only one whose last send failed or was cancelled is queued anew.
 *
 * Every step (and every view) is audited with the case's purpose, in the transaction of the
 * change. Access (policy `notice`): org admins draft, approve, send and configure; privacy
 * officers and support under a grant read; site admins, observers and sensors never (R-CT-8:
 * notices follow case reports, which are org-wide). Batches, recipients and sends are class
 * `location` (30 days by default, R-CT-7).
 */
import { CairnError, isCairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { actorString, type Core, type Ctx } from '../../privacy/index.ts';
import { DeliveryRepo, NotifyRepo, reposFor, type Database, type Executor, type NoticeBatchRow, type NoticeRecipientRow, type NoticeSendRow } from '../../storage/index.ts';
import type { DeliveryService } from '../delivery/index.ts';
import type { PeopleService } from '../people/service.ts';
import type { CaseReport, ProximityService } from '../proximity/index.ts';
import { checkTemplate, DEFAULT_TEMPLATES, isNoticeLanguage, NOTICE_LANGUAGES, renderNotice, TEMPLATE_FIELDS, zoneWords, type NoticeFacts, type NoticeLanguage, type NoticeTemplate } from './templates.ts';

/** The delivery topic of notices: a channel must subscribe to it to carry them. */
export const NOTICE_TOPIC = 'contact-notices';

/** When, where (zone names) and how long, as shown to admins. */
export interface NoticeContactView {
  firstContact: string;
  lastContact: string;
  /** Cumulative minutes of contact, to 2 decimals. */
  minutes: number;
  /** Zone names, longest contact first (null for a zone without a name). */
  zones: (string | null)[];
  /** The time zone the notice writes times in (the site's). */
  timeZone: string;
}

/** A contact linked to a person: who would be notified. */
export interface NoticeCandidate extends NoticeContactView {
  personId: string;
  /** Best rank among the person's devices in the case. */
  rank: number;
  language: NoticeLanguage;
  /** Whether an e-mail address is on file (not the address). */
  hasEmail: boolean;
}

/** A contact without a person: listed as its pseudonym for the admin, never notified. */
export interface UnlinkedContact extends NoticeContactView {
  device: string;
  rank: number;
}

export interface NoticeCandidates {
  caseId: string;
  linked: NoticeCandidate[];
  unlinked: UnlinkedContact[];
}

export interface NoticeDraftInput {
  caseId: string;
  /** A delivery channel of the org subscribed to `contact-notices`. */
  channelId: string;
  /** Only these people (of the case's linked contacts); default all of them. */
  personIds?: string[];
}

/** One send of a notice: the delivery it queued and what became of it. */
export interface NoticeSendView {
  deliveryId: string;
  channelId: string;
  queuedAt: string;
  queuedBy: string;
  /** pending, delivered, failed or cancelled; unknown once the delivery record is purged. */
  state: string;
  attempts: number;
  doneAt: string | null;
  /** The last failure as a code (`smtp_550`, `http_503`, `recipient_gone`), never a message text. */
  lastError: string | null;
}

export type RecipientStatus = 'not_sent' | 'pending' | 'delivered' | 'failed' | 'cancelled' | 'skipped' | 'unknown';

export interface NoticeRecipientView extends NoticeContactView {
  personId: string;
  rank: number;
  language: NoticeLanguage;
  /** ready; no_address: the channel is e-mail and the person has no address (listed, not sent). */
  state: 'ready' | 'no_address';
  status: RecipientStatus;
  /** The notice as it is (or was) sent. */
  subject: string;
  text: string;
  sends: NoticeSendView[];
}

export type NoticeState = 'draft' | 'approved' | 'sent';

export interface NoticeBatchSummary {
  id: string;
  caseId: string;
  channelId: string;
  state: NoticeState;
  recipients: number;
  createdAt: string;
  createdBy: string;
  approvedAt: string | null;
  approvedBy: string | null;
  sentAt: string | null;
  sentBy: string | null;
}

export interface NoticeBatchView extends NoticeBatchSummary {
  orgId: string;
  /** Recipients by status (ready ones only, plus `skipped` for those without an address). */
  counts: Record<RecipientStatus, number>;
  notices: NoticeRecipientView[];
  unlinked: UnlinkedContact[];
}

export interface NoticeSettings {
  defaultLanguage: NoticeLanguage;
  languages: NoticeLanguage[];
  /** The fields a template may use, with what each holds. */
  fields: { name: string; description: string }[];
  templates: Record<NoticeLanguage, NoticeTemplate & { custom: boolean }>;
}

export interface NoticeSettingsPatch {
  defaultLanguage?: NoticeLanguage;
  /** A template per language; null puts Cairn's default back. */
  templates?: Partial<Record<NoticeLanguage, NoticeTemplate | null>>;
}

/** What `notice_enc` holds (JSON, encrypted). */
interface StoredNotice {
  firstMs: number;
  lastMs: number;
  minutes: number;
  zones: (string | null)[];
  timeZone: string;
  subject: string;
  text: string;
}

/** A person's contact merged over their devices in the case. */
interface Merged {
  personId: string;
  rank: number;
  firstMs: number;
  lastMs: number;
  minutes: number;
  zones: Map<string, { name: string | null; minutes: number }>;
}

/** The encrypted fields (additional data of their AES-GCM) of what notices store. */
export const NOTICE_FIELDS = { purpose: 'notice_batches.purpose', unlinked: 'notice_batches.unlinked', notice: 'notice_recipients.notice' } as const;
const PURPOSE_FIELD = NOTICE_FIELDS.purpose;
const UNLINKED_FIELD = NOTICE_FIELDS.unlinked;
const NOTICE_FIELD = NOTICE_FIELDS.notice;

function stateError(state: string): CairnError {
  return new CairnError('CAIRN_ERR_NOTICE_STATE', `The notices are ${state}; the steps are draft → approved → sent.`, { state });
}

function facts(m: { firstMs: number; lastMs: number; minutes: number; zones: (string | null)[]; timeZone: string }): NoticeContactView {
  return { firstContact: toIso(m.firstMs), lastContact: toIso(m.lastMs), minutes: Math.round(m.minutes * 100) / 100, zones: m.zones, timeZone: m.timeZone };
}

export class NotifyService {
  constructor(
    private readonly core: Core,
    private readonly proximity: ProximityService,
    private readonly people: PeopleService,
    private readonly delivery: DeliveryService,
  ) {}

  // ---- templates and languages ----------------------------------------------------------------

  private async settingsOf(x: Executor, orgId: string): Promise<{ defaultLanguage: NoticeLanguage; custom: Partial<Record<NoticeLanguage, NoticeTemplate>> }> {
    const row = await new NotifyRepo(x).getSettings(orgId);
    if (!row) return { defaultLanguage: 'en', custom: {} };
    return { defaultLanguage: isNoticeLanguage(row.default_language) ? row.default_language : 'en', custom: JSON.parse(row.templates) as Partial<Record<NoticeLanguage, NoticeTemplate>> };
  }

  private settingsView(s: { defaultLanguage: NoticeLanguage; custom: Partial<Record<NoticeLanguage, NoticeTemplate>> }): NoticeSettings {
    const templates = {} as NoticeSettings['templates'];
    for (const l of NOTICE_LANGUAGES) templates[l] = { ...(s.custom[l] ?? DEFAULT_TEMPLATES[l]), custom: s.custom[l] !== undefined };
    return { defaultLanguage: s.defaultLanguage, languages: [...NOTICE_LANGUAGES], fields: Object.entries(TEMPLATE_FIELDS).map(([name, description]) => ({ name, description })), templates };
  }

  /** The org's default language and templates (Cairn's defaults where it has none), with the fields templates may use. */
  async settings(ctx: Ctx, orgId: string): Promise<NoticeSettings> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'readConfig', { orgId });
    return this.settingsView(await this.settingsOf(db, orgId));
  }

  /**
   * Change the default language or templates (audited with what changed, not the texts). A
   * template is checked before it is saved: only the when/where/how-long fields, no health words.
   *
   * @example await notify.updateSettings(ctx, orgId, { defaultLanguage: 'nl', templates: { en: null } })
   */
  async updateSettings(ctx: Ctx, orgId: string, patch: NoticeSettingsPatch): Promise<NoticeSettings> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'configure', { orgId });
    if (patch.defaultLanguage !== undefined && !isNoticeLanguage(patch.defaultLanguage)) throw new CairnError('CAIRN_ERR_VALIDATION', `defaultLanguage must be one of ${NOTICE_LANGUAGES.join(', ')}.`, { field: 'defaultLanguage' });
    const checked: Partial<Record<NoticeLanguage, NoticeTemplate | null>> = {};
    for (const [l, t] of Object.entries(patch.templates ?? {})) {
      if (!isNoticeLanguage(l)) throw new CairnError('CAIRN_ERR_VALIDATION', `Templates exist for ${NOTICE_LANGUAGES.join(', ')}.`, { field: `templates.${l.slice(0, 8)}` });
      checked[l] = t === null ? null : checkTemplate(l, t!);
    }
    return db.tx(async (x) => {
      const cur = await this.settingsOf(x, orgId);
      const custom = { ...cur.custom };
      for (const [l, t] of Object.entries(checked) as [NoticeLanguage, NoticeTemplate | null][]) {
        if (t === null) delete custom[l];
        else custom[l] = t;
      }
      const next = { defaultLanguage: patch.defaultLanguage ?? cur.defaultLanguage, custom };
      await new NotifyRepo(x).setSettings({ org_id: orgId, default_language: next.defaultLanguage, templates: JSON.stringify(custom), updated_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'notice.settings', `org:${orgId}`, {
        defaultLanguage: next.defaultLanguage,
        changed: Object.entries(checked).filter(([, t]) => t !== null).map(([l]) => l),
        reset: Object.entries(checked).filter(([, t]) => t === null).map(([l]) => l),
      });
      return this.settingsView(next);
    });
  }

  /** Set the language of a person's notices; null: the org's default (audited). */
  async setPersonLanguage(ctx: Ctx, orgId: string, personId: string, language: NoticeLanguage | null): Promise<{ personId: string; language: NoticeLanguage | null }> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'configure', { orgId }, `person:${personId.slice(0, 64)}`);
    if (language !== null && !isNoticeLanguage(language)) throw new CairnError('CAIRN_ERR_VALIDATION', `language must be one of ${NOTICE_LANGUAGES.join(', ')}, or null for the org's default.`, { field: 'language' });
    return db.tx(async (x) => {
      const p = await this.people.resolve(x, orgId, { id: personId });
      if (!p) throw notFoundOrNoAccess();
      await new NotifyRepo(x).setPersonLanguage(orgId, p.id, language, this.core.clock.nowMs());
      await this.core.audit.record(x, ctx, orgId, 'notice.language', `person:${p.id}`, { language });
      return { personId: p.id, language };
    });
  }

  // ---- candidates -----------------------------------------------------------------------------

  /** The case's first-degree contacts split by whether their device is linked to a person now. */
  private async split(x: Executor, orgId: string, report: CaseReport): Promise<{ linked: Merged[]; unlinked: UnlinkedContact[] }> {
    const owners = await this.people.ownersOf(x, orgId, report.contacts.map((c) => c.device));
    const tz = new TimeZones(x, orgId);
    const merged = new Map<string, Merged>();
    const unlinked: UnlinkedContact[] = [];
    for (const c of report.contacts) {
      const firstMs = Date.parse(c.firstContact);
      const lastMs = Date.parse(c.lastContact);
      const personId = owners.get(c.device);
      if (personId === undefined) {
        unlinked.push({ device: c.device, rank: c.rank, ...facts({ firstMs, lastMs, minutes: c.cumulativeMinutes, zones: c.zones.map((z) => z.name), timeZone: await tz.of(c.zones.map((z) => z.zoneId)) }) });
        continue;
      }
      const m = merged.get(personId) ?? { personId, rank: c.rank, firstMs, lastMs, minutes: 0, zones: new Map() };
      // Several devices of one person saw the same contact: the longest stands for it.
      m.rank = Math.min(m.rank, c.rank);
      m.firstMs = Math.min(m.firstMs, firstMs);
      m.lastMs = Math.max(m.lastMs, lastMs);
      m.minutes = Math.max(m.minutes, c.cumulativeMinutes);
      for (const z of c.zones) {
        const prev = m.zones.get(z.zoneId);
        if (!prev || z.minutes > prev.minutes) m.zones.set(z.zoneId, { name: z.name, minutes: z.minutes });
      }
      merged.set(personId, m);
    }
    return { linked: [...merged.values()].sort((a, b) => a.rank - b.rank), unlinked };
  }

  private async factsOf(x: Executor, orgId: string, m: Merged): Promise<NoticeFacts> {
    const zones = [...m.zones.entries()].sort((a, b) => b[1].minutes - a[1].minutes || (a[0] < b[0] ? -1 : 1));
    return { firstMs: m.firstMs, lastMs: m.lastMs, minutes: m.minutes, zones: zones.map(([, z]) => z.name), timeZone: await new TimeZones(x, orgId).of(zones.map(([id]) => id)) };
  }

  private async languages(x: Executor, orgId: string, personIds: string[], fallback: NoticeLanguage): Promise<Map<string, NoticeLanguage>> {
    const set = await new NotifyRepo(x).languagesOf(orgId, personIds);
    return new Map(personIds.map((id): [string, NoticeLanguage] => {
      const l = set.get(id);
      return [id, isNoticeLanguage(l) ? l : fallback];
    }));
  }

  private async caseFor(x: Executor, orgId: string, caseId: string): Promise<CaseReport> {
    const report = await this.proximity.caseOf(x, orgId, caseId);
    if (!report) throw notFoundOrNoAccess();
    return report;
  }

  /**
   * Who a case's notices would go to (contacts linked to people, with their language and whether
   * an address is on file) and which contacts are unlinked (pseudonyms); audited with the purpose.
   */
  async candidates(ctx: Ctx, orgId: string, caseId: string): Promise<NoticeCandidates> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'read', { orgId }, `case:${caseId.slice(0, 64)}`);
    const report = await this.caseFor(db, orgId, caseId);
    const { linked, unlinked } = await this.split(db, orgId, report);
    const ids = linked.map((m) => m.personId);
    const langs = await this.languages(db, orgId, ids, (await this.settingsOf(db, orgId)).defaultLanguage);
    const emails = await new NotifyRepo(db).withEmail(orgId, ids);
    const out: NoticeCandidate[] = [];
    for (const m of linked) out.push({ personId: m.personId, rank: m.rank, language: langs.get(m.personId)!, hasEmail: emails.has(m.personId), ...facts(await this.factsOf(db, orgId, m)) });
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'notice.candidates', `case:${caseId}`, { purpose: report.purpose, linked: out.length, unlinked: unlinked.length }));
    return { caseId, linked: out, unlinked };
  }

  // ---- the workflow ---------------------------------------------------------------------------

  /**
   * Draft notices for a case's linked contacts through one channel (audited with the purpose).
   * Fails when no contact is linked to a person (the unlinked ones are in `candidates`).
   *
   * @example const batch = await notify.draft(ctx, orgId, { caseId, channelId })
   */
  async draft(ctx: Ctx, orgId: string, input: NoticeDraftInput): Promise<NoticeBatchView> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'draft', { orgId }, `case:${String(input.caseId).slice(0, 64)}`);
    const id = await db.tx(async (x) => {
      const report = await this.caseFor(x, orgId, input.caseId);
      const channel = await new DeliveryRepo(x).getChannel(orgId, input.channelId);
      if (!channel || channel.enabled !== 1 || !(JSON.parse(channel.topics) as string[]).includes(NOTICE_TOPIC)) {
        throw new CairnError('CAIRN_ERR_VALIDATION', `channelId must name an enabled delivery channel of this org subscribed to "${NOTICE_TOPIC}" (an e-mail channel through the org's SMTP server, or a webhook).`, { field: 'channelId' });
      }
      const split = await this.split(x, orgId, report);
      let linked = split.linked;
      if (input.personIds !== undefined) {
        const want = new Set(input.personIds);
        const known = new Set(linked.map((m) => m.personId));
        const stray = [...want].filter((p) => !known.has(p));
        if (stray.length > 0) throw new CairnError('CAIRN_ERR_VALIDATION', 'personIds may only name people linked to contacts of this case (see its notice candidates).', { field: 'personIds', unknown: stray.length });
        linked = linked.filter((m) => want.has(m.personId));
      }
      if (linked.length === 0) {
        throw new CairnError('CAIRN_ERR_VALIDATION', 'No contact of this case is linked to a person, so there is no one to notify; the unlinked contacts are listed in the case\'s notice candidates (link their devices in the people directory, then draft again).', { field: 'caseId', unlinked: split.unlinked.length });
      }
      const settings = await this.settingsOf(x, orgId);
      const ids = linked.map((m) => m.personId);
      const langs = await this.languages(x, orgId, ids, settings.defaultLanguage);
      const emails = channel.kind === 'email' ? await new NotifyRepo(x).withEmail(orgId, ids) : null;
      const now = this.core.clock.nowMs();
      const batchId = newId(now);
      const k = this.core.keys;
      const rows: NoticeRecipientRow[] = [];
      for (const m of linked) {
        const language = langs.get(m.personId)!;
        const f = await this.factsOf(x, orgId, m);
        const rendered = renderNotice(language, settings.custom[language] ?? DEFAULT_TEMPLATES[language], f);
        const stored: StoredNotice = { ...f, ...rendered };
        rows.push({ batch_id: batchId, person_id: m.personId, org_id: orgId, rank: m.rank, language, state: emails && !emails.has(m.personId) ? 'no_address' : 'ready', notice_enc: await k.encrypt(x, orgId, NOTICE_FIELD, JSON.stringify(stored)) });
      }
      const repo = new NotifyRepo(x);
      await repo.insertBatch({
        id: batchId,
        org_id: orgId,
        case_id: report.id,
        channel_id: channel.id,
        state: 'draft',
        purpose_enc: await k.encrypt(x, orgId, PURPOSE_FIELD, report.purpose),
        unlinked_enc: await k.encrypt(x, orgId, UNLINKED_FIELD, JSON.stringify(split.unlinked)),
        recipients: rows.length,
        created_at: now,
        created_by: actorString(ctx.actor),
        approved_at: null,
        approved_by: null,
        sent_at: null,
        sent_by: null,
        updated_at: now,
      });
      await repo.insertRecipients(rows);
      await this.core.audit.record(x, ctx, orgId, 'notice.draft', `notice:${batchId}`, {
        purpose: report.purpose,
        case: report.id,
        channel: channel.id,
        recipients: rows.length,
        noAddress: rows.filter((r) => r.state === 'no_address').length,
        unlinked: split.unlinked.length,
      });
      return batchId;
    });
    return this.viewOf(db, orgId, (await new NotifyRepo(db).getBatch(orgId, id))!);
  }

  /** Audit a refused step (wrong state, same approver) on its own, then rethrow it. */
  private async refused(db: Database, ctx: Ctx, orgId: string, action: string, id: string, e: unknown): Promise<never> {
    if (isCairnError(e) && (e.code === 'CAIRN_ERR_NOTICE_STATE' || e.code === 'CAIRN_ERR_NOTICE_SAME_APPROVER')) {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, action, `notice:${id}`, { refused: e.code }, 'error'));
    }
    throw e;
  }

  /**
   * Approve a draft (audited with the purpose). Four eyes: while the org has more than one active
   * org admin, the drafter cannot approve their own draft (`CAIRN_ERR_NOTICE_SAME_APPROVER`).
   */
  async approve(ctx: Ctx, orgId: string, id: string): Promise<NoticeBatchView> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'approve', { orgId }, `notice:${id.slice(0, 64)}`);
    const me = actorString(ctx.actor);
    try {
      await db.tx(async (x) => {
        const repo = new NotifyRepo(x);
        const b = await repo.getBatch(orgId, id);
        if (!b) throw notFoundOrNoAccess();
        if (b.state !== 'draft') throw stateError(b.state);
        if (b.created_by === me && (await repo.activeOrgAdmins(orgId)) > 1) {
          throw new CairnError('CAIRN_ERR_NOTICE_SAME_APPROVER', 'Another org admin must approve these notices: the org has more than one admin, and this draft is yours.', { draftedBy: b.created_by });
        }
        if ((await repo.transition(orgId, id, ['draft'], 'approved', this.core.clock.nowMs(), me)) === 0) throw stateError('no longer a draft');
        await this.core.audit.record(x, ctx, orgId, 'notice.approve', `notice:${id}`, { purpose: await this.purposeOf(x, b), case: b.case_id, recipients: b.recipients });
      });
    } catch (e) {
      return this.refused(db, ctx, orgId, 'notice.approve', id, e);
    }
    return this.viewOf(db, orgId, (await new NotifyRepo(db).getBatch(orgId, id))!);
  }

  /**
   * Send approved notices: one delivery per ready recipient, queued in this transaction with its
   * `notice_sends` row and the audit event (purpose, how many). Idempotent: calling it again (a
   * retry) queues only people whose last send failed or was cancelled, never one whose notice is
   * delivered or on its way.
   *
   * @example const batch = await notify.send(ctx, orgId, id); // batch.notices[i].status: 'pending' → 'delivered'
   */
  async send(ctx: Ctx, orgId: string, id: string): Promise<NoticeBatchView> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'send', { orgId }, `notice:${id.slice(0, 64)}`);
    const me = actorString(ctx.actor);
    let queued = 0;
    try {
      queued = await db.tx(async (x) => {
        const repo = new NotifyRepo(x);
        const now = this.core.clock.nowMs();
        // Moving approved → sent (or locking a sent batch) serialises concurrent sends of one batch.
        const first = (await repo.transition(orgId, id, ['approved'], 'sent', now, me)) === 1;
        if (!first && (await repo.touch(orgId, id, 'sent', now)) === 0) {
          const b = await repo.getBatch(orgId, id);
          if (!b) throw notFoundOrNoAccess();
          throw stateError(b.state);
        }
        const b = (await repo.getBatch(orgId, id))!;
        const channel = await new DeliveryRepo(x).getChannel(orgId, b.channel_id);
        if (!channel || channel.enabled !== 1) throw new CairnError('CAIRN_ERR_CONFLICT', 'The channel of these notices was removed or turned off; turn it on again, or draft the notices again with another channel.', { field: 'channelId' });
        const latest = new Map<string, NoticeSendRow>();
        for (const s of await repo.sendsOf(orgId, id)) latest.set(s.person_id, s);
        const states = await repo.deliveryStates(orgId, [...latest.values()].map((s) => s.delivery_id));
        let n = 0;
        for (const r of await repo.recipientsOf(orgId, id)) {
          if (r.state !== 'ready') continue;
          const prev = latest.get(r.person_id);
          if (prev) {
            const st = states.get(prev.delivery_id)?.state;
            if (st !== 'failed' && st !== 'cancelled') continue;
          }
          const notice = JSON.parse(await this.core.keys.decrypt(x, orgId, NOTICE_FIELD, r.notice_enc)) as StoredNotice;
          const deliveryId = await this.delivery.enqueueTo(x, orgId, b.channel_id, {
            topic: NOTICE_TOPIC,
            siteId: null,
            sourceId: id,
            body: {
              topic: NOTICE_TOPIC,
              noticeId: id,
              language: r.language,
              subject: notice.subject,
              text: notice.text,
              contact: { from: toIso(notice.firstMs), to: toIso(notice.lastMs), timeZone: notice.timeZone, minutes: Math.max(1, Math.round(notice.minutes)), where: zoneWords(notice.zones, r.language as NoticeLanguage) },
            },
            email: { subject: notice.subject, text: notice.text, language: r.language },
            recipient: r.person_id,
          });
          await repo.insertSend({ delivery_id: deliveryId, org_id: orgId, batch_id: id, person_id: r.person_id, send_no: (prev?.send_no ?? 0) + 1, channel_id: b.channel_id, queued_at: now, queued_by: me });
          n++;
        }
        await this.core.audit.record(x, ctx, orgId, 'notice.send', `notice:${id}`, { purpose: await this.purposeOf(x, b), case: b.case_id, channel: b.channel_id, queued: n, retry: !first });
        return n;
      });
    } catch (e) {
      return this.refused(db, ctx, orgId, 'notice.send', id, e);
    }
    if (queued > 0) this.delivery.kick();
    return this.viewOf(db, orgId, (await new NotifyRepo(db).getBatch(orgId, id))!);
  }

  /** Throw away a draft or approved batch before it is sent (audited); sent notices stay recorded until retention. */
  async discard(ctx: Ctx, orgId: string, id: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'draft', { orgId }, `notice:${id.slice(0, 64)}`);
    try {
      await db.tx(async (x) => {
        const repo = new NotifyRepo(x);
        const b = await repo.getBatch(orgId, id);
        if (!b) throw notFoundOrNoAccess();
        const purpose = await this.purposeOf(x, b);
        if ((await repo.deleteBatch(orgId, id, ['draft', 'approved'])) === 0) throw stateError(b.state);
        await this.core.audit.record(x, ctx, orgId, 'notice.discard', `notice:${id}`, { purpose, case: b.case_id, state: b.state });
      });
    } catch (e) {
      return this.refused(db, ctx, orgId, 'notice.discard', id, e);
    }
  }

  // ---- reading --------------------------------------------------------------------------------

  /** An org's notice batches, newest first (audited with the count). */
  async list(ctx: Ctx, orgId: string, q: { caseId?: string; before?: string; limit?: number } = {}): Promise<NoticeBatchSummary[]> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'read', { orgId });
    const rows = await new NotifyRepo(db).listBatches(orgId, { ...(q.caseId !== undefined ? { caseId: q.caseId } : {}), ...(q.before !== undefined ? { beforeId: q.before } : {}), limit: Math.min(Math.max(1, q.limit ?? 100), 500) });
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'notice.list', `org:${orgId}`, { count: rows.length }));
    return rows.map((b) => this.summaryOf(b));
  }

  /** One batch with every notice as rendered, its sends and the unlinked contacts (audited with the purpose). */
  async get(ctx: Ctx, orgId: string, id: string): Promise<NoticeBatchView> {
    const { db } = await this.core.access.enforce(ctx, 'notice', 'read', { orgId }, `notice:${id.slice(0, 64)}`);
    const b = await new NotifyRepo(db).getBatch(orgId, id);
    if (!b) throw notFoundOrNoAccess();
    const view = await this.viewOf(db, orgId, b);
    await db.tx(async (x) => this.core.audit.record(x, ctx, orgId, 'notice.view', `notice:${id}`, { purpose: await this.purposeOf(x, b), case: b.case_id }));
    return view;
  }

  private purposeOf(x: Executor, b: NoticeBatchRow): Promise<string> {
    return this.core.keys.decrypt(x, b.org_id, PURPOSE_FIELD, b.purpose_enc);
  }

  private summaryOf(b: NoticeBatchRow): NoticeBatchSummary {
    const t = (v: number | null) => (v === null ? null : toIso(v));
    return { id: b.id, caseId: b.case_id, channelId: b.channel_id, state: b.state as NoticeState, recipients: b.recipients, createdAt: toIso(b.created_at), createdBy: b.created_by, approvedAt: t(b.approved_at), approvedBy: b.approved_by, sentAt: t(b.sent_at), sentBy: b.sent_by };
  }

  private async viewOf(x: Executor, orgId: string, b: NoticeBatchRow): Promise<NoticeBatchView> {
    const repo = new NotifyRepo(x);
    const k = this.core.keys;
    const sends = await repo.sendsOf(orgId, b.id);
    const states = await repo.deliveryStates(orgId, sends.map((s) => s.delivery_id));
    const byPerson = new Map<string, NoticeSendView[]>();
    for (const s of sends) {
      const d = states.get(s.delivery_id);
      const l = byPerson.get(s.person_id) ?? [];
      l.push({ deliveryId: s.delivery_id, channelId: s.channel_id, queuedAt: toIso(s.queued_at), queuedBy: s.queued_by, state: d?.state ?? 'unknown', attempts: d?.attempts ?? 0, doneAt: d?.done_at ? toIso(d.done_at) : null, lastError: d?.last_error ?? null });
      byPerson.set(s.person_id, l);
    }
    const counts: Record<RecipientStatus, number> = { not_sent: 0, pending: 0, delivered: 0, failed: 0, cancelled: 0, skipped: 0, unknown: 0 };
    const notices: NoticeRecipientView[] = [];
    for (const r of await repo.recipientsOf(orgId, b.id)) {
      const n = JSON.parse(await k.decrypt(x, orgId, NOTICE_FIELD, r.notice_enc)) as StoredNotice;
      const mine = byPerson.get(r.person_id) ?? [];
      const last = mine[mine.length - 1];
      const status: RecipientStatus = r.state !== 'ready' ? 'skipped' : !last ? 'not_sent' : (['pending', 'delivered', 'failed', 'cancelled'].includes(last.state) ? last.state : 'unknown') as RecipientStatus;
      counts[status]++;
      notices.push({ personId: r.person_id, rank: r.rank, language: r.language as NoticeLanguage, state: r.state as 'ready' | 'no_address', status, ...facts(n), subject: n.subject, text: n.text, sends: mine });
    }
    const unlinked = JSON.parse(await k.decrypt(x, orgId, UNLINKED_FIELD, b.unlinked_enc)) as UnlinkedContact[];
    return { ...this.summaryOf(b), orgId, counts, notices, unlinked };
  }

  // ---- delivery -------------------------------------------------------------------------------

  /**
   * The recipient resolver registered with delivery for `contact-notices`: at each attempt, the
   * person's e-mail address (e-mail channels) or their ids and address added to the webhook body.
   * null (cancelled as `recipient_gone`) when the person was removed or has no address.
   */
  async resolveRecipient(x: Executor, orgId: string, personId: string, kind: 'webhook' | 'email', body: unknown): Promise<{ to?: string[]; body?: unknown } | null> {
    const c = await this.people.contactOf(x, orgId, personId);
    if (!c) return null;
    if (kind === 'email') return c.email ? { to: [c.email] } : null;
    return { body: { ...(body as Record<string, unknown>), recipient: { personId, personRef: c.personRef, email: c.email } } };
  }
}

/** The time zone notices write a contact's times in: the site of its longest zone, else UTC. */
class TimeZones {
  /** Zone id → its site's time zone ('' when the zone or site is gone), for one question. */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly x: Executor,
    private readonly orgId: string,
  ) {}

  async of(zoneIds: readonly string[]): Promise<string> {
    for (const zoneId of zoneIds) {
      let tz = this.seen.get(zoneId);
      if (tz === undefined) {
        const r = reposFor(this.x).tenancy;
        const zone = await r.getZone(this.orgId, zoneId);
        const site = zone ? await r.getSite(this.orgId, zone.site_id) : undefined;
        tz = site?.timezone ?? '';
        this.seen.set(zoneId, tz);
      }
      if (tz) return tz;
    }
    return 'UTC';
  }
}
