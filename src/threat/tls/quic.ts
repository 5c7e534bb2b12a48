/**
 * QUIC Initial packet protection removal (RFC 9001 §5, RFC 9369 for QUIC v2) and CRYPTO
 * frame extraction, so the TLS ClientHello/ServerHello inside QUIC can be fingerprinted.
 *
 * Initial packets are encrypted with keys derived from the client's Destination Connection
 * ID and a published salt — anyone on the path can remove that protection; it is obfuscation,
 * not confidentiality. Only Initial packets are decrypted; Handshake and 1-RTT packets (the
 * session itself) are never touched, as R-ATP-4 requires.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

/** Packet-protection keys for one direction of the Initial space. */
export interface QuicInitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

interface VersionParams {
  salt: Buffer;
  /** Long-header packet type (bits 0x30 of the first byte) used for Initial packets. */
  initialType: number;
  labelPrefix: string;
}

const SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const SALT_V2 = Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex');
const SALT_D29 = Buffer.from('afbfec289993d24c9e9786f19c6111e04390a899', 'hex');
const SALT_D23 = Buffer.from('c3eef712c72ebb5a11a7d2432bb46365bef9f502', 'hex');

/** Salt and labels for the QUIC versions whose Initial packets we can read, or null. */
function versionParams(version: number): VersionParams | null {
  if (version === QUIC_V1) return { salt: SALT_V1, initialType: 0, labelPrefix: 'quic' };
  if (version === QUIC_V2) return { salt: SALT_V2, initialType: 1, labelPrefix: 'quicv2' };
  if (version >= 0xff00001d && version <= 0xff000020) return { salt: SALT_D29, initialType: 0, labelPrefix: 'quic' };
  if (version >= 0xff000017 && version <= 0xff00001c) return { salt: SALT_D23, initialType: 0, labelPrefix: 'quic' };
  return null;
}

/** True when `version` is one whose Initial packets `decryptInitial` understands. */
export function isSupportedQuicVersion(version: number): boolean {
  return versionParams(version) !== null;
}

function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // empty context
  info[4 + full.length] = 1; // HKDF-Expand block counter T(1); every output here is ≤ 32 bytes
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/**
 * Initial keys for one direction (`server` false: what the client sends with).
 *
 * @example quicInitialKeys(QUIC_V1, Buffer.from('8394c8f03e515708', 'hex'), false) // RFC 9001 A.1
 */
export function quicInitialKeys(version: number, dcid: Uint8Array, server: boolean): QuicInitialKeys | null {
  const vp = versionParams(version);
  if (!vp) return null;
  const initial = createHmac('sha256', vp.salt).update(dcid).digest();
  const secret = hkdfExpandLabel(initial, server ? 'server in' : 'client in', 32);
  const pre = vp.labelPrefix;
  return {
    key: hkdfExpandLabel(secret, `${pre} key`, 16),
    iv: hkdfExpandLabel(secret, `${pre} iv`, 12),
    hp: hkdfExpandLabel(secret, `${pre} hp`, 16),
  };
}

/** Reads a QUIC variable-length integer into `out` (value, next offset); false if it does not fit before `end`. */
export function readVarint(b: Uint8Array, p: number, end: number, out: { v: number; p: number }): boolean {
  if (p >= end) return false;
  const first = b[p]!;
  const n = 1 << (first >> 6);
  if (p + n > end) return false;
  let v = first & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + b[p + i]!;
  out.v = v;
  out.p = p + n;
  return true;
}

/** The outer fields of a QUIC long-header Initial packet. */
export interface QuicInitialHeader {
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Offset just past this packet (coalesced packets may follow). */
  next: number;
  /** Offset of the (protected) packet number field. */
  pnOffset: number;
  /** Offset where the packet ends (pnOffset + Length). */
  end: number;
}

const vi = { v: 0, p: 0 };

/**
 * Parses the unprotected part of a long-header Initial packet at `off`; null when the bytes
 * are not a QUIC Initial packet of a known version.
 */
export function readInitialHeader(b: Uint8Array, off: number, end: number): QuicInitialHeader | null {
  if (end - off < 7) return null;
  const first = b[off]!;
  if ((first & 0xc0) !== 0xc0) return null; // long header with the fixed bit
  const version = ((b[off + 1]! << 24) | (b[off + 2]! << 16) | (b[off + 3]! << 8) | b[off + 4]!) >>> 0;
  const vp = versionParams(version);
  if (!vp || ((first >> 4) & 3) !== vp.initialType) return null;
  let p = off + 5;
  const dl = b[p]!;
  if (dl > 20 || p + 1 + dl >= end) return null;
  const dcid = b.subarray(p + 1, p + 1 + dl);
  p += 1 + dl;
  const sl = b[p]!;
  if (sl > 20 || p + 1 + sl > end) return null;
  const scid = b.subarray(p + 1, p + 1 + sl);
  p += 1 + sl;
  if (!readVarint(b, p, end, vi)) return null;
  if (vi.v > end - vi.p) return null; // token
  p = vi.p + vi.v;
  if (!readVarint(b, p, end, vi)) return null;
  const length = vi.v;
  p = vi.p;
  if (length < 20 || length > end - p) return null; // pn (≥1) + sample needs 4 + 16 bytes
  return { version, dcid, scid, next: p + length, pnOffset: p, end: p + length };
}

