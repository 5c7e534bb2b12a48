/**
 * HTTP routes of notices to exposed people (R-CT-3, R-CT-6, R-CT-8): a case's notice candidates
 * (linked people, unlinked pseudonyms), drafting, approving, sending and discarding a batch,
 * reading batches with every notice as rendered and each send's outcome, the org's templates and
 * default language, and a person's notice language. No route takes or returns an e-mail address.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import type { NoticeDraftInput, NoticeSettingsPatch, NotifyService } from './service.ts';
import { BODY_MAX_CHARS, NOTICE_LANGUAGES, SUBJECT_MAX_CHARS, type NoticeLanguage } from './templates.ts';

const tags = ['contact tracing'];
const Language = Type.Union(NOTICE_LANGUAGES.map((l) => Type.Literal(l)), { description: 'en (English) or nl (Dutch).' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NoticeParams = Strict({ orgId: Id, noticeId: Id });

const ContactFields = {
  firstContact: IsoTime,
  lastContact: IsoTime,
  minutes: Type.Number({ description: 'Cumulative minutes of contact.' }),
  zones: Type.Array(Type.Union([Type.String(), Type.Null()]), { description: 'Zone names where it happened, longest first.' }),
  timeZone: Type.String({ description: 'The time zone the notice writes times in (the site\'s).' }),
};
const Unlinked = Strict({ device: Type.String({ description: 'The contact\'s device pseudonym: no person is linked to it, so it is not notified.' }), rank: Type.Integer(), ...ContactFields });
const Candidate = Strict({ personId: Id, rank: Type.Integer(), language: Language, hasEmail: Type.Boolean({ description: 'Whether an e-mail address is on file (never the address).' }), ...ContactFields });
const Candidates = Strict({ caseId: Id, linked: Type.Array(Candidate), unlinked: Type.Array(Unlinked) });
const Send = Strict({
  deliveryId: Id,
  channelId: Id,
  queuedAt: IsoTime,
  queuedBy: Type.String(),
  state: Type.String({ description: 'pending, delivered, failed or cancelled (unknown once purged).' }),
  attempts: Type.Integer(),
  doneAt: Nullable(IsoTime),
  lastError: Nullable(Type.String({ description: 'The last failure as a code (smtp_550, http_503, recipient_gone).' })),
});
const Status = Type.Union(['not_sent', 'pending', 'delivered', 'failed', 'cancelled', 'skipped', 'unknown'].map((s) => Type.Literal(s)));
const Notice = Strict({
  personId: Id,
  rank: Type.Integer(),
  language: Language,
  state: Type.Union([Type.Literal('ready'), Type.Literal('no_address')], { description: 'no_address: the channel is e-mail and the person has no address on file (listed, not sent).' }),
  status: Status,
  ...ContactFields,
  subject: Type.String({ description: 'The notice as it is (or was) sent.' }),
  text: Type.String(),
  sends: Type.Array(Send),
});
const State = Type.Union([Type.Literal('draft'), Type.Literal('approved'), Type.Literal('sent')]);
const SummaryFields = {
  id: Id,
  caseId: Id,
  channelId: Id,
  state: State,
  recipients: Type.Integer(),
  createdAt: IsoTime,
  createdBy: Type.String(),
  approvedAt: Nullable(IsoTime),
  approvedBy: Nullable(Type.String()),
  sentAt: Nullable(IsoTime),
  sentBy: Nullable(Type.String()),
};
const Summary = Strict(SummaryFields);
const Batch = Strict({
  ...SummaryFields,
  orgId: Id,
  counts: Strict(Object.fromEntries(['not_sent', 'pending', 'delivered', 'failed', 'cancelled', 'skipped', 'unknown'].map((s) => [s, Type.Integer()]))),
  notices: Type.Array(Notice),
  unlinked: Type.Array(Unlinked),
});
const TemplateIn = Strict({
  subject: Type.String({ minLength: 1, maxLength: SUBJECT_MAX_CHARS, description: 'One line; may use the fields below.' }),
  body: Type.String({ minLength: 1, maxLength: BODY_MAX_CHARS, description: 'Plain text with {{date}}, {{from}}, {{to}}, {{timezone}}, {{duration}} and {{zones}}; nothing else, and never health information (R-CT-6).' }),
});
const Settings = Strict({
  defaultLanguage: Language,
  languages: Type.Array(Language),
  fields: Type.Array(Strict({ name: Type.String(), description: Type.String() })),
  templates: Strict(Object.fromEntries(NOTICE_LANGUAGES.map((l) => [l, Strict({ subject: Type.String(), body: Type.String(), custom: Type.Boolean() })]))),
});
const SettingsPatch = Strict({
  defaultLanguage: Type.Optional(Language),
  templates: Type.Optional(Strict(Object.fromEntries(NOTICE_LANGUAGES.map((l) => [l, Type.Optional(Type.Union([TemplateIn, Type.Null()], { description: 'null puts Cairn\'s default back.' }))])))),
});
const DraftIn = Strict({
  caseId: Id,
  channelId: { ...Id, description: 'A delivery channel subscribed to contact-notices: e-mail through the org\'s SMTP server, or a signed webhook.' },
  personIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 10_000, description: 'Only these people of the case\'s linked contacts (default: all).' })),
});

export function notifyRoutes(app: FastifyInstance, notify: NotifyService): void {
  app.get<{ Params: { orgId: string; caseId: string } }>(
    '/api/v1/orgs/:orgId/contact-traces/:caseId/notice-candidates',
    { schema: { tags, summary: 'Who a case\'s notices would go to (contacts linked to people) and its unlinked contacts as pseudonyms (audited with the purpose)', params: Strict({ orgId: Id, caseId: Id }), response: withErrors({ 200: Candidates }) } },
    (req) => notify.candidates(ctxOf(req), req.params.orgId, req.params.caseId),
  );
  app.post<{ Params: { orgId: string }; Body: NoticeDraftInput }>(
    '/api/v1/orgs/:orgId/notices',
    {
      schema: {
        tags,
        summary: 'Draft notices for a case\'s contacts that are linked to people (audited with the case\'s purpose)',
        description: 'Each notice is rendered in the person\'s language from the org\'s template and says only when, where and for how long the contact happened. Unlinked contacts are listed, never notified. Next: approve (another org admin when the org has more than one), then send.',
        params: OrgParams,
        body: DraftIn,
        response: withErrors({ 200: Batch }),
      },
    },
    (req) => notify.draft(ctxOf(req), req.params.orgId, req.body),
  );
  app.get<{ Params: { orgId: string }; Querystring: { caseId?: string; before?: string; limit?: number } }>(
    '/api/v1/orgs/:orgId/notices',
    { schema: { tags, summary: 'Notice batches, newest first (audited)', params: OrgParams, querystring: Strict({ caseId: Type.Optional(Id), before: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) }), response: withErrors({ 200: Type.Array(Summary) }) } },
    (req) => notify.list(ctxOf(req), req.params.orgId, req.query),
  );
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/notices/settings',
    { schema: { tags, summary: 'The org\'s notice templates (English, Dutch) and default language, with the fields a template may use', params: OrgParams, response: withErrors({ 200: Settings }) } },
    (req) => notify.settings(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: NoticeSettingsPatch }>(
    '/api/v1/orgs/:orgId/notices/settings',
    { schema: { tags, summary: 'Change the default language or a template (checked: only when/where/how-long fields, no health words; audited)', params: OrgParams, body: SettingsPatch, response: withErrors({ 200: Settings }) } },
    (req) => notify.updateSettings(ctxOf(req), req.params.orgId, req.body),
  );
  app.get<{ Params: { orgId: string; noticeId: string } }>(
    '/api/v1/orgs/:orgId/notices/:noticeId',
    { schema: { tags, summary: 'A notice batch: every notice as rendered, each send with its outcome, the unlinked contacts (audited with the purpose)', params: NoticeParams, response: withErrors({ 200: Batch }) } },
    (req) => notify.get(ctxOf(req), req.params.orgId, req.params.noticeId),
  );
  app.post<{ Params: { orgId: string; noticeId: string } }>(
    '/api/v1/orgs/:orgId/notices/:noticeId/approve',
    { schema: { tags, summary: 'Approve drafted notices (another org admin than the drafter when the org has more than one; audited)', params: NoticeParams, response: withErrors({ 200: Batch }) } },
    (req) => notify.approve(ctxOf(req), req.params.orgId, req.params.noticeId),
  );
  app.post<{ Params: { orgId: string; noticeId: string } }>(
    '/api/v1/orgs/:orgId/notices/:noticeId/send',
    {
      schema: {
        tags,
        summary: 'Send approved notices (idempotent: a retry queues only people whose last send failed; audited)',
        description: 'Each ready notice is queued once through the batch\'s channel; e-mail addresses are decrypted only by the sender. The answer shows each send\'s state; delivery outcomes follow (GET the batch).',
        params: NoticeParams,
        response: withErrors({ 200: Batch }),
      },
    },
    (req) => notify.send(ctxOf(req), req.params.orgId, req.params.noticeId),
  );
  app.delete<{ Params: { orgId: string; noticeId: string } }>(
    '/api/v1/orgs/:orgId/notices/:noticeId',
    { schema: { tags, summary: 'Discard notices that were not sent (draft or approved; audited)', params: NoticeParams, response: withErrors({ 204: Type.Null() }) } },
    async (req, reply) => {
      await notify.discard(ctxOf(req), req.params.orgId, req.params.noticeId);
      return reply.status(204).send();
    },
  );
  app.put<{ Params: { orgId: string; personId: string }; Body: { language: NoticeLanguage | null } }>(
    '/api/v1/orgs/:orgId/people/:personId/notice-language',
    { schema: { tags, summary: 'The language of a person\'s notices; null: the org\'s default (audited)', params: Strict({ orgId: Id, personId: Id }), body: Strict({ language: Type.Union([Language, Type.Null()]) }), response: withErrors({ 200: Strict({ personId: Id, language: Type.Union([Language, Type.Null()]) }) }) } },
    (req) => notify.setPersonLanguage(ctxOf(req), req.params.orgId, req.params.personId, req.body.language),
  );
}
