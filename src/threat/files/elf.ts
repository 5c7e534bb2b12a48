/**
 * ELF and Mach-O header parsing, and the static ELF analyser: class, machine, sections with
 * entropy, interpreter, stripped or not, writable-and-executable segments and packer hints.
 * Bounds-checked throughout; hostile headers give `CAIRN_ERR_FILE_UNPARSABLE`.
 */
import { asBuffer, cstr, entropy, hasAt, printable, truncated, u16be, u16le, u32be, u32le, u64be, u64le, within } from './bytes.ts';
import type { Reason } from './types.ts';

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  size: number;
  executable: boolean;
  entropy: number;
}

export interface ElfInfo {
  bits: 32 | 64;
  endian: 'little' | 'big';
  /** `exec`, `dyn`, `rel`, `core` or the raw number. */
  type: string;
  machine: string;
  entry: number;
  interpreter: string | undefined;
  /** No `.symtab` section: symbols were stripped. */
  stripped: boolean;
  sections: ElfSection[];
  segments: { type: number; flags: number; offset: number; fileSize: number }[];
  /** Writable and executable PT_LOAD segment present. */
  wxSegment: boolean;
  executableStack: boolean;
  upx: boolean;
  anomalies: string[];
}

const ELF_MACHINES: Record<number, string> = {
  2: 'SPARC', 3: 'x86', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM', 43: 'SPARC V9',
  50: 'IA-64', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 247: 'eBPF', 258: 'LoongArch',
};
const ELF_TYPES: Record<number, string> = { 1: 'rel', 2: 'exec', 3: 'dyn', 4: 'core' };
const MAX_HEADERS = 4096;

/**
 * Parses an ELF file's header, program headers and section headers (entropy unless `headersOnly`).
 *
 * @example parseElf(bytes).interpreter // '/lib64/ld-linux-x86-64.so.2'
 */
