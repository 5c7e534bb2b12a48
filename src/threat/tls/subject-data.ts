/**
 * TLS set-up metadata for data-subject requests (R-PRIV-4, R-DATA-9): handshakes whose client is
 * one of the addresses seen on the subject's devices, found by the client's keyed pseudonym (the
 * same canonical address the analyser pseudonymises). The archive shows the subject's own side
 * and the server they reached; erasure deletes the handshakes. An address is the subject's only
 * while their device held it, so a shared or reassigned address may bring others' handshakes:
 * the privacy officer sees the counts before approving an access request's archive.
 */
import { toIso } from '../../kernel/clock.ts';
import type { Core, Subject, SubjectDataHandler } from '../../privacy/index.ts';
import { SubjectDataRepo, type Executor } from '../../storage/index.ts';
import { canonicalIp } from '../lists.ts';

async function clients(core: Core, x: Executor, s: Subject): Promise<string[]> {
  const out: string[] = [];
  for (const ip of s.ips) out.push(await core.keys.pseudonym(x, s.orgId, 'ip', canonicalIp(ip) ?? ip));
  return out;
}

/** The handler of `tls_handshakes`; registered by TlsTrafficService at start. */
export function tlsSubjectHandler(core: Core): SubjectDataHandler {
  return {
    id: 'threat.tls',
    dataClass: 'tls_metadata',
    info: { purpose: 'Finding malicious encrypted traffic from how TLS sessions are set up (only the hello messages, never the content).', categories: ['client and server address', 'ports', 'requested host name', 'TLS parameters and fingerprints', 'threat score'], source: 'Packet captures the organisation uploads', recipients: 'The organisation\'s administrators and privacy officers' },
    async expand(x, s) {
      for (const c of await clients(core, x, s)) s.tokens.add(c);
    },
    async export(x, s, o) {
      const k = core.keys;
      const rows: (string | number | null)[][] = [];
      for (const r of await new SubjectDataRepo(x).tlsOf(s.orgId, await clients(core, x, s), o.sinceMs)) {
        rows.push([toIso(r.seen_at), await k.decrypt(x, s.orgId, 'tls_handshakes.src_ip', r.src_ip_enc), r.src_port, await k.decrypt(x, s.orgId, 'tls_handshakes.dst_ip', r.dst_ip_enc), r.dst_port, await k.decryptOptional(x, s.orgId, 'tls_handshakes.sni', r.sni_enc), r.ja3_hash, r.ja4, r.score]);
      }
      return { columns: ['seen', 'client_ip', 'client_port', 'server_ip', 'server_port', 'server_name', 'ja3', 'ja4', 'score'], rows };
    },
    erase: async (x, s) => new SubjectDataRepo(x).deleteTls(s.orgId, await clients(core, x, s)),
  };
}
