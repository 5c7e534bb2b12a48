/**
 * Reading consent records (R-DATA-12): the org's decisions a page at a time, and everything held
 * about one person, found by MAC, app installation id, device pseudonym or e-mail address (each
 * turned into the org's keyed pseudonym server-side: identifiers go in request bodies, never in
 * URLs). Contact fields are decrypted for the reader; every read is audited. Data-subject
 * requests (access, erasure) build on `subject()` and `ConsentRepo.deleteSubject/deleteEmail`.
 */
import { CairnError } from '../../kernel/errors.ts';
import { toIso } from '../../kernel/clock.ts';
import { ConsentRepo, type ConsentRecordRow, type Executor } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { Ctx } from '../context.ts';
import type { ContactField } from './portal.ts';

/** A consent record as the API shows it. */
export interface ConsentRecord {
  id: string;
  siteId: string | null;
  channel: string;
  purpose: string;
  /** The device (client MAC) or app installation pseudonym. */
  device: string;
  deviceKind: 'mac' | 'app';
  granted: boolean;
  termsId: string | null;
  termsVersion: number | null;
  language: string | null;
  /** Personal (R-DATA-12): the contact fields given, decrypted; null when none. */
  contact: Partial<Record<ContactField, string>> | null;
  at: string;
}

/** Who a search is about: exactly one identifier. */
export interface SubjectQuery {
  mac?: string;
  appId?: string;
  device?: string;
  email?: string;
}

export class ConsentRecordService {
  constructor(private readonly core: Core) {}

  private async show(x: Executor, orgId: string, r: ConsentRecordRow): Promise<ConsentRecord> {
    const contact = r.contact_enc ? (JSON.parse(await this.core.keys.decrypt(x, orgId, 'consent_records.contact', r.contact_enc)) as Partial<Record<ContactField, string>>) : null;
    return { id: r.id, siteId: r.site_id, channel: r.channel, purpose: r.purpose, device: r.subject, deviceKind: r.subject_kind, granted: Number(r.granted) === 1, termsId: r.terms_id, termsVersion: r.terms_version === null ? null : Number(r.terms_version), language: r.language, contact, at: toIso(Number(r.at_ms)) };
  }

  /** The org's records, newest first; `before` is the previous page's last id. Audited. */
  async list(ctx: Ctx, orgId: string, q: { siteId?: string; purpose?: string; before?: string; limit?: number } = {}): Promise<ConsentRecord[]> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readRecords', { orgId });
    const repo = new ConsentRepo(db);
    let cursor: { beforeMs: number; beforeId: string } | undefined;
    if (q.before) {
      const b = await repo.getRecord(orgId, q.before);
      if (!b) throw new CairnError('CAIRN_ERR_VALIDATION', 'before names no record of this org.', { field: 'before' });
      cursor = { beforeMs: Number(b.at_ms), beforeId: b.id };
    }
    const rows = await repo.listRecords(orgId, { ...(q.siteId ? { siteId: q.siteId } : {}), ...(q.purpose ? { purpose: q.purpose } : {}), ...(cursor ?? {}), limit: Math.min(q.limit ?? 100, 1000) });
    const out: ConsentRecord[] = [];
    for (const r of rows) out.push(await this.show(db, orgId, r));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'consent.records.read', `org:${orgId}`, { records: out.length }));
    return out;
  }

  /** Every record of one person or device, oldest first, and their current SDK and marketing state. Audited by pseudonym. */
  async subject(ctx: Ctx, orgId: string, q: SubjectQuery): Promise<{ device: string | null; records: ConsentRecord[]; sdkOptedIn: boolean | null; marketingSubscribed: boolean }> {
    const given = (['mac', 'appId', 'device', 'email'] as const).filter((k) => q[k] !== undefined);
    if (given.length !== 1) throw new CairnError('CAIRN_ERR_VALIDATION', 'Name exactly one of mac, appId, device or email.', { field: given[1] ?? 'mac' });
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readRecords', { orgId });
    const repo = new ConsentRepo(db);
    const keys = this.core.keys;
    let device: string | null = null;
    let rows: ConsentRecordRow[];
    let target: string;
    if (q.email !== undefined) {
      const key = await keys.pseudonym(db, orgId, 'user', q.email);
      rows = await repo.recordsOfEmail(orgId, key);
      target = `email:${key}`;
    } else {
      device = q.device !== undefined ? q.device : q.mac !== undefined ? await keys.pseudonym(db, orgId, 'mac', q.mac) : await keys.pseudonym(db, orgId, 'app', q.appId!.trim().toLowerCase());
      rows = await repo.recordsOfSubject(orgId, device);
      target = `device:${device}`;
    }
    const records: ConsentRecord[] = [];
    for (const r of rows) records.push(await this.show(db, orgId, r));
    const sdk = device ? await repo.sdkStateOf(orgId, device) : undefined;
    const marketing = q.email !== undefined ? await repo.marketingOfEmail(orgId, target.slice(6)) : device ? await repo.marketingOfSubject(orgId, device) : [];
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'consent.records.subject', target, { records: records.length }));
    return { device, records, sdkOptedIn: sdk ? Number(sdk.opted_in) === 1 : null, marketingSubscribed: marketing.some((m) => m.unsubscribed_at === null) };
  }
}