/**
 * Removes header protection and decrypts one Initial packet. Returns the plaintext frames,
 * or null when authentication fails (wrong keys, not QUIC, or corrupted).
 */
export function decryptInitial(b: Uint8Array, off: number, h: QuicInitialHeader, keys: QuicInitialKeys): Buffer | null {
  const sampleOff = h.pnOffset + 4;
  if (sampleOff + 16 > h.end) return null;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(b.subarray(sampleOff, sampleOff + 16));
  const first = b[off]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  const hdrLen = h.pnOffset + pnLen - off;
  if (h.end - (h.pnOffset + pnLen) < 16) return null;
  const header = Buffer.from(b.subarray(off, off + hdrLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const v = header[hdrLen - pnLen + i]! ^ mask[1 + i]!;
    header[hdrLen - pnLen + i] = v;
    pn = pn * 256 + v;
  }
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const ctEnd = h.end - 16;
  try {
    const d = createDecipheriv('aes-128-gcm', keys.key, nonce);
    d.setAAD(header);
    d.setAuthTag(b.subarray(ctEnd, h.end));
    const out = d.update(b.subarray(h.pnOffset + pnLen, ctEnd));
    const fin = d.final();
    return fin.length ? Buffer.concat([out, fin]) : out;
  } catch {
    return null;
  }
}

/**
 * Calls `onCrypto(offset, data, dataOff, dataLen)` for every CRYPTO frame in decrypted
 * Initial frames. Stops at the first frame type not allowed in Initial packets.
 */
export function forEachCryptoFrame(
  f: Uint8Array,
  onCrypto: (streamOffset: number, data: Uint8Array, off: number, len: number) => void,
): void {
  const end = f.length;
  let p = 0;
  const r = { v: 0, p: 0 };
  const skipVarints = (n: number): boolean => {
    for (let i = 0; i < n; i++) {
      if (!readVarint(f, p, end, r)) return false;
      p = r.p;
    }
    return true;
  };
  while (p < end) {
    const type = f[p]!;
    if (type === 0x00 || type === 0x01) {
      p++; // PADDING, PING
      continue;
    }
    p++;
    if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, then count × (gap, length) [+ 3 ECN counts]
      if (!skipVarints(2) || !readVarint(f, p, end, r)) return;
      const ranges = r.v;
      p = r.p;
      if (ranges > end) return;
      if (!skipVarints(1 + 2 * ranges + (type === 0x03 ? 3 : 0))) return;
      continue;
    }
    if (type === 0x06) {
      if (!readVarint(f, p, end, r)) return;
      const so = r.v;
      p = r.p;
      if (!readVarint(f, p, end, r)) return;
      const len = r.v;
      p = r.p;
      if (len > end - p) return;
      onCrypto(so, f, p, len);
      p += len;
      continue;
    }
    if (type === 0x1c || type === 0x1d) {
      if (!skipVarints(type === 0x1c ? 2 : 1) || !readVarint(f, p, end, r)) return;
      p = r.p + r.v;
      continue;
    }
    return;
  }
}

/**
 * Reassembles a CRYPTO stream (frames may arrive split, reordered and across packets) into
 * a contiguous prefix, up to `cap` bytes.
 */
export class CryptoAssembler {
  private buf: Uint8Array = new Uint8Array(0);
  /** Sorted, disjoint, non-adjacent [start, end) ranges received. */
  private ranges: number[] = [];

  constructor(private readonly cap: number) {}

  /** Adds data at a stream offset; returns false when it lies beyond the cap. */
  add(offset: number, data: Uint8Array, off: number, len: number): boolean {
    if (len === 0) return true;
    if (offset + len > this.cap) return false;
    const endOff = offset + len;
    if (endOff > this.buf.length) {
      const next = new Uint8Array(Math.min(this.cap, Math.max(endOff, this.buf.length * 2, 2048)));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(data.subarray(off, off + len), offset);
    // Merge [offset, endOff) into the range list.
    const r = this.ranges;
    let s = offset;
    let e = endOff;
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < r.length; i += 2) {
      const rs = r[i]!;
      const re = r[i + 1]!;
      if (re < s) out.push(rs, re);
      else if (rs > e) {
        if (!placed) {
          out.push(s, e);
          placed = true;
        }
        out.push(rs, re);
      } else {
        s = Math.min(s, rs);
        e = Math.max(e, re);
      }
    }
    if (!placed) out.push(s, e);
    this.ranges = out;
    return true;
  }

  /** Length of the contiguous prefix starting at offset 0. */
  contiguous(): number {
    return this.ranges[0] === 0 ? this.ranges[1]! : 0;
  }

  get bytes(): Uint8Array {
    return this.buf;
  }
}
