/**
 * HTTP routes of notice and consent (R-PRIV-5). Two kinds:
 *
 *  - `/api/v1/orgs/{orgId}/…`: terms (draft, edit, publish), a site's portal settings and secret,
 *    consent records, the marketing audience (sessions or machine tokens, access per policy
 *    `consent`), and the app's SDK opt-in endpoint (a machine token of the org, role sensor).
 *  - `/portal/…`: public pages and calls with no session. The splash page (`GET`, the
 *    controller's redirect lands here) and the decision (`POST`, a form signed when the page was
 *    served), the result check for controllers (`POST …/verify`, authenticated by the result's
 *    HMAC), and unsubscribe links (`/portal/unsubscribe/{token}`, the token is signed). Each is
 *    rate limited per client address and per site, bodies are capped at 16 KiB, and the HTML pages
 *    show refusals with their code.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { toCairnError } from '../../http/errors.ts';
import { WindowLimiter } from '../../http/ratelimit.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { CairnError, statusOf } from '../../kernel/errors.ts';
import { WORDS, negotiate, type Lang } from './i18n.ts';
import { PAGE_HEADERS, esc, render } from './render.ts';
import { FORM_FIELDS, RESULT_FIELDS, UNSUBSCRIBE_TOKEN_PATTERN } from './signing.ts';
import type { ConsentServices } from './index.ts';
import type { PortalSettings } from './portal.ts';

/** Requests per minute on the public routes: per client address, and per site (or org for unsubscribe). */
export interface PortalLimits {
  perAddressPerMinute: number;
  perSitePerMinute: number;
}
export const DEFAULT_PORTAL_LIMITS: PortalLimits = { perAddressPerMinute: 120, perSitePerMinute: 3000 };
/** Largest body of a public portal request. */
export const PORTAL_BODY_LIMIT_BYTES = 16 * 1024;

