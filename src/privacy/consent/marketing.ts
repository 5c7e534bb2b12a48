/**
 * Marketing opt-ins (R-PRIV-5): separate from the terms, unticked by default, offered only where
 * the portal asks for an e-mail address. Whoever sends the org's marketing mail gets its audience
 * from `audience()`, each recipient already paired with an unsubscribe link (a signed token URL,
 * and the RFC 8058 one-click headers), so no message goes out without one. The link works without
 * signing in: `GET` shows a confirmation (mail scanners fetch links; a GET never unsubscribes),
 * `POST` (the page's button, or a mail client's one-click) ends every subscription of that e-mail
 * address and records it as a consent record (purpose marketing, refused) with an audit event.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { ConsentRepo, type Executor } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { Ctx } from '../context.ts';
import { WORDS, type Lang } from './i18n.ts';
import { esc, render } from './render.ts';
import { parseUnsubscribeToken, unsubscribeToken, unsubscribeTokenValid } from './signing.ts';
import { portalCtx, type ContactField } from './portal.ts';

/** One recipient of the org's marketing mail. */
export interface MarketingRecipient {
  id: string;
  /** Personal (R-DATA-12): decrypted for the org admin who sends the mail. */
  email: string;
  name: string | null;
  subscribedAt: string;
  /** Absolute when the caller's origin is known, else the path. */
  unsubscribeUrl: string;
  /** Headers every message to this recipient carries (RFC 2369, RFC 8058). */
  headers: { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

export class MarketingService {
  constructor(private readonly core: Core) {}

  /** The org's key for unsubscribe links, made on first use (AES-256-GCM under the org key). */
  private async signingKey(x: Executor, orgId: string, create: boolean): Promise<Buffer | null> {
    const repo = new ConsentRepo(x);
    let enc = await repo.signingKey(orgId);
    if (!enc && create) {
      await repo.initSigningKey(orgId, await this.core.keys.encrypt(x, orgId, 'consent_org_state.signing_key', randomBytes(32).toString('base64url')), this.core.clock.nowMs());
      enc = await repo.signingKey(orgId);
    }
    return enc ? Buffer.from(await this.core.keys.decrypt(x, orgId, 'consent_org_state.signing_key', enc), 'utf8') : null;
  }

  /** The path of a subscription's unsubscribe link. */
  async unsubscribePath(x: Executor, orgId: string, subscriptionId: string): Promise<string> {
    return `/portal/unsubscribe/${unsubscribeToken((await this.signingKey(x, orgId, true))!, orgId, subscriptionId)}`;
  }

  /**
   * Current subscribers with decrypted contacts and their unsubscribe links, a page at a time;
   * audited (a personal read). `origin` (`https://cairn.example`) makes the links absolute.
   */
  async audience(ctx: Ctx, orgId: string, q: { after?: string; limit?: number; origin?: string } = {}): Promise<MarketingRecipient[]> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readMarketing', { orgId });
    const rows = await new ConsentRepo(db).listSubscribed(orgId, q.after ?? '', Math.min(q.limit ?? 500, 1000));
    const out: MarketingRecipient[] = [];
    const key = rows.length > 0 ? await db.tx((x) => this.signingKey(x, orgId, true)) : null;
    for (const r of rows) {
      const c = JSON.parse(await this.core.keys.decrypt(db, orgId, 'consent_records.contact', r.contact_enc)) as Partial<Record<ContactField, string>>;
      const url = `${q.origin ?? ''}/portal/unsubscribe/${unsubscribeToken(key!, orgId, r.id)}`;
      out.push({ id: r.id, email: c.email ?? '', name: c.name ?? null, subscribedAt: toIso(Number(r.subscribed_at)), unsubscribeUrl: url, headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } });
    }
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'consent.marketing.read', `org:${orgId}`, { recipients: out.length }));
    return out;
  }

  /** Verify a token: the org's store, the subscription; CAIRN_ERR_UNSUBSCRIBE_TOKEN otherwise. */
  private async resolve(token: string): Promise<{ orgId: string; subscriptionId: string }> {
    const p = parseUnsubscribeToken(token);
    if (!p) throw new CairnError('CAIRN_ERR_UNSUBSCRIBE_TOKEN');
    let db;
    try {
      db = await this.core.directory.storeOf(p.orgId);
    } catch {
      throw new CairnError('CAIRN_ERR_UNSUBSCRIBE_TOKEN');
    }
    const key = await this.signingKey(db, p.orgId, false);
    if (!key || !unsubscribeTokenValid(key, token) || !(await new ConsentRepo(db).getMarketing(p.orgId, p.subscriptionId))) {
      await db.tx((x) => this.core.audit.record(x, portalCtx('unsubscribe'), p.orgId, 'consent.marketing.unsubscribe', `subscription:${p.subscriptionId}`, { code: 'CAIRN_ERR_UNSUBSCRIBE_TOKEN' }, 'denied'));
      throw new CairnError('CAIRN_ERR_UNSUBSCRIBE_TOKEN');
    }
    return p;
  }

  /** The confirmation page of an unsubscribe link (public; changes nothing). */
  async confirmPage(token: string, lang: Lang): Promise<string> {
    await this.resolve(token);
    const w = WORDS[lang];
    const form = `<form method="post" action="/portal/unsubscribe/${esc(token)}"><input type="hidden" name="lang" value="${lang}"><div class="buttons"><button type="submit" id="unsubscribe">${esc(w.unsubscribeButton)}</button></div></form>`;
    return render('message', { lang, title: w.unsubscribeTitle, message: w.unsubscribeQuestion, extra: form });
  }

  /**
   * Unsubscribe (public): ends every current subscription of the link's e-mail address, records
   * the refusal and audits it. Idempotent: a second use changes nothing and still succeeds.
   */
  async unsubscribe(token: string, requestId: string): Promise<{ ended: number }> {
    const { orgId, subscriptionId } = await this.resolve(token);
    const db = await this.core.directory.storeOf(orgId);
    const now = this.core.clock.nowMs();
    return db.tx(async (x) => {
      const repo = new ConsentRepo(x);
      const sub = await repo.getMarketing(orgId, subscriptionId);
      if (!sub) throw notFoundOrNoAccess();
      const ended = await repo.unsubscribeEmail(orgId, sub.email_key, now);
      if (ended > 0) {
        await repo.insertRecords([{ id: newId(now), org_id: orgId, site_id: sub.site_id, channel: 'unsubscribe', purpose: 'marketing', subject: sub.subject, subject_kind: 'mac', granted: 0, terms_id: null, terms_version: null, language: null, contact_enc: null, email_key: sub.email_key, at_ms: now }]);
      }
      await this.core.audit.record(x, portalCtx(requestId), orgId, 'consent.marketing.unsubscribe', `subscription:${subscriptionId}`, { ended });
      return { ended };
    });
  }
}
