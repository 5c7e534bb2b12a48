/**
 * Readers for the simple containers Node can open without extra dependencies: tar (ustar, GNU long
 * names, pax paths), cpio (newc/crc and odc), ar (and so the outer layer of .deb) and gzip. They
 * yield sub-views of the input (no copies) and stop at the end of the data they were given.
 */
import { gunzipSync, constants as zc } from 'node:zlib';
import { CairnError } from '../../kernel/errors.ts';
import { cstr, hasAt, printable, truncated } from './bytes.ts';

export interface ContainerEntry {
  name: string;
  data: Buffer;
  /** The header promised more bytes than the file holds. */
  short: boolean;
}

function octal(field: Buffer): number {
  if (field.length > 0 && ((field[0] as number) & 0x80) !== 0) {
    // GNU base-256 for sizes over 8 GiB: can never fit in memory here.
    return Number.MAX_SAFE_INTEGER;
  }
  const s = field.toString('latin1').replace(/\0.*$/, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return Number.NaN;
  return parseInt(s, 8);
}

/**
 * Regular files of a tar archive, in order.
 *
 * @example for (const e of tarEntries(bytes)) console.log(e.name, e.data.length)
 */
export function* tarEntries(buf: Buffer, maxEntries = 10_000): Generator<ContainerEntry> {
  let p = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  for (let n = 0; p + 512 <= buf.length && n < maxEntries * 4; n++) {
    const h = buf.subarray(p, p + 512);
    if (h.every((b) => b === 0)) return;
    const size = octal(h.subarray(124, 136));
    if (Number.isNaN(size)) throw truncated(`tar header at ${p}`);
    const type = String.fromCharCode(h[156] as number);
    const start = p + 512;
    const data = buf.subarray(start, Math.min(buf.length, start + size));
    const short = start + size > buf.length;
    if (type === 'L') longName = cstr(data, 0, 4096);
    else if (type === 'x') paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
    else if (type === '0' || type === '\0' || type === '7') {
      const prefix = hasAt(h, 257, 'ustar') ? cstr(h, 345, 155) : '';
      const base = cstr(h, 0, 100);
      yield { name: printable(paxPath ?? longName ?? (prefix ? `${prefix}/${base}` : base), 512), data, short };
      longName = undefined;
      paxPath = undefined;
    }
    if (short) return;
    p = start + Math.ceil(size / 512) * 512;
  }
}

/** Files of a cpio archive (newc/crc, portable odc and old binary formats, either byte order). */
export function* cpioEntries(buf: Buffer, maxEntries = 10_000): Generator<ContainerEntry> {
  let p = 0;
  for (let n = 0; n < maxEntries; n++) {
    if (hasAt(buf, p, '070701') || hasAt(buf, p, '070702')) {
      if (p + 110 > buf.length) throw truncated('cpio header');
      const hex = (o: number): number => parseInt(buf.toString('latin1', p + o, p + o + 8), 16);
      const mode = hex(14);
      const size = hex(54);
      const nameSize = hex(94);
      if (![mode, size, nameSize].every(Number.isFinite)) throw truncated('cpio header');
      const name = cstr(buf, p + 110, nameSize);
      if (name === 'TRAILER!!!') return;
      const dataAt = p + 110 + nameSize + ((4 - ((110 + nameSize) % 4)) % 4);
      const data = buf.subarray(Math.min(buf.length, dataAt), Math.min(buf.length, dataAt + size));
      if ((mode & 0o170000) === 0o100000) yield { name: printable(name, 512), data, short: dataAt + size > buf.length };
      p = dataAt + size + ((4 - (size % 4)) % 4);
    } else if (hasAt(buf, p, '070707')) {
      if (p + 76 > buf.length) throw truncated('cpio header');
      const oct = (o: number, l: number): number => parseInt(buf.toString('latin1', p + o, p + o + l), 8);
      const mode = oct(18, 6);
      const nameSize = oct(59, 6);
      const size = oct(65, 11);
      if (![mode, size, nameSize].every(Number.isFinite)) throw truncated('cpio header');
      const name = cstr(buf, p + 76, nameSize);
      if (name === 'TRAILER!!!') return;
      const dataAt = p + 76 + nameSize;
      const data = buf.subarray(Math.min(buf.length, dataAt), Math.min(buf.length, dataAt + size));
      if ((mode & 0o170000) === 0o100000) yield { name: printable(name, 512), data, short: dataAt + size > buf.length };
      p = dataAt + size;
    } else if (p + 26 <= buf.length && (buf.readUInt16LE(p) === 0x71c7 || buf.readUInt16BE(p) === 0x71c7)) {
      const le = buf.readUInt16LE(p) === 0x71c7;
      const r16 = (o: number): number => (le ? buf.readUInt16LE(p + o) : buf.readUInt16BE(p + o));
      const mode = r16(6);
      const nameSize = r16(20);
      const size = r16(22) * 0x10000 + r16(24);
      const name = cstr(buf, p + 26, nameSize);
      if (name === 'TRAILER!!!') return;
      const dataAt = p + 26 + nameSize + (nameSize % 2);
      const data = buf.subarray(Math.min(buf.length, dataAt), Math.min(buf.length, dataAt + size));
      if ((mode & 0o170000) === 0o100000) yield { name: printable(name, 512), data, short: dataAt + size > buf.length };
      p = dataAt + size + (size % 2);
    } else return;
  }
}

/** Members of an ar archive (`!<arch>`), with GNU `/`-terminated names. */
export function* arEntries(buf: Buffer, maxEntries = 10_000): Generator<ContainerEntry> {
  if (!hasAt(buf, 0, '!<arch>\n')) throw truncated('not an ar archive');
  let p = 8;
  for (let n = 0; n < maxEntries && p + 60 <= buf.length; n++) {
    const name = buf.toString('latin1', p, p + 16).trim().replace(/\/$/, '');
    const size = Number(buf.toString('latin1', p + 48, p + 58).trim());
    if (!Number.isSafeInteger(size) || size < 0) throw truncated(`ar member header at ${p}`);
    const data = buf.subarray(p + 60, Math.min(buf.length, p + 60 + size));
    if (name !== '' && name !== '/' && name !== '//') yield { name: printable(name, 256), data, short: p + 60 + size > buf.length };
    p += 60 + size + (size % 2);
  }
}

/** The original name stored in a gzip header (FNAME), if any. */
export function gzipName(buf: Buffer): string | undefined {
  if (buf.length < 10 || ((buf[3] as number) & 0x08) === 0) return undefined;
  let p = 10;
  if (((buf[3] as number) & 0x04) !== 0) p += 2 + (buf.length >= 12 ? buf.readUInt16LE(10) : 0);
  const name = cstr(buf, p, 1024);
  return name ? printable(name.replace(/^.*[\\/]/, ''), 256) : undefined;
}

/**
 * Gunzips at most `maxBytes` (a truncated stream yields what decodes). Throws
 * `CAIRN_ERR_ARCHIVE_BOMB` past the cap and `CAIRN_ERR_FILE_UNPARSABLE` on corrupt data.
 */
export function gunzipLimited(buf: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(buf, { maxOutputLength: Math.max(1, maxBytes), finishFlush: zc.Z_SYNC_FLUSH });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) {
      throw new CairnError('CAIRN_ERR_ARCHIVE_BOMB', `gzip data expands past ${maxBytes} bytes.`, { capBytes: maxBytes });
    }
    throw truncated('gzip data', { zlib: (e as Error).message });
  }
}

