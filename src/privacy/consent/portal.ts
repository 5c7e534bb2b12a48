/**
 * The guest portal of a site (R-PRIV-5, R-DATA-12): the captive-portal splash page an access
 * point's controller sends a new guest to, and what follows.
 *
 *  1. `page`: the controller's hand-off (`handoff.ts`) is read strictly, the site's terms in force
 *     are shown in the browser's language (English or Dutch), with the contact fields the admin
 *     chose (none by default) and, when the admin offers it, a separate marketing opt-in that is
 *     unticked. The form carries the hand-off and the terms version, signed (`signing.ts`).
 *  2. `decide`: the decision is recorded (terms version, time, language, the keyed pseudonym of
 *     the client MAC, never the MAC; contact fields encrypted under the org key, only on
 *     acceptance), audited, and the browser is sent to the result URL with a signed result
 *     (HMAC-SHA256 under the site's portal secret, expiry 5 min, single-use nonce).
 *  3. `verify`: the controller checks a result; a tampered, expired or replayed one is refused
 *     with its own code and audited as denied.
 *
 * Public calls act as `system:portal`: they authenticate by the signed form or result, not by a
 * session. The client MAC lives only in the request and in the signed redirect.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { ConsentRepo, reposFor, type ConsentRecordRow, type Database, type Executor, type PortalRow } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { Ctx } from '../context.ts';
import { httpUrl, parseHandoff } from './handoff.ts';
import { WORDS, negotiate, isLang, type Lang } from './i18n.ts';
import { esc, hidden, paragraphs, render } from './render.ts';
import { FORM_FIELDS, RESULT_TTL_SECONDS, checkForm, checkResult, signForm, signResult, type FormField, type PortalResult } from './signing.ts';
import type { TermsService } from './terms.ts';

export type ContactField = 'name' | 'email' | 'phone';
export const CONTACT_FIELDS: readonly ContactField[] = ['name', 'email', 'phone'];

/** A site's portal settings (stored as JSON; no personal data). */
export interface PortalSettings {
  enabled: boolean;
  /** What the portal asks guests for; none by default (R-PRIV-1). Encrypted under the org key. */
  contactFields: ContactField[];
  /** Offer a separate marketing opt-in (unticked); needs the e-mail field. */
  marketingOptIn: boolean;
  /** Where the browser goes after the decision, with the signed result (the controller's grant or check endpoint). */
  resultUrl: string | null;
  /** Hosts whose grant URL from the hand-off (Meraki `base_grant_url`) may be used when no result URL is set. */
  grantHosts: string[];
}

export const DEFAULT_PORTAL_SETTINGS: Readonly<PortalSettings> = Object.freeze({ enabled: false, contactFields: [], marketingOptIn: false, resultUrl: null, grantHosts: [] });

export interface PortalView extends PortalSettings {
  orgId: string;
  siteId: string;
  /** Whether the site has a result-signing secret (shown only when rotated). */
  secretSet: boolean;
  /** Where the controller sends guests: the splash page's path on this server. */
  portalPath: string;
  /** The portal terms in force for the site, if any. */
  terms: { id: string; version: number; siteId: string | null } | null;
}

/** What a decision leads to: a redirect to the result URL, or a page of Cairn's own. */
export type DecisionOutcome = { redirect: string } | { html: string };

/** The context of a public portal call (it proved itself by signature, not a session). */
export function portalCtx(requestId: string): Ctx {
  return { actor: { kind: 'system', id: 'portal' }, bindings: [], requestId };
}

function parseSettings(json: string | undefined): PortalSettings {
  const s = json ? (JSON.parse(json) as Partial<PortalSettings>) : {};
  return { ...DEFAULT_PORTAL_SETTINGS, ...s, contactFields: [...(s.contactFields ?? [])], grantHosts: [...(s.grantHosts ?? [])] };
}

const bad = (field: string, message: string) => new CairnError('CAIRN_ERR_VALIDATION', message, { field });
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE_RE = /^\+?[0-9][0-9 ().-]{5,24}$/;
const HOST_RE = /^\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

function hostAllowed(url: string, hosts: readonly string[]): boolean {
  if (url === '') return false;
  const h = new URL(url).hostname.toLowerCase();
  return hosts.some((p) => (p.startsWith('.') ? h.endsWith(p) : h === p));
}

export class PortalService {
  constructor(
    private readonly core: Core,
    private readonly terms: TermsService,
  ) {}

