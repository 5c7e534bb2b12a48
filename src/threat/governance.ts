/**
 * What threat analysis contributes to the org export (R-PRIV-3) and the records of processing
 * (GDPR Art. 30): verdicts with their reasons, submissions with their R-DATA-8 metadata, lists,
 * settings, kept file bodies (R-DATA-7, base64), YARA rules, TLS hello records (R-DATA-9) and the
 * e-mail quarantine (R-DATA-10: sender, recipient, subject and the whole message), all decrypted
 * for the org, the IMAP password left out; and the activities file analysis, encrypted-traffic
 * analysis and e-mail scanning, each as the org's threat and e-mail settings make it.
 */
import { hostOf, smtpRecipient, tableExporter, type Core, type OrgExporter, type ProcessingActivity, type Recipient } from '../privacy/index.ts';
import { OrgExportRepo } from '../storage/index.ts';

/** @example for (const e of threatExporters()) core.exporters.register(e) */
export function threatExporters(): OrgExporter[] {
  return [
    tableExporter({ id: 'threat.verdicts', dataClass: 'threat_metadata', table: 'threat_verdicts', json: ['type_details', 'stages'], decryptJson: ['reasons_enc'], description: 'File verdicts per SHA-256: type, score, state, reasons (decrypted), analysis times, submission count.' }),
    tableExporter({ id: 'threat.submissions', dataClass: 'threat_metadata', table: 'threat_submissions', decrypt: ['client_host_enc', 'client_ip_enc', 'file_name_enc', 'url_enc', 'device_name_enc', 'username_enc'], description: 'File submissions (R-DATA-8): client host, client IP, file name, URL, device name and username (only with the user firewall on), decrypted; source, vendor, score.' }),
    tableExporter({ id: 'threat.lists', dataClass: 'config', table: 'threat_list_entries', decrypt: ['value_enc', 'note_enc'], description: 'Allow and block lists (hashes, domains, IP addresses decrypted, JA3, JA4) with notes.' }),
    tableExporter({ id: 'threat.settings', dataClass: 'config', table: 'threat_settings', json: ['file_retention'], description: 'File retention per category (days) and encrypted-traffic analysis on or off.' }),
    tableExporter({ id: 'threat.file_bodies', dataClass: 'threat_files', table: 'threat_file_bodies', pageRows: 4, decryptBytes: ['body_enc'], description: 'File bodies kept for the categories the organisation set a retention for (R-DATA-7), base64 in body_base64. They may be malicious: handle them as such.' }),
    tableExporter({ id: 'threat.yara_rules', dataClass: 'config', table: 'threat_yara_rules', description: 'The organisation\'s YARA rules.' }),
    tableExporter({ id: 'threat.tls_handshakes', dataClass: 'tls_metadata', table: 'tls_handshakes', pageRows: 500, decrypt: ['src_ip_enc', 'dst_ip_enc', 'sni_enc'], decryptJson: ['reasons_enc'], description: 'TLS client hellos (R-DATA-9): source and destination address and port, requested host name (decrypted), versions, ciphers, extensions, JA3/JA4, score and reasons.' }),
    tableExporter({ id: 'threat.email_settings', dataClass: 'config', table: 'email_settings', decrypt: ['imap_user_enc'], omit: ['imap_password_enc'], description: 'E-mail scanning actions, language, IMAP server and account (decrypted). The IMAP password is not exported.' }),
    tableExporter({ id: 'threat.email_domains', dataClass: 'config', table: 'email_domains', description: 'Mail domains the scanning relay accepts for the organisation.' }),
    tableExporter({ id: 'threat.email_quarantine', dataClass: 'quarantine', table: 'email_quarantine', pageRows: 10, decrypt: ['sender_enc', 'recipient_enc', 'subject_enc'], decryptBytes: ['raw_enc'], decryptJson: ['verdict_enc'], description: 'Quarantined mail (R-DATA-10): sender, recipient, subject and verdict decrypted; the whole message (RFC 5322) base64 in raw_base64.' }),
  ];
}

