/**
 * The access archive (R-PRIV-4 copy, R-PRIV-3 machine-readable): a ZIP file of JSON and CSV
 * written without a dependency. Entries are DEFLATE-compressed (node:zlib) with their CRC-32;
 * names are ASCII; no ZIP64 (an archive of one person's records stays far below 4 GiB, and the
 * writer refuses more). CSV follows RFC 4180 with the spreadsheet-formula guard.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { CairnError } from '../../kernel/errors.ts';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as ZIP and gzip use it. @example crc32(Buffer.from('123456789')) === 0xcbf43926 */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** DOS date and time of a UTC instant (ZIP headers). */
function dosTime(atMs: number): { time: number; date: number } {
  const d = new Date(atMs);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((Math.max(d.getUTCFullYear(), 1980) - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

export interface ZipEntry {
  /** Path inside the archive, ASCII (`data/location.fixes.csv`). */
  name: string;
  data: Buffer | string;
}

/**
 * A ZIP archive of the entries, each deflated, all stamped `atMs`.
 * @example zip([{ name: 'a.json', data: '{}' }], Date.now())
 */
export function zip(entries: readonly ZipEntry[], atMs: number): Buffer {
  const { time, date } = dosTime(atMs);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    if (!/^[\x20-\x7e]{1,200}$/.test(e.name) || e.name.includes('..') || e.name.startsWith('/')) throw new CairnError('CAIRN_ERR_INTERNAL', 'Archive entry names are relative ASCII paths.');
    const name = Buffer.from(e.name, 'ascii');
    const raw = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    const body = deflateRawSync(raw);
    const crc = crc32(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
    if (offset > 0xfffffff0) throw new CairnError('CAIRN_ERR_BODY_TOO_LARGE', 'The archive would exceed 4 GiB.');
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/**
 * Read a ZIP written by {@link zip} back into its entries (tests, and checking an archive before
 * it is stored). Only what `zip` writes is understood.
 */
export function unzip(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const endAt = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0) throw new CairnError('CAIRN_ERR_VALIDATION', 'Not a ZIP archive.');
  const count = buf.readUInt16LE(endAt + 10);
  let p = buf.readUInt32LE(endAt + 16);
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new CairnError('CAIRN_ERR_VALIDATION', 'Broken ZIP central directory.');
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const lNameLen = buf.readUInt16LE(local + 26);
    const lExtra = buf.readUInt16LE(local + 28);
    const start = local + 30 + lNameLen + lExtra;
    out.set(name, inflateRawSync(buf.subarray(start, start + size)));
    p += 46 + nameLen;
  }
  return out;
}

/** One CSV cell (RFC 4180; a leading `= + - @` tab or CR is prefixed with `'`). */
export function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'string') return String(v);
  let s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  if (/[",\r\n]/.test(s)) s = `"${s.replace(/"/g, '""')}"`;
  return s;
}

/** A header and rows as CSV text, CRLF after every line. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | boolean | null | undefined)[])[]): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
