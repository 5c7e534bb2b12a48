/**
 * A ZIP archive written as a stream (R-PRIV-3 org export): each entry is DEFLATE-compressed as its
 * body arrives and followed by a data descriptor (general-purpose bit 3), so neither an entry nor
 * the archive is ever held whole, in memory or on disk. CRC-32 and SHA-256 are computed on the
 * way. Entries or offsets past 4 GiB switch to ZIP64 (8-byte sizes in the descriptor, the ZIP64
 * extra field in the central directory, ZIP64 end records), as Go's archive/zip does; readers
 * take sizes from the central directory. Writes wait for the sink to drain (back-pressure), and a
 * sink that closes (a client that hung up) fails the next write.
 *
 * `readZip` reads such an archive back from a buffer (tests, `cairn export --verify`).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as zlib from 'node:zlib';
import type { Writable } from 'node:stream';
import { CairnError } from '../../kernel/errors.ts';

const U32 = 0xffffffff;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's CRC-32 where Node has it (≥ 20.15), else a table-driven one; `prev` continues a running CRC. */
const nativeCrc = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
function crc32Update(prev: number, b: Uint8Array): number {
  if (nativeCrc) return nativeCrc(b, prev);
  let c = (prev ^ U32) >>> 0;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ U32) >>> 0;
}

