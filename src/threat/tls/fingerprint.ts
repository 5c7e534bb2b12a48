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
 */
import { hash } from 'node:crypto';
import { isGrease, type ClientHello, type HelloScratch } from './hello.ts';

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
const HEX4: (string | undefined)[] = new Array(65_536);
const DEC: (string | undefined)[] = new Array(65_536);

function hex4(v: number): string {
  let s = HEX4[v];
  if (s === undefined) {
    s = v.toString(16).padStart(4, '0');
    HEX4[v] = s;
  }
  return s;
}

function dec(v: number): string {
  let s = DEC[v];
  if (s === undefined) {
    s = String(v);
    DEC[v] = s;
  }
  return s;
}

function sha12(s: string): string {
  return hash('sha256', s, 'hex').slice(0, 12);
}

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
 * - `spec` (default): the first and last hex digit of the value (JA4-spec.md, "ALPN
 *   Extension Value"), e.g. 0xBA 0xAD → `bd`.
 * - `reference`: what FoxIO's Python and Rust tools print (and what their published test
 *   outputs contain): Wireshark's UTF-8 rendering of the value, each non-ASCII character
 *   replaced by `9`, e.g. 0xBA 0xAD → `99`. Use it to match fingerprints produced by those tools.
 */
export type Ja4AlpnStyle = 'spec' | 'reference';

const utf8 = new TextDecoder('utf-8');

/**
 * The two ALPN characters of JA4_a from the first protocol's bytes, `00` when there is no
 * (or an empty) first value. A one-character value supplies both characters.
 *
 * @example ja4AlpnCode(Buffer.from('http/1.1'), 0, 8) // 'h1'
 */
