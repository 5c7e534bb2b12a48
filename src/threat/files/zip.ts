/**
 * A defensive ZIP reader: central directory (with ZIP64 and prepended data such as a PE stub),
 * a local-header walk when the directory is missing, encryption flags (ZipCrypto, AES), and entry
 * extraction with `node:zlib` under hard output caps. It detects overlapping entries, the trick
 * behind "flat" zip bombs, so their data is never inflated at all.
 */
import { inflateRawSync, constants as zc } from 'node:zlib';
import { CairnError } from '../../kernel/errors.ts';
import { asBuffer, printable, truncated, u16le, u32le, u64le, within } from './bytes.ts';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate, 99 AES wrapper; anything else is reported as unsupported. */
  method: number;
  flags: number;
  /** Traditional PKWARE encryption (flag bit 0) or AES (method 99 / extra 0x9901). */
  encrypted: boolean;
  aes: boolean;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Offset of the entry's data, or -1 when its local header is missing or broken. */
  dataOffset: number;
  isDirectory: boolean;
}

export interface ZipListing {
  entries: ZipEntry[];
  /** Bytes in front of the archive (self-extractor stub, PE overlay host). */
  prependedBytes: number;
  /** Two entries' data ranges overlap: a flat zip bomb or a deliberately confusing archive. */
  overlapping: boolean;
  /** Read by walking local headers because the central directory was missing or broken. */
  fromLocalHeaders: boolean;
  /** More entries existed than were listed (`maxEntries`), or the walk stopped early. */
  truncated: boolean;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_Z64_LOC = 0x07064b50;
const SIG_Z64_EOCD = 0x06064b50;

function decodeName(raw: Buffer, utf8: boolean): string {
  return printable(raw.toString(utf8 ? 'utf8' : 'latin1'), 512);
}

function findEocd(buf: Buffer): number {
  const stop = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf[i] === 0x50 && buf[i + 1] === 0x4b && buf.readUInt32LE(i) === SIG_EOCD) return i;
  }
  return -1;
}

/** Parses the ZIP64 extra field (0x0001) in the order the spec gives, for fields that were 0xFFFFFFFF. */
function applyZip64(extra: Buffer, e: { u: number; c: number; off: number }): void {
  let p = 0;
  while (p + 4 <= extra.length) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    const body = extra.subarray(p + 4, Math.min(extra.length, p + 4 + len));
    if (id === 0x0001) {
      let q = 0;
      const next = (): number => {
        if (q + 8 > body.length) return -1;
        const v = u64le(body, q);
        q += 8;
        return v;
      };
      if (e.u === 0xffffffff) e.u = next();
      if (e.c === 0xffffffff) e.c = next();
      if (e.off === 0xffffffff) e.off = next();
    }
    p += 4 + len;
  }
}

function hasAesExtra(extra: Buffer): boolean {
  let p = 0;
  while (p + 4 <= extra.length) {
    if (extra.readUInt16LE(p) === 0x9901) return true;
    p += 4 + extra.readUInt16LE(p + 2);
  }
  return false;
}

function localDataOffset(buf: Buffer, off: number): number {
  if (!within(buf, off, 30) || buf.readUInt32LE(off) !== SIG_LOCAL) return -1;
  const start = off + 30 + buf.readUInt16LE(off + 26) + buf.readUInt16LE(off + 28);
  return start <= buf.length ? start : -1;
}

/**
 * Lists a ZIP's entries without decompressing anything. Throws `CAIRN_ERR_FILE_UNPARSABLE` when
 * neither a central directory nor a local header can be found.
 *
 * @example listZip(bytes).entries.map((e) => e.name) // ['[Content_Types].xml', 'word/document.xml', ...]
 */
