/**
 * Threat score for a TLS client (R-ATP-6): matches a handshake record's JA3/JA4 fingerprints,
 * requested host name and addresses against threat-intelligence block lists, adds a few weak
 * protocol-hygiene signals, and explains the result as reasons a person can read.
 *
 * Lists are compiled once (`compileThreatIntel`) into hash sets, so scoring a record costs a
 * handful of lookups whatever the list sizes.
 */
import { CairnError } from '../../kernel/errors.ts';
import type { TlsHandshakeRecord } from './analyze.ts';

/** One list entry: the indicator, an optional label (malware family, feed) and severity 0–10. */
export interface IntelEntry {
  value: string;
  label?: string;
  severity?: number;
}

/** Block lists as supplied by an operator or a feed. Plain strings take the default severity. */
export interface ThreatIntelLists {
  /** JA3 MD5 hashes (32 hex digits). Default severity 6: JA3 collides more often than JA4. */
  ja3?: (string | IntelEntry)[];
  /** JA4 fingerprints (`t13d…_…_…`), compared with both `ja4` and `ja4_o`. Default severity 7. */
  ja4?: (string | IntelEntry)[];
  /** Domains; an entry also covers its subdomains (`evil.example` covers `a.evil.example`). Default 8. */
  domains?: (string | IntelEntry)[];
  /** IPv4/IPv6 addresses or CIDR prefixes (`203.0.113.0/24`). Default severity 8. */
  ips?: (string | IntelEntry)[];
}

interface Hit {
  label: string | undefined;
  severity: number;
  value: string;
}

interface CidrTable {
  /** Prefix length → (masked address hex → hit). */
  byPrefix: Map<number, Map<string, Hit>>;
}

/** Compiled lists, ready for `scoreClient`. */
export interface ThreatIntel {
  readonly ja3: ReadonlyMap<string, Hit>;
  readonly ja4: ReadonlyMap<string, Hit>;
  readonly domains: ReadonlyMap<string, Hit>;
  readonly v4: CidrTable;
  readonly v6: CidrTable;
}

export type ThreatReasonCode =
  | 'ja4_blocklisted'
  | 'ja3_blocklisted'
  | 'domain_blocklisted'
  | 'ip_blocklisted'
  | 'legacy_protocol'
  | 'weak_cipher_offered'
  | 'no_server_name'
  | 'allow_listed';

export interface ThreatReason {
  code: ThreatReasonCode;
  /** Points this reason adds to the score. */
  weight: number;
  /** What matched, e.g. `JA4 t13d… is on the block list (Cobalt Strike)`. */
  detail: string;
}

export interface ThreatScore {
  /** 0 (nothing known against it) to 10 (block). */
  score: number;
  /** Why, strongest first. */
  reasons: ThreatReason[];
}

const DEFAULT_SEVERITY = { ja3: 6, ja4: 7, domains: 8, ips: 8 } as const;

function invalid(message: string, details: Record<string, unknown>): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, details);
}

function entries(list: (string | IntelEntry)[] | undefined, kind: keyof typeof DEFAULT_SEVERITY): Hit[] {
  if (!list) return [];
  return list.map((e, index) => {
    const entry = typeof e === 'string' ? { value: e } : e;
    const severity = entry.severity ?? DEFAULT_SEVERITY[kind];
    if (!(severity >= 0 && severity <= 10)) throw invalid(`Severity of ${kind} entry ${index} must be between 0 and 10.`, { kind, index });
    const value = entry.value.trim().toLowerCase();
    if (!value) throw invalid(`The ${kind} entry ${index} is empty.`, { kind, index });
    return { label: entry.label, severity, value };
  });
}

function normaliseDomain(d: string): string {
  return d.trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
}

