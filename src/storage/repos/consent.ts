/**
 * Notice and consent (R-PRIV-5, R-DATA-12, class `consent`): terms versions, guest portals per
 * site, consent records (append-only decisions by pseudonym), the SDK opt-in state, single-use
 * portal results and marketing subscriptions. Every personal column is a keyed pseudonym or
 * AES-256-GCM ciphertext under the org key; nothing here holds a MAC, an app id or an e-mail
 * address in clear. Finding everything about one person: `recordsOfSubject` / `recordsOfEmail`,
 * `marketingOfSubject` / `marketingOfEmail`; erasing it: `deleteSubject` / `deleteEmail`.
 */
import type { Executor } from '../db.ts';

/** Terms text of one version (not personal). `texts` is JSON: `{ en: { title, body }, nl: … }`. */
export interface TermsRow {
  id: string;
  org_id: string;
  /** null: the org's terms, for every site without its own. */
  site_id: string | null;
  audience: 'portal' | 'sdk';
  /** Assigned at publication (1, 2, … per org, audience and site); null for a draft. */
  version: number | null;
  status: 'draft' | 'published';
  texts: string;
  created_at: number;
  updated_at: number;
  published_at: number | null;
}

/** A site's guest portal: settings JSON and the result-signing secret (ciphertext). */
export interface PortalRow {
  site_id: string;
  org_id: string;
  enabled: number;
  settings: string;
  secret_enc: Buffer | null;
  updated_at: number;
}

/** R-DATA-12 personal (class `consent`, kept while needed to prove consent): one decision. */
export interface ConsentRecordRow {
  id: string;
  org_id: string;
  site_id: string | null;
  /** Where the decision was made: portal, sdk, admin (an org admin on the user's behalf), unsubscribe, migrated. */
  channel: string;
  /** network_terms (the portal's terms), location_sharing (SDK), marketing. */
  purpose: string;
  /** Keyed pseudonym of the client MAC (`mac`) or the SDK installation id (`app`). */
  subject: string;
  subject_kind: 'mac' | 'app';
  /** 1 accepted / opted in, 0 declined / opted out. */
  granted: number;
  terms_id: string | null;
  terms_version: number | null;
  language: string | null;
  /** R-DATA-12 personal: the contact fields asked for (JSON), AES-256-GCM under the org key. */
  contact_enc: Buffer | null;
  /** Keyed pseudonym (kind `user`) of the e-mail address given, to find a person's records. */
  email_key: string | null;
  at_ms: number;
}

/** R-DATA-12 personal: a marketing opt-in; `contact_enc` under the org key. */
export interface MarketingRow {
  id: string;
  org_id: string;
  site_id: string | null;
  subject: string;
  email_key: string;
  contact_enc: Buffer;
  record_id: string;
  subscribed_at: number;
  unsubscribed_at: number | null;
}

const RECORD_COLS = 'id, org_id, site_id, channel, purpose, subject, subject_kind, granted, terms_id, terms_version, language, contact_enc, email_key, at_ms';
const MARKETING_COLS = 'id, org_id, site_id, subject, email_key, contact_enc, record_id, subscribed_at, unsubscribed_at';

export class ConsentRepo {
  constructor(private readonly x: Executor) {}

  // ---- terms ------------------------------------------------------------------------------

