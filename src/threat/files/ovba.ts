/**
 * VBA macro extraction: MS-OVBA 2.4.1 decompression, the `dir` stream's module records, and the
 * module sources of every VBA project inside a compound file (Word `Macros/VBA`, Excel
 * `_VBA_PROJECT_CUR/VBA`, OOXML `vbaProject.bin`). Output is capped, so a crafted container cannot
 * expand without bound (one compressed chunk can grow about 1,300-fold).
 */
import { CairnError } from '../../kernel/errors.ts';
import { truncated } from './bytes.ts';
import type { Cfb, CfbEntry } from './ole.ts';

/**
 * Decompresses an MS-OVBA CompressedContainer (signature byte 0x01, then 4 KiB chunks of
 * flag-byte-led literal and copy tokens). Stops at `maxBytes`; throws
 * `CAIRN_ERR_FILE_UNPARSABLE` on a bad signature or a copy token that points before its chunk.
 *
 * @example decompressOvba(Buffer.from([0x01, 0x03, 0xb0, 0x00, 0x61])) // 'a'
 */
export function decompressOvba(data: Uint8Array, maxBytes = 4 * 1024 * 1024): Buffer {
  if (data.length === 0 || data[0] !== 0x01) throw truncated('VBA compressed container signature');
  const out = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(4096, data.length * 8)));
  let buf = out;
  let o = 0;
  let p = 1;
  const ensure = (n: number): void => {
    if (o + n <= buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(buf.length * 2, o + n)));
    buf.copy(grown, 0, 0, o);
    buf = grown;
  };
  while (p + 2 <= data.length && o < maxBytes) {
    const header = (data[p] as number) | ((data[p + 1] as number) << 8);
    const chunkSize = (header & 0x0fff) + 3;
    const compressed = (header & 0x8000) !== 0;
    if (((header >> 12) & 0x7) !== 0b011) throw truncated('VBA chunk signature');
    const chunkEnd = Math.min(data.length, p + chunkSize);
    p += 2;
    const chunkStart = o;
    if (!compressed) {
      const n = Math.min(4096, chunkEnd - p, maxBytes - o);
      ensure(n);
      for (let i = 0; i < n; i++) buf[o++] = data[p + i] as number;
      p = chunkEnd;
      continue;
    }
    while (p < chunkEnd && o < maxBytes) {
      const flags = data[p++] as number;
      for (let bit = 0; bit < 8 && p < chunkEnd && o < maxBytes; bit++) {
        if ((flags & (1 << bit)) === 0) {
          ensure(1);
          buf[o++] = data[p++] as number;
          continue;
        }
        if (p + 2 > chunkEnd) {
          p = chunkEnd;
          break;
        }
        const token = (data[p] as number) | ((data[p + 1] as number) << 8);
        p += 2;
        const diff = o - chunkStart;
        let bitCount = 4;
        while ((1 << bitCount) < diff) bitCount++;
        bitCount = Math.min(12, bitCount);
        const lengthMask = 0xffff >> bitCount;
        const length = (token & lengthMask) + 3;
        const offset = (token >> (16 - bitCount)) + 1;
        if (offset > diff) throw truncated('VBA copy token points before its chunk');
        const n = Math.min(length, maxBytes - o);
        ensure(n);
        for (let i = 0; i < n; i++, o++) buf[o] = buf[o - offset] as number;
      }
    }
    p = chunkEnd;
  }
  return buf.subarray(0, o);
}

export interface VbaModule {
  name: string;
  streamName: string;
  /** Decompressed source text (latin1; keywords are ASCII). */
  source: string;
  /** Path of the storage holding the project, e.g. `Macros/VBA`. */
  projectPath: string;
}

export interface VbaProject {
  path: string;
  modules: VbaModule[];
  /** Modules listed in `dir` whose stream could not be read or decompressed. */
  failures: string[];
}

