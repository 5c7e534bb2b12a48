/**
 * What the privacy core itself contributes to the org export and the records of processing: the
 * tenancy tree, accounts and tokens (without their secrets), retention overrides, the audit log
 * with its signed checkpoints, notice and consent, data-subject requests (identifiers decrypted
 * with each request's own key), incidents and the records' own settings. Domain modules register
 * theirs in their wiring; these are registered by `registerCoreRecords` when the app is built.
 */
import { OrgExportRepo, type ExportRow } from '../../storage/index.ts';
import { parseCanon } from '../audit/chain.ts';
import { aesGcmDecrypt } from '../keys/crypto.ts';
import type { Core } from '../core.ts';
import type { Recipient } from './activities.ts';
import { tableExporter, type OrgExporter } from './registry.ts';

const CONFIG = 'config';

/** The export of data-subject requests: identifier and details opened with the request's key, lookup and code hashes left out. */
function dsarExporter(): OrgExporter {
  return {
    id: 'privacy.dsar_requests',
    dataClass: 'dsar',
    description: 'Data-subject requests (R-PRIV-4): kind, regime, status, dates and deadlines, outcome; the subject\'s identifier and contact address and a correction, decrypted (null once the subject was erased).',
    tables: ['dsar_requests'],
    async *pages(x, orgId, c) {
      for await (const page of new OrgExportRepo(x).pages('dsar_requests', orgId, c.pageRows)) {
        const out: ExportRow[] = [];
        for (const row of page) {
          const { dek_enc, subject_enc, details_enc, subject_key: _k, token_hash: _t, code_hash: _c, result, ...rest } = row as ExportRow & { dek_enc: Buffer | null; subject_enc: Buffer | null; details_enc: Buffer | null; result: string | null };
          const dek = await c.keys.bytes('dsar_requests.dek', dek_enc);
          const open = (field: string, blob: Buffer | null): unknown => {
            if (!dek || !blob) return null;
            try {
              return parseDetails(aesGcmDecrypt(dek, blob, `${orgId}|dsar_requests.${field}|${String(row.id)}`).toString('utf8'));
            } catch {
              return null;
            }
          };
          out.push({ ...rest, result: result ? parseDetails(result) : null, subject: open('subject', subject_enc), details: open('details', details_enc) });
        }
        yield out;
      }
    },
  };
}

