/**
 * HTTP routes of data-subject requests (R-PRIV-4). Public, without a session: the privacy page
 * (`GET`/`POST /privacy/:orgId`, HTML forms, English or Dutch from `?lang=` or the browser) and the
 * same steps as JSON under `/api/v1/privacy/orgs/:orgId/requests` (the status token travels in
 * POST bodies, never in a URL). For privacy officers: the request queue under
 * `/api/v1/orgs/:orgId/dsar`. Thin: validate, call the service, shape the answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CairnError, statusOf } from '../../kernel/errors.ts';
import { ctxOf } from '../../http/auth.ts';
import { toCairnError } from '../../http/errors.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { pickLang, type Lang } from './messages.ts';
import { errorPage, intakePage, PRIVACY_PAGE_HEADERS, receiptPage, statusPage } from './pages.ts';
import { EXTEND_REASONS, REJECT_REASONS, type ExtendReason, type IntakeInput, type PublicMeta, type RejectReason, type RightsService } from './service.ts';
import { DSAR_ID_KINDS, DSAR_KINDS, DSAR_REGIMES, type DsarIdKind, type DsarKind, type DsarRegime, type DsarStatus } from './types.ts';

const Kind = Type.Union(DSAR_KINDS.map((k) => Type.Literal(k)));
const Regime = Type.Union(DSAR_REGIMES.map((k) => Type.Literal(k)));
const IdKind = Type.Union(DSAR_ID_KINDS.map((k) => Type.Literal(k)));
const Status = Type.Union((['unverified', 'verified', 'approved', 'fulfilled', 'rejected', 'locked'] as const).map((k) => Type.Literal(k)));
const LangT = Type.Union([Type.Literal('en'), Type.Literal('nl')]);
const Token = Type.String({ minLength: 16, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'The status token given at intake (shown once).' });
const Code = Type.String({ maxLength: 16, description: 'The 6-digit code from the e-mail.' });
const Intake = Strict({
  kind: Kind,
  regime: Type.Optional(Regime),
  identifier: Strict({ kind: IdKind, value: Type.String({ minLength: 1, maxLength: 254, description: 'Personal: an e-mail address, MAC address, badge id or username; stored only as a keyed lookup and ciphertext.' }) }),
  contactEmail: Type.Optional(Type.String({ maxLength: 254, description: 'Where the code and notices go (required for a badge id or username).' })),
  correction: Type.Optional(Strict({ name: Type.Optional(Type.String({ maxLength: 200 })), email: Type.Optional(Type.String({ maxLength: 254 })) })),
  lang: Type.Optional(LangT),
});
const Receipt = Strict({ requestId: Id, statusToken: Type.String(), status: Status, verification: Type.String(), receivedAt: IsoTime, dueAt: IsoTime });
const PublicStatusT = Strict({ requestId: Id, kind: Kind, regime: Regime, status: Status, verification: Type.Union([Type.String(), Type.Null()]), receivedAt: IsoTime, dueAt: IsoTime, extended: Type.Boolean(), archiveAvailable: Type.Boolean(), lifted: Type.Boolean() });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const View = Strict({
  id: Id, kind: Kind, regime: Regime, idKind: IdKind, channel: Type.String(), status: Status, verification: Type.Union([Type.String(), Type.Null()]),
  receivedAt: IsoTime, dueAt: IsoTime, receiptDueAt: Nullable(IsoTime), receiptSentAt: Nullable(IsoTime), verifiedAt: Nullable(IsoTime), approvedAt: Nullable(IsoTime), closedAt: Nullable(IsoTime),
  extended: Type.Boolean(), extensionReason: Nullable(Type.String()), rejectReason: Nullable(Type.String()), liftedAt: Nullable(IsoTime), overdue: Type.Boolean(),
  result: Type.Union([Type.Record(Type.String(), Type.Integer()), Type.Null()]),
});
const Detail = Type.Intersect([View, Strict({ identifier: Nullable(Type.String()), contactEmail: Nullable(Type.String()), correction: Type.Union([Strict({ name: Type.Optional(Type.String()), email: Type.Optional(Type.String()) }), Type.Null()]) })]);
const ReqParams = Strict({ orgId: Id, requestId: Id });
const tags = ['privacy requests'];

function meta(req: FastifyRequest, channel: 'page' | 'api'): PublicMeta {
  return { clientIp: req.ip, requestId: req.id, channel };
}

function zipReply(reply: FastifyReply, requestId: string, body: Buffer): FastifyReply {
  return reply.type('application/zip').header('content-disposition', `attachment; filename="privacy-${requestId}.zip"`).header('cache-control', 'no-store').send(body);
}

/** The form fields of the privacy page (first value of each name). */
function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) if (!(k in out)) out[k] = v.slice(0, 1024);
  return out;
}