/** DOS date and time of a UTC instant (ZIP headers). */
function dosTime(atMs: number): { time: number; date: number } {
  const d = new Date(atMs);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((Math.max(d.getUTCFullYear(), 1980) - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

/** What one written entry amounted to. */
export interface ZipEntryResult {
  name: string;
  /** Uncompressed bytes. */
  bytes: number;
  compressedBytes: number;
  /** SHA-256 of the uncompressed bytes, hex. */
  sha256: string;
  crc32: number;
}

interface Central {
  name: Buffer;
  crc: number;
  csize: number;
  usize: number;
  offset: number;
}

/** Wait until `w` drains; fail when it closes or errors first. */
async function drained(w: Writable): Promise<void> {
  const ac = new AbortController();
  try {
    await Promise.race([
      once(w, 'drain', { signal: ac.signal }),
      once(w, 'close', { signal: ac.signal }).then(() => {
        throw new CairnError('CAIRN_ERR_CONFLICT', 'The receiver closed the archive stream.');
      }),
    ]);
  } finally {
    ac.abort();
  }
}

/**
 * Writes a ZIP archive to `out`, one entry at a time.
 * @example const z = new ZipStreamWriter(res, Date.now()); await z.entry('a.jsonl', rows()); await z.finish();
 */
export class ZipStreamWriter {
  private offset = 0;
  private readonly central: Central[] = [];
  private readonly time: number;
  private readonly date: number;

  private readonly level: number;
  private readonly force64: boolean;

  /** `forceZip64` writes every entry and the end records as ZIP64 (readers are tested with it without 4 GiB of data). */
  constructor(
    private readonly out: Writable,
    atMs: number,
    o: { level?: number; forceZip64?: boolean } = {},
  ) {
    ({ time: this.time, date: this.date } = dosTime(atMs));
    this.level = o.level ?? 6;
    this.force64 = o.forceZip64 ?? false;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.offset;
  }

  private async write(b: Buffer): Promise<void> {
    if (this.out.destroyed || this.out.writableEnded) throw new CairnError('CAIRN_ERR_CONFLICT', 'The receiver closed the archive stream.');
    this.offset += b.length;
    if (!this.out.write(b)) await drained(this.out);
  }

  /**
   * Add an entry whose body arrives as chunks (a generator that reads a page, yields it, reads the
   * next); compressed and hashed as it streams. Names are relative ASCII paths.
   */
  async entry(name: string, body: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<ZipEntryResult> {
    if (!/^[\x20-\x7e]{1,200}$/.test(name) || name.includes('..') || name.startsWith('/')) throw new CairnError('CAIRN_ERR_INTERNAL', 'Archive entry names are relative ASCII paths.');
    const nameBuf = Buffer.from(name, 'ascii');
    const offset = this.offset;
    const local = Buffer.alloc(30);
    // Forced ZIP64: announce 8-byte descriptor sizes with a (zeroed) ZIP64 extra field. Otherwise
    // the sizes are unknown here; a larger entry still gets an 8-byte descriptor and central-directory
    // ZIP64 fields, which is what readers use (Go's archive/zip writes streamed entries the same way).
    const localExtra = this.force64 ? Buffer.from([0x01, 0x00, 0x10, 0x00, ...new Array<number>(16).fill(0)]) : Buffer.alloc(0);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(this.force64 ? 45 : 20, 4);
    local.writeUInt16LE(0x0808, 6); // bit 3: sizes in the data descriptor; bit 11: UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(this.time, 10);
    local.writeUInt16LE(this.date, 12);
    // CRC and sizes stay 0 here: they follow the data.
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    await this.write(Buffer.concat([local, nameBuf, localExtra]));

    const hash = createHash('sha256');
    let crc = 0;
    let usize = 0;
    let csize = 0;
    const deflate = zlib.createDeflateRaw({ level: this.level });
    const pending: Buffer[] = [];
    deflate.on('data', (c: Buffer) => pending.push(c));
    const flushPending = async () => {
      while (pending.length > 0) {
        const c = pending.shift()!;
        csize += c.length;
        await this.write(c);
      }
    };
    try {
      for await (const chunk of body) {
        if (chunk.length === 0) continue;
        hash.update(chunk);
        crc = crc32Update(crc, chunk);
        usize += chunk.length;
        if (!deflate.write(chunk)) await once(deflate, 'drain');
        await flushPending();
      }
      const ended = once(deflate, 'end');
      deflate.end();
      await ended;
      await flushPending();
    } finally {
      deflate.destroy();
    }

    const zip64 = this.force64 || usize >= U32 || csize >= U32;
    const desc = zip64 ? Buffer.alloc(24) : Buffer.alloc(16);
    desc.writeUInt32LE(0x08074b50, 0);
    desc.writeUInt32LE(crc, 4);
    if (zip64) {
      desc.writeBigUInt64LE(BigInt(csize), 8);
      desc.writeBigUInt64LE(BigInt(usize), 16);
    } else {
      desc.writeUInt32LE(csize, 8);
      desc.writeUInt32LE(usize, 12);
    }
    await this.write(desc);
    this.central.push({ name: nameBuf, crc, csize, usize, offset });
    return { name, bytes: usize, compressedBytes: csize, sha256: hash.digest('hex'), crc32: crc };
  }

  /** Write the central directory and end records, then end the stream. */
  async finish(): Promise<number> {
    const cdStart = this.offset;
    for (const e of this.central) {
      const f = this.force64;
      const big = { u: f || e.usize >= U32, c: f || e.csize >= U32, o: f || e.offset >= U32 };
      const extraFields = [...(big.u ? [u64(e.usize)] : []), ...(big.c ? [u64(e.csize)] : []), ...(big.o ? [u64(e.offset)] : [])];
      const extra = extraFields.length > 0 ? Buffer.concat([Buffer.from([0x01, 0x00, extraFields.length * 8, 0x00]), ...extraFields]) : Buffer.alloc(0);
      const h = Buffer.alloc(46);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(extra.length > 0 ? 45 : 20, 4);
      h.writeUInt16LE(extra.length > 0 ? 45 : 20, 6);
      h.writeUInt16LE(0x0808, 8);
      h.writeUInt16LE(8, 10);
      h.writeUInt16LE(this.time, 12);
      h.writeUInt16LE(this.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(big.c ? U32 : e.csize, 20);
      h.writeUInt32LE(big.u ? U32 : e.usize, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(extra.length, 30);
      h.writeUInt32LE(big.o ? U32 : e.offset, 42);
      await this.write(Buffer.concat([h, e.name, extra]));
    }
    const cdEnd = this.offset;
    const cdSize = cdEnd - cdStart;
    const count = this.central.length;
    const zip64 = this.force64 || count >= 0xffff || cdStart >= U32 || cdSize >= U32 || this.central.some((e) => e.usize >= U32 || e.csize >= U32 || e.offset >= U32);
    if (zip64) {
      const rec = Buffer.alloc(56);
      rec.writeUInt32LE(0x06064b50, 0);
      rec.writeBigUInt64LE(44n, 4);
      rec.writeUInt16LE(45, 12);
      rec.writeUInt16LE(45, 14);
      rec.writeBigUInt64LE(BigInt(count), 24);
      rec.writeBigUInt64LE(BigInt(count), 32);
      rec.writeBigUInt64LE(BigInt(cdSize), 40);
      rec.writeBigUInt64LE(BigInt(cdStart), 48);
      const loc = Buffer.alloc(20);
      loc.writeUInt32LE(0x07064b50, 0);
      loc.writeBigUInt64LE(BigInt(cdEnd), 8);
      loc.writeUInt32LE(1, 16);
      await this.write(Buffer.concat([rec, loc]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(zip64 ? 0xffff : count, 8);
    end.writeUInt16LE(zip64 ? 0xffff : count, 10);
    end.writeUInt32LE(zip64 ? U32 : cdSize, 12);
    end.writeUInt32LE(zip64 ? U32 : cdStart, 16);
    await this.write(end);
    const ended = once(this.out, 'finish');
    this.out.end();
    await ended;
    return this.offset;
  }
}

/** One entry read back: name, bytes, and whether its CRC matched. */
export interface ReadEntry {
  name: string;
  data: Buffer;
}

/**
 * Read every entry of a ZIP archive written by {@link ZipStreamWriter} (or any deflate/stored ZIP
 * without encryption), ZIP64 included, checking each entry's CRC-32.
 * @example const entries = readZip(readFileSync('export.zip'));
 */
export function readZip(buf: Buffer): Map<string, Buffer> {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0 || eocd + 22 > buf.length) throw new CairnError('CAIRN_ERR_VALIDATION', 'Not a ZIP archive (no end of central directory).');
  let count = buf.readUInt16LE(eocd + 10);
  let cd = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cd === U32) {
    const locAt = eocd - 20;
    if (locAt < 0 || buf.readUInt32LE(locAt) !== 0x07064b50) throw new CairnError('CAIRN_ERR_VALIDATION', 'Broken ZIP64 locator.');
    const recAt = Number(buf.readBigUInt64LE(locAt + 8));
    if (buf.readUInt32LE(recAt) !== 0x06064b50) throw new CairnError('CAIRN_ERR_VALIDATION', 'Broken ZIP64 end record.');
    count = Number(buf.readBigUInt64LE(recAt + 32));
    cd = Number(buf.readBigUInt64LE(recAt + 48));
  }
  const out = new Map<string, Buffer>();
  let p = cd;
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new CairnError('CAIRN_ERR_VALIDATION', 'Broken ZIP central directory.');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    // ZIP64 extra: the 8-byte values, in order, of the fields that are 0xFFFFFFFF.
    for (let q = p + 46 + nameLen; q < p + 46 + nameLen + extraLen; ) {
      const id = buf.readUInt16LE(q);
      const size = buf.readUInt16LE(q + 2);
      if (id === 0x0001) {
        let r = q + 4;
        if (usize === U32) (usize = Number(buf.readBigUInt64LE(r))), (r += 8);
        if (csize === U32) (csize = Number(buf.readBigUInt64LE(r))), (r += 8);
        if (offset === U32) offset = Number(buf.readBigUInt64LE(r));
      }
      q += 4 + size;
    }
    if (buf.readUInt32LE(offset) !== 0x04034b50) throw new CairnError('CAIRN_ERR_VALIDATION', `Broken local header of ${name}.`);
    const start = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
    const raw = buf.subarray(start, start + csize);
    if (method !== 8 && method !== 0) throw new CairnError('CAIRN_ERR_VALIDATION', `Unsupported compression method ${method} in ${name}.`);
    let data: Buffer;
    try {
      data = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
    } catch {
      throw new CairnError('CAIRN_ERR_VALIDATION', `Entry ${name} is damaged (its compressed data does not inflate).`);
    }
    if (data.length !== usize || crc32Update(0, data) !== crc) throw new CairnError('CAIRN_ERR_VALIDATION', `Entry ${name} does not match its size or CRC-32.`);
    out.set(name, data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
