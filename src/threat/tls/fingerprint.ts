/**
 * JA3 and JA4 client fingerprints.
 *
 * JA4 follows FoxIO's JA4 specification (BSD-3-Clause; `shared/data/ja4/JA4-spec.md`) and
 * matches the reference implementation's output byte for byte, including two details the
 * spec leaves implicit: the raw form keeps an empty extension section (`…_00ff_`), and the
 * extension hash of the original-order form is `000000000000` whenever the *sorted* list
 * (SNI and ALPN removed) is empty. JA3 follows Salesforce's definition: decimal values,
 * GREASE removed, MD5 of the string.
 *
 * Only the client fingerprints are implemented; JA4S/JA4H/JA4X and the other "JA4+"
 * methods are under FoxIO's non-commercial licence and deliberately left out.
 *
 * Speed: strings are written as ASCII bytes into one scratch buffer (no `join`, no per-value
 * strings), and the expensive parts (SHA-256/MD5 and the strings they cover) are memoised per
 * cipher list, extension list and JA3 tuple in small bounded tables. Clients with a fixed
 * hello hit the tables; clients that shuffle their extensions (Chrome) still hit for the
 * sorted forms and pay only for `ja4_o` and JA3.
 */
import { hash } from 'node:crypto';
import { HelloScratch, isGrease, type ClientHello } from './hello.ts';

/** Transport letter of a JA4: TLS over TCP, QUIC, or DTLS. */
export type Ja4Transport = 't' | 'q' | 'd';

/** The four JA4 forms (names as in the reference tooling). */
export interface Ja4Fingerprints {
  /** Sorted and hashed, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  ja4: string;
  /** Sorted, not hashed. */
  ja4_r: string;
  /** Original order (SNI/ALPN kept), hashed. */
  ja4_o: string;
  /** Original order, not hashed. */
  ja4_ro: string;
}

export interface Ja3Fingerprint {
  /** e.g. `771,4865-4866-…,0-23-…,29-23-24,0` */
  ja3: string;
  /** MD5 of `ja3`, lower-case hex. */
  ja3Hash: string;
}

const ZERO12 = '000000000000';

/** JA4 version code for a protocol version number (`13`, `12`, …, `d3`, `00` if unknown). */
export function ja4VersionCode(v: number): string {
  switch (v) {
    case 0x0304:
      return '13';
    case 0x0303:
      return '12';
    case 0x0302:
      return '11';
    case 0x0301:
      return '10';
    case 0x0300:
      return 's3';
    case 0x0002:
      return 's2';
    case 0xfeff:
      return 'd1';
    case 0xfefd:
      return 'd2';
    case 0xfefc:
      return 'd3';
    default:
      return '00';
  }
}

/** DTLS version numbers count down (0xfeff = 1.0, 0xfefc = 1.3); map to an ascending rank. */
function versionRank(v: number): number {
  return v >= 0xfe00 ? 0x10000 + (0xffff - v) : v;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const HEX_DIGITS = '0123456789abcdef';

/**
 * How the two ALPN characters of JA4_a are rendered when the first ALPN value does not start
 * and end with an ASCII alphanumeric:
 * - `reference` (default): what FoxIO's Python and Rust tools print (and what their published
 *   test outputs and threat feeds built with them contain): Wireshark's UTF-8 rendering of the
 *   value, each non-ASCII character replaced by `9`, e.g. 0xBA 0xAD → `99`. Cairn matches these
 *   by default so its fingerprints equal the ones in shared intelligence.
 * - `spec`: the first and last hex digit of the value (JA4-spec.md, "ALPN Extension Value"),
 *   e.g. 0xBA 0xAD → `bd`. The two differ only for such odd ALPN values.
 */
export type Ja4AlpnStyle = 'spec' | 'reference';

const utf8 = new TextDecoder('utf-8');

/**
 * The two ALPN characters of JA4_a from the first protocol's bytes, `00` when there is no
 * (or an empty) first value. A one-character value supplies both characters.
 *
 * @example ja4AlpnCode(Buffer.from('http/1.1'), 0, 8) // 'h1'
 */
export function ja4AlpnCode(b: ArrayLike<number>, off: number, len: number, style: Ja4AlpnStyle = 'reference'): string {
  if (len <= 0) return '00';
  const first = b[off]!;
  const last = b[off + len - 1]!;
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first) + String.fromCharCode(last);
  if (style === 'spec') return HEX_DIGITS[first >> 4]! + HEX_DIGITS[last & 15]!;
  const bytes = new Uint8Array(len);
  for (let i = 0; i < len; i++) bytes[i] = b[off + i]!;
  const chars = Array.from(utf8.decode(bytes));
  const show = (c: string): string => (c.charCodeAt(0) < 0x80 ? c : '9');
  return show(chars[0]!) + show(chars[chars.length - 1]!);
}

