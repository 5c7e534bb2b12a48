/**
 * A Compound File Binary (OLE2) reader: the container of .doc, .xls, .ppt, .msi, .msg and of
 * encrypted OOXML. It follows FAT, mini-FAT and DIFAT chains with cycle and bounds checks, so a
 * corrupt or hostile file costs at most one pass over its own sectors.
 */
import { asBuffer, printable, truncated, u16le, u32le, within } from './bytes.ts';

export interface CfbEntry {
  id: number;
  name: string;
  /** Slash-joined storage path below the root, e.g. `Macros/VBA/dir`. */
  path: string;
  type: 'storage' | 'stream' | 'root';
  size: number;
  /** Class id as a GUID string (all zero when unset). */
  clsid: string;
  start: number;
}

const FREE = 0xffffffff;
const END = 0xfffffffe;
const MAX_DIR_ENTRIES = 65_536;

function guid(b: Buffer): string {
  if (b.length < 16) return '';
  const h = (x: Buffer): string => x.toString('hex');
  const d1 = b.readUInt32LE(0).toString(16).padStart(8, '0');
  const d2 = b.readUInt16LE(4).toString(16).padStart(4, '0');
  const d3 = b.readUInt16LE(6).toString(16).padStart(4, '0');
  return `${d1}-${d2}-${d3}-${h(b.subarray(8, 10))}-${h(b.subarray(10, 16))}`.toUpperCase();
}

/** An opened compound file. `read` returns a stream's bytes, never more than the entry's size. */
export class Cfb {
  readonly entries: CfbEntry[];
  readonly rootClsid: string;
  private readonly buf: Buffer;
  private readonly shift: number;
  private readonly fat: Uint32Array;
  private readonly miniFat: Uint32Array;
  private readonly miniCutoff: number;
  private miniStream: Buffer | undefined;
  private readonly root: CfbEntry;

  constructor(buf: Buffer, shift: number, fat: Uint32Array, miniFat: Uint32Array, miniCutoff: number, entries: CfbEntry[]) {
    this.buf = buf;
    this.shift = shift;
    this.fat = fat;
    this.miniFat = miniFat;
    this.miniCutoff = miniCutoff;
    this.entries = entries;
    const root = entries.find((e) => e.type === 'root');
    if (!root) throw truncated('compound file without a root entry');
    this.root = root;
    this.rootClsid = root.clsid;
  }

  /** Streams whose path matches, e.g. `cfb.find(/(^|\/)VBA\/dir$/i)`. */
  find(re: RegExp): CfbEntry[] {
    return this.entries.filter((e) => e.type === 'stream' && re.test(e.path));
  }

  /** True when a stream or storage with this exact name exists anywhere. */
  has(name: string): boolean {
    return this.entries.some((e) => e.name === name);
  }

  /**
   * Reads a stream (at most `maxBytes`). Throws `CAIRN_ERR_FILE_UNPARSABLE` on a broken chain.
   *
   * @example cfb.read(cfb.find(/WordDocument$/)[0]!, 1 << 20)
   */
  read(entry: CfbEntry, maxBytes = Number.MAX_SAFE_INTEGER): Buffer {
    // A stream can never be longer than the file that holds it, whatever its size field says.
    const want = Math.min(entry.size, maxBytes, this.buf.length);
    if (entry.type !== 'root' && entry.size < this.miniCutoff) {
      const mini = this.getMiniStream();
      return this.chain(mini, 64, this.miniFat, entry.start, want, 'mini stream');
    }
    return this.chain(this.buf, 1 << this.shift, this.fat, entry.start, want, 'stream', 1 << this.shift);
  }

  private getMiniStream(): Buffer {
    this.miniStream ??= this.chain(this.buf, 1 << this.shift, this.fat, this.root.start, this.root.size, 'root mini stream', 1 << this.shift);
    return this.miniStream;
  }

