/**
 * Threat metadata for data-subject requests (R-PRIV-4, R-DATA-8): file submissions whose client
 * address is one of the subject's devices' addresses, or whose username (kept only with the user
 * firewall on) is one of the subject's usernames or e-mail addresses. The metadata is ciphertext
 * under the org key with no keyed index, so the org's submissions (90 days by default) are read
 * a page at a time and compared after decryption. Verdicts (about files, not people) stay.
 */
import { toIso } from '../kernel/clock.ts';
import type { Core, Subject, SubjectDataHandler } from '../privacy/index.ts';
import { SubjectDataRepo, type Executor, type ThreatSubmissionRow } from '../storage/index.ts';
import { canonicalIp } from './lists.ts';

const PAGE = 1000;

/** The subject's submissions, decrypted, each once. */
async function matching(core: Core, x: Executor, s: Subject, sinceMs: number): Promise<{ row: ThreatSubmissionRow; f: Record<string, string | null> }[]> {
  const ips = new Set([...s.ips].map((ip) => canonicalIp(ip) ?? ip));
  const names = new Set([...s.usernames, ...s.emails]);
  if (ips.size === 0 && names.size === 0) return [];
  const repo = new SubjectDataRepo(x);
  const out: { row: ThreatSubmissionRow; f: Record<string, string | null> }[] = [];
  const dec = (field: string, b: Buffer | null) => core.keys.decryptOptional(x, s.orgId, `threat_submissions.${field}`, b);
  for (let after = ''; ; ) {
    const page = await repo.submissions(s.orgId, after, PAGE);
    for (const r of page) {
      if (r.received_at < sinceMs) continue;
      const ip = await dec('client_ip', r.client_ip_enc);
      const user = await dec('username', r.username_enc);
      if ((ip && ips.has(canonicalIp(ip) ?? ip)) || (user && names.has(user.trim().toLowerCase()))) {
        out.push({ row: r, f: { ip, user, host: await dec('client_host', r.client_host_enc), file: await dec('file_name', r.file_name_enc), url: await dec('url', r.url_enc), device: await dec('device_name', r.device_name_enc) } });
      }
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  return out;
}

/** The handler of `threat_submissions`; registered by `createThreatServices`. */
export function threatSubjectHandler(core: Core): SubjectDataHandler {
  return {
    id: 'threat.submissions',
    dataClass: 'threat_metadata',
    info: { purpose: 'Protecting the organisation\'s network from malicious files (threat analysis).', categories: ['client host', 'client IP address', 'file name', 'URL', 'device name', 'username (only with the user firewall on)', 'file hash', 'threat score'], source: 'The organisation\'s firewalls and sensors that submit files', recipients: 'The organisation\'s administrators and privacy officers' },
    async export(x, s, o) {
      const rows = (await matching(core, x, s, o.sinceMs)).map(({ row: r, f }) => [toIso(r.received_at), r.sha256, r.source, r.vendor, f.host ?? null, f.ip ?? null, f.file ?? null, f.url ?? null, f.device ?? null, f.user ?? null, r.score, r.state]);
      return { columns: ['received', 'sha256', 'source', 'vendor', 'client_host', 'client_ip', 'file_name', 'url', 'device_name', 'username', 'score', 'state'], rows };
    },
    async erase(x, s) {
      return new SubjectDataRepo(x).deleteSubmissions(s.orgId, (await matching(core, x, s, 0)).map((m) => m.row.id));
    },
  };
}