export function ja4AlpnCode(b: ArrayLike<number>, off: number, len: number, style: Ja4AlpnStyle = 'spec'): string {
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

/** Inputs of a JA4 computation, shared by the scratch and plain-object entry points. */
interface Ja4Input {
  ciphers: ArrayLike<number>;
  nCiphers: number;
  extensions: ArrayLike<number>;
  nExtensions: number;
  sigAlgs: ArrayLike<number>;
  nSigAlgs: number;
  versions: ArrayLike<number>;
  nVersions: number;
  legacyVersion: number;
  hasSni: boolean;
  alpnCode: string;
}

const tmpCiphers: number[] = [];
const tmpExts: number[] = [];
const tmpSorted: string[] = [];
const tmpOrig: string[] = [];

function computeJa4(x: Ja4Input, transport: Ja4Transport): Ja4Fingerprints {
  // Version: highest supported_versions entry (GREASE ignored), else legacy_version.
  let version = -1;
  for (let i = 0; i < x.nVersions; i++) {
    const v = x.versions[i]!;
    if (isGrease(v)) continue;
    if (version < 0 || versionRank(v) > versionRank(version)) version = v;
  }
  if (version < 0) version = x.legacyVersion;

  tmpCiphers.length = 0;
  for (let i = 0; i < x.nCiphers; i++) {
    const c = x.ciphers[i]!;
    if (!isGrease(c)) tmpCiphers.push(c);
  }
  tmpExts.length = 0;
  for (let i = 0; i < x.nExtensions; i++) {
    const e = x.extensions[i]!;
    if (!isGrease(e)) tmpExts.push(e);
  }
  const a = `${transport}${ja4VersionCode(version)}${x.hasSni ? 'd' : 'i'}${two(tmpCiphers.length)}${two(tmpExts.length)}${x.alpnCode}`;

  // Cipher lists, original and sorted (4-digit hex values sort the same as the numbers).
  tmpOrig.length = 0;
  for (let i = 0; i < tmpCiphers.length; i++) tmpOrig.push(hex4(tmpCiphers[i]!));
  const cipherOrig = tmpOrig.join(',');
  tmpCiphers.sort(numeric);
  tmpSorted.length = 0;
  for (let i = 0; i < tmpCiphers.length; i++) tmpSorted.push(hex4(tmpCiphers[i]!));
  const cipherSorted = tmpSorted.join(',');

  tmpOrig.length = 0;
  for (let i = 0; i < tmpExts.length; i++) tmpOrig.push(hex4(tmpExts[i]!));
  const extOrig = tmpOrig.join(',');
  tmpExts.sort(numeric);
  tmpSorted.length = 0;
  for (let i = 0; i < tmpExts.length; i++) {
    const e = tmpExts[i]!;
    if (e !== 0x0000 && e !== 0x0010) tmpSorted.push(hex4(e));
  }
  const extSorted = tmpSorted.join(',');

  let sig = '';
  if (x.nSigAlgs > 0) {
    tmpOrig.length = 0;
    for (let i = 0; i < x.nSigAlgs; i++) {
      const v = x.sigAlgs[i]!;
      if (!isGrease(v)) tmpOrig.push(hex4(v));
    }
    sig = tmpOrig.join(',');
  }
  const cSorted = sig ? `${extSorted}_${sig}` : extSorted;
  const cOrig = sig ? `${extOrig}_${sig}` : extOrig;
  const noCiphers = cipherSorted.length === 0;
  const noExts = extSorted.length === 0;
  return {
    ja4: `${a}_${noCiphers ? ZERO12 : sha12(cipherSorted)}_${noExts ? ZERO12 : sha12(cSorted)}`,
    ja4_r: `${a}_${cipherSorted}_${cSorted}`,
    ja4_o: `${a}_${noCiphers ? ZERO12 : sha12(cipherOrig)}_${noExts ? ZERO12 : sha12(cOrig)}`,
    ja4_ro: `${a}_${cipherOrig}_${cOrig}`,
  };
}

function numeric(x: number, y: number): number {
  return x - y;
}

/** JA4 of a ClientHello held in a `HelloScratch` (the analyzer's allocation-light path). */
export function ja4FromScratch(s: HelloScratch, transport: Ja4Transport, alpnStyle: Ja4AlpnStyle = 'spec'): Ja4Fingerprints {
  let alpnCode = '00';
  if (s.alpnOff >= 0 && s.alpnLen >= 1) {
    const l = Math.min(s.data[s.alpnOff]!, s.alpnLen - 1);
    alpnCode = ja4AlpnCode(s.data, s.alpnOff + 1, l, alpnStyle);
  }
  return computeJa4(
    {
      ciphers: s.ciphers,
      nCiphers: s.nCiphers,
      extensions: s.extensions,
      nExtensions: s.nExtensions,
      sigAlgs: s.sigAlgs,
      nSigAlgs: s.nSigAlgs,
      versions: s.versions,
      nVersions: s.nVersions,
      legacyVersion: s.legacyVersion,
      hasSni: s.hasSni,
      alpnCode,
    },
    transport,
  );
}

/**
 * JA4 of a parsed ClientHello.
 *
 * @example ja4(parseClientHello(bytes), 't').ja4 // 't13d1516h2_8daaf6152771_e5627efa2ab1'
 */
export function ja4(hello: ClientHello, transport: Ja4Transport = 't', alpnStyle: Ja4AlpnStyle = 'spec'): Ja4Fingerprints {
  const first = hello.alpn[0];
  let alpnCode = '00';
  if (first !== undefined) {
    const codes: number[] = [];
    for (let i = 0; i < first.length; i++) codes.push(first.charCodeAt(i) & 0xff);
    alpnCode = ja4AlpnCode(codes, 0, codes.length, alpnStyle);
  }
  return computeJa4(
    {
      ciphers: hello.ciphers,
      nCiphers: hello.ciphers.length,
      extensions: hello.extensions,
      nExtensions: hello.extensions.length,
      sigAlgs: hello.signatureAlgorithms,
      nSigAlgs: hello.signatureAlgorithms.length,
      versions: hello.supportedVersions,
      nVersions: hello.supportedVersions.length,
      legacyVersion: hello.legacyVersion,
      hasSni: hello.sni !== null || hello.extensions.includes(0),
      alpnCode,
    },
    transport,
  );
}

const tmpJa3: string[] = [];

function joinDecimal(list: ArrayLike<number>, n: number): string {
  tmpJa3.length = 0;
  for (let i = 0; i < n; i++) {
    const v = list[i]!;
    if (!isGrease(v)) tmpJa3.push(dec(v));
  }
  return tmpJa3.join('-');
}

function computeJa3(
  version: number,
  ciphers: ArrayLike<number>,
  nCiphers: number,
  exts: ArrayLike<number>,
  nExts: number,
  groups: ArrayLike<number>,
  nGroups: number,
  pf: ArrayLike<number>,
  nPf: number,
): Ja3Fingerprint {
  const s = `${version},${joinDecimal(ciphers, nCiphers)},${joinDecimal(exts, nExts)},${joinDecimal(groups, nGroups)},${joinDecimal(pf, nPf)}`;
  return { ja3: s, ja3Hash: hash('md5', s, 'hex') };
}

/** JA3 of a ClientHello held in a `HelloScratch`. */
export function ja3FromScratch(s: HelloScratch): Ja3Fingerprint {
  return computeJa3(
    s.legacyVersion,
    s.ciphers,
    s.nCiphers,
    s.extensions,
    s.nExtensions,
    s.groups,
    s.nGroups,
    s.pointFormats,
    s.nPointFormats,
  );
}

/**
 * JA3 of a parsed ClientHello: `version,ciphers,extensions,groups,point formats` in decimal,
 * GREASE removed, and its MD5.
 *
 * @example ja3(hello).ja3Hash // 'ada70206e40642a3e4461f35503241d5'
 */
export function ja3(hello: ClientHello): Ja3Fingerprint {
  return computeJa3(
    hello.legacyVersion,
    hello.ciphers,
    hello.ciphers.length,
    hello.extensions,
    hello.extensions.length,
    hello.supportedGroups,
    hello.supportedGroups.length,
    hello.ecPointFormats,
    hello.ecPointFormats.length,
  );
}

/** MD5 of an arbitrary JA3 string (lower-case hex), e.g. to hash strings from a feed. */
export function ja3HashOf(ja3String: string): string {
  return hash('md5', ja3String, 'hex');
}