export function parseElf(bytes: Uint8Array, opts: { headersOnly?: boolean } = {}): ElfInfo {
  const buf = asBuffer(bytes);
  if (!hasAt(buf, 0, '\x7fELF')) throw truncated('not an ELF file');
  const cls = buf[4];
  const data = buf[5];
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) throw truncated(`unknown ELF class ${cls} or data encoding ${data}`);
  const bits: 32 | 64 = cls === 2 ? 64 : 32;
  const le = data === 1;
  const r16 = (o: number, w?: string): number => (le ? u16le(buf, o, w) : u16be(buf, o, w));
  const r32 = (o: number, w?: string): number => (le ? u32le(buf, o, w) : u32be(buf, o, w));
  const rAddr = (o: number, w?: string): number => (bits === 64 ? (le ? u64le(buf, o, w) : u64be(buf, o, w)) : r32(o, w));
  const anomalies: string[] = [];
  const eType = r16(16, 'e_type');
  const eMachine = r16(18, 'e_machine');
  const entry = rAddr(24, 'e_entry');
  const phoff = rAddr(bits === 64 ? 32 : 28, 'e_phoff');
  const shoff = rAddr(bits === 64 ? 40 : 32, 'e_shoff');
  const h = bits === 64 ? 52 : 40;
  const phentsize = r16(h + 2, 'e_phentsize');
  const phnum = r16(h + 4, 'e_phnum');
  const shentsize = r16(h + 6, 'e_shentsize');
  const shnum = r16(h + 8, 'e_shnum');
  const shstrndx = r16(h + 10, 'e_shstrndx');

  const segments: ElfInfo['segments'] = [];
  let interpreter: string | undefined;
  let wxSegment = false;
  let executableStack = false;
  const minPh = bits === 64 ? 56 : 32;
  if (phnum > 0 && phentsize < minPh) anomalies.push(`program header entries of ${phentsize} bytes`);
  else {
    for (let i = 0; i < Math.min(phnum, MAX_HEADERS); i++) {
      const at = phoff + i * phentsize;
      if (!within(buf, at, minPh)) {
        anomalies.push('program headers run past the end of the file');
        break;
      }
      const type = r32(at);
      const flags = bits === 64 ? r32(at + 4) : r32(at + 24);
      const offset = bits === 64 ? rAddr(at + 8) : r32(at + 4);
      const fileSize = bits === 64 ? rAddr(at + 32) : r32(at + 16);
      segments.push({ type, flags, offset, fileSize });
      if (type === 1 && (flags & 3) === 3) wxSegment = true; // PT_LOAD with PF_W|PF_X
      if (type === 0x6474e551 && (flags & 1) !== 0) executableStack = true; // PT_GNU_STACK
      if (type === 3) {
        if (within(buf, offset, Math.min(fileSize, 4096))) interpreter = printable(cstr(buf, offset, Math.min(fileSize, 4096)), 256);
        else anomalies.push('interpreter string outside the file');
      }
    }
  }
  const sections: ElfSection[] = [];
  const minSh = bits === 64 ? 64 : 40;
  if (shnum > 0 && shentsize < minSh) anomalies.push(`section header entries of ${shentsize} bytes`);
  else if (shnum > 0) {
    const raw: { nameOff: number; type: number; flags: number; offset: number; size: number }[] = [];
    for (let i = 0; i < Math.min(shnum, MAX_HEADERS); i++) {
      const at = shoff + i * shentsize;
      if (!within(buf, at, minSh)) {
        anomalies.push('section headers run past the end of the file');
        break;
      }
      raw.push({
        nameOff: r32(at),
        type: r32(at + 4),
        flags: bits === 64 ? rAddr(at + 8) : r32(at + 8),
        offset: bits === 64 ? rAddr(at + 24) : r32(at + 16),
        size: bits === 64 ? rAddr(at + 32) : r32(at + 20),
      });
    }
    const strtab = raw[shstrndx];
    for (const s of raw) {
      const name = strtab && within(buf, strtab.offset, 1) ? printable(cstr(buf, strtab.offset + s.nameOff, 64), 64) : '';
      const hasData = s.type !== 8 && s.size > 0; // SHT_NOBITS has no file data
      if (hasData && !within(buf, s.offset, s.size)) anomalies.push(`section ${name || '?'} extends past the end of the file`);
      const body = hasData && s.offset < buf.length ? buf.subarray(s.offset, Math.min(buf.length, s.offset + s.size)) : buf.subarray(0, 0);
      sections.push({
        name, type: s.type, offset: s.offset, size: s.size,
        executable: (s.flags & 4) !== 0, // SHF_EXECINSTR
        entropy: opts.headersOnly ? 0 : entropy(body),
      });
    }
  }
  const head = buf.subarray(0, Math.min(buf.length, 4096));
  const upx = head.includes('UPX!') || buf.subarray(Math.max(0, buf.length - 4096)).includes('UPX!');
  return {
    bits,
    endian: le ? 'little' : 'big',
    type: ELF_TYPES[eType] ?? `${eType}`,
    machine: ELF_MACHINES[eMachine] ?? `${eMachine}`,
    entry,
    interpreter,
    stripped: !sections.some((s) => s.type === 2),
    sections,
    segments,
    wxSegment,
    executableStack,
    upx,
    anomalies,
  };
}

const KNOWN_INTERPRETERS = /^(\/usr)?\/lib(64|32|x32)?\/(ld-linux[\w.-]*|ld64[\w.-]*|ld-musl-[\w.-]+|ld\.so[\w.]*)$|^\/system\/bin\/linker(64)?$|^\/libexec\/ld-elf\.so\.1$|^\/usr\/libexec\/ld\.so$/;

/**
 * The static ELF analyser. Scores stay low: stripped or static binaries are normal; packers,
 * missing section headers and writable code segments are the hints worth a look.
 *
 * @example analyzeElf(parseElf(bytes)) // [] for an ordinary PIE
 */