function two(n: number): string {
  return n > 99 ? '99' : n < 10 ? `0${n}` : String(n);
}

// ---------------------------------------------------------------- memo tables

/** Entries kept per table before it is cleared (bounds memory whatever the traffic). */
const MEMO_MAX = 4096;

interface MemoEntry<V> {
  /** A plain array: typed-array copies would each get an off-heap backing store. */
  key: number[];
  value: V;
  next: MemoEntry<V> | undefined;
}

/**
 * A small cache keyed by a vector of 16-bit values. A key is admitted on its second sighting
 * only, so one-off hellos (Chrome shuffles its extensions on every connection) do not churn
 * the table or fill the old generation with entries nobody reads again.
 */
class Memo<V> {
  private readonly map = new Map<number, MemoEntry<V>>();
  /** Direct-mapped table of recently seen key hashes (the admission "doorkeeper"). */
  private readonly seen = new Int32Array(16_384);
  private size = 0;

  get(key: Uint16Array, n: number, h: number): V | undefined {
    for (let e = this.map.get(h); e; e = e.next) {
      const k = e.key;
      if (k.length !== n) continue;
      let i = 0;
      while (i < n && k[i] === key[i]) i++;
      if (i === n) return e.value;
    }
    return undefined;
  }

  set(key: Uint16Array, n: number, h: number, value: V): void {
    const slot = h & (this.seen.length - 1);
    if (this.seen[slot] !== h) {
      this.seen[slot] = h;
      return;
    }
    if (this.size >= MEMO_MAX) {
      this.map.clear();
      this.size = 0;
    }
    const copy = new Array<number>(n);
    for (let i = 0; i < n; i++) copy[i] = key[i]!;
    this.map.set(h, { key: copy, value, next: this.map.get(h) });
    this.size++;
  }
}

function hashKey(key: Uint16Array, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return h & 0x3fffffff; // a small integer: Map keys stay unboxed
}

interface Part {
  /** Comma-separated hex list (plus `_sigalgs` for extension parts). */
  text: string;
  /** First 12 hex digits of its SHA-256, or `000000000000` when the list is empty. */
  hash: string;
}

interface CipherPart {
  sorted: Part;
  original: Part;
}

const cipherMemo = new Memo<CipherPart>();
const extSortedMemo = new Memo<Part>();
const extOriginalMemo = new Memo<Part>();
const ja3Memo = new Memo<Ja3Fingerprint>();

// ---------------------------------------------------------------- ASCII scratch

/** Big enough for the longest lists a 64 KiB hello can carry, written as text. */
const out = Buffer.allocUnsafeSlow(1 << 19);
const HEX = new Uint8Array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102]);
const COMMA = 44;
const UNDERSCORE = 95;
const DASH = 45;

/** Writes `list[from..from+n)` as 4-digit lower-case hex separated by commas; returns the new position. */
function writeHexList(list: Uint16Array, from: number, n: number, p: number): number {
  for (let i = 0; i < n; i++) {
    const v = list[from + i]!;
    if (i > 0) out[p++] = COMMA;
    out[p] = HEX[v >> 12]!;
    out[p + 1] = HEX[(v >> 8) & 15]!;
    out[p + 2] = HEX[(v >> 4) & 15]!;
    out[p + 3] = HEX[v & 15]!;
    p += 4;
  }
  return p;
}

/** ASCII decimal digits of every 16-bit value (5 bytes each, left-aligned) and their counts. */
const DEC_DIGITS = new Uint8Array(65_536 * 5);
const DEC_LEN = new Uint8Array(65_536);
for (let v = 0; v < 65_536; v++) {
  const t = String(v);
  DEC_LEN[v] = t.length;
  for (let i = 0; i < t.length; i++) DEC_DIGITS[v * 5 + i] = t.charCodeAt(i);
}