export function listZip(bytes: Uint8Array, opts: { maxEntries?: number } = {}): ZipListing {
  const buf = asBuffer(bytes);
  const maxEntries = opts.maxEntries ?? 10_000;
  const eocd = findEocd(buf);
  if (eocd < 0) return walkLocalHeaders(buf, maxEntries);
  let total = u16le(buf, eocd + 10);
  let cdSize = u32le(buf, eocd + 12);
  let cdOffset = u32le(buf, eocd + 16);
  let cdEnd = eocd;
  if ((total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) && eocd >= 20 && buf.readUInt32LE(eocd - 20) === SIG_Z64_LOC) {
    const z64 = u64le(buf, eocd - 12);
    if (within(buf, z64, 56) && buf.readUInt32LE(z64) === SIG_Z64_EOCD) {
      total = Math.min(u64le(buf, z64 + 32), Number.MAX_SAFE_INTEGER);
      cdSize = u64le(buf, z64 + 40);
      cdOffset = u64le(buf, z64 + 48);
      cdEnd = z64 < eocd ? z64 : eocd;
    }
  }
  // Where the directory really starts; the difference to the declared offset is prepended data.
  const actualCd = cdEnd - cdSize;
  let prepended = 0;
  if (actualCd >= 0 && actualCd !== cdOffset && within(buf, actualCd, 4) && buf.readUInt32LE(actualCd) === SIG_CENTRAL) prepended = actualCd - cdOffset;
  let p = cdOffset + prepended;
  if (!within(buf, p, 4) || buf.readUInt32LE(p) !== SIG_CENTRAL) {
    if (total === 0 && cdSize === 0) return { entries: [], prependedBytes: 0, overlapping: false, fromLocalHeaders: false, truncated: false };
    return walkLocalHeaders(buf, maxEntries);
  }
  const entries: ZipEntry[] = [];
  let cut = false;
  while (within(buf, p, 46) && buf.readUInt32LE(p) === SIG_CENTRAL) {
    if (entries.length >= maxEntries) {
      cut = true;
      break;
    }
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const e = { c: buf.readUInt32LE(p + 20), u: buf.readUInt32LE(p + 24), off: buf.readUInt32LE(p + 42) };
    const nLen = buf.readUInt16LE(p + 28);
    const xLen = buf.readUInt16LE(p + 30);
    const cLen = buf.readUInt16LE(p + 32);
    if (!within(buf, p + 46, nLen + xLen)) {
      cut = true;
      break;
    }
    const name = decodeName(buf.subarray(p + 46, p + 46 + nLen), (flags & 0x0800) !== 0);
    const extra = buf.subarray(p + 46 + nLen, p + 46 + nLen + xLen);
    applyZip64(extra, e);
    const aes = method === 99 || hasAesExtra(extra);
    const localHeaderOffset = e.off < 0 ? -1 : e.off + prepended;
    entries.push({
      name, method, flags,
      encrypted: (flags & 1) !== 0 || aes,
      aes,
      compressedSize: e.c < 0 ? Number.MAX_SAFE_INTEGER : e.c,
      uncompressedSize: e.u < 0 ? Number.MAX_SAFE_INTEGER : e.u,
      localHeaderOffset,
      dataOffset: localHeaderOffset < 0 ? -1 : localDataOffset(buf, localHeaderOffset),
      isDirectory: name.endsWith('/'),
    });
    p += 46 + nLen + xLen + cLen;
  }
  if (!cut && entries.length < Math.min(total, maxEntries)) cut = true;
  return { entries, prependedBytes: prepended, overlapping: detectOverlap(entries), fromLocalHeaders: false, truncated: cut };
}