/** Privacy-core exporters, in the order the archive lists them. */
export function coreExporters(): OrgExporter[] {
  return [
    tableExporter({ id: 'tenancy.orgs', dataClass: CONFIG, table: 'orgs', json: ['settings'], description: 'The organisation: name, country, storage region, settings.' }),
    tableExporter({ id: 'tenancy.sites', dataClass: CONFIG, table: 'sites', description: 'Sites with their time zones.' }),
    tableExporter({ id: 'tenancy.floors', dataClass: CONFIG, table: 'floors', pageRows: 10, description: 'Floors: level, size in metres, floor-plan image (plan_image_base64, type plan_mime).' }),
    tableExporter({ id: 'tenancy.zones', dataClass: CONFIG, table: 'zones', json: ['polygon'], description: 'Zones: polygon in floor metres, occupancy limit, the vendor zone id a zone stands for.' }),
    tableExporter({ id: 'identity.users', dataClass: CONFIG, table: 'users', decrypt: ['email_enc', 'name_enc'], omit: ['email_lookup', 'password_hash'], description: 'Dashboard users: e-mail address and name (decrypted), disabled flag. Password hashes are not exported.' }),
    tableExporter({ id: 'identity.role_bindings', dataClass: CONFIG, table: 'role_bindings', description: 'Roles of users, for the org or one site.' }),
    tableExporter({ id: 'identity.tokens', dataClass: CONFIG, table: 'tokens', omit: ['secret_hash'], description: 'Machine tokens: name, role, site, expiry, revocation, last use. Token secrets are not exported.' }),
    tableExporter({ id: 'identity.support_grants', dataClass: CONFIG, table: 'support_grants', description: 'The support grant (R-SEC-4): when given, until when, revoked.' }),
    tableExporter({ id: 'retention.policies', dataClass: CONFIG, table: 'retention_policies', description: 'Retention periods the organisation set per data class (days).' }),
    tableExporter({
      id: 'audit.events',
      dataClass: 'audit',
      table: 'audit_events',
      description: 'The audit log (R-DATA-6): seq, time, actor, action, target, request id, outcome, details; canon and hash as chained.',
      map: (r) => {
        const f = parseCanon(String(r.canon));
        return { seq: r.seq, at_ms: r.at_ms, actor: f.actor, action: f.action, target: f.target, request_id: f.requestId, outcome: f.outcome, details: parseDetails(f.details), canon: r.canon, hash: r.hash };
      },
    }),
    tableExporter({ id: 'audit.checkpoints', dataClass: 'audit', table: 'audit_checkpoints', description: 'Signed checkpoints of the audit chain (Ed25519; range from_seq..seq, chain hash, range digest, key id).' }),
    tableExporter({ id: 'audit.anchors', dataClass: 'audit', table: 'audit_anchors', description: 'The signed anchor left where old audit events were pruned.' }),
    tableExporter({ id: 'audit.redactions', dataClass: 'audit', table: 'audit_redactions', description: 'Signed records of audit events redacted when a data subject was erased.' }),
    tableExporter({ id: 'consent.terms', dataClass: 'consent', table: 'consent_terms', json: ['texts'], description: 'Terms of use per audience and site, every version, English and Dutch.' }),
    tableExporter({ id: 'consent.portals', dataClass: CONFIG, table: 'consent_portals', json: ['settings'], omit: ['secret_enc'], description: 'Guest-portal settings per site. The result-signing secret is not exported.' }),
    tableExporter({ id: 'consent.records', dataClass: 'consent', table: 'consent_records', decryptJson: ['contact_enc'], description: 'Consent decisions (R-DATA-12): device pseudonym, terms version, granted, language, contact details given on the portal (decrypted).' }),
    tableExporter({ id: 'consent.sdk_state', dataClass: 'consent', table: 'consent_sdk_state', description: 'Current location-sharing opt-in of each app installation (pseudonym) and the record behind it.' }),
    tableExporter({ id: 'consent.marketing', dataClass: 'consent', table: 'consent_marketing', decryptJson: ['contact_enc'], fields: { contact_enc: 'consent_records.contact' }, description: 'Marketing subscriptions: contact details (decrypted), subscribed and unsubscribed times.' }),
    dsarExporter(),
    tableExporter({ id: 'privacy.dsar_restrictions', dataClass: 'dsar', table: 'dsar_restrictions', description: 'Devices (pseudonyms) whose processing a data subject restricted, by request.' }),
    tableExporter({ id: 'privacy.dsar_archives', dataClass: 'dsar', table: 'dsar_archives', omit: ['archive_enc'], description: 'Access archives waiting for download: size, expiry, downloads (the content is the subject\'s records, exported above in their own files).' }),
    tableExporter({ id: 'privacy.incidents', dataClass: 'incidents', table: 'incidents', decryptJson: ['details_enc'], json: ['data_classes', 'subject_categories'], description: 'Personal-data breach records (R-PRIV-8): detection, 72-hour deadline, categories, approximate numbers, title, description, consequences and measures (decrypted), status.' }),
    tableExporter({ id: 'privacy.incident_notices', dataClass: 'incidents', table: 'incident_notices', decrypt: ['note_enc'], description: 'Notices of incidents: e-mails to admins (user id, outcome) and notices given another way (note decrypted).' }),
    tableExporter({ id: 'privacy.ropa_controller', dataClass: CONFIG, table: 'ropa_controller', decryptJson: ['details_enc'], description: 'Controller details for the records of processing (contacts, representative, data-protection officer).' }),
    tableExporter({ id: 'privacy.ropa_activities', dataClass: CONFIG, table: 'ropa_activities', decrypt: ['note_enc'], description: 'The legal basis the organisation chose for each processing activity, with its note.' }),
  ];
}