/**
 * Files of an ISO 9660 image (primary volume descriptor, directory tree; Joliet and UDF-only
 * images are not read). ISO images are a common way to ship executables past mail filters.
 */
export function* isoEntries(buf: Buffer, maxEntries = 10_000): Generator<ContainerEntry> {
  const SECTOR = 2048;
  const pvd = 16 * SECTOR;
  if (!hasAt(buf, pvd + 1, 'CD001') || buf[pvd] !== 1) throw truncated('no ISO 9660 primary volume descriptor');
  const root = pvd + 156;
  const queue: { lba: number; size: number; path: string; depth: number }[] = [{ lba: buf.readUInt32LE(root + 2), size: buf.readUInt32LE(root + 10), path: '', depth: 0 }];
  const seen = new Set<number>();
  let yielded = 0;
  let records = 0;
  while (queue.length > 0) {
    const dir = queue.shift() as { lba: number; size: number; path: string; depth: number };
    if (seen.has(dir.lba) || dir.depth > 16) continue;
    seen.add(dir.lba);
    const start = dir.lba * SECTOR;
    const end = Math.min(buf.length, start + Math.min(dir.size, 16 << 20));
    let p = start;
    while (p < end && records++ < maxEntries * 8) {
      const len = buf[p] as number;
      if (len === 0) {
        p = (Math.floor((p - start) / SECTOR) + 1) * SECTOR + start; // records do not cross sectors
        continue;
      }
      if (len < 34 || p + len > buf.length) break;
      const lba = buf.readUInt32LE(p + 2);
      const size = buf.readUInt32LE(p + 10);
      const flags = buf[p + 25] as number;
      const nameLen = buf[p + 32] as number;
      const raw = buf.subarray(p + 33, Math.min(p + 33 + nameLen, p + len));
      p += len;
      if (nameLen === 1 && (raw[0] === 0 || raw[0] === 1)) continue; // "." and ".."
      const name = printable(raw.toString('latin1').replace(/;\d+$/, '').replace(/\.$/, ''), 200);
      const path = dir.path ? `${dir.path}/${name}` : name;
      if ((flags & 0x02) !== 0) queue.push({ lba, size, path, depth: dir.depth + 1 });
      else {
        const at = lba * SECTOR;
        yield { name: path, data: buf.subarray(Math.min(buf.length, at), Math.min(buf.length, at + size)), short: at + size > buf.length };
        if (++yielded >= maxEntries) return;
      }
    }
  }
}
