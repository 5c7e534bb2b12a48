/**
 * What notice and consent gives data-subject requests (R-PRIV-4): the handler of the consent
 * tables (records and marketing subscriptions, class `consent`) for access, erasure and
 * correction, and the device proof (a MAC request is verified by the device passing the guest
 * portal). Registered with `core.subjects` when the consent services are wired.
 */
import { ConsentRepo, type ConsentRecordRow, type Executor } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { DeviceProof, Subject, SubjectDataHandler } from '../rights/types.ts';
import type { ContactField } from './portal.ts';

type Contact = Partial<Record<ContactField, string>>;

/** The device proof: the newest portal decision of a device at or after `sinceMs`. */
export function consentDeviceProof(): DeviceProof {
  return { portalSeenSince: (x, orgId, device, sinceMs) => new ConsentRepo(x).portalSeenSince(orgId, device, sinceMs) };
}

/** The subject's records: by every device pseudonym and every e-mail address known, without duplicates. */
async function recordsOf(core: Core, x: Executor, s: Subject): Promise<ConsentRecordRow[]> {
  const repo = new ConsentRepo(x);
  const byId = new Map<string, ConsentRecordRow>();
  for (const d of s.devices) for (const r of await repo.recordsOfSubject(s.orgId, d)) byId.set(r.id, r);
  for (const e of s.emails) for (const r of await repo.recordsOfEmail(s.orgId, await core.keys.pseudonym(x, s.orgId, 'user', e))) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => Number(a.at_ms) - Number(b.at_ms));
}

async function contactOf(core: Core, x: Executor, orgId: string, enc: Buffer | null): Promise<Contact | null> {
  return enc ? (JSON.parse(await core.keys.decrypt(x, orgId, 'consent_records.contact', enc)) as Contact) : null;
}

/**
 * The handler of consent records and marketing subscriptions.
 *
 * @example core.subjects.register(consentSubjectHandler(core))
 */
export function consentSubjectHandler(core: Core): SubjectDataHandler {
  return {
    id: 'consent.records',
    dataClass: 'consent',
    info: {
      purpose: 'Proof of the decisions on the terms of use, location sharing in the app and marketing (R-PRIV-5); marketing e-mail only after an opt-in.',
      categories: ['device pseudonym', 'terms version', 'decision', 'time', 'language', 'contact details given on the guest portal'],
      source: 'The guest portal of a site and the organisation\'s own app.',
      recipients: 'The organisation\'s administrators and privacy officers; marketing contacts to whoever sends its marketing e-mail.',
    },
    async expand(x, s) {
      for (const r of await recordsOf(core, x, s)) {
        s.devices.add(r.subject);
        const c = await contactOf(core, x, s.orgId, r.contact_enc);
        if (c?.email) s.emails.add(c.email.toLowerCase());
      }
    },
    async export(x, s, o) {
      const columns = ['id', 'site', 'channel', 'purpose', 'device', 'granted', 'terms_version', 'language', 'name', 'email', 'phone', 'at'];
      const rows: (string | number | boolean | null)[][] = [];
      for (const r of await recordsOf(core, x, s)) {
        if (Number(r.at_ms) < o.sinceMs) continue;
        const c = await contactOf(core, x, s.orgId, r.contact_enc);
        rows.push([r.id, r.site_id, r.channel, r.purpose, r.subject, Number(r.granted) === 1, r.terms_version === null ? null : Number(r.terms_version), r.language, c?.name ?? null, c?.email ?? null, c?.phone ?? null, new Date(Number(r.at_ms)).toISOString()]);
      }
      return { columns, rows };
    },
    async erase(x, s) {
      const repo = new ConsentRepo(x);
      let n = 0;
      for (const d of s.devices) {
        for (const m of await repo.marketingOfSubject(s.orgId, d)) s.tokens.add(m.id);
        n += await repo.deleteSubject(s.orgId, d);
      }
      for (const e of s.emails) {
        const key = await core.keys.pseudonym(x, s.orgId, 'user', e);
        for (const m of await repo.marketingOfEmail(s.orgId, key)) s.tokens.add(m.id);
        n += await repo.deleteEmail(s.orgId, key);
      }
      return n;
    },
    async correct(x, s, change) {
      const repo = new ConsentRepo(x);
      let n = 0;
      for (const r of await recordsOf(core, x, s)) {
        const c = await contactOf(core, x, s.orgId, r.contact_enc);
        if (!c) continue;
        const next: Contact = { ...c, ...(change.name !== undefined && c.name !== undefined ? { name: change.name } : {}), ...(change.email !== undefined && c.email !== undefined ? { email: change.email } : {}) };
        const enc = await core.keys.encrypt(x, s.orgId, 'consent_records.contact', JSON.stringify(next));
        const key = next.email ? await core.keys.pseudonym(x, s.orgId, 'user', next.email) : null;
        n += await repo.updateRecordContact(s.orgId, r.id, enc, key);
        for (const m of await repo.marketingOfSubject(s.orgId, r.subject)) if (m.record_id === r.id && key) await repo.updateMarketingContact(s.orgId, m.id, enc, key);
      }
      return n;
    },
  };
}