export function analyzeElf(elf: ElfInfo): Reason[] {
  const out: Reason[] = [];
  const add = (code: string, score: number, message: string): void => void out.push({ analyzer: 'elf', code, score, message });
  if (elf.upx) add('ELF_PACKER', 3, 'Packed with UPX (UPX! marker).');
  if (elf.sections.length === 0 && (elf.type === 'exec' || elf.type === 'dyn')) add('ELF_NO_SECTIONS', 2, 'No section headers: stripped by a packer or hand-made.');
  if (elf.wxSegment) add('ELF_WX_SEGMENT', 2, 'A loadable segment is both writable and executable.');
  if (elf.executableStack) add('ELF_EXEC_STACK', 1, 'Requests an executable stack.');
  const hot = elf.sections.filter((s) => s.executable && s.entropy > 7.2 && s.size >= 1024);
  if (hot.length > 0) add('ELF_HIGH_ENTROPY_CODE', 2, `Executable section(s) with entropy above 7.2: ${hot.map((s) => s.name).join(', ')}.`);
  if (elf.interpreter !== undefined && !KNOWN_INTERPRETERS.test(elf.interpreter)) add('ELF_ODD_INTERPRETER', 2, `Unusual program interpreter ${elf.interpreter}.`);
  const broken = elf.anomalies.filter((a) => a.includes('past the end') || a.includes('outside'));
  if (broken.length > 0) add('ELF_TRUNCATED', 2, `Malformed or truncated ELF: ${broken.slice(0, 3).join('; ')}.`);
  add('ELF_FACTS', 0, `ELF ${elf.bits}-bit ${elf.type} ${elf.machine}${elf.interpreter ? `, interpreter ${elf.interpreter}` : ''}, ${elf.stripped ? 'stripped' : 'not stripped'}.`);
  return out;
}

export interface MachoInfo {
  fat: boolean;
  bits: 32 | 64;
  /** CPU names of the thin file or of each slice in a fat file. */
  cpus: string[];
  fileType: string;
}

const MACHO_CPUS: Record<number, string> = { 7: 'x86', 0x01000007: 'x86_64', 12: 'arm', 0x0100000c: 'arm64', 0x0200000c: 'arm64_32', 18: 'ppc', 0x01000012: 'ppc64' };
const MACHO_TYPES: Record<number, string> = { 1: 'object', 2: 'executable', 6: 'dylib', 7: 'dylinker', 8: 'bundle', 9: 'dylib stub', 10: 'dSYM', 11: 'kext' };

/**
 * Reads a Mach-O header (thin: FEEDFACE/FEEDFACF either byte order; fat: CAFEBABE/CAFEBABF with a
 * plausible slice count, which tells it apart from a Java class file). Returns undefined otherwise.
 */
export function parseMachoHeader(bytes: Uint8Array): MachoInfo | undefined {
  const buf = asBuffer(bytes);
  if (buf.length < 8) return undefined;
  const be = buf.readUInt32BE(0);
  if (be === 0xcafebabe || be === 0xcafebabf) {
    const n = buf.readUInt32BE(4);
    if (n === 0 || n > 30) return undefined; // Java class files have major version >= 45 here
    const entry = be === 0xcafebabf ? 32 : 20;
    const cpus: string[] = [];
    for (let i = 0; i < n; i++) {
      const at = 8 + i * entry;
      if (!within(buf, at, entry)) return undefined;
      const cpu = buf.readUInt32BE(at);
      cpus.push(MACHO_CPUS[cpu] ?? `cpu ${cpu}`);
    }
    return { fat: true, bits: be === 0xcafebabf ? 64 : 32, cpus, fileType: 'universal binary' };
  }
  const le = buf.readUInt32LE(0);
  const magic = [0xfeedface, 0xfeedfacf].includes(le) ? { le: true, m: le } : [0xfeedface, 0xfeedfacf].includes(be) ? { le: false, m: be } : undefined;
  if (!magic || buf.length < 28) return undefined;
  const r32 = (o: number): number => (magic.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const cpu = r32(4);
  const ft = r32(12);
  return { fat: false, bits: magic.m === 0xfeedfacf ? 64 : 32, cpus: [MACHO_CPUS[cpu] ?? `cpu ${cpu}`], fileType: MACHO_TYPES[ft] ?? `type ${ft}` };
}