/** Parses an IPv4 or IPv6 address into bytes; null if it is not one. */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim();
  if (s.includes(':')) return parseIpv6(s);
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  let s = text;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex words.
  if (s.includes('.')) {
    const i = s.lastIndexOf(':');
    const v4 = parseIp(s.slice(i + 1));
    if (!v4) return null;
    s = `${s.slice(0, i + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string): number[] | null => {
    if (h === '') return [];
    const words = h.split(':').map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : -1));
    return words.some((w) => w < 0) ? null : words;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return null;
  const given = head.length + rest.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const words = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function maskedKey(addr: Uint8Array, prefix: number): string {
  let key = '';
  for (let i = 0; i < addr.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - 8 * i));
    const mask = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
    key += (addr[i]! & mask).toString(16).padStart(2, '0');
  }
  return key;
}

/**
 * Validates and indexes block lists. Throws `CAIRN_ERR_VALIDATION` naming the bad entry.
 *
 * @example
 * const intel = compileThreatIntel({ ja3: ['e7d705a3286e19ea42f587b344ee6865'], domains: ['evil.example'] });
 */
export function compileThreatIntel(lists: ThreatIntelLists): ThreatIntel {
  const ja3 = new Map<string, Hit>();
  for (const h of entries(lists.ja3, 'ja3')) {
    if (!/^[0-9a-f]{32}$/.test(h.value)) throw invalid('A JA3 entry must be 32 hex digits (an MD5).', { kind: 'ja3' });
    ja3.set(h.value, h);
  }
  const ja4 = new Map<string, Hit>();
  for (const h of entries(lists.ja4, 'ja4')) {
    if (!/^[tqd][0-9a-z]{2}[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(h.value)) {
      throw invalid('A JA4 entry must look like t13d1516h2_8daaf6152771_e5627efa2ab1.', { kind: 'ja4' });
    }
    ja4.set(h.value, h);
  }
  const domains = new Map<string, Hit>();
  for (const h of entries(lists.domains, 'domains')) {
    const d = normaliseDomain(h.value);
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(d)) throw invalid('A domain entry is not a host name.', { kind: 'domains' });
    domains.set(d, { ...h, value: d });
  }
  const v4: CidrTable = { byPrefix: new Map() };
  const v6: CidrTable = { byPrefix: new Map() };
  for (const h of entries(lists.ips, 'ips')) {
    const [addrText, prefixText] = h.value.split('/');
    const addr = parseIp(addrText ?? '');
    if (!addr) throw invalid('An IP entry is not an IPv4/IPv6 address or CIDR prefix.', { kind: 'ips' });
    const max = addr.length * 8;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw invalid('An IP entry has an invalid prefix length.', { kind: 'ips' });
    const table = addr.length === 4 ? v4 : v6;
    let m = table.byPrefix.get(prefix);
    if (!m) table.byPrefix.set(prefix, (m = new Map()));
    m.set(maskedKey(addr, prefix), h);
  }
  return { ja3, ja4, domains, v4, v6 };
}

function lookupIp(intel: ThreatIntel, ip: string): Hit | undefined {
  const addr = parseIp(ip);
  if (!addr) return undefined;
  const table = addr.length === 4 ? intel.v4 : intel.v6;
  let best: Hit | undefined;
  for (const [prefix, m] of table.byPrefix) {
    const h = m.get(maskedKey(addr, prefix));
    if (h && (!best || h.severity > best.severity)) best = h;
  }
  return best;
}

function lookupDomain(intel: ThreatIntel, sni: string): Hit | undefined {
  let d = normaliseDomain(sni);
  for (let i = 0; i < 128 && d; i++) {
    const h = intel.domains.get(d);
    if (h) return h;
    const dot = d.indexOf('.');
    if (dot < 0) break;
    d = d.slice(dot + 1);
  }
  return undefined;
}

/**
 * Cipher suites that give no or broken protection: NULL, EXPORT, anonymous key exchange, RC4
 * (RFC 7465) and single DES. 3DES is old but not in this list.
 */
const WEAK_CIPHERS = new Set([
  0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0008, 0x0009, 0x000b, 0x000c, 0x000e, 0x000f, 0x0011, 0x0012, 0x0014,
  0x0015, 0x0017, 0x0018, 0x0019, 0x001a, 0x001b, 0x002c, 0x002d, 0x002e, 0x0034, 0x003a, 0x003b, 0x0060, 0x0061, 0x0062, 0x0063,
  0x0064, 0x0065, 0x0066, 0x006c, 0x006d, 0x00a6, 0x00a7, 0xc001, 0xc002, 0xc006, 0xc007, 0xc00b, 0xc00c, 0xc010, 0xc011, 0xc015,
  0xc016, 0xc017, 0xc018, 0xc019,
]);

function isWeakCipher(c: number): boolean {
  return WEAK_CIPHERS.has(c);
}

const label = (h: Hit): string => (h.label ? ` (${h.label})` : '');

/**
 * Scores a client handshake from 0 (nothing known against it) to 10 (block): the sum of
 * the reasons' weights, capped at 10. Block-list matches weigh their entry's severity;
 * hygiene signals weigh 1–2 each, so on their own they never reach a blocking score.
 *
 * @example
 * const { score, reasons } = scoreClient(record, intel);
 * if (score >= 7) block(record.dstAddress); // reasons[0].detail explains why
 */
export function scoreClient(record: TlsHandshakeRecord, intel: ThreatIntel): ThreatScore {
  const reasons: ThreatReason[] = [];
  const ja4 = intel.ja4.get(record.ja4) ?? intel.ja4.get(record.ja4_o);
  if (ja4) reasons.push({ code: 'ja4_blocklisted', weight: ja4.severity, detail: `JA4 ${ja4.value} is on the block list${label(ja4)}.` });
  const ja3 = intel.ja3.get(record.ja3_hash);
  if (ja3) reasons.push({ code: 'ja3_blocklisted', weight: ja3.severity, detail: `JA3 ${ja3.value} is on the block list${label(ja3)}.` });
  if (record.sni) {
    const d = lookupDomain(intel, record.sni);
    if (d) reasons.push({ code: 'domain_blocklisted', weight: d.severity, detail: `Host name ${record.sni} is covered by ${d.value}${label(d)}.` });
  }
  for (const [role, ip] of [
    ['server', record.dstAddress],
    ['client', record.srcAddress],
  ] as const) {
    const h = lookupIp(intel, ip);
    if (h) reasons.push({ code: 'ip_blocklisted', weight: h.severity, detail: `The ${role} address ${ip} is covered by ${h.value}${label(h)}.` });
  }
  // Hygiene: legacy protocol, broken ciphers, and no host name at all (common in C2 traffic).
  const version = record.ja4.slice(1, 3);
  if (version === '10' || version === '11' || version === 's3' || version === 's2') {
    reasons.push({ code: 'legacy_protocol', weight: 2, detail: `The client offers at most ${versionName(version)}.` });
  }
  const weak = record.ciphers.filter(isWeakCipher);
  if (weak.length > 0) {
    reasons.push({
      code: 'weak_cipher_offered',
      weight: 1,
      detail: `The client offers ${weak.length} NULL/EXPORT/RC4/DES cipher suite(s), e.g. 0x${weak[0]!.toString(16).padStart(4, '0')}.`,
    });
  }
  if (record.sni === null && record.transport !== 'dtls') {
    reasons.push({ code: 'no_server_name', weight: 1, detail: 'The client sent no server name (it connects to a bare IP address).' });
  }
  reasons.sort((a, b) => b.weight - a.weight);
  const total = reasons.reduce((s, r) => s + r.weight, 0);
  return { score: Math.min(10, Math.round(total * 10) / 10), reasons };
}

function versionName(code: string): string {
  return code === 's2' ? 'SSL 2.0' : code === 's3' ? 'SSL 3.0' : `TLS 1.${code[1]}`;
}

/**
 * Applies an allow list to a score: a client whose JA4, JA3, requested host or addresses are on
 * the allow list scores 0 (hygiene signals dropped), unless a block-list entry also matched — a
 * block entry wins over an allow entry, as for files.
 *
 * @example
 * const s = withAllowList(scoreClient(r, block), r, compileThreatIntel({ ja4: ['t13d1516h2_8daaf6152771_e5627efa2ab1'] }));
 */
export function withAllowList(score: ThreatScore, record: TlsHandshakeRecord, allow: ThreatIntel): ThreatScore {
  if (score.reasons.some((r) => r.code.endsWith('_blocklisted'))) return score;
  const hit = allowHit(record, allow);
  return hit ? { score: 0, reasons: [{ code: 'allow_listed', weight: 0, detail: `${hit} is on the allow list.` }] } : score;
}

/** What of the record is on the allow list (for the reason text), or null. */
function allowHit(record: TlsHandshakeRecord, allow: ThreatIntel): string | null {
  const ja4 = allow.ja4.get(record.ja4) ?? allow.ja4.get(record.ja4_o);
  if (ja4) return `JA4 ${ja4.value}${label(ja4)}`;
  const ja3 = allow.ja3.get(record.ja3_hash);
  if (ja3) return `JA3 ${ja3.value}${label(ja3)}`;
  const d = record.sni ? lookupDomain(allow, record.sni) : undefined;
  if (d) return `Host name ${record.sni} (${d.value})`;
  const ip = lookupIp(allow, record.dstAddress) ?? lookupIp(allow, record.srcAddress);
  return ip ? `Address range ${ip.value}${label(ip)}` : null;
}
