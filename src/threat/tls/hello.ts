/**
 * TLS ClientHello and ServerHello parsing (RFC 8446 §4.1.2–4.1.3, RFC 6347 for DTLS).
 *
 * The hot path parses into a reusable `HelloScratch` (typed arrays, no allocation) that the
 * fingerprint functions read directly; `parseClientHello` / `parseServerHello` wrap it for
 * callers that want plain objects. Every length is checked against the bytes that remain;
 * an inconsistent hello throws `CAIRN_ERR_TLS_MALFORMED`.
 */
import { CairnError } from '../../kernel/errors.ts';

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_HELLO_VERIFY_REQUEST = 3;

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SUPPORTED_GROUPS = 0x000a;
export const EXT_EC_POINT_FORMATS = 0x000b;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_SUPPORTED_VERSIONS = 0x002b;

/** True for the reserved GREASE values 0x0a0a, 0x1a1a, … 0xfafa (RFC 8701). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

/** SHA-256("HelloRetryRequest"): the ServerHello.random that marks a HelloRetryRequest. */
const HRR_RANDOM = new Uint8Array([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a,
  0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/** Longest host name or ALPN value decoded into a string (longer ones are cut). */
const MAX_NAME_CHARS = 1024;

function malformed(what: string): CairnError {
  return new CairnError('CAIRN_ERR_TLS_MALFORMED', `The TLS hello is malformed: ${what}.`, { field: what });
}

/**
 * Reusable parse target for ClientHellos. Lists keep wire order and GREASE values; the
 * fingerprinting code skips GREASE itself. Sized for the longest lists the 16-bit length fields allow.
 */
export class HelloScratch {
  legacyVersion = 0;
  ciphers = new Uint16Array(32_768);
  nCiphers = 0;
  extensions = new Uint16Array(16_384);
  nExtensions = 0;
  sigAlgs = new Uint16Array(32_768);
  nSigAlgs = 0;
  groups = new Uint16Array(32_768);
  nGroups = 0;
  pointFormats = new Uint8Array(256);
  nPointFormats = 0;
  versions = new Uint16Array(128);
  nVersions = 0;
  hasSni = false;
  /** Location of the first host_name in the buffer passed to `readClientHello` (-1 if none). */
  sniOff = -1;
  sniLen = 0;
  hasAlpn = false;
  /** Location of the ALPN protocol_name_list (each entry: 1-byte length, bytes). */
  alpnOff = -1;
  alpnLen = 0;
  /** The buffer the offsets above refer to (valid until it is reused). */
  data: Uint8Array = new Uint8Array(0);
}

/**
 * Parses a ClientHello body (after the 4-byte handshake header) into `s`.
 * `dtls` adds the cookie field DTLS places after the session id.
 */
export function readClientHello(b: Uint8Array, off: number, len: number, s: HelloScratch, dtls = false): void {
  const end = off + len;
  s.data = b;
  s.nCiphers = s.nExtensions = s.nSigAlgs = s.nGroups = s.nPointFormats = s.nVersions = 0;
  s.hasSni = s.hasAlpn = false;
  s.sniOff = s.alpnOff = -1;
  s.sniLen = s.alpnLen = 0;
  if (len < 2 + 32 + 1) throw malformed('too short');
  s.legacyVersion = (b[off]! << 8) | b[off + 1]!;
  let p = off + 34;
  const sid = b[p]!;
  p += 1 + sid;
  if (sid > 32 || p > end) throw malformed('session id');
  if (dtls) {
    if (p >= end) throw malformed('cookie');
    const ck = b[p]!;
    p += 1 + ck;
    if (p > end) throw malformed('cookie');
  }
  if (end - p < 2) throw malformed('cipher suites');
  const csLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (csLen % 2 !== 0 || csLen > end - p) throw malformed('cipher suites');
  const cs = s.ciphers;
  for (let i = 0; i < csLen; i += 2) cs[i >> 1] = (b[p + i]! << 8) | b[p + i + 1]!;
  s.nCiphers = csLen >> 1;
  p += csLen;
  if (p >= end) throw malformed('compression methods');
  const comp = b[p]!;
  p += 1 + comp;
  if (p > end) throw malformed('compression methods');
  if (p === end) return; // no extensions (SSL 3.0 / early TLS)
  if (end - p < 2) throw malformed('extensions');
  const extLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (extLen > end - p) throw malformed('extensions');
  const extEnd = p + extLen;
  const ex = s.extensions;
  let n = 0;
  while (p < extEnd) {
    if (extEnd - p < 4) throw malformed('extension header');
    const type = (b[p]! << 8) | b[p + 1]!;
    const l = (b[p + 2]! << 8) | b[p + 3]!;
    p += 4;
    if (l > extEnd - p) throw malformed('extension length');
    ex[n++] = type;
    switch (type) {
      case EXT_SERVER_NAME:
        readSni(b, p, p + l, s);
        break;
      case EXT_ALPN:
        s.hasAlpn = true;
        if (l >= 2) {
          const ll = Math.min((b[p]! << 8) | b[p + 1]!, l - 2);
          s.alpnOff = p + 2;
          s.alpnLen = ll;
        }
        break;
      case EXT_SUPPORTED_VERSIONS:
        if (l >= 1) s.nVersions = readU16List(b, p + 1, Math.min(b[p]!, l - 1), s.versions);
        break;
      case EXT_SIGNATURE_ALGORITHMS:
        if (l >= 2) s.nSigAlgs = readU16List(b, p + 2, Math.min((b[p]! << 8) | b[p + 1]!, l - 2), s.sigAlgs);
        break;
      case EXT_SUPPORTED_GROUPS:
        if (l >= 2) s.nGroups = readU16List(b, p + 2, Math.min((b[p]! << 8) | b[p + 1]!, l - 2), s.groups);
        break;
      case EXT_EC_POINT_FORMATS:
        if (l >= 1) {
          const m = Math.min(b[p]!, l - 1);
          for (let i = 0; i < m; i++) s.pointFormats[i] = b[p + 1 + i]!;
          s.nPointFormats = m;
        }
        break;
    }
    p += l;
  }
  s.nExtensions = n;
}

function readU16List(b: Uint8Array, p: number, byteLen: number, into: Uint16Array): number {
  const n = Math.min(byteLen >> 1, into.length);
  for (let i = 0; i < n; i++) into[i] = (b[p + 2 * i]! << 8) | b[p + 2 * i + 1]!;
  return n;
}

function readSni(b: Uint8Array, p: number, end: number, s: HelloScratch): void {
  s.hasSni = true;
  if (end - p < 2) return;
  const listEnd = Math.min(end, p + 2 + ((b[p]! << 8) | b[p + 1]!));
  p += 2;
  while (listEnd - p >= 3) {
    const t = b[p]!;
    const l = (b[p + 1]! << 8) | b[p + 2]!;
    p += 3;
    if (l > listEnd - p) return;
    if (t === 0) {
      s.sniOff = p;
      s.sniLen = l;
      return;
    }
    p += l;
  }
}

/**
 * Node's native Latin-1 decoder (what `buf.toString('latin1')` calls); it accepts any Uint8Array
 * and is several times faster than building a short string in JavaScript.
 */
const nativeLatin1 = (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice;

/** Decodes bytes as Latin-1 (SNI and ALPN are ASCII on the wire; this never throws). */
export function latin1(b: Uint8Array, off: number, len: number): string {
  const n = Math.min(len, MAX_NAME_CHARS);
  if (nativeLatin1) return nativeLatin1.call(b, off, off + n);
  return String.fromCharCode.apply(null, b.subarray(off, off + n) as unknown as number[]);
}

/** ALPN identifiers seen in almost every hello, returned without decoding. */
const COMMON_ALPN = ['h2', 'http/1.1', 'h3', 'http/1.0', 'spdy/3.1', 'acme-tls/1'].map((t) => ({
  text: t,
  bytes: Array.from(t, (c) => c.charCodeAt(0)),
}));

function alpnText(b: Uint8Array, off: number, len: number): string {
  for (const c of COMMON_ALPN) {
    if (c.bytes.length !== len) continue;
    let i = 0;
    while (i < len && b[off + i] === c.bytes[i]) i++;
    if (i === len) return c.text;
  }
  return latin1(b, off, len);
}

/** The server name the client asked for, or null. */
export function scratchSni(s: HelloScratch): string | null {
  return s.sniOff >= 0 ? latin1(s.data, s.sniOff, s.sniLen) : null;
}

/** The ALPN protocols offered, in order. */
export function scratchAlpn(s: HelloScratch): string[] {
  const out: string[] = [];
  if (s.alpnOff < 0) return out;
  const b = s.data;
  let p = s.alpnOff;
  const end = p + s.alpnLen;
  while (p < end && out.length < 64) {
    const l = b[p]!;
    p++;
    if (l > end - p) break;
    out.push(alpnText(b, p, l));
    p += l;
  }
  return out;
}

/** A parsed ClientHello as plain data (lists in wire order, GREASE included). */
export interface ClientHello {
  /** ClientHello.legacy_version, e.g. 0x0303. */
  legacyVersion: number;
  ciphers: number[];
  extensions: number[];
  /** Host name from the server_name extension (R-DATA-9 personal data: the site visited). */
  sni: string | null;
  alpn: string[];
  supportedVersions: number[];
  signatureAlgorithms: number[];
  supportedGroups: number[];
  ecPointFormats: number[];
}

/** Copies the first `n` values of a typed array into a plain array (faster than Array.from). */
export function toArray(src: Uint16Array | Uint8Array, n: number): number[] {
  const a = new Array<number>(n);
  for (let i = 0; i < n; i++) a[i] = src[i]!;
  return a;
}

/** Copies the scratch into a plain `ClientHello` object. */
export function scratchToClientHello(s: HelloScratch): ClientHello {
  return {
    legacyVersion: s.legacyVersion,
    ciphers: toArray(s.ciphers, s.nCiphers),
    extensions: toArray(s.extensions, s.nExtensions),
    sni: scratchSni(s),
    alpn: scratchAlpn(s),
    supportedVersions: toArray(s.versions, s.nVersions),
    signatureAlgorithms: toArray(s.sigAlgs, s.nSigAlgs),
    supportedGroups: toArray(s.groups, s.nGroups),
    ecPointFormats: toArray(s.pointFormats, s.nPointFormats),
  };
}

/** Scratch reused by `parseClientHello` (parsing is synchronous, so one is enough). */
let shared: HelloScratch | null = null;

/**
 * Parses a ClientHello handshake message. Accepts the message with its 4-byte handshake
 * header (type 1, 24-bit length) or a whole TLS record (content type 22) around it.
 *
 * @example
 * const ch = parseClientHello(recordBytes); // ch.sni === 'example.com'
 */
export function parseClientHello(bytes: Uint8Array): ClientHello {
  let off = 0;
  if (bytes.length >= 5 && bytes[0] === 22 && bytes[1] === 3) off = 5; // record header
  if (bytes.length - off < 4 || bytes[off] !== HS_CLIENT_HELLO) throw malformed('not a ClientHello');
  const len = (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
  if (len > bytes.length - off - 4) throw malformed('truncated');
  shared ??= new HelloScratch();
  readClientHello(bytes, off + 4, len, shared);
  return scratchToClientHello(shared);
}

/** What the server chose in its ServerHello. */
export interface ServerHello {
  /** Negotiated version: supported_versions if present, else legacy_version. */
  version: number;
  cipher: number;
  /** The ALPN protocol the server selected, if any. */
  alpn: string | null;
  /** True when this is a HelloRetryRequest (the client will send a second ClientHello). */
  helloRetryRequest: boolean;
  extensions: number[];
}

/** Parses a ServerHello body (after the 4-byte handshake header). */
export function readServerHello(b: Uint8Array, off: number, len: number): ServerHello {
  const end = off + len;
  if (len < 2 + 32 + 1) throw malformed('server hello too short');
  let version = (b[off]! << 8) | b[off + 1]!;
  let hrr = true;
  for (let i = 0; i < 32; i++) {
    if (b[off + 2 + i] !== HRR_RANDOM[i]) {
      hrr = false;
      break;
    }
  }
  let p = off + 34;
  const sid = b[p]!;
  p += 1 + sid;
  if (sid > 32 || end - p < 3) throw malformed('server hello session id');
  const cipher = (b[p]! << 8) | b[p + 1]!;
  p += 3; // cipher + compression method
  let alpn: string | null = null;
  const extensions: number[] = [];
  if (end - p >= 2) {
    const extEnd = Math.min(end, p + 2 + ((b[p]! << 8) | b[p + 1]!));
    p += 2;
    while (extEnd - p >= 4) {
      const type = (b[p]! << 8) | b[p + 1]!;
      const l = (b[p + 2]! << 8) | b[p + 3]!;
      p += 4;
      if (l > extEnd - p) throw malformed('server hello extension length');
      extensions.push(type);
      if (type === EXT_SUPPORTED_VERSIONS && l >= 2) version = (b[p]! << 8) | b[p + 1]!;
      else if (type === EXT_ALPN && l >= 3) {
        const nl = b[p + 2]!;
        if (nl <= l - 3) alpn = alpnText(b, p + 3, nl);
      }
      p += l;
    }
  }
  return { version, cipher, alpn, helloRetryRequest: hrr, extensions };
}

/**
 * Parses a ServerHello handshake message (with its 4-byte header, or inside a TLS record).
 *
 * @example parseServerHello(bytes).cipher === 0x1301
 */
export function parseServerHello(bytes: Uint8Array): ServerHello {
  let off = 0;
  if (bytes.length >= 5 && bytes[0] === 22 && bytes[1] === 3) off = 5;
  if (bytes.length - off < 4 || bytes[off] !== HS_SERVER_HELLO) throw malformed('not a ServerHello');
  const len = (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
  if (len > bytes.length - off - 4) throw malformed('truncated');
  return readServerHello(bytes, off + 4, len);
}