  /** Concatenates a sector chain; `base` is the header size for regular sectors (sector n at (n+1)*size). */
  private chain(src: Buffer, size: number, table: Uint32Array, start: number, want: number, what: string, base = 0): Buffer {
    if (want <= 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(want);
    let got = 0;
    let s = start;
    let steps = 0;
    while (got < want) {
      if (s === END || s === FREE || s >= table.length || steps++ > table.length) throw truncated(`${what} chain`);
      const off = base + s * size;
      const n = Math.min(size, want - got);
      if (!within(src, off, n)) throw truncated(`${what} sector ${s}`);
      src.copy(out, got, off, off + n);
      got += n;
      s = table[s] as number;
    }
    return out;
  }
}

/**
 * Opens a compound file. Throws `CAIRN_ERR_FILE_UNPARSABLE` when the header or the directory is
 * unusable.
 *
 * @example openCfb(bytes).entries.map((e) => e.path) // ['WordDocument', '1Table', 'Macros/VBA/dir', ...]
 */
export function openCfb(bytes: Uint8Array): Cfb {
  const buf = asBuffer(bytes);
  if (buf.length < 512 || buf.readUInt32LE(0) !== 0xe011cfd0 || buf.readUInt32LE(4) !== 0xe11ab1a1) throw truncated('not a compound file');
  const shift = u16le(buf, 30);
  if (shift !== 9 && shift !== 12) throw truncated(`sector shift ${shift}`);
  const sectorSize = 1 << shift;
  const nSectors = Math.ceil(Math.max(0, buf.length - sectorSize) / sectorSize) + 1;
  const numFat = u32le(buf, 44);
  const dirStart = u32le(buf, 48);
  const miniCutoff = u32le(buf, 56);
  const miniFatStart = u32le(buf, 60);
  const numMiniFat = u32le(buf, 64);
  let difatSector = u32le(buf, 68);
  const numDifat = u32le(buf, 72);
  // One FAT sector maps sectorSize/4 sectors; more FAT than the file needs is hostile or corrupt.
  const neededFat = Math.ceil(nSectors / (sectorSize / 4)) + 1;
  if (numFat > neededFat * 2 + 8) throw truncated(`${numFat} FAT sectors in a file of ${nSectors} sectors`);
  // DIFAT: 109 entries in the header, then chained DIFAT sectors.
  const fatSectors: number[] = [];
  for (let i = 0; i < 109 && fatSectors.length < numFat; i++) {
    const s = buf.readUInt32LE(76 + i * 4);
    if (s !== FREE && s !== END) fatSectors.push(s);
  }
  const per = sectorSize / 4 - 1;
  for (let d = 0; d < numDifat && fatSectors.length < numFat && difatSector !== END && difatSector !== FREE; d++) {
    if (d > nSectors) throw truncated('DIFAT chain loops');
    const off = (difatSector + 1) * sectorSize;
    if (!within(buf, off, sectorSize)) throw truncated('DIFAT sector');
    for (let i = 0; i < per && fatSectors.length < numFat; i++) {
      const s = buf.readUInt32LE(off + i * 4);
      if (s !== FREE && s !== END) fatSectors.push(s);
    }
    difatSector = buf.readUInt32LE(off + per * 4);
  }
  const fat = new Uint32Array(fatSectors.length * (sectorSize / 4));
  fatSectors.forEach((s, i) => {
    const off = (s + 1) * sectorSize;
    if (!within(buf, off, sectorSize)) {
      fat.fill(FREE, i * (sectorSize / 4), (i + 1) * (sectorSize / 4)); // a FAT sector cut off by truncation
      return;
    }
    for (let j = 0; j < sectorSize / 4; j++) fat[i * (sectorSize / 4) + j] = buf.readUInt32LE(off + j * 4);
  });
  const readChain = (start: number, maxSectors: number, what: string): Buffer => {
    const parts: Buffer[] = [];
    let s = start;
    for (let steps = 0; s !== END && s !== FREE; steps++) {
      if (steps >= maxSectors || s >= fat.length) throw truncated(`${what} chain`);
      const off = (s + 1) * sectorSize;
      if (!within(buf, off, sectorSize)) {
        // A file cut short keeps the directory sectors it still has.
        if (parts.length > 0) break;
        throw truncated(`${what} sector ${s}`);
      }
      parts.push(buf.subarray(off, off + sectorSize));
      s = fat[s] as number;
    }
    return Buffer.concat(parts);
  };
  const dir = readChain(dirStart, Math.min(nSectors, (MAX_DIR_ENTRIES * 128) / sectorSize), 'directory');
  const miniFatBytes = numMiniFat > 0 && miniFatStart !== END ? readChain(miniFatStart, Math.min(nSectors, numMiniFat + 1), 'mini FAT') : Buffer.alloc(0);
  const miniFat = new Uint32Array(Math.floor(miniFatBytes.length / 4));
  for (let i = 0; i < miniFat.length; i++) miniFat[i] = miniFatBytes.readUInt32LE(i * 4);

  type Raw = { name: string; type: number; left: number; right: number; child: number; clsid: string; start: number; size: number };
  const raw: Raw[] = [];
  for (let off = 0; off + 128 <= dir.length && raw.length < MAX_DIR_ENTRIES; off += 128) {
    const nameLen = Math.min(64, dir.readUInt16LE(off + 64));
    const name = printable(dir.toString('utf16le', off, off + Math.max(0, nameLen - 2)), 64);
    raw.push({
      name,
      type: dir[off + 66] as number,
      left: dir.readUInt32LE(off + 68),
      right: dir.readUInt32LE(off + 72),
      child: dir.readUInt32LE(off + 76),
      clsid: guid(dir.subarray(off + 80, off + 96)),
      start: dir.readUInt32LE(off + 116),
      // Version 3 files must ignore the high half of the size.
      size: shift === 9 ? dir.readUInt32LE(off + 120) : dir.readUInt32LE(off + 120) + dir.readUInt32LE(off + 124) * 2 ** 32,
    });
  }
  if (raw.length === 0 || raw[0]?.type !== 5) throw truncated('compound file directory has no root entry');
  // Walk the red-black trees: each storage's children are its child's in-order siblings.
  const entries: CfbEntry[] = [];
  const seen = new Set<number>();
  const stack: [number, string][] = [];
  const visit = (first: number, firstParent: string): void => {
    stack.push([first, firstParent]);
    while (stack.length > 0) {
      const [i, parent] = stack.pop() as [number, string];
      if (i === FREE || i >= raw.length || seen.has(i)) continue;
      seen.add(i);
      const r = raw[i] as Raw;
      stack.push([r.left, parent], [r.right, parent]);
      if (r.type !== 1 && r.type !== 2) continue;
      const path = parent ? `${parent}/${r.name}` : r.name;
      entries.push({ id: i, name: r.name, path, type: r.type === 1 ? 'storage' : 'stream', size: r.size, clsid: r.clsid, start: r.start });
      if (r.type === 1) stack.push([r.child, path]);
    }
  };
  const root = raw[0] as Raw;
  seen.add(0);
  entries.push({ id: 0, name: root.name, path: '', type: 'root', size: root.size, clsid: root.clsid, start: root.start });
  visit(root.child, '');
  return new Cfb(buf, shift, fat, miniFat, miniCutoff || 4096, entries);
}