/** @example for (const a of threatActivities(core)) core.activities.register(a) */
export function threatActivities(core: Core): ProcessingActivity[] {
  const settingsOf = async (x: Parameters<ProcessingActivity['state']>[0], orgId: string) => {
    const row = await new OrgExportRepo(x).first('threat_settings', orgId);
    return { fileRetention: row ? (JSON.parse(String(row.file_retention)) as Record<string, number>) : {}, encryptedTraffic: row ? Number(row.encrypted_traffic) === 1 : false };
  };
  return [
    {
      id: 'threat.files',
      name: 'File threat analysis',
      purpose: 'Decide whether files seen on the network are malicious, with a threat score the organisation acts on (R-ATP-1/2/6).',
      dataClasses: ['threat_metadata', 'threat_files'],
      dataCategories: ['client host name', 'client IP address', 'file name', 'URL', 'device name', 'username (only with the user firewall on)', 'file contents while analysed'],
      subjectCategories: ['users of devices on the organisation\'s network'],
      source: 'Files submitted by the organisation\'s sensors and firewalls, and attachments of scanned e-mail.',
      suggestedLegalBasis: 'legitimate_interests',
      async state(x, orgId) {
        const s = await settingsOf(x, orgId);
        const kept = Object.entries(s.fileRetention).filter(([, d]) => d > 0);
        return {
          enabled: await new OrgExportRepo(x).any('threat_submissions', orgId),
          settings: { filesKept: kept.map(([c, d]) => `${c}: ${d} days`) },
          notes: [kept.length ? 'File bodies of the listed categories are kept, encrypted.' : 'File bodies are discarded once analysed (R-ATP-7).'],
        };
      },
    },
    {
      id: 'threat.tls',
      name: 'Encrypted-traffic analysis',
      purpose: 'Judge TLS clients by their session set-up only (R-ATP-4); traffic after the handshake is never read.',
      dataClasses: ['tls_metadata'],
      dataCategories: ['source and destination IP address', 'requested host name', 'ciphers and TLS parameters', 'client pseudonym'],
      subjectCategories: ['users of devices on the organisation\'s network'],
      source: 'Packet captures of TLS handshakes from the organisation\'s sensors.',
      suggestedLegalBasis: 'legitimate_interests',
      state: async (x, orgId) => ({ enabled: (await settingsOf(x, orgId)).encryptedTraffic }),
    },
    {
      id: 'threat.email',
      name: 'E-mail scanning and quarantine',
      purpose: 'Scan incoming mail and hold malicious or suspicious messages in quarantine (R-ATP-5).',
      dataClasses: ['quarantine', 'threat_metadata'],
      dataCategories: ['sender', 'recipient', 'subject', 'content and attachments of quarantined mail'],
      subjectCategories: ['senders and recipients of mail to the organisation'],
      source: 'The organisation\'s mail: the scanning SMTP relay, or its IMAP mailbox.',
      suggestedLegalBasis: 'legitimate_interests',
      async state(x, orgId) {
        const repo = new OrgExportRepo(x);
        const s = await repo.first('email_settings', orgId);
        const imap = !!s && Number(s.imap_enabled) === 1;
        const relay = await repo.any('email_domains', orgId);
        const recipients: Recipient[] = [...(relay ? smtpRecipient(core, 'Next hop of relayed and released mail.') : [])];
        if (imap && s.imap_host) recipients.push({ kind: 'imap', name: 'The organisation\'s IMAP server', host: hostOf(`imap://${String(s.imap_host)}`) ?? String(s.imap_host), purpose: 'Mailbox read and quarantined into.' });
        return { enabled: relay || imap, settings: { smtpRelay: relay, imap, ...(s ? { maliciousAction: String(s.malicious_action), suspiciousAction: String(s.suspicious_action) } : {}) }, recipients };
      },
    },
  ];
}

/** Register threat analysis's exporters and processing activities with the privacy core. */
export function registerThreatGovernance(core: Core): void {
  for (const e of threatExporters()) core.exporters.register(e);
  for (const a of threatActivities(core)) core.activities.register(a);
}