const tags = ['consent'];
const Lang = Type.Union([Type.Literal('en'), Type.Literal('nl')]);
const Audience = Type.Union([Type.Literal('portal'), Type.Literal('sdk')]);
const Text = Strict({ title: Type.String({ minLength: 1, maxLength: 200 }), body: Type.String({ minLength: 1, maxLength: 50_000, description: 'Plain text; blank lines separate paragraphs.' }) });
const Texts = Strict({ en: Text, nl: Text }, { description: 'The terms in English and Dutch (both required).' });
const Terms = Strict({ id: Id, orgId: Id, siteId: Type.Union([Id, Type.Null()]), audience: Audience, version: Type.Union([Type.Integer(), Type.Null()]), status: Type.Union([Type.Literal('draft'), Type.Literal('published')]), texts: Texts, createdAt: IsoTime, updatedAt: IsoTime, publishedAt: Type.Union([IsoTime, Type.Null()]) });
const ContactField = Type.Union([Type.Literal('name'), Type.Literal('email'), Type.Literal('phone')]);
const PortalSettingsIn = Strict({
  enabled: Type.Optional(Type.Boolean()),
  contactFields: Type.Optional(Type.Array(ContactField, { maxItems: 3, description: 'What the portal asks guests for; none by default. Encrypted under the org key.' })),
  marketingOptIn: Type.Optional(Type.Boolean({ description: 'Offer a separate, unticked marketing opt-in (needs the email field).' })),
  resultUrl: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()], { description: 'Where the browser goes after the decision, with the signed result.' })),
  grantHosts: Type.Optional(Type.Array(Type.String({ maxLength: 253 }), { maxItems: 20, description: 'Hosts whose hand-off grant URL (Meraki base_grant_url) may be used when no result URL is set; a leading dot allows subdomains.' })),
});
const PortalView = Strict({
  orgId: Id,
  siteId: Id,
  enabled: Type.Boolean(),
  contactFields: Type.Array(ContactField),
  marketingOptIn: Type.Boolean(),
  resultUrl: Type.Union([Type.String(), Type.Null()]),
  grantHosts: Type.Array(Type.String()),
  secretSet: Type.Boolean(),
  portalPath: Type.String(),
  terms: Type.Union([Strict({ id: Id, version: Type.Integer(), siteId: Type.Union([Id, Type.Null()]) }), Type.Null()]),
});
const Contact = Strict({ name: Type.Optional(Type.String()), email: Type.Optional(Type.String()), phone: Type.Optional(Type.String()) });
const RecordView = Strict({ id: Type.String(), siteId: Type.Union([Type.String(), Type.Null()]), channel: Type.String(), purpose: Type.String(), device: Type.String(), deviceKind: Type.String(), granted: Type.Boolean(), termsId: Type.Union([Type.String(), Type.Null()]), termsVersion: Type.Union([Type.Integer(), Type.Null()]), language: Type.Union([Type.String(), Type.Null()]), contact: Type.Union([Contact, Type.Null()]), at: IsoTime });
const Str = (max: number) => Type.Optional(Type.String({ maxLength: max }));
/** Hand-off parameters of the vendors (see handoff.ts); others are ignored. */
const HandoffQuery = Type.Object(
  {
    client_mac: Str(2048), node_mac: Str(2048), ap_mac: Str(2048), id: Str(2048), ap: Str(2048), mac: Str(2048), apmac: Str(2048), apname: Str(2048),
    ssid: Str(2048), essid: Str(2048), network: Str(2048), url: Str(2048), user_continue_url: Str(2048), continue_url: Str(2048), base_grant_url: Str(2048), lang: Type.Optional(Lang),
  },
  { additionalProperties: true, description: 'The controller\'s redirect parameters: Meraki (client_mac, node_mac, base_grant_url, user_continue_url), Mist (client_mac, ap_mac, ssid, url), UniFi (id, ap, ssid, url), Aruba (mac, apmac, essid or network, url).' },
);
const DecisionBody = Type.Object(
  {
    ...Object.fromEntries(FORM_FIELDS.map((f) => [f, Str(2048)])),
    ft: Str(128),
    decision: Type.Optional(Type.Union([Type.Literal('accept'), Type.Literal('decline')])),
    name: Str(200), email: Str(254), phone: Str(32), marketing: Str(8),
  },
  { additionalProperties: false },
);
const ResultBody = Strict(Object.fromEntries([...RESULT_FIELDS, 'sig'].map((f) => [f, Type.String({ maxLength: 2048 })])));
const SiteParams = Strict({ orgId: Id, siteId: Id });
const TermsParams = Strict({ orgId: Id, termsId: Id });
const TokenParams = Strict({ token: Type.String({ pattern: UNSUBSCRIBE_TOKEN_PATTERN }) });

/** First value of each field of an `application/x-www-form-urlencoded` body. */
function parseForm(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(text)) if (!(k in out)) out[k] = v;
  return out;
}

function origin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

