/**
 * Bounds-checked byte access for the file parsers. Every read that could fall outside the input
 * throws `CAIRN_ERR_FILE_UNPARSABLE` instead of Node's RangeError, so a truncated or hostile file
 * ends in a domain error (or a reason in the verdict), never in a crash.
 */
import { CairnError } from '../../kernel/errors.ts';

/** Raised when a structure points outside the bytes it was given. */
export function truncated(what: string, details?: Record<string, unknown>): CairnError {
  return new CairnError('CAIRN_ERR_FILE_UNPARSABLE', `The file is truncated or malformed: ${what}.`, details);
}

/** Turns any Uint8Array view into a Buffer over the same memory (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** True when `len` bytes starting at `off` lie inside `buf`. */
export function within(buf: Uint8Array, off: number, len: number): boolean {
  return Number.isSafeInteger(off) && Number.isSafeInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length;
}

function need(buf: Uint8Array, off: number, len: number, what: string): void {
  if (!within(buf, off, len)) throw truncated(what, { offset: off, length: len, size: buf.length });
}

/**
 * Integer readers (`u8`, `u16le`, `u16be`, `u32le`, `u32be`): like Buffer's, but a read past the
 * end throws CAIRN_ERR_FILE_UNPARSABLE naming `what`. Offsets are byte offsets into `buf`.
 *
 * @example u32le(buf, 0x3c, 'e_lfanew')
 */
export function u8(buf: Buffer, off: number, what = 'byte'): number {
  need(buf, off, 1, what);
  return buf[off] as number;
}
export function u16le(buf: Buffer, off: number, what = 'u16'): number {
  need(buf, off, 2, what);
  return buf.readUInt16LE(off);
}
export function u16be(buf: Buffer, off: number, what = 'u16'): number {
  need(buf, off, 2, what);
  return buf.readUInt16BE(off);
}
export function u32le(buf: Buffer, off: number, what = 'u32'): number {
  need(buf, off, 4, what);
  return buf.readUInt32LE(off);
}
export function u32be(buf: Buffer, off: number, what = 'u32'): number {
  need(buf, off, 4, what);
  return buf.readUInt32BE(off);
}
/**
 * A 64-bit field as a JS number. Values above 2^53 cannot be real offsets or sizes in a file we
 * hold in memory, so they come back as `Number.MAX_SAFE_INTEGER`, which every bounds check rejects.
 */
export function u64le(buf: Buffer, off: number, what = 'u64'): number {
  need(buf, off, 8, what);
  const v = buf.readBigUInt64LE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}
export function u64be(buf: Buffer, off: number, what = 'u64'): number {
  need(buf, off, 8, what);
  const v = buf.readBigUInt64BE(off);
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** A sub-view clamped to the buffer (never throws; may be shorter than asked). */
export function slice(buf: Buffer, off: number, len: number): Buffer {
  const start = Math.max(0, Math.min(buf.length, off));
  const end = Math.max(start, Math.min(buf.length, start + Math.max(0, len)));
  return buf.subarray(start, end);
}

/** True when `buf` holds `sig` (bytes or latin1 string) at `off`. */
export function hasAt(buf: Uint8Array, off: number, sig: Uint8Array | string): boolean {
  const s = typeof sig === 'string' ? Buffer.from(sig, 'latin1') : sig;
  if (!within(buf, off, s.length)) return false;
  for (let i = 0; i < s.length; i++) if (buf[off + i] !== s[i]) return false;
  return true;
}

/**
 * Reads a NUL-terminated string of at most `max` bytes (latin1), e.g. a DLL name in a PE import
 * table. Stops at the end of the buffer rather than throwing.
 */
export function cstr(buf: Buffer, off: number, max = 256): string {
  if (off < 0 || off >= buf.length) return '';
  let end = off;
  const stop = Math.min(buf.length, off + max);
  while (end < stop && buf[end] !== 0) end++;
  return buf.toString('latin1', off, end);
}

/**
 * Shannon entropy in bits per byte (0 = constant, 8 = indistinguishable from random). Packed or
 * encrypted code sections sit above about 7.2.
 *
 * @example entropy(Buffer.alloc(100)) // 0
 */
export function entropy(buf: Uint8Array): number {
  if (buf.length === 0) return 0;
  const counts = new Uint32Array(256);
  for (let i = 0; i < buf.length; i++) counts[buf[i] as number]!++;
  let h = 0;
  for (let i = 0; i < 256; i++) {
    const c = counts[i] as number;
    if (c === 0) continue;
    const p = c / buf.length;
    h -= p * Math.log2(p);
  }
  return Math.round(h * 1000) / 1000;
}

/** Replaces control characters so names taken from a file are safe to put in a message. */
export function printable(s: string, max = 120): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Lower-case extension of a file name including the dot (`.exe`), or '' when there is none. */
export function extensionOf(name: string | undefined): string {
  if (!name) return '';
  const base = name.replace(/^.*[\\/]/, '');
  const dot = base.lastIndexOf('.');
  return dot > 0 || (dot === 0 && base.length > 1) ? base.slice(dot).toLowerCase() : '';
}