function parseDetails(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

/** The server's SMTP next hop, as a recipient (DSAR mail, incident notices, released mail). */
export function smtpRecipient(core: Core, purpose: string): Recipient[] {
  const up = core.cfg.smtpUpstream;
  return up ? [{ kind: 'smtp', name: 'The organisation\'s mail server (SMTP next hop of this server)', host: up, purpose }] : [];
}

/** Register the privacy core's exporters and processing activities. */
export function registerCoreRecords(core: Core): void {
  for (const e of coreExporters()) core.exporters.register(e);
  core.activities.register({
    id: 'identity.accounts',
    name: 'Dashboard and API accounts',
    purpose: 'Sign-in, roles and accountability of the organisation\'s staff who use Cairn (R-SEC-3).',
    dataClasses: ['audit'],
    dataCategories: ['e-mail address', 'name', 'role', 'sign-in times'],
    subjectCategories: ['the organisation\'s staff'],
    source: 'Entered by the organisation\'s administrators.',
    suggestedLegalBasis: 'contract',
    state: async () => ({ enabled: true }),
  });
  core.activities.register({
    id: 'audit.log',
    name: 'Audit log',
    purpose: 'Accountability and security: who accessed or changed what, when (R-SEC-5, R-DATA-6).',
    dataClasses: ['audit'],
    dataCategories: ['actor (user or token id)', 'action', 'target (record ids, pseudonyms)', 'time', 'request id'],
    subjectCategories: ['the organisation\'s staff', 'people whose records were accessed (by pseudonym)'],
    source: 'Every access and change through the API and command line.',
    suggestedLegalBasis: 'legal_obligation',
    state: async () => ({ enabled: true }),
  });
  core.activities.register({
    id: 'consent.portal',
    name: 'Guest portal (notice and consent)',
    purpose: 'Show the terms to guests before they connect and keep proof of their decision (R-PRIV-5); marketing e-mail only after a separate opt-in.',
    dataClasses: ['consent'],
    dataCategories: ['device pseudonym', 'decision', 'terms version', 'language', 'time', 'contact details the portal asks for'],
    subjectCategories: ['guests'],
    source: 'The guest portal, through the access point\'s external-portal hand-off.',
    suggestedLegalBasis: 'consent',
    async state(x, orgId) {
      let enabled = 0;
      let marketing = false;
      const fields = new Set<string>();
      for await (const page of new OrgExportRepo(x).pages('consent_portals', orgId, 1000)) {
        for (const p of page) {
          if (Number(p.enabled) !== 1) continue;
          enabled++;
          const s = JSON.parse(String(p.settings)) as { contactFields?: string[]; marketingOptIn?: boolean };
          for (const f of s.contactFields ?? []) fields.add(f);
          marketing ||= !!s.marketingOptIn;
        }
      }
      return {
        enabled: enabled > 0,
        collected: ['device pseudonym', 'decision', 'terms version', 'language', 'time', ...[...fields].sort().map((f) => `${f} (entered by the guest)`), ...(marketing ? ['marketing opt-in'] : [])],
        settings: { sitesWithPortal: enabled, contactFields: [...fields].sort(), marketingOptIn: marketing },
      };
    },
  });
  core.activities.register({
    id: 'consent.sdk',
    name: 'Location sharing in the organisation\'s app (opt-in)',
    purpose: 'Record app users\' opt-in and opt-out of location sharing; without a current opt-in the app\'s observations are dropped (R-LOC-3, R-PRIV-5).',
    dataClasses: ['consent'],
    dataCategories: ['app installation pseudonym', 'decision', 'terms version', 'time'],
    subjectCategories: ['app users'],
    source: 'The organisation\'s own app (SDK).',
    suggestedLegalBasis: 'consent',
    state: async (x, orgId) => ({ enabled: await new OrgExportRepo(x).any('consent_sdk_state', orgId) }),
  });
  core.activities.register({
    id: 'privacy.requests',
    name: 'Data-subject requests',
    purpose: 'Answer requests for access, correction, deletion, restriction, objection and opt-out of sale within the legal deadlines (R-PRIV-4).',
    dataClasses: ['dsar'],
    dataCategories: ['identifier given (e-mail, MAC address, badge id or username)', 'contact address', 'request, dates and outcome'],
    subjectCategories: ['anyone who makes a request'],
    source: 'The public privacy page and API; requests recorded by privacy officers.',
    suggestedLegalBasis: 'legal_obligation',
    state: async () => ({ enabled: true, recipients: smtpRecipient(core, 'Verification codes and answers to the people who made a request.') }),
  });
  core.activities.register({
    id: 'privacy.incidents',
    name: 'Personal-data breach records',
    purpose: 'Document breaches, notify within 72 hours and record the measures taken (R-PRIV-8, GDPR Art. 33).',
    dataClasses: ['incidents'],
    dataCategories: ['description of the breach (may name people)', 'categories and approximate numbers of people and records', 'measures'],
    subjectCategories: ['people affected by a breach', 'the organisation\'s administrators (notified)'],
    source: 'Recorded by the organisation\'s administrators, privacy officers or the operator.',
    suggestedLegalBasis: 'legal_obligation',
    state: async () => ({ enabled: true, recipients: smtpRecipient(core, 'Breach notices to the organisation\'s administrators and privacy officers.') }),
  });
}