export async function consentRoutes(app: FastifyInstance, d: ConsentServices, opts: { nowMs: () => number; limits?: Partial<PortalLimits> }): Promise<void> {
  const limits = { ...DEFAULT_PORTAL_LIMITS, ...(opts.limits ?? {}) };
  const perAddress = new WindowLimiter(limits.perAddressPerMinute, 60_000, opts.nowMs);
  const perSite = new WindowLimiter(limits.perSitePerMinute, 60_000, opts.nowMs);
  const limit = (req: FastifyRequest, scope: string) => {
    const a = perAddress.hit(req.ip);
    const s = perSite.hit(scope);
    if (!a || !s) throw new CairnError('CAIRN_ERR_RATE_LIMITED', 'Too many requests to the guest portal; wait a minute and try again.');
  };
  /** An HTML page, or a refusal shown as a page that names its code. */
  const page = async (req: FastifyRequest, reply: FastifyReply, lang: Lang, fn: () => Promise<string | { redirect: string }>) => {
    try {
      const out = await fn();
      if (typeof out !== 'string') return reply.status(303).header('location', out.redirect).header('cache-control', 'no-store').send();
      return reply.status(200).headers(PAGE_HEADERS).send(out);
    } catch (e) {
      const ce = toCairnError(e);
      if (statusOf(ce.code) >= 500) req.log.error({ err: e }, 'portal page failed');
      else req.log.info({ code: ce.code }, 'portal request refused');
      const w = WORDS[lang];
      const html = render('message', { lang, title: w.errorTitle, message: ce.message, extra: `<p class="code" id="code">${esc(ce.code)}</p>` });
      return reply.status(statusOf(ce.code)).headers(PAGE_HEADERS).header('x-cairn-error', ce.code).send(html);
    }
  };

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: PORTAL_BODY_LIMIT_BYTES }, (_req, body, done) => done(null, parseForm(String(body))));

    // ---- terms ------------------------------------------------------------------------------
    scope.get<{ Params: { orgId: string }; Querystring: { audience?: 'portal' | 'sdk'; siteId?: string } }>(
      '/api/v1/orgs/:orgId/consent/terms',
      { schema: { tags, summary: 'Terms versions (drafts and published), newest first', params: OrgParams, querystring: Strict({ audience: Type.Optional(Audience), siteId: Type.Optional(Id) }), response: withErrors({ 200: Type.Array(Terms) }) } },
      (req) => d.terms.list(ctxOf(req), req.params.orgId, req.query),
    );
    scope.post<{ Params: { orgId: string }; Body: { audience: 'portal' | 'sdk'; siteId?: string | null; texts: unknown } }>(
      '/api/v1/orgs/:orgId/consent/terms',
      { schema: { tags, summary: 'Write a draft of the terms (org-wide, or for one site), in English and Dutch (audited)', params: OrgParams, body: Strict({ audience: Audience, siteId: Type.Optional(Type.Union([Id, Type.Null()])), texts: Texts }), response: withErrors({ 201: Terms }) } },
      async (req, reply) => reply.status(201).send(await d.terms.create(ctxOf(req), req.params.orgId, req.body)),
    );
    scope.get<{ Params: { orgId: string; termsId: string } }>('/api/v1/orgs/:orgId/consent/terms/:termsId', { schema: { tags, params: TermsParams, response: withErrors({ 200: Terms }) } }, (req) => d.terms.get(ctxOf(req), req.params.orgId, req.params.termsId));
    scope.put<{ Params: { orgId: string; termsId: string }; Body: { texts: unknown } }>(
      '/api/v1/orgs/:orgId/consent/terms/:termsId',
      { schema: { tags, summary: 'Edit a draft; published versions never change (CAIRN_ERR_TERMS_PUBLISHED)', params: TermsParams, body: Strict({ texts: Texts }), response: withErrors({ 200: Terms }) } },
      (req) => d.terms.update(ctxOf(req), req.params.orgId, req.params.termsId, req.body),
    );
    scope.post<{ Params: { orgId: string; termsId: string } }>(
      '/api/v1/orgs/:orgId/consent/terms/:termsId/publish',
      { schema: { tags, summary: 'Publish a draft as the next version of its scope; it is immutable from then on (audited)', params: TermsParams, response: withErrors({ 200: Terms }) } },
      (req) => d.terms.publish(ctxOf(req), req.params.orgId, req.params.termsId),
    );

    // ---- a site's portal ---------------------------------------------------------------------
    scope.get<{ Params: { orgId: string; siteId: string } }>('/api/v1/orgs/:orgId/sites/:siteId/portal', { schema: { tags, summary: 'The site\'s guest portal settings (never its secret)', params: SiteParams, response: withErrors({ 200: PortalView }) } }, (req) => d.portal.settings(ctxOf(req), req.params.orgId, req.params.siteId));
    scope.put<{ Params: { orgId: string; siteId: string }; Body: Partial<PortalSettings> }>(
      '/api/v1/orgs/:orgId/sites/:siteId/portal',
      { schema: { tags, summary: 'Set up the site\'s guest portal (audited by field name)', params: SiteParams, body: PortalSettingsIn, response: withErrors({ 200: PortalView }) } },
      (req) => d.portal.configure(ctxOf(req), req.params.orgId, req.params.siteId, req.body),
    );
    scope.post<{ Params: { orgId: string; siteId: string } }>(
      '/api/v1/orgs/:orgId/sites/:siteId/portal/secret',
      { schema: { tags, summary: 'A new secret that signs the site\'s portal results, shown once (audited)', params: SiteParams, response: withErrors({ 200: Strict({ secret: Type.String() }) }) } },
      (req) => d.portal.rotateSecret(ctxOf(req), req.params.orgId, req.params.siteId),
    );

    // ---- records and marketing ----------------------------------------------------------------
    scope.get<{ Params: { orgId: string }; Querystring: { siteId?: string; purpose?: string; before?: string; limit?: number } }>(
      '/api/v1/orgs/:orgId/consent/records',
      { schema: { tags, summary: 'Consent records, newest first, contact fields decrypted (audited)', params: OrgParams, querystring: Strict({ siteId: Type.Optional(Id), purpose: Type.Optional(Type.Union([Type.Literal('network_terms'), Type.Literal('location_sharing'), Type.Literal('marketing')])), before: Type.Optional(Type.String({ maxLength: 128 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }), response: withErrors({ 200: Type.Array(RecordView) }) } },
      (req) => d.records.list(ctxOf(req), req.params.orgId, req.query),
    );
    scope.post<{ Params: { orgId: string }; Body: { mac?: string; appId?: string; device?: string; email?: string } }>(
      '/api/v1/orgs/:orgId/consent/records/search',
      { bodyLimit: 4096, schema: { tags, summary: 'Everything recorded about one person: by MAC, app installation id, device id or e-mail, pseudonymised server-side (audited)', params: OrgParams, body: Strict({ mac: Type.Optional(Type.String({ maxLength: 32 })), appId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), device: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })), email: Type.Optional(Type.String({ maxLength: 254 })) }), response: withErrors({ 200: Strict({ device: Type.Union([Type.String(), Type.Null()]), records: Type.Array(RecordView), sdkOptedIn: Type.Union([Type.Boolean(), Type.Null()]), marketingSubscribed: Type.Boolean() }) }) } },
      (req) => d.records.subject(ctxOf(req), req.params.orgId, req.body),
    );
    scope.get<{ Params: { orgId: string }; Querystring: { after?: string; limit?: number } }>(
      '/api/v1/orgs/:orgId/consent/marketing',
      { schema: { tags, summary: 'Marketing recipients, each with the unsubscribe link and headers every message must carry (audited)', params: OrgParams, querystring: Strict({ after: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }), response: withErrors({ 200: Type.Array(Strict({ id: Id, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), subscribedAt: IsoTime, unsubscribeUrl: Type.String(), headers: Strict({ 'List-Unsubscribe': Type.String(), 'List-Unsubscribe-Post': Type.Literal('List-Unsubscribe=One-Click') }) })) }) } },
      (req) => d.marketing.audience(ctxOf(req), req.params.orgId, { ...req.query, origin: origin(req) }),
    );

    // ---- the org's app (SDK) ---------------------------------------------------------------------
    const SdkRecord = Strict({ recordId: Type.String(), device: Type.String(), optedIn: Type.Boolean(), termsVersion: Type.Union([Type.Integer(), Type.Null()]), at: IsoTime });
    scope.post<{ Params: { orgId: string }; Body: { appId: string; optedIn: boolean; termsId?: string | null } }>(
      '/api/v1/orgs/:orgId/consent/sdk',
      { bodyLimit: 4096, schema: { tags, summary: 'Record an app user\'s opt-in or opt-out of location sharing (machine token of the org); observations of installations without a current opt-in are dropped at ingest', params: OrgParams, body: Strict({ appId: Type.String({ minLength: 1, maxLength: 128, description: 'The app installation id (as the SDK reports it); pseudonymised at once.' }), optedIn: Type.Boolean(), termsId: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The SDK terms version shown; omitted: the one in force.' })) }), response: withErrors({ 200: SdkRecord }) } },
      (req) => d.sdk.record(ctxOf(req), req.params.orgId, req.body),
    );
    scope.get<{ Params: { orgId: string }; Querystring: { lang?: 'en' | 'nl' } }>(
      '/api/v1/orgs/:orgId/consent/sdk/terms',
      { schema: { tags, summary: 'The SDK terms in force, for the app to show before it asks (null when none are published)', params: OrgParams, querystring: Strict({ lang: Type.Optional(Lang) }), response: withErrors({ 200: Type.Union([Type.Intersect([Terms, Strict({ language: Type.String() })]), Type.Null()]) }) } },
      (req) => d.sdk.currentTerms(ctxOf(req), req.params.orgId, req.query.lang),
    );

    // ---- public: the guest portal ------------------------------------------------------------
    const hide = { hide: true };
    scope.get<{ Params: { orgId: string; siteId: string }; Querystring: Record<string, unknown> }>(
      '/portal/:orgId/:siteId',
      { schema: { ...hide, params: SiteParams, querystring: HandoffQuery } },
      (req, reply) => {
        const lang = negotiate(req.headers['accept-language'], req.query.lang);
        return page(req, reply, lang, async () => {
          limit(req, req.params.siteId);
          return (await d.portal.page(req.params.orgId, req.params.siteId, req.query, req.headers['accept-language'])).html;
        });
      },
    );
    scope.post<{ Params: { orgId: string; siteId: string }; Body: Record<string, unknown> }>(
      '/portal/:orgId/:siteId',
      { bodyLimit: PORTAL_BODY_LIMIT_BYTES, schema: { ...hide, params: SiteParams, consumes: ['application/x-www-form-urlencoded'], body: DecisionBody } },
      (req, reply) => {
        const lang: Lang = req.body?.lang === 'nl' ? 'nl' : 'en';
        return page(req, reply, lang, async () => {
          limit(req, req.params.siteId);
          const out = await d.portal.decide(req.params.orgId, req.params.siteId, req.body ?? {}, req.id);
          return 'redirect' in out ? out : out.html;
        });
      },
    );
    scope.post<{ Params: { orgId: string; siteId: string }; Body: Record<string, string> }>(
      '/portal/:orgId/:siteId/verify',
      { bodyLimit: PORTAL_BODY_LIMIT_BYTES, schema: { tags, summary: 'For controllers: check a signed portal result (signature, expiry, single use); refusals are audited', params: SiteParams, body: ResultBody, response: withErrors({ 200: Strict({ valid: Type.Literal(true), decision: Type.String(), termsVersion: Type.Integer(), clientMac: Type.String(), apMac: Type.String(), ssid: Type.String(), url: Type.String(), expiresAt: IsoTime }) }) } },
      async (req) => {
        limit(req, req.params.siteId);
        return d.portal.verify(req.params.orgId, req.params.siteId, req.body, req.id);
      },
    );
    scope.get<{ Params: { token: string }; Querystring: { lang?: 'en' | 'nl' } }>(
      '/portal/unsubscribe/:token',
      { schema: { ...hide, params: TokenParams, querystring: Strict({ lang: Type.Optional(Lang) }) } },
      (req, reply) => {
        const lang = negotiate(req.headers['accept-language'], req.query.lang);
        return page(req, reply, lang, async () => {
          limit(req, 'unsubscribe');
          return d.marketing.confirmPage(req.params.token, lang);
        });
      },
    );
    scope.post<{ Params: { token: string }; Body: Record<string, string> | undefined }>(
      '/portal/unsubscribe/:token',
      { bodyLimit: PORTAL_BODY_LIMIT_BYTES, schema: { ...hide, params: TokenParams, body: Type.Optional(Strict({ lang: Type.Optional(Lang), 'List-Unsubscribe': Type.Optional(Type.Literal('One-Click')) })) } },
      (req, reply) => {
        const lang: Lang = req.body?.lang === 'nl' ? 'nl' : negotiate(req.headers['accept-language']);
        return page(req, reply, lang, async () => {
          limit(req, 'unsubscribe');
          await d.marketing.unsubscribe(req.params.token, req.id);
          const w = WORDS[lang];
          return render('message', { lang, title: w.unsubscribeTitle, message: w.unsubscribedBody, extra: '' });
        });
      },
    );
  });
}