/** Writes `list[0..n)` in decimal separated by dashes, GREASE skipped; returns the new position. */
function writeDecList(list: ArrayLike<number>, n: number, p: number): number {
  let first = true;
  for (let i = 0; i < n; i++) {
    const v = list[i]!;
    if (isGrease(v)) continue;
    if (!first) out[p++] = DASH;
    first = false;
    const len = DEC_LEN[v]!;
    const at = v * 5;
    for (let d = 0; d < len; d++) out[p + d] = DEC_DIGITS[at + d]!;
    p += len;
  }
  return p;
}

function text(from: number, to: number): string {
  return out.toString('latin1', from, to);
}

function sha12(s: string): string {
  return s.length === 0 ? ZERO12 : hash('sha256', s, 'hex').slice(0, 12);
}

// ---------------------------------------------------------------- JA4

/**
 * Sorts `a[from..to)` ascending in place. Hellos carry a few dozen values, where an insertion
 * sort beats `subarray().sort()` (a view allocation plus the generic typed-array sort).
 */
function sortRange(a: Uint16Array, from: number, to: number): void {
  if (to - from > 64) {
    a.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= from && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

const ciphers = new Uint16Array(32_768);
const sortedCiphers = new Uint16Array(32_768);
/** Memo keys `[n, extensions…, signature algorithms…]` for the original and sorted forms. */
const origKey = new Uint16Array(1 + 16_384 + 32_768);
const sortedKey = new Uint16Array(1 + 16_384 + 32_768);

/** Cipher-list text and hashes, original and sorted (memoised by the GREASE-free list). */
function cipherPart(n: number): CipherPart {
  const h = hashKey(ciphers, n);
  const hit = cipherMemo.get(ciphers, n, h);
  if (hit) return hit;
  const origText = text(0, writeHexList(ciphers, 0, n, 0));
  for (let i = 0; i < n; i++) sortedCiphers[i] = ciphers[i]!;
  sortRange(sortedCiphers, 0, n);
  const sortedText = text(0, writeHexList(sortedCiphers, 0, n, 0));
  const part = { original: { text: origText, hash: sha12(origText) }, sorted: { text: sortedText, hash: sha12(sortedText) } };
  cipherMemo.set(ciphers, n, h, part);
  return part;
}

/**
 * Extension part from a memo key `[n, list…, sigs…]` (`nSigs` signature algorithms).
 * `empty` forces the `000000000000` hash: the sorted list without SNI/ALPN is empty (the
 * reference tools apply this to the original order as well).
 */
function extPart(memo: Memo<Part>, key: Uint16Array, n: number, nSigs: number, empty: boolean): Part {
  const keyLen = 1 + n + nSigs;
  const h = hashKey(key, keyLen);
  const hit = memo.get(key, keyLen, h);
  if (hit) return hit;
  let p = writeHexList(key, 1, n, 0);
  if (nSigs > 0) {
    out[p++] = UNDERSCORE;
    p = writeHexList(key, 1 + n, nSigs, p);
  }
  const t = text(0, p);
  const part = { text: t, hash: empty ? ZERO12 : sha12(t) };
  memo.set(key, keyLen, h, part);
  return part;
}

/** JA4 of a ClientHello held in a `HelloScratch` (the analyzer's allocation-light path). */
export function ja4FromScratch(s: HelloScratch, transport: Ja4Transport, alpnStyle: Ja4AlpnStyle = 'reference'): Ja4Fingerprints {
  // Version: highest supported_versions entry (GREASE ignored), else legacy_version.
  let version = -1;
  for (let i = 0; i < s.nVersions; i++) {
    const v = s.versions[i]!;
    if (isGrease(v)) continue;
    if (version < 0 || versionRank(v) > versionRank(version)) version = v;
  }
  if (version < 0) version = s.legacyVersion;

  let nc = 0;
  for (let i = 0; i < s.nCiphers; i++) {
    const c = s.ciphers[i]!;
    if (!isGrease(c)) ciphers[nc++] = c;
  }
  let ne = 0;
  let ns = 0;
  for (let i = 0; i < s.nExtensions; i++) {
    const e = s.extensions[i]!;
    if (isGrease(e)) continue;
    origKey[1 + ne++] = e;
    if (e !== 0x0000 && e !== 0x0010) sortedKey[1 + ns++] = e;
  }
  origKey[0] = ne;
  sortedKey[0] = ns;
  sortRange(sortedKey, 1, 1 + ns);
  let nsig = 0;
  for (let i = 0; i < s.nSigAlgs; i++) {
    const v = s.sigAlgs[i]!;
    if (isGrease(v)) continue;
    origKey[1 + ne + nsig] = v;
    sortedKey[1 + ns + nsig] = v;
    nsig++;
  }
  let alpnCode = '00';
  if (s.alpnOff >= 0 && s.alpnLen >= 1) {
    const l = Math.min(s.data[s.alpnOff]!, s.alpnLen - 1);
    alpnCode = ja4AlpnCode(s.data, s.alpnOff + 1, l, alpnStyle);
  }
  const a = transport + ja4VersionCode(version) + (s.hasSni ? 'd' : 'i') + two(nc) + two(ne) + alpnCode;
  const cp = cipherPart(nc);
  const empty = ns === 0;
  const es = extPart(extSortedMemo, sortedKey, ns, nsig, empty);
  const eo = extPart(extOriginalMemo, origKey, ne, nsig, empty);
  return {
    ja4: `${a}_${cp.sorted.hash}_${es.hash}`,
    ja4_r: `${a}_${cp.sorted.text}_${es.text}`,
    ja4_o: `${a}_${cp.original.hash}_${eo.hash}`,
    ja4_ro: `${a}_${cp.original.text}_${eo.text}`,
  };
}

/** Scratch for the plain-object entry points (`ja4`, `ja3`). */
const plain = new HelloScratch();

function toScratch(hello: ClientHello): HelloScratch {
  const fill = (into: Uint16Array | Uint8Array, from: number[]): number => {
    const n = Math.min(from.length, into.length);
    for (let i = 0; i < n; i++) into[i] = from[i]!;
    return n;
  };
  plain.legacyVersion = hello.legacyVersion;
  plain.nCiphers = fill(plain.ciphers, hello.ciphers);
  plain.nExtensions = fill(plain.extensions, hello.extensions);
  plain.nSigAlgs = fill(plain.sigAlgs, hello.signatureAlgorithms);
  plain.nGroups = fill(plain.groups, hello.supportedGroups);
  plain.nPointFormats = fill(plain.pointFormats, hello.ecPointFormats);
  plain.nVersions = fill(plain.versions, hello.supportedVersions);
  plain.hasSni = hello.sni !== null || hello.extensions.includes(0);
  plain.hasAlpn = hello.alpn.length > 0;
  const first = hello.alpn[0];
  if (first === undefined) {
    plain.alpnOff = -1;
    plain.alpnLen = 0;
  } else {
    const bytes = new Uint8Array(first.length + 1);
    bytes[0] = first.length;
    for (let i = 0; i < first.length; i++) bytes[i + 1] = first.charCodeAt(i) & 0xff;
    plain.data = bytes;
    plain.alpnOff = 0;
    plain.alpnLen = bytes.length;
  }
  return plain;
}

/**
 * JA4 of a parsed ClientHello.
 *
 * @example ja4(parseClientHello(bytes), 't').ja4 // 't13d1516h2_8daaf6152771_e5627efa2ab1'
 */
export function ja4(hello: ClientHello, transport: Ja4Transport = 't', alpnStyle: Ja4AlpnStyle = 'reference'): Ja4Fingerprints {
  return ja4FromScratch(toScratch(hello), transport, alpnStyle);
}

// ---------------------------------------------------------------- JA3

const ja3Key = new Uint16Array(4 + 32_768 + 16_384 + 32_768 + 256);
const ja3Version = new Uint16Array(1);

function pushKey(list: ArrayLike<number>, n: number, k: number): number {
  const lenAt = k++;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = list[i]!;
    if (isGrease(v)) continue;
    ja3Key[k++] = v;
    m++;
  }
  ja3Key[lenAt] = m;
  return k;
}

/** JA3 of a ClientHello held in a `HelloScratch`. */
export function ja3FromScratch(s: HelloScratch): Ja3Fingerprint {
  ja3Key[0] = s.legacyVersion;
  let k = pushKey(s.ciphers, s.nCiphers, 1);
  k = pushKey(s.extensions, s.nExtensions, k);
  k = pushKey(s.groups, s.nGroups, k);
  k = pushKey(s.pointFormats, s.nPointFormats, k);
  const h = hashKey(ja3Key, k);
  const hit = ja3Memo.get(ja3Key, k, h);
  if (hit) return hit;
  ja3Version[0] = s.legacyVersion;
  let p = writeDecList(ja3Version, 1, 0);
  out[p++] = COMMA;
  p = writeDecList(s.ciphers, s.nCiphers, p);
  out[p++] = COMMA;
  p = writeDecList(s.extensions, s.nExtensions, p);
  out[p++] = COMMA;
  p = writeDecList(s.groups, s.nGroups, p);
  out[p++] = COMMA;
  p = writeDecList(s.pointFormats, s.nPointFormats, p);
  const str = text(0, p);
  const fp = { ja3: str, ja3Hash: hash('md5', str, 'hex') };
  ja3Memo.set(ja3Key, k, h, fp);
  return fp;
}

// ---------------------------------------------------------------- JA3 and JA4 at once

/** Both client fingerprints of one hello. */
export interface ClientFingerprints {
  ja4: Ja4Fingerprints;
  ja3: Ja3Fingerprint;
}

/**
 * Memo key of everything both fingerprints depend on: transport, ALPN style, versions, SNI
 * presence, the first ALPN value, and the GREASE-free cipher, extension, signature algorithm,
 * group and point-format lists in wire order (each list prefixed by its length).
 */
const helloKey = new Uint16Array(8 + 256 + 32_768 + 16_384 + 32_768 + 32_768 + 256 + 128);
const helloMemo = new Memo<ClientFingerprints>();
const TRANSPORT_CODE = { t: 1, q: 2, d: 3 } as const;

function pushClean(list: ArrayLike<number>, n: number, k: number): number {
  const lenAt = k++;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = list[i]!;
    if (isGrease(v)) continue;
    helloKey[k++] = v;
    m++;
  }
  helloKey[lenAt] = m;
  return k;
}