/** Recovers what it can from a ZIP whose central directory is gone (a truncated download). */
function walkLocalHeaders(buf: Buffer, maxEntries: number): ZipListing {
  if (!within(buf, 0, 4) || buf.readUInt32LE(0) !== SIG_LOCAL) throw truncated('no ZIP central directory or local header');
  const entries: ZipEntry[] = [];
  let p = 0;
  while (within(buf, p, 30) && buf.readUInt32LE(p) === SIG_LOCAL) {
    if (entries.length >= maxEntries) break;
    const flags = buf.readUInt16LE(p + 6);
    const method = buf.readUInt16LE(p + 8);
    const e = { c: buf.readUInt32LE(p + 18), u: buf.readUInt32LE(p + 22), off: 0 };
    const nLen = buf.readUInt16LE(p + 26);
    const xLen = buf.readUInt16LE(p + 28);
    const name = decodeName(buf.subarray(p + 30, Math.min(buf.length, p + 30 + nLen)), (flags & 0x0800) !== 0);
    const extra = buf.subarray(Math.min(buf.length, p + 30 + nLen), Math.min(buf.length, p + 30 + nLen + xLen));
    applyZip64(extra, e);
    const aes = method === 99 || hasAesExtra(extra);
    const dataOffset = p + 30 + nLen + xLen;
    const sizeKnown = (flags & 0x0008) === 0 || e.c !== 0;
    entries.push({
      name, method, flags, encrypted: (flags & 1) !== 0 || aes, aes,
      compressedSize: sizeKnown ? e.c : Math.max(0, buf.length - dataOffset),
      uncompressedSize: e.u, localHeaderOffset: p, dataOffset: dataOffset <= buf.length ? dataOffset : -1,
      isDirectory: name.endsWith('/'),
    });
    if (!sizeKnown) break; // sizes live in a data descriptor after the data; the walk cannot continue safely
    p = dataOffset + e.c;
    if ((flags & 0x0008) !== 0 && within(buf, p, 4) && buf.readUInt32LE(p) === 0x08074b50) p += 16;
  }
  // Without a central directory nobody can tell whether entries are missing: always "truncated".
  return { entries, prependedBytes: 0, overlapping: detectOverlap(entries), fromLocalHeaders: true, truncated: true };
}

function detectOverlap(entries: ZipEntry[]): boolean {
  const spans = entries
    .filter((e) => e.localHeaderOffset >= 0)
    .map((e) => ({ start: e.localHeaderOffset, end: (e.dataOffset >= 0 ? e.dataOffset : e.localHeaderOffset + 30) + e.compressedSize }))
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) if ((spans[i] as { start: number }).start < (spans[i - 1] as { end: number }).end) return true;
  return false;
}

/**
 * Extracts one entry, producing at most `maxBytes` bytes. Throws `CAIRN_ERR_ARCHIVE_BOMB` when
 * the entry would inflate past that cap, and `CAIRN_ERR_FILE_UNPARSABLE` when it is encrypted,
 * uses an unsupported method or its data is corrupt. A truncated deflate stream yields what could
 * be decoded.
 *
 * @example readZipEntry(bytes, entry, { maxBytes: 10 * 1024 * 1024 })
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, opts: { maxBytes: number }): Buffer {
  const buf = asBuffer(bytes);
  if (entry.encrypted) throw new CairnError('CAIRN_ERR_FILE_UNPARSABLE', `Could not inspect ${entry.name}: encrypted.`, { reason: 'encrypted' });
  if (entry.dataOffset < 0) throw truncated(`local header of ${entry.name}`);
  const data = buf.subarray(entry.dataOffset, Math.min(buf.length, entry.dataOffset + entry.compressedSize));
  if (entry.method === 0) {
    if (data.length > opts.maxBytes) throw bomb(entry, opts.maxBytes);
    return data;
  }
  if (entry.method !== 8) {
    throw new CairnError('CAIRN_ERR_FILE_UNPARSABLE', `Could not inspect ${entry.name}: compression method ${entry.method} is not supported.`, { reason: 'method', method: entry.method });
  }
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(1, opts.maxBytes), finishFlush: zc.Z_SYNC_FLUSH });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw bomb(entry, opts.maxBytes);
    throw truncated(`deflate data of ${entry.name}`, { zlib: (e as Error).message });
  }
}

function bomb(entry: ZipEntry, cap: number): CairnError {
  return new CairnError('CAIRN_ERR_ARCHIVE_BOMB', `${entry.name} expands past ${cap} bytes.`, { entry: entry.name, capBytes: cap, compressedBytes: entry.compressedSize });
}