  private async view(x: Executor, orgId: string, siteId: string, row: PortalRow | undefined): Promise<PortalView> {
    const t = await this.terms.current(x, orgId, 'portal', siteId);
    return { ...parseSettings(row?.settings), orgId, siteId, secretSet: !!row?.secret_enc, portalPath: `/portal/${orgId}/${siteId}`, terms: t ? { id: t.id, version: t.version!, siteId: t.siteId } : null };
  }

  /** The site's portal settings (never its secret). */
  async settings(ctx: Ctx, orgId: string, siteId: string): Promise<PortalView> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readPortal', { orgId, siteId });
    if (!(await reposFor(db).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
    return this.view(db, orgId, siteId, await new ConsentRepo(db).getPortal(orgId, siteId));
  }

  /** Change the site's portal; a secret is made the first time (rotate it to read it). Audited by field name. */
  async configure(ctx: Ctx, orgId: string, siteId: string, patch: Partial<PortalSettings>): Promise<PortalView> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'configurePortal', { orgId, siteId });
    const now = this.core.clock.nowMs();
    return db.tx(async (x) => {
      if (!(await reposFor(x).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
      const repo = new ConsentRepo(x);
      const row = await repo.getPortal(orgId, siteId);
      const s = parseSettings(row?.settings);
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
      if (s.contactFields.some((f) => !CONTACT_FIELDS.includes(f))) throw bad('contactFields', `contactFields are among ${CONTACT_FIELDS.join(', ')}.`);
      s.contactFields = CONTACT_FIELDS.filter((f) => s.contactFields.includes(f));
      if (s.marketingOptIn && !s.contactFields.includes('email')) throw bad('marketingOptIn', 'A marketing opt-in needs the e-mail contact field.');
      if (s.resultUrl !== null) s.resultUrl = httpUrl(s.resultUrl, 'resultUrl') || null;
      s.grantHosts = [...new Set(s.grantHosts.map((h) => h.trim().toLowerCase()))];
      if (s.grantHosts.length > 20 || s.grantHosts.some((h) => h.length > 253 || !HOST_RE.test(h))) throw bad('grantHosts', 'grantHosts are at most 20 host names (a leading dot allows subdomains).');
      const next: PortalRow = { site_id: siteId, org_id: orgId, enabled: s.enabled ? 1 : 0, settings: JSON.stringify(s), secret_enc: row?.secret_enc ?? (await this.core.keys.encrypt(x, orgId, 'consent_portals.secret', randomBytes(32).toString('base64url'))), updated_at: now };
      await repo.putPortal(next);
      await this.core.audit.record(x, ctx, orgId, 'consent.portal.configure', `site:${siteId}`, { fields: Object.keys(patch).sort() });
      return this.view(x, orgId, siteId, next);
    });
  }

  /** A new result-signing secret for the site, shown this once; results signed before no longer verify. */
  async rotateSecret(ctx: Ctx, orgId: string, siteId: string): Promise<{ secret: string }> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'configurePortal', { orgId, siteId });
    const secret = randomBytes(32).toString('base64url');
    await db.tx(async (x) => {
      if (!(await reposFor(x).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
      const repo = new ConsentRepo(x);
      const row = await repo.getPortal(orgId, siteId);
      await repo.putPortal({ site_id: siteId, org_id: orgId, enabled: row?.enabled ?? 0, settings: row?.settings ?? JSON.stringify(DEFAULT_PORTAL_SETTINGS), secret_enc: await this.core.keys.encrypt(x, orgId, 'consent_portals.secret', secret), updated_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'consent.portal.secret.rotate', `site:${siteId}`);
    });
    return { secret };
  }

  /** The enabled portal of a site and its secret, for the public calls; otherwise not found. */
  private async open(orgId: string, siteId: string): Promise<{ db: Database; settings: PortalSettings; secret: string }> {
    const db = await this.core.directory.storeOf(orgId);
    const row = await new ConsentRepo(db).getPortal(orgId, siteId);
    if (!row || !row.secret_enc) throw notFoundOrNoAccess();
    const settings = parseSettings(row.settings);
    return { db, settings, secret: await this.core.keys.decrypt(db, orgId, 'consent_portals.secret', row.secret_enc) };
  }

  /**
   * The splash page for a guest the controller sent here (public). Unknown or disabled portal:
   * not found; no terms published: CAIRN_ERR_TERMS_MISSING; bad hand-off: CAIRN_ERR_PORTAL_HANDOFF.
   */
  async page(orgId: string, siteId: string, query: Record<string, unknown>, acceptLanguage: string | undefined): Promise<{ html: string; lang: Lang }> {
    const { db, settings, secret } = await this.open(orgId, siteId);
    if (!settings.enabled) throw notFoundOrNoAccess();
    const lang = negotiate(acceptLanguage, query.lang);
    const h = parseHandoff(query);
    const terms = await this.terms.current(db, orgId, 'portal', siteId);
    if (!terms) throw new CairnError('CAIRN_ERR_TERMS_MISSING');
    const w = WORDS[lang];
    const form: Record<FormField, string> = { site: siteId, terms_id: terms.id, client_mac: h.clientMac, ap_mac: h.apMac, ssid: h.ssid, url: h.originalUrl, grant: h.grantUrl, vendor: h.vendor, lang, issued: String(this.core.clock.nowMs()) };
    const fields = FORM_FIELDS.map((f) => hidden(f, form[f])).join('\n') + hidden('ft', signForm(secret, form));
    const input = (f: ContactField) => {
      const type = f === 'email' ? 'email' : f === 'phone' ? 'tel' : 'text';
      const auto = f === 'email' ? 'email' : f === 'phone' ? 'tel' : 'name';
      return `<label for="contact-${f}">${esc(w[f])}</label><input type="${type}" id="contact-${f}" name="${f}" autocomplete="${auto}" maxlength="${f === 'email' ? 254 : 200}" required>`;
    };
    const contact = settings.contactFields.length > 0 ? `<fieldset class="contact"><legend>${esc(w.contactHeading)}</legend>${settings.contactFields.map(input).join('\n')}</fieldset>` : '';
    const marketing = settings.marketingOptIn ? `<label class="check" for="marketing"><input type="checkbox" id="marketing" name="marketing" value="on"> <span>${esc(w.marketing)}</span></label>` : '';
    const html = render('splash', {
      lang,
      pageTitle: w.pageTitle,
      intro: w.intro,
      termsTitle: terms.texts[lang].title,
      termsBody: paragraphs(terms.texts[lang].body),
      version: w.version.replace('{n}', String(terms.version)),
      action: `/portal/${orgId}/${siteId}`,
      hidden: fields,
      contact,
      marketing,
      note: w.note,
      accept: w.accept,
      decline: w.decline,
    });
    return { html, lang };
  }

  /**
   * Record a guest's decision (public; the signed form proves what was shown). Returns the
   * redirect to the result URL with the signed result, or Cairn's own page when the site has no
   * result URL.
   */
  async decide(orgId: string, siteId: string, body: Record<string, unknown>, requestId: string): Promise<DecisionOutcome> {
    const { db, settings, secret } = await this.open(orgId, siteId);
    if (!settings.enabled) throw notFoundOrNoAccess();
    const form = {} as Record<FormField, string>;
    for (const f of FORM_FIELDS) {
      const v = body[f];
      if (typeof v !== 'string') throw new CairnError('CAIRN_ERR_PORTAL_FORM_EXPIRED', undefined, { field: f });
      form[f] = v;
    }
    const now = this.core.clock.nowMs();
    checkForm(secret, form, typeof body.ft === 'string' ? body.ft : '', now);
    if (form.site !== siteId) throw new CairnError('CAIRN_ERR_PORTAL_FORM_EXPIRED', undefined, { reason: 'site' });
    const lang: Lang = isLang(form.lang) ? form.lang : 'en';
    const decision = body.decision;
    if (decision !== 'accept' && decision !== 'decline') throw bad('decision', 'decision is accept or decline.');
    const accepted = decision === 'accept';
    const contact: Partial<Record<ContactField, string>> = {};
    if (accepted) {
      for (const f of settings.contactFields) {
        const v = typeof body[f] === 'string' ? (body[f] as string).trim() : '';
        const ok = f === 'email' ? v.length <= 254 && EMAIL_RE.test(v) : f === 'phone' ? PHONE_RE.test(v) : v.length >= 1 && v.length <= 200 && !/[\u0000-\u001f\u007f]/.test(v);
        if (!ok) throw new CairnError('CAIRN_ERR_VALIDATION', WORDS[lang].contactRequired, { field: f });
        contact[f] = v;
      }
    }
    const marketing = accepted && settings.marketingOptIn && body.marketing === 'on' && contact.email !== undefined;
    const ctx = portalCtx(requestId);
    const result = await db.tx(async (x) => {
      const repo = new ConsentRepo(x);
      const terms = await repo.getTerms(orgId, form.terms_id);
      if (!terms || terms.status !== 'published' || terms.audience !== 'portal') throw new CairnError('CAIRN_ERR_PORTAL_FORM_EXPIRED', undefined, { reason: 'terms' });
      const subject = await this.core.keys.pseudonym(x, orgId, 'mac', form.client_mac);
      const hasContact = Object.keys(contact).length > 0;
      const contactEnc = hasContact ? await this.core.keys.encrypt(x, orgId, 'consent_records.contact', JSON.stringify(contact)) : null;
      const emailKey = contact.email ? await this.core.keys.pseudonym(x, orgId, 'user', contact.email) : null;
      const base = { org_id: orgId, site_id: siteId, channel: 'portal', subject, subject_kind: 'mac' as const, terms_id: terms.id, terms_version: Number(terms.version), language: lang, at_ms: now };
      const rows: ConsentRecordRow[] = [{ ...base, id: newId(now), purpose: 'network_terms', granted: accepted ? 1 : 0, contact_enc: contactEnc, email_key: emailKey }];
      if (marketing) rows.push({ ...base, id: newId(now), purpose: 'marketing', granted: 1, contact_enc: contactEnc, email_key: emailKey });
      await repo.insertRecords(rows);
      if (marketing) await repo.insertMarketing({ id: newId(now), org_id: orgId, site_id: siteId, subject, email_key: emailKey!, contact_enc: contactEnc!, record_id: rows[1]!.id, subscribed_at: now, unsubscribed_at: null });
      const signed = signResult(secret, { site: siteId, decision: accepted ? 'accepted' : 'declined', terms: String(terms.version), client_mac: form.client_mac, ap_mac: form.ap_mac, ssid: form.ssid, url: form.url }, now);
      await repo.purgeResults(orgId, now - 3_600_000);
      await repo.insertResult({ nonce: signed.nonce, org_id: orgId, site_id: siteId, record_id: rows[0]!.id, expires_at: now + RESULT_TTL_SECONDS * 1000 });
      await this.core.audit.record(x, ctx, orgId, 'consent.portal.decision', `device:${subject}`, { siteId, decision: accepted ? 'accepted' : 'declined', termsVersion: Number(terms.version), language: lang, contactFields: Object.keys(contact), marketing, vendor: form.vendor });
      return signed;
    });
    const target = settings.resultUrl ?? (hostAllowed(form.grant, settings.grantHosts) ? form.grant : '');
    if (target !== '') return { redirect: resultUrl(target, result) };
    const w = WORDS[lang];
    const extra = accepted && form.url ? `<p><a class="button" id="continue" href="${esc(form.url)}">${esc(w.continue)}</a></p>` : '';
    return { html: render('message', { lang, title: accepted ? w.acceptedTitle : w.declinedTitle, message: accepted ? w.acceptedBody : w.declinedBody, extra }) };
  }

  /**
   * Check a signed result for the controller (public): signature, expiry, site, and single use.
   * Every refusal is audited (outcome denied, with its code) and thrown.
   */
  async verify(orgId: string, siteId: string, input: Record<string, unknown>, requestId: string): Promise<{ valid: true; decision: string; termsVersion: number; clientMac: string; apMac: string; ssid: string; url: string; expiresAt: string }> {
    const { db, secret } = await this.open(orgId, siteId);
    const ctx = portalCtx(requestId);
    const now = this.core.clock.nowMs();
    let r: PortalResult;
    try {
      r = checkResult(secret, input, now);
      if (r.site !== siteId) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_INVALID', 'The result was signed for another site.', { reason: 'site' });
      await db.tx(async (x) => {
        const repo = new ConsentRepo(x);
        if ((await repo.useResult(orgId, r.nonce, now)) === 0) {
          const known = await repo.getResult(orgId, r.nonce);
          if (known) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_REPLAYED');
          throw new CairnError('CAIRN_ERR_PORTAL_RESULT_INVALID', 'The result is unknown here.', { reason: 'nonce' });
        }
        await this.core.audit.record(x, ctx, orgId, 'consent.portal.verify', `site:${siteId}`, { decision: r.decision, termsVersion: Number(r.terms) });
      });
    } catch (e) {
      if (e instanceof CairnError && e.code.startsWith('CAIRN_ERR_PORTAL_RESULT')) {
        await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'consent.portal.verify', `site:${siteId}`, { code: e.code, ...(e.details?.reason ? { reason: e.details.reason } : {}) }, 'denied'));
      }
      throw e;
    }
    return { valid: true, decision: r.decision, termsVersion: Number(r.terms), clientMac: r.client_mac, apMac: r.ap_mac, ssid: r.ssid, url: r.url, expiresAt: toIso(Number(r.exp) * 1000) };
  }
}

/** The result URL with the signed fields appended (existing query kept). */
export function resultUrl(base: string, r: PortalResult): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries(r)) u.searchParams.set(k, v);
  return u.toString();
}