/**
 * JA4 (all four forms) and JA3 of a ClientHello held in a `HelloScratch`. Identical to calling
 * `ja4FromScratch` and `ja3FromScratch`, but a hello whose lists were seen before (a fleet of the
 * same client, whatever its GREASE values, SNI or key shares) costs one key hash and compare
 * instead of sorting and looking up five separate parts.
 *
 * @example const { ja4, ja3 } = fingerprintsFromScratch(scratch, 't'); ja4.ja4 // 't13d1516h2_…'
 */
export function fingerprintsFromScratch(s: HelloScratch, transport: Ja4Transport, alpnStyle: Ja4AlpnStyle = 'reference'): ClientFingerprints {
  let version = -1;
  for (let i = 0; i < s.nVersions; i++) {
    const v = s.versions[i]!;
    if (isGrease(v)) continue;
    if (version < 0 || versionRank(v) > versionRank(version)) version = v;
  }
  helloKey[0] = TRANSPORT_CODE[transport];
  helloKey[1] = alpnStyle === 'spec' ? 1 : 0;
  helloKey[2] = s.legacyVersion;
  helloKey[3] = version < 0 ? 0 : version;
  helloKey[4] = version < 0 ? 0 : 1;
  helloKey[5] = s.hasSni ? 1 : 0;
  let k = 6;
  // The first ALPN value decides JA4's ALPN characters (at most 255 bytes).
  const alpnLen = s.alpnOff >= 0 && s.alpnLen >= 1 ? Math.min(s.data[s.alpnOff]!, s.alpnLen - 1) : -1;
  helloKey[k++] = alpnLen + 1;
  for (let i = 0; i < alpnLen; i++) helloKey[k++] = s.data[s.alpnOff + 1 + i]!;
  k = pushClean(s.ciphers, s.nCiphers, k);
  k = pushClean(s.extensions, s.nExtensions, k);
  k = pushClean(s.sigAlgs, s.nSigAlgs, k);
  k = pushClean(s.groups, s.nGroups, k);
  k = pushClean(s.pointFormats, s.nPointFormats, k);
  const h = hashKey(helloKey, k);
  const hit = helloMemo.get(helloKey, k, h);
  if (hit) return hit;
  const fp = { ja4: ja4FromScratch(s, transport, alpnStyle), ja3: ja3FromScratch(s) };
  helloMemo.set(helloKey, k, h, fp);
  return fp;
}

/**
 * JA3 of a parsed ClientHello: `version,ciphers,extensions,groups,point formats` in decimal,
 * GREASE removed, and its MD5.
 *
 * @example ja3(hello).ja3Hash // 'ada70206e40642a3e4461f35503241d5'
 */
export function ja3(hello: ClientHello): Ja3Fingerprint {
  return ja3FromScratch(toScratch(hello));
}

/** MD5 of an arbitrary JA3 string (lower-case hex), e.g. to hash strings from a feed. */
export function ja3HashOf(ja3String: string): string {
  return hash('md5', ja3String, 'hex');
}