  async insertTerms(t: TermsRow): Promise<void> {
    await this.x.run('INSERT INTO consent_terms (id, org_id, site_id, audience, version, status, texts, created_at, updated_at, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [t.id, t.org_id, t.site_id, t.audience, t.version, t.status, t.texts, t.created_at, t.updated_at, t.published_at]);
  }
  getTerms(orgId: string, id: string): Promise<TermsRow | undefined> {
    return this.x.get<TermsRow>('SELECT * FROM consent_terms WHERE org_id = $1 AND id = $2', [orgId, id]);
  }
  listTerms(orgId: string, audience: string | null, siteId: string | null | undefined): Promise<TermsRow[]> {
    const where = ['org_id = $1'];
    const params: unknown[] = [orgId];
    if (audience) {
      params.push(audience);
      where.push(`audience = $${params.length}`);
    }
    if (siteId === null) where.push('site_id IS NULL');
    else if (siteId !== undefined) {
      params.push(siteId);
      where.push(`site_id = $${params.length}`);
    }
    return this.x.all<TermsRow>(`SELECT * FROM consent_terms WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT 500`, params);
  }
  /** Change a draft's texts; 0 when it is not a draft (published versions never change). */
  async updateDraft(orgId: string, id: string, texts: string, atMs: number): Promise<number> {
    return (await this.x.run("UPDATE consent_terms SET texts = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND status = 'draft'", [orgId, id, texts, atMs])).changes;
  }
  /** Publish a draft as the next version of its scope; 0 when it is not a draft. */
  async publish(orgId: string, id: string, version: number, atMs: number): Promise<number> {
    return (await this.x.run("UPDATE consent_terms SET status = 'published', version = $3, published_at = $4, updated_at = $4 WHERE org_id = $1 AND id = $2 AND status = 'draft'", [orgId, id, version, atMs])).changes;
  }
  async maxVersion(orgId: string, audience: string, siteId: string | null): Promise<number> {
    const r = await this.x.get<{ v: number | null }>(`SELECT MAX(version) AS v FROM consent_terms WHERE org_id = $1 AND audience = $2 AND ${siteId === null ? 'site_id IS NULL' : 'site_id = $3'}`, siteId === null ? [orgId, audience] : [orgId, audience, siteId]);
    return Number(r?.v ?? 0);
  }
  /** The newest published version for a site (its own, else the org's), or undefined. */
  async current(orgId: string, audience: string, siteId: string | null): Promise<TermsRow | undefined> {
    if (siteId !== null) {
      const own = await this.x.get<TermsRow>("SELECT * FROM consent_terms WHERE org_id = $1 AND audience = $2 AND site_id = $3 AND status = 'published' ORDER BY version DESC LIMIT 1", [orgId, audience, siteId]);
      if (own) return own;
    }
    return this.x.get<TermsRow>("SELECT * FROM consent_terms WHERE org_id = $1 AND audience = $2 AND site_id IS NULL AND status = 'published' ORDER BY version DESC LIMIT 1", [orgId, audience]);
  }

  // ---- portals ----------------------------------------------------------------------------

  getPortal(orgId: string, siteId: string): Promise<PortalRow | undefined> {
    return this.x.get<PortalRow>('SELECT * FROM consent_portals WHERE org_id = $1 AND site_id = $2', [orgId, siteId]);
  }
  async putPortal(p: PortalRow): Promise<void> {
    await this.x.run(
      'INSERT INTO consent_portals (site_id, org_id, enabled, settings, secret_enc, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (site_id) DO UPDATE SET enabled = excluded.enabled, settings = excluded.settings, secret_enc = excluded.secret_enc, updated_at = excluded.updated_at',
      [p.site_id, p.org_id, p.enabled, p.settings, p.secret_enc, p.updated_at],
    );
  }

  // ---- records ----------------------------------------------------------------------------

  async insertRecords(rows: readonly ConsentRecordRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.x.many(`INSERT INTO consent_records (${RECORD_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, rows.map((r) => [r.id, r.org_id, r.site_id, r.channel, r.purpose, r.subject, r.subject_kind, r.granted, r.terms_id, r.terms_version, r.language, r.contact_enc, r.email_key, r.at_ms]));
  }
  getRecord(orgId: string, id: string): Promise<ConsentRecordRow | undefined> {
    return this.x.get<ConsentRecordRow>(`SELECT ${RECORD_COLS} FROM consent_records WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** A page of the org's records, newest first (`beforeMs`/`beforeId` from the previous page's last). */
  listRecords(orgId: string, opts: { siteId?: string; purpose?: string; beforeMs?: number; beforeId?: string; limit: number }): Promise<ConsentRecordRow[]> {
    const where = ['org_id = $1'];
    const params: unknown[] = [orgId];
    if (opts.siteId) {
      params.push(opts.siteId);
      where.push(`site_id = $${params.length}`);
    }
    if (opts.purpose) {
      params.push(opts.purpose);
      where.push(`purpose = $${params.length}`);
    }
    if (opts.beforeMs !== undefined) {
      params.push(opts.beforeMs, opts.beforeId ?? '');
      where.push(`(at_ms < $${params.length - 1} OR (at_ms = $${params.length - 1} AND id < $${params.length}))`);
    }
    params.push(opts.limit);
    return this.x.all<ConsentRecordRow>(`SELECT ${RECORD_COLS} FROM consent_records WHERE ${where.join(' AND ')} ORDER BY at_ms DESC, id DESC LIMIT $${params.length}`, params);
  }
  /** Every record of one device or installation pseudonym, oldest first. */
  recordsOfSubject(orgId: string, subject: string): Promise<ConsentRecordRow[]> {
    return this.x.all<ConsentRecordRow>(`SELECT ${RECORD_COLS} FROM consent_records WHERE org_id = $1 AND subject = $2 ORDER BY at_ms, id`, [orgId, subject]);
  }
  /** Every record that carries an e-mail address with this keyed pseudonym, oldest first. */
  recordsOfEmail(orgId: string, emailKey: string): Promise<ConsentRecordRow[]> {
    return this.x.all<ConsentRecordRow>(`SELECT ${RECORD_COLS} FROM consent_records WHERE org_id = $1 AND email_key = $2 ORDER BY at_ms, id`, [orgId, emailKey]);
  }

  // ---- SDK opt-ins ------------------------------------------------------------------------

  async putSdkState(orgId: string, subject: string, optedIn: boolean, recordId: string, atMs: number): Promise<void> {
    await this.x.run(
      'INSERT INTO consent_sdk_state (org_id, subject, opted_in, record_id, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, subject) DO UPDATE SET opted_in = excluded.opted_in, record_id = excluded.record_id, updated_at = excluded.updated_at',
      [orgId, subject, optedIn ? 1 : 0, recordId, atMs],
    );
  }
  async sdkOptedIn(orgId: string): Promise<string[]> {
    return (await this.x.all<{ subject: string }>('SELECT subject FROM consent_sdk_state WHERE org_id = $1 AND opted_in = 1', [orgId])).map((r) => r.subject);
  }
  async countSdkOptedIn(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM consent_sdk_state WHERE org_id = $1 AND opted_in = 1', [orgId]))?.n ?? 0);
  }
  sdkStateOf(orgId: string, subject: string): Promise<{ opted_in: number; record_id: string; updated_at: number } | undefined> {
    return this.x.get('SELECT opted_in, record_id, updated_at FROM consent_sdk_state WHERE org_id = $1 AND subject = $2', [orgId, subject]);
  }
  /** The org's SDK change counter (0 before any change). */
  async sdkVersion(orgId: string): Promise<number> {
    return Number((await this.x.get<{ v: number }>('SELECT sdk_version AS v FROM consent_org_state WHERE org_id = $1', [orgId]))?.v ?? 0);
  }
  /** Bump the SDK change counter inside the change's transaction; returns the new value. */
  async bumpSdkVersion(orgId: string, atMs: number): Promise<number> {
    const r = await this.x.get<{ v: number }>('INSERT INTO consent_org_state (org_id, sdk_version, signing_key_enc, updated_at) VALUES ($1, 1, NULL, $2) ON CONFLICT (org_id) DO UPDATE SET sdk_version = consent_org_state.sdk_version + 1, updated_at = excluded.updated_at RETURNING sdk_version AS v', [orgId, atMs]);
    return Number(r!.v);
  }
  async signingKey(orgId: string): Promise<Buffer | null> {
    return (await this.x.get<{ k: Buffer | null }>('SELECT signing_key_enc AS k FROM consent_org_state WHERE org_id = $1', [orgId]))?.k ?? null;
  }
  /** Set the signing key once (a concurrent first use keeps the first key). */
  async initSigningKey(orgId: string, keyEnc: Buffer, atMs: number): Promise<void> {
    await this.x.run('INSERT INTO consent_org_state (org_id, sdk_version, signing_key_enc, updated_at) VALUES ($1, 0, $2, $3) ON CONFLICT (org_id) DO UPDATE SET signing_key_enc = COALESCE(consent_org_state.signing_key_enc, excluded.signing_key_enc)', [orgId, keyEnc, atMs]);
  }

  // ---- portal results ---------------------------------------------------------------------

  async insertResult(r: { nonce: string; org_id: string; site_id: string; record_id: string; expires_at: number }): Promise<void> {
    await this.x.run('INSERT INTO consent_results (nonce, org_id, site_id, record_id, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)', [r.nonce, r.org_id, r.site_id, r.record_id, r.expires_at]);
  }
  getResult(orgId: string, nonce: string): Promise<{ nonce: string; site_id: string; record_id: string; expires_at: number; used_at: number | null } | undefined> {
    return this.x.get('SELECT nonce, site_id, record_id, expires_at, used_at FROM consent_results WHERE org_id = $1 AND nonce = $2', [orgId, nonce]);
  }
  /** Mark a result used; 0 when it was used before (a replay) or is unknown. */
  async useResult(orgId: string, nonce: string, atMs: number): Promise<number> {
    return (await this.x.run('UPDATE consent_results SET used_at = $3 WHERE org_id = $1 AND nonce = $2 AND used_at IS NULL', [orgId, nonce, atMs])).changes;
  }
  /** Forget results that expired before `beforeMs` (their nonces can no longer verify anyway). */
  async purgeResults(orgId: string, beforeMs: number): Promise<number> {
    return (await this.x.run('DELETE FROM consent_results WHERE org_id = $1 AND expires_at < $2', [orgId, beforeMs])).changes;
  }

  // ---- marketing --------------------------------------------------------------------------

  async insertMarketing(m: MarketingRow): Promise<void> {
    await this.x.run(`INSERT INTO consent_marketing (${MARKETING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [m.id, m.org_id, m.site_id, m.subject, m.email_key, m.contact_enc, m.record_id, m.subscribed_at, m.unsubscribed_at]);
  }
  getMarketing(orgId: string, id: string): Promise<MarketingRow | undefined> {
    return this.x.get<MarketingRow>(`SELECT ${MARKETING_COLS} FROM consent_marketing WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** Current subscribers, oldest first, a page at a time (`afterId`). */
  listSubscribed(orgId: string, afterId: string, limit: number): Promise<MarketingRow[]> {
    return this.x.all<MarketingRow>(`SELECT ${MARKETING_COLS} FROM consent_marketing WHERE org_id = $1 AND unsubscribed_at IS NULL AND id > $2 ORDER BY id LIMIT $3`, [orgId, afterId, limit]);
  }
  /** End every current subscription of an e-mail address; returns how many ended. */
  async unsubscribeEmail(orgId: string, emailKey: string, atMs: number): Promise<number> {
    return (await this.x.run('UPDATE consent_marketing SET unsubscribed_at = $3 WHERE org_id = $1 AND email_key = $2 AND unsubscribed_at IS NULL', [orgId, emailKey, atMs])).changes;
  }
  marketingOfSubject(orgId: string, subject: string): Promise<MarketingRow[]> {
    return this.x.all<MarketingRow>(`SELECT ${MARKETING_COLS} FROM consent_marketing WHERE org_id = $1 AND subject = $2 ORDER BY subscribed_at`, [orgId, subject]);
  }
  marketingOfEmail(orgId: string, emailKey: string): Promise<MarketingRow[]> {
    return this.x.all<MarketingRow>(`SELECT ${MARKETING_COLS} FROM consent_marketing WHERE org_id = $1 AND email_key = $2 ORDER BY subscribed_at`, [orgId, emailKey]);
  }

  /** Newest portal decision of a device pseudonym at or after `sinceMs` (UTC ms), or null. */
  async portalSeenSince(orgId: string, subject: string, sinceMs: number): Promise<number | null> {
    const r = await this.x.get<{ at: number | null }>("SELECT MAX(at_ms) AS at FROM consent_records WHERE org_id = $1 AND subject = $2 AND channel = 'portal' AND at_ms >= $3", [orgId, subject, sinceMs]);
    return r?.at === null || r?.at === undefined ? null : Number(r.at);
  }
  /** Replace a record's contact fields (a correction); the e-mail pseudonym follows. */
  async updateRecordContact(orgId: string, id: string, contactEnc: Buffer, emailKey: string | null): Promise<number> {
    return (await this.x.run('UPDATE consent_records SET contact_enc = $3, email_key = $4 WHERE org_id = $1 AND id = $2', [orgId, id, contactEnc, emailKey])).changes;
  }
  async updateMarketingContact(orgId: string, id: string, contactEnc: Buffer, emailKey: string): Promise<number> {
    return (await this.x.run('UPDATE consent_marketing SET contact_enc = $3, email_key = $4 WHERE org_id = $1 AND id = $2', [orgId, id, contactEnc, emailKey])).changes;
  }

  // ---- erasure and retention --------------------------------------------------------------

  /** Erase everything held about one device or installation pseudonym; returns rows deleted. */
  async deleteSubject(orgId: string, subject: string): Promise<number> {
    let n = (await this.x.run('DELETE FROM consent_marketing WHERE org_id = $1 AND subject = $2', [orgId, subject])).changes;
    n += (await this.x.run('DELETE FROM consent_sdk_state WHERE org_id = $1 AND subject = $2', [orgId, subject])).changes;
    n += (await this.x.run('DELETE FROM consent_records WHERE org_id = $1 AND subject = $2', [orgId, subject])).changes;
    return n;
  }
  /** Erase every record and subscription that carries this e-mail pseudonym; returns rows deleted. */
  async deleteEmail(orgId: string, emailKey: string): Promise<number> {
    let n = (await this.x.run('DELETE FROM consent_marketing WHERE org_id = $1 AND email_key = $2', [orgId, emailKey])).changes;
    n += (await this.x.run('DELETE FROM consent_records WHERE org_id = $1 AND email_key = $2', [orgId, emailKey])).changes;
    return n;
  }
  /**
   * Retention of class `consent` (only when the org set a period: the default keeps records): at
   * most `limit` records older than `beforeMs`, with the SDK states and subscriptions they back.
   */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    let total = 0;
    while (total < limit) {
      const ids = (await this.x.all<{ id: string }>('SELECT id FROM consent_records WHERE org_id = $1 AND at_ms < $2 ORDER BY at_ms LIMIT $3', [orgId, beforeMs, Math.min(500, limit - total)])).map((r) => r.id);
      if (ids.length === 0) break;
      const list = ids.map((_, i) => `$${i + 2}`).join(', ');
      await this.x.run(`DELETE FROM consent_sdk_state WHERE org_id = $1 AND record_id IN (${list})`, [orgId, ...ids]);
      await this.x.run(`DELETE FROM consent_marketing WHERE org_id = $1 AND record_id IN (${list})`, [orgId, ...ids]);
      await this.x.run(`DELETE FROM consent_results WHERE org_id = $1 AND record_id IN (${list})`, [orgId, ...ids]);
      total += (await this.x.run(`DELETE FROM consent_records WHERE org_id = $1 AND id IN (${list})`, [orgId, ...ids])).changes;
    }
    return total;
  }
}