/** Reads the module list (name, stream name, source offset) from a decompressed `dir` stream. */
export function parseVbaDir(dir: Buffer): { name: string; streamName: string; offset: number }[] {
  const modules: { name: string; streamName: string; offset: number }[] = [];
  let cur: { name: string; streamName: string; offset: number } = { name: '', streamName: '', offset: 0 };
  let p = 0;
  let guard = 0;
  while (p + 6 <= dir.length && guard++ < 100_000) {
    const id = dir.readUInt16LE(p);
    let size = dir.readUInt32LE(p + 2);
    // PROJECTVERSION declares 4 bytes but carries 6 (MS-OVBA 2.3.4.2.1.11).
    if (id === 0x0009) size = 6;
    const body = dir.subarray(p + 6, Math.min(dir.length, p + 6 + size));
    p += 6 + size;
    switch (id) {
      case 0x0019: // MODULENAME
        cur = { name: body.toString('latin1'), streamName: body.toString('latin1'), offset: 0 };
        break;
      case 0x001a: // MODULESTREAMNAME
        cur.streamName = body.toString('latin1');
        break;
      case 0x0031: // MODULEOFFSET
        if (body.length >= 4) cur.offset = body.readUInt32LE(0);
        break;
      case 0x002b: // MODULE terminator
        if (cur.name || cur.streamName) modules.push(cur);
        cur = { name: '', streamName: '', offset: 0 };
        break;
      default:
        break;
    }
    if (id === 0x0010) break; // dir stream terminator
  }
  return modules;
}

/**
 * Finds every VBA project in a compound file and decompresses its module sources, charging the
 * decompressed bytes to `budget` (throws `CAIRN_ERR_ARCHIVE_BOMB` once it is spent).
 *
 * @example extractVba(openCfb(bytes), { remaining: 64 << 20 })[0]?.modules[0]?.source
 */
export function extractVba(cfb: Cfb, budget: { remaining: number }): VbaProject[] {
  const projects: VbaProject[] = [];
  for (const dirEntry of cfb.find(/(^|\/)VBA\/dir$/i)) {
    const projectPath = dirEntry.path.slice(0, -'/dir'.length);
    const project: VbaProject = { path: projectPath, modules: [], failures: [] };
    projects.push(project);
    const charge = (n: number): void => {
      budget.remaining -= n;
      if (budget.remaining < 0) throw new CairnError('CAIRN_ERR_ARCHIVE_BOMB', 'VBA sources exceed the decompression budget.');
    };
    let list: ReturnType<typeof parseVbaDir>;
    try {
      const dir = decompressOvba(cfb.read(dirEntry, 1 << 20), 1 << 20);
      charge(dir.length);
      list = parseVbaDir(dir);
    } catch (e) {
      if (!(e instanceof CairnError) || e.code === 'CAIRN_ERR_ARCHIVE_BOMB') throw e;
      project.failures.push('dir');
      continue;
    }
    const siblings = new Map<string, CfbEntry>();
    for (const e of cfb.entries) if (e.type === 'stream' && e.path.startsWith(`${projectPath}/`)) siblings.set(e.name.toLowerCase(), e);
    for (const m of list.slice(0, 512)) {
      const stream = siblings.get(m.streamName.toLowerCase());
      if (!stream) {
        project.failures.push(m.name || m.streamName);
        continue;
      }
      try {
        const raw = cfb.read(stream, 16 << 20);
        if (m.offset >= raw.length) throw truncated('module offset');
        const src = decompressOvba(raw.subarray(m.offset), Math.min(8 << 20, Math.max(0, budget.remaining) + 1));
        charge(src.length);
        project.modules.push({ name: m.name, streamName: m.streamName, source: src.toString('latin1'), projectPath });
      } catch (e) {
        if (!(e instanceof CairnError) || e.code === 'CAIRN_ERR_ARCHIVE_BOMB') throw e;
        project.failures.push(m.name || m.streamName);
      }
    }
  }
  return projects;
}
