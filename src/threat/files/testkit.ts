/**
 * Test-only builders for hostile and hand-made inputs: ZIP archives (including zip bombs that are
 * a few kilobytes on disk but declare or expand to gigabytes), a minimal PE32 DLL, a seeded PRNG
 * and byte mutators for fuzzing. Nothing in the product imports this file.
 */
import { deflateRawSync } from 'node:zlib';
import { seededRandom } from '../../kernel/prng.ts';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as ZIP uses it. */
export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = (CRC_TABLE[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipSpec {
  name: string;
  /** Uncompressed content; deflated unless `method` is 0. */
  data?: Buffer;
  method?: 0 | 8 | 99;
  /** Already-compressed bytes (used as is), with `declaredSize` as the uncompressed size. */
  compressed?: Buffer;
  /** Overrides the uncompressed size written in the headers (a lie, for bomb tests). */
  declaredSize?: number;
  /** General-purpose flags (bit 0 = encrypted). */
  flags?: number;
  /** Extra field for both headers (e.g. the AES 0x9901 record). */
  extra?: Buffer;
}

/**
 * Builds a ZIP. `prefix` is prepended raw bytes (a self-extractor stub); `dropCentral` writes
 * only local headers (a truncated download).
 *
 * @example buildZip([{ name: 'a.txt', data: Buffer.from('hi') }])
 */
export function buildZip(specs: ZipSpec[], opts: { prefix?: Buffer; dropCentral?: boolean } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = opts.prefix?.length ?? 0;
  for (const s of specs) {
    const method = s.method ?? 8;
    const data = s.data ?? Buffer.alloc(0);
    const body = s.compressed ?? (method === 8 ? deflateRawSync(data) : data);
    const size = s.declaredSize ?? data.length;
    const name = Buffer.from(s.name, 'utf8');
    const extra = s.extra ?? Buffer.alloc(0);
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE((s.flags ?? 0) | 0x0800, 6);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(Math.min(size, 0xffffffff), 22);
    lh.writeUInt16LE(name.length, 26);
    lh.writeUInt16LE(extra.length, 28);
    locals.push(lh, name, extra, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE((s.flags ?? 0) | 0x0800, 8);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(Math.min(size, 0xffffffff), 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt32LE(offset, 42);
    centrals.push(ch, name, extra);
    offset += 30 + name.length + extra.length + body.length;
  }
  const local = Buffer.concat([opts.prefix ?? Buffer.alloc(0), ...locals]);
  if (opts.dropCentral) return local;
  const central = Buffer.concat(centrals);
  return Buffer.concat([local, central, eocd(specs.length, central.length, offset)]);
}

function eocd(count: number, cdSize: number, cdOffset: number): Buffer {
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(count, 8);
  e.writeUInt16LE(count, 10);
  e.writeUInt32LE(cdSize, 12);
  e.writeUInt32LE(cdOffset, 16);
  return e;
}

/**
 * A "flat" zip bomb in the style of David Fifield's overlapping-entry bombs: one compressed
 * kernel, `count` central-directory entries that all point at it. Small on disk, huge declared.
 */
export function buildOverlapZip(kernel: Buffer, count: number): Buffer {
  const body = deflateRawSync(kernel);
  const local = buildZip([{ name: 'k', compressed: body, declaredSize: kernel.length }], { dropCentral: true });
  const centrals: Buffer[] = [];
  const crc = crc32(kernel);
  for (let i = 0; i < count; i++) {
    const name = Buffer.from(`f${i}`);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(kernel.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(0, 42);
    centrals.push(ch, name);
  }
  const central = Buffer.concat(centrals);
  return Buffer.concat([local, central, eocd(count, central.length, local.length)]);
}

/**
 * A nested ("42.zip"-style) bomb: `fanout` copies of the previous level per level, `levels` deep,
 * with a leaf of `leafBytes` zeros. Each level is deflated once and reused, so building it costs
 * one deflate of the leaf; fully unpacked it is fanout^levels × leafBytes.
 */
export function buildNestedZip(levels: number, fanout: number, leafBytes: number): Buffer {
  const leaf = Buffer.alloc(leafBytes);
  let inner = buildZip(Array.from({ length: fanout }, (_, i) => ({ name: `leaf${i}.bin`, compressed: deflateRawSync(leaf), declaredSize: leafBytes })));
  for (let l = 1; l < levels; l++) {
    const packed = deflateRawSync(inner);
    const size = inner.length;
    inner = buildZip(Array.from({ length: fanout }, (_, i) => ({ name: `level${l}-${i}.zip`, compressed: packed, declaredSize: size })));
  }
  return inner;
}

/**
 * A minimal, valid PE32 DLL for x86 with one `.text` section and, when asked, a UPX-style
 * writable+executable section named `UPX1`.
 */
export function buildPe32Dll(opts: { upx?: boolean } = {}): Buffer {
  const sections = opts.upx ? ['UPX1', '.rsrc'] : ['.text'];
  const buf = Buffer.alloc(0x200 + sections.length * 0x200);
  buf.write('MZ', 0, 'latin1');
  buf.writeUInt32LE(0x80, 0x3c);
  buf.writeUInt32LE(0x00004550, 0x80);
  const coff = 0x84;
  buf.writeUInt16LE(0x014c, coff);
  buf.writeUInt16LE(sections.length, coff + 2);
  buf.writeUInt16LE(224, coff + 16);
  buf.writeUInt16LE(0x2102, coff + 18); // DLL | 32-bit | executable
  const opt = coff + 20;
  buf.writeUInt16LE(0x10b, opt);
  buf.writeUInt32LE(0x1000, opt + 16); // entry point
  buf.writeUInt32LE(0x10000000, opt + 28); // image base
  buf.writeUInt32LE(0x1000, opt + 32);
  buf.writeUInt32LE(0x200, opt + 36);
  buf.writeUInt32LE(0x1000 + sections.length * 0x1000, opt + 56);
  buf.writeUInt32LE(0x200, opt + 60); // size of headers
  buf.writeUInt16LE(2, opt + 68); // GUI
  buf.writeUInt32LE(16, opt + 92);
  sections.forEach((name, i) => {
    const at = opt + 224 + i * 40;
    buf.write(name, at, 'latin1');
    buf.writeUInt32LE(0x200, at + 8);
    buf.writeUInt32LE(0x1000 + i * 0x1000, at + 12);
    buf.writeUInt32LE(0x200, at + 16);
    buf.writeUInt32LE(0x200 + i * 0x200, at + 20);
    buf.writeUInt32LE(opts.upx && i === 0 ? 0xe0000020 : 0x60000020, at + 36);
  });
  buf.fill(0xc3, 0x200, 0x400); // ret
  return buf;
}

/** The seeded PRNG of the kernel (mulberry32), under this module's old name. */
export const prng = seededRandom;

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One random mutation: byte flips, interesting integers, truncation, duplication or insertion. */
export function mutate(input: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(input);
  const pick = (n: number): number => Math.floor(rand() * n);
  if (b.length === 0) return Buffer.from([pick(256)]);
  switch (pick(6)) {
    case 0: {
      for (let i = 0, n = 1 + pick(16); i < n; i++) b[pick(b.length)] = pick(256);
      return b;
    }
    case 1: {
      if (b.length >= 4) b.writeUInt32LE((INTERESTING[pick(INTERESTING.length)] as number) >>> 0, pick(b.length - 3));
      return b;
    }
    case 2:
      return b.subarray(0, pick(b.length));
    case 3: {
      const at = pick(b.length);
      const len = Math.min(b.length - at, 1 + pick(4096));
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
    case 4: {
      const at = pick(b.length);
      const junk = Buffer.alloc(1 + pick(64));
      for (let i = 0; i < junk.length; i++) junk[i] = pick(256);
      return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
    }
    default: {
      if (b.length >= 2) b.writeUInt16LE((INTERESTING[pick(INTERESTING.length)] as number) & 0xffff, pick(b.length - 1));
      return b;
    }
  }
}