export async function rightsRoutes(app: FastifyInstance, rights: RightsService): Promise<void> {
  // ---- public JSON API ---------------------------------------------------------------------
  app.post<{ Params: { orgId: string }; Body: IntakeInput }>(
    '/api/v1/privacy/orgs/:orgId/requests',
    { bodyLimit: 8192, schema: { tags, summary: 'Make a privacy request (access, correction, deletion, restriction, objection, opt-out of sale); no sign-in. Returns the reference and a status token, shown once.', params: OrgParams, body: Intake, security: [], response: withErrors({ 201: Receipt }) } },
    async (req, reply) => reply.status(201).send(await rights.submit(req.params.orgId, req.body, meta(req, 'api'))),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { token: string; code: string } }>(
    '/api/v1/privacy/orgs/:orgId/requests/:requestId/verify',
    { bodyLimit: 1024, schema: { tags, summary: 'Confirm a request with the e-mailed code (10 minutes; locked after 5 wrong codes)', params: ReqParams, body: Strict({ token: Token, code: Code }), security: [], response: withErrors({ 200: PublicStatusT }) } },
    (req) => rights.verifyCode(req.params.orgId, req.params.requestId, req.body.token, req.body.code, meta(req, 'api')),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { token: string } }>(
    '/api/v1/privacy/orgs/:orgId/requests/:requestId/verify-device',
    { bodyLimit: 1024, schema: { tags, summary: 'Confirm a request for a MAC address: the device went through the guest portal after the request (within 30 minutes)', params: ReqParams, body: Strict({ token: Token }), security: [], response: withErrors({ 200: PublicStatusT }) } },
    (req) => rights.verifyDevice(req.params.orgId, req.params.requestId, req.body.token, meta(req, 'api')),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { token: string } }>(
    '/api/v1/privacy/orgs/:orgId/requests/:requestId/code',
    { bodyLimit: 1024, schema: { tags, summary: 'Send a new code (at most three per request)', params: ReqParams, body: Strict({ token: Token }), security: [], response: withErrors({ 200: PublicStatusT }) } },
    (req) => rights.resendCode(req.params.orgId, req.params.requestId, req.body.token, meta(req, 'api')),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { token: string } }>(
    '/api/v1/privacy/orgs/:orgId/requests/:requestId/status',
    { bodyLimit: 1024, schema: { tags, summary: 'Where a request stands (no data)', params: ReqParams, body: Strict({ token: Token }), security: [], response: withErrors({ 200: PublicStatusT }) } },
    (req) => rights.status(req.params.orgId, req.params.requestId, req.body.token, meta(req, 'api')),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { token: string } }>(
    '/api/v1/privacy/orgs/:orgId/requests/:requestId/archive',
    { bodyLimit: 1024, schema: { tags, summary: 'Download the copy of an answered access request (ZIP of JSON and CSV with the processing information)', params: ReqParams, body: Strict({ token: Token }), security: [], produces: ['application/zip'] } },
    async (req, reply) => zipReply(reply, req.params.requestId, await rights.downloadArchive(req.params.orgId, req.params.requestId, req.body.token, meta(req, 'api'))),
  );

  // ---- privacy officers ----------------------------------------------------------------------
  app.get<{ Params: { orgId: string }; Querystring: { status?: DsarStatus; overdue?: boolean; open?: boolean; limit?: number; before?: string } }>(
    '/api/v1/orgs/:orgId/dsar',
    { schema: { tags, summary: 'Privacy requests, newest first (no identifiers); overdue=true: open ones past a deadline', params: OrgParams, querystring: Strict({ status: Type.Optional(Status), overdue: Type.Optional(Type.Boolean()), open: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), before: Type.Optional(Id) }), response: withErrors({ 200: Type.Array(View) }) } },
    (req) => rights.list(ctxOf(req), req.params.orgId, req.query),
  );
  app.post<{ Params: { orgId: string }; Body: IntakeInput }>(
    '/api/v1/orgs/:orgId/dsar',
    { bodyLimit: 8192, schema: { tags, summary: 'Record a request received by letter or in person, identity checked by the privacy officer (starts verified; audited)', params: OrgParams, body: Intake, response: withErrors({ 201: Type.Intersect([View, Strict({ statusToken: Type.String() })]) }) } },
    async (req, reply) => reply.status(201).send(await rights.intake(ctxOf(req), req.params.orgId, req.body)),
  );
  app.get<{ Params: { orgId: string; requestId: string } }>(
    '/api/v1/orgs/:orgId/dsar/:requestId',
    { schema: { tags, summary: 'One request with the subject\'s identifier and contact address (a personal read, audited)', params: ReqParams, response: withErrors({ 200: Detail }) } },
    (req) => rights.get(ctxOf(req), req.params.orgId, req.params.requestId),
  );
  for (const [step, summary] of [
    ['approve', 'Approve a verified request (audited)'],
    ['fulfil', 'Carry out an approved request: archive, erase, correct, restrict or record (audited per step)'],
    ['lift', 'Lift a restriction or objection in force (audited)'],
  ] as const) {
    app.post<{ Params: { orgId: string; requestId: string } }>(
      `/api/v1/orgs/:orgId/dsar/:requestId/${step}`,
      { schema: { tags, summary, params: ReqParams, response: withErrors({ 200: step === 'fulfil' ? Strict({ request: View, records: Type.Record(Type.String(), Type.Integer()), auditRedacted: Type.Optional(Type.Integer()), archiveBytes: Type.Optional(Type.Integer()) }) : View }) } },
      (req) => (step === 'approve' ? rights.approve(ctxOf(req), req.params.orgId, req.params.requestId) : step === 'lift' ? rights.lift(ctxOf(req), req.params.orgId, req.params.requestId) : rights.fulfil(ctxOf(req), req.params.orgId, req.params.requestId)),
    );
  }
  app.post<{ Params: { orgId: string; requestId: string }; Body: { reason: RejectReason } }>(
    '/api/v1/orgs/:orgId/dsar/:requestId/reject',
    { schema: { tags, summary: 'Refuse a request, with a reason code (the subject is told; audited)', params: ReqParams, body: Strict({ reason: Type.Union(REJECT_REASONS.map((r) => Type.Literal(r))) }), response: withErrors({ 200: View }) } },
    (req) => rights.reject(ctxOf(req), req.params.orgId, req.params.requestId, req.body.reason),
  );
  app.post<{ Params: { orgId: string; requestId: string }; Body: { reason: ExtendReason } }>(
    '/api/v1/orgs/:orgId/dsar/:requestId/extend',
    { schema: { tags, summary: 'Use the one extension the regime allows (GDPR two months, CCPA 45 days; audited)', params: ReqParams, body: Strict({ reason: Type.Union(EXTEND_REASONS.map((r) => Type.Literal(r))) }), response: withErrors({ 200: View }) } },
    (req) => rights.extend(ctxOf(req), req.params.orgId, req.params.requestId, req.body.reason),
  );
  app.get<{ Params: { orgId: string; requestId: string } }>(
    '/api/v1/orgs/:orgId/dsar/:requestId/archive',
    { schema: { tags, summary: 'The archive of an answered access request, to pass on to the subject (audited)', params: ReqParams, produces: ['application/zip'] } },
    async (req, reply) => zipReply(reply, req.params.requestId, await rights.archive(ctxOf(req), req.params.orgId, req.params.requestId)),
  );

  // ---- the public privacy page (HTML forms, no script) -------------------------------------
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => done(null, parseForm(String(body))));
    const page = async (req: FastifyRequest, reply: FastifyReply, lang: Lang, orgId: string, fn: () => Promise<string | { zip: Buffer; requestId: string }>) => {
      try {
        const out = await fn();
        if (typeof out !== 'string') return zipReply(reply, out.requestId, out.zip);
        return reply.status(200).headers(PRIVACY_PAGE_HEADERS).send(out);
      } catch (e) {
        const ce = toCairnError(e);
        if (statusOf(ce.code) >= 500) req.log.error({ err: e }, 'privacy page failed');
        else req.log.info({ code: ce.code }, 'privacy request refused');
        return reply.status(statusOf(ce.code)).headers(PRIVACY_PAGE_HEADERS).header('x-cairn-error', ce.code).send(errorPage(lang, orgId, ce.code, ce.message));
      }
    };
    scope.get<{ Params: { orgId: string }; Querystring: { lang?: string } }>(
      '/privacy/:orgId',
      { schema: { hide: true, params: OrgParams, querystring: Strict({ lang: Type.Optional(LangT) }) } },
      (req, reply) => {
        const lang = pickLang(req.query.lang, req.headers['accept-language']);
        return page(req, reply, lang, req.params.orgId, async () => {
          const org = await rights.publicOrg(req.params.orgId);
          return intakePage(lang, org, org.regime);
        });
      },
    );
    scope.post<{ Params: { orgId: string }; Querystring: { lang?: string }; Body: Record<string, string> }>(
      '/privacy/:orgId',
      { bodyLimit: 8192, schema: { hide: true, params: OrgParams, querystring: Strict({ lang: Type.Optional(LangT) }), consumes: ['application/x-www-form-urlencoded'] } },
      (req, reply) => {
        const f = (req.body ?? {}) as Record<string, string>;
        const lang = pickLang(f.lang ?? req.query.lang, req.headers['accept-language']);
        const orgId = req.params.orgId;
        return page(req, reply, lang, orgId, async () => {
          const org = await rights.publicOrg(orgId);
          const m = meta(req, 'page');
          const ref = { requestId: f.requestId ?? '', token: f.token ?? '' };
          if (f.action !== 'submit' && !/^[0-9a-f-]{36}$/.test(ref.requestId)) throw new CairnError('CAIRN_ERR_VALIDATION', lang === 'nl' ? 'Vul de referentie en het token in.' : 'Enter the reference and the token.', { field: 'requestId' });
          switch (f.action) {
            case 'submit': {
              const correction = { ...(f.correctionName ? { name: f.correctionName } : {}), ...(f.correctionEmail ? { email: f.correctionEmail } : {}) };
              const input: IntakeInput = {
                kind: f.kind as DsarKind,
                regime: (f.regime as DsarRegime | undefined) ?? org.regime,
                identifier: { kind: f.idKind as DsarIdKind, value: f.identifier ?? '' },
                ...(f.contactEmail ? { contactEmail: f.contactEmail } : {}),
                ...(f.kind === 'correction' ? { correction } : {}),
                lang,
              };
              return receiptPage(lang, org, await rights.submit(orgId, input, m));
            }
            case 'verify':
              return statusPage(lang, org, await rights.verifyCode(orgId, ref.requestId, ref.token, (f.code ?? '').trim(), m), ref.token);
            case 'resend':
              return statusPage(lang, org, await rights.resendCode(orgId, ref.requestId, ref.token, m), ref.token);
            case 'device':
              return statusPage(lang, org, await rights.verifyDevice(orgId, ref.requestId, ref.token, m), ref.token);
            case 'status':
              return statusPage(lang, org, await rights.status(orgId, ref.requestId, ref.token, m), ref.token);
            case 'archive':
              return { zip: await rights.downloadArchive(orgId, ref.requestId, ref.token, m), requestId: ref.requestId };
            default:
              throw new CairnError('CAIRN_ERR_VALIDATION', 'Unknown action.', { field: 'action' });
          }
        });
      },
    );
  });
}
