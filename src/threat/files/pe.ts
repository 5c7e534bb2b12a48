/**
 * Windows PE / DOS MZ parsing and the static PE analyser: headers, sections with per-section
 * entropy, the import table, overlay, signature directory and packer hints. Every structure is
 * bounds-checked; a hostile header yields `CAIRN_ERR_FILE_UNPARSABLE`, never a crash or a loop.
 */
import { asBuffer, cstr, entropy, printable, truncated, u16le, u32le, within } from './bytes.ts';
import type { Reason } from './types.ts';

export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
  characteristics: number;
  executable: boolean;
  writable: boolean;
  /** Bits per byte over the raw data present in the file. */
  entropy: number;
}

export interface PeImport {
  dll: string;
  functions: string[];
}

export interface PeInfo {
  /** `dos` when the MZ header has no valid PE header behind it. */
  kind: 'pe' | 'dos';
  bits: 32 | 64 | 16;
  machine: string;
  dll: boolean;
  dotnet: boolean;
  subsystem: string;
  timestamp: number;
  entryPointRva: number;
  entrySection: string | undefined;
  sizeOfHeaders: number;
  sections: PeSection[];
  imports: PeImport[];
  importedFunctionCount: number;
  /** Where data past the last section starts (file offset) and how much there is, excluding the signature. */
  overlayOffset: number;
  overlayBytes: number;
  /** An Authenticode certificate table is present (not verified here). */
  hasSignature: boolean;
  hasTls: boolean;
  anomalies: string[];
}

const MACHINES: Record<number, string> = {
  0x014c: 'x86',
  0x8664: 'x86-64',
  0x01c0: 'ARM',
  0x01c4: 'ARMv7 Thumb-2',
  0xaa64: 'ARM64',
  0x0200: 'IA-64',
  0x0ebc: 'EFI byte code',
  0x5032: 'RISC-V 32',
  0x5064: 'RISC-V 64',
};

const SUBSYSTEMS: Record<number, string> = {
  1: 'native',
  2: 'gui',
  3: 'console',
  7: 'posix',
  9: 'windows-ce',
  10: 'efi-application',
  11: 'efi-boot-driver',
  12: 'efi-runtime-driver',
  14: 'xbox',
  16: 'boot-application',
};

/** Machine name for a COFF machine code (also used for COFF objects). */
export function machineName(code: number): string | undefined {
  return MACHINES[code];
}

const MAX_SECTIONS = 96;
const MAX_IMPORT_DLLS = 512;
const MAX_IMPORT_FUNCTIONS = 8192;

/**
 * Parses the PE headers (and, unless `headersOnly`, the sections' entropy and the import table).
 * Throws `CAIRN_ERR_FILE_UNPARSABLE` when the input is not an MZ file or the headers are broken.
 *
 * @example parsePe(readFileSync('x.exe')).bits // 64
 */
export function parsePe(bytes: Uint8Array, opts: { headersOnly?: boolean } = {}): PeInfo {
  const buf = asBuffer(bytes);
  if (u16le(buf, 0, 'MZ signature') !== 0x5a4d) throw truncated('not an MZ file');
  const anomalies: string[] = [];
  const lfanew = buf.length >= 0x40 ? buf.readUInt32LE(0x3c) : -1;
  const dos = (note: string): PeInfo => ({
    kind: 'dos', bits: 16, machine: 'x86 (real mode)', dll: false, dotnet: false, subsystem: 'dos', timestamp: 0,
    entryPointRva: 0, entrySection: undefined, sizeOfHeaders: 0, sections: [], imports: [], importedFunctionCount: 0,
    overlayOffset: buf.length, overlayBytes: 0, hasSignature: false, hasTls: false, anomalies: [note],
  });
  if (lfanew < 0 || !within(buf, lfanew, 24) || u32le(buf, lfanew) !== 0x00004550) {
    return dos(lfanew < 0 ? 'no e_lfanew' : 'no PE header at e_lfanew');
  }
  const coff = lfanew + 4;
  const machineCode = u16le(buf, coff);
  const nSections = u16le(buf, coff + 2);
  const timestamp = u32le(buf, coff + 4);
  const optSize = u16le(buf, coff + 16);
  const characteristics = u16le(buf, coff + 18);
  const opt = coff + 20;
  const magic = u16le(buf, opt, 'optional header magic');
  if (magic !== 0x10b && magic !== 0x20b) throw truncated(`unknown PE optional header magic 0x${magic.toString(16)}`);
  const bits: 32 | 64 = magic === 0x20b ? 64 : 32;
  const entryPointRva = u32le(buf, opt + 16, 'entry point');
  const sizeOfHeaders = u32le(buf, opt + 60, 'SizeOfHeaders');
  const subsystemCode = u16le(buf, opt + 68, 'subsystem');
  const nDirsAt = bits === 64 ? opt + 108 : opt + 92;
  const nDirs = Math.min(16, u32le(buf, nDirsAt, 'NumberOfRvaAndSizes'));
  const dirsAt = nDirsAt + 4;
  const dir = (i: number): { rva: number; size: number } => {
    if (i >= nDirs || !within(buf, dirsAt + i * 8, 8) || dirsAt + i * 8 + 8 > opt + optSize) return { rva: 0, size: 0 };
    return { rva: buf.readUInt32LE(dirsAt + i * 8), size: buf.readUInt32LE(dirsAt + i * 8 + 4) };
  };
  if (nSections > MAX_SECTIONS) anomalies.push(`${nSections} sections (more than ${MAX_SECTIONS}); only the first ${MAX_SECTIONS} read`);
  const secAt = opt + optSize;
  const sections: PeSection[] = [];
  for (let i = 0; i < Math.min(nSections, MAX_SECTIONS); i++) {
    const at = secAt + i * 40;
    if (!within(buf, at, 40)) {
      anomalies.push('section table runs past the end of the file');
      break;
    }
    const name = printable(cstr(buf.subarray(at, at + 8), 0, 8), 8);
    const virtualSize = buf.readUInt32LE(at + 8);
    const virtualAddress = buf.readUInt32LE(at + 12);
    const rawSize = buf.readUInt32LE(at + 16);
    const rawOffset = buf.readUInt32LE(at + 20);
    const ch = buf.readUInt32LE(at + 36);
    if (rawSize > 0 && rawOffset + rawSize > buf.length) anomalies.push(`section ${name} extends past the end of the file`);
    const raw = rawSize > 0 && rawOffset < buf.length ? buf.subarray(rawOffset, Math.min(buf.length, rawOffset + rawSize)) : buf.subarray(0, 0);
    sections.push({
      name, virtualAddress, virtualSize, rawOffset, rawSize, characteristics: ch,
      executable: (ch & 0x20000000) !== 0 || (ch & 0x00000020) !== 0,
      writable: (ch & 0x80000000) !== 0,
      entropy: opts.headersOnly ? 0 : entropy(raw),
    });
  }
  const rvaToOffset = (rva: number): number => {
    for (const s of sections) {
      const span = Math.max(s.virtualSize, s.rawSize);
      if (rva >= s.virtualAddress && rva < s.virtualAddress + span) {
        const off = s.rawOffset + (rva - s.virtualAddress);
        return rva - s.virtualAddress < s.rawSize && off < buf.length ? off : -1;
      }
    }
    return rva < sizeOfHeaders && rva < buf.length ? rva : -1;
  };
  const entrySection = sections.find((s) => entryPointRva >= s.virtualAddress && entryPointRva < s.virtualAddress + Math.max(s.virtualSize, s.rawSize))?.name;
  const clr = dir(14);
  const security = dir(4);
  const tls = dir(9);
  const hasSignature = security.size > 0 && security.rva > 0 && within(buf, security.rva, Math.min(security.size, 8));
  let end = sizeOfHeaders;
  for (const s of sections) if (s.rawSize > 0) end = Math.max(end, s.rawOffset + s.rawSize);
  let overlayBytes = Math.max(0, buf.length - end);
  // The certificate table lives after the sections by design; it is not an overlay.
  if (hasSignature && security.rva >= end) overlayBytes = Math.max(0, overlayBytes - Math.min(security.size, buf.length - security.rva));
  const imports: PeImport[] = [];
  let importedFunctionCount = 0;
  if (!opts.headersOnly) {
    const imp = dir(1);
    let at = imp.size > 0 ? rvaToOffset(imp.rva) : -1;
    if (imp.size > 0 && at < 0) anomalies.push('import directory points outside the file');
    for (let d = 0; at >= 0 && d < MAX_IMPORT_DLLS && within(buf, at, 20); d++, at += 20) {
      const oft = buf.readUInt32LE(at);
      const nameRva = buf.readUInt32LE(at + 12);
      const ft = buf.readUInt32LE(at + 16);
      if (oft === 0 && nameRva === 0 && ft === 0) break;
      const nameOff = rvaToOffset(nameRva);
      const dll = nameOff >= 0 ? printable(cstr(buf, nameOff, 256), 256) : '';
      const functions: string[] = [];
      let t = rvaToOffset(oft !== 0 ? oft : ft);
      const step = bits === 64 ? 8 : 4;
      for (; t >= 0 && within(buf, t, step) && importedFunctionCount < MAX_IMPORT_FUNCTIONS; t += step) {
        const lo = buf.readUInt32LE(t);
        const hi = bits === 64 ? buf.readUInt32LE(t + 4) : 0;
        if (lo === 0 && hi === 0) break;
        const byOrdinal = bits === 64 ? (hi & 0x80000000) !== 0 : (lo & 0x80000000) !== 0;
        if (byOrdinal) functions.push(`#${lo & 0xffff}`);
        else {
          const hn = rvaToOffset(lo & 0x7fffffff);
          functions.push(hn >= 0 ? printable(cstr(buf, hn + 2, 256), 256) : '?');
        }
        importedFunctionCount++;
      }
      imports.push({ dll, functions });
    }
  }
  return {
    kind: 'pe',
    bits,
    machine: MACHINES[machineCode] ?? `0x${machineCode.toString(16)}`,
    dll: (characteristics & 0x2000) !== 0,
    dotnet: clr.rva !== 0 && clr.size !== 0,
    subsystem: SUBSYSTEMS[subsystemCode] ?? `${subsystemCode}`,
    timestamp,
    entryPointRva,
    entrySection,
    sizeOfHeaders,
    sections,
    imports,
    importedFunctionCount,
    overlayOffset: end,
    overlayBytes,
    hasSignature,
    hasTls: tls.rva !== 0 && tls.size !== 0,
    anomalies,
  };
}

/** Packer section names and the tool they point to. */
const PACKER_SECTIONS: [RegExp, string][] = [
  [/^UPX[0-9!]?$/i, 'UPX'],
  [/^\.aspack$|^\.adata$/i, 'ASPack'],
  [/^MPRESS[12]$/i, 'MPRESS'],
  [/^\.petite$/i, 'Petite'],
  [/^\.nsp[012]$/i, 'NsPack'],
  [/^PEC2|^PECompact/i, 'PECompact'],
  [/^\.themida$|^\.winlice$/i, 'Themida'],
  [/^\.vmp[0-9]$/i, 'VMProtect'],
  [/^\.enigma[12]$/i, 'Enigma'],
  [/^\.MPRESS/i, 'MPRESS'],
  [/^kkrunchy$/i, 'kkrunchy'],
  [/^\.packed$/i, 'generic packer'],
];

const INJECTION = ['VirtualAllocEx', 'WriteProcessMemory', 'CreateRemoteThread', 'NtUnmapViewOfSection', 'ZwUnmapViewOfSection', 'SetThreadContext', 'QueueUserAPC', 'NtWriteVirtualMemory'];
const DOWNLOAD = ['URLDownloadToFileA', 'URLDownloadToFileW', 'InternetOpenUrlA', 'InternetOpenUrlW', 'WinHttpOpen', 'InternetReadFile'];
const EXECUTE = ['WinExec', 'ShellExecuteA', 'ShellExecuteW', 'ShellExecuteExA', 'ShellExecuteExW', 'CreateProcessA', 'CreateProcessW'];
const KEYLOG = ['SetWindowsHookExA', 'SetWindowsHookExW', 'GetAsyncKeyState', 'GetKeyboardState'];
const ANTIDEBUG = ['IsDebuggerPresent', 'CheckRemoteDebuggerPresent', 'NtQueryInformationProcess'];

/**
 * The static PE analyser: turns a parsed PE into reasons. Scores are modest on purpose: packers and
 * odd sections are common in benign software; only combinations push a file towards a block.
 *
 * @example analyzePe(parsePe(bytes)).map((r) => r.code) // ['PE_PACKER', 'PE_HIGH_ENTROPY_CODE']
 */
export function analyzePe(pe: PeInfo): Reason[] {
  const out: Reason[] = [];
  const add = (code: string, score: number, message: string, incomplete = false): void => {
    out.push({ analyzer: 'pe', code, score, message, ...(incomplete ? { incomplete } : {}) });
  };
  if (pe.kind === 'dos') {
    add('PE_DOS_ONLY', 1, 'MS-DOS executable without a PE header.');
    return out;
  }
  const packers = new Set<string>();
  for (const s of pe.sections) for (const [re, tool] of PACKER_SECTIONS) if (re.test(s.name)) packers.add(tool);
  if (packers.size > 0) add('PE_PACKER', 3, `Packed: section names point to ${[...packers].join(', ')}.`);
  const hot = pe.sections.filter((s) => s.executable && s.entropy > 7.2 && s.rawSize >= 1024);
  if (hot.length > 0) add('PE_HIGH_ENTROPY_CODE', 3, `Executable section(s) with entropy above 7.2 bits/byte: ${hot.map((s) => `${s.name} ${s.entropy}`).join(', ')}.`);
  const wx = pe.sections.filter((s) => s.executable && s.writable);
  if (wx.length > 0) add('PE_WX_SECTION', 2, `Section(s) both writable and executable: ${wx.map((s) => s.name).join(', ')}.`);
  if (pe.entrySection === undefined && pe.entryPointRva !== 0 && !pe.dll) add('PE_ENTRY_OUTSIDE_SECTIONS', 3, 'The entry point lies outside every section.');
  else if (pe.entrySection !== undefined && pe.sections.length > 1 && pe.sections[pe.sections.length - 1]?.name === pe.entrySection && !pe.dotnet) {
    add('PE_ENTRY_IN_LAST_SECTION', 2, `The entry point is in the last section (${pe.entrySection}), a common packer trait.`);
  }
  const fns = new Set(pe.imports.flatMap((i) => i.functions));
  const has = (list: string[]): string[] => list.filter((f) => fns.has(f));
  if (!pe.dotnet && pe.importedFunctionCount > 0 && pe.importedFunctionCount < 6 && (fns.has('GetProcAddress') || fns.has('LoadLibraryA') || fns.has('LoadLibraryW'))) {
    add('PE_FEW_IMPORTS', 2, `Only ${pe.importedFunctionCount} imported functions, including dynamic resolution (GetProcAddress/LoadLibrary).`);
  }
  const inj = has(INJECTION);
  if (inj.length >= 2) add('PE_INJECTION_APIS', 4, `Imports process-injection APIs: ${inj.join(', ')}.`);
  const dl = has(DOWNLOAD);
  const ex = has(EXECUTE);
  if (dl.length > 0 && ex.length > 0) add('PE_DOWNLOAD_EXECUTE_APIS', 3, `Imports download and execute APIs: ${[...dl, ...ex].join(', ')}.`);
  const kl = has(KEYLOG);
  if (kl.length >= 2) add('PE_KEYLOGGER_APIS', 3, `Imports keyboard-hook APIs: ${kl.join(', ')}.`);
  const ad = has(ANTIDEBUG);
  if (ad.length > 0) add('PE_ANTI_DEBUG', 1, `Imports debugger checks: ${ad.join(', ')}.`);
  if (pe.overlayBytes > 0) add('PE_OVERLAY', 1, `${pe.overlayBytes} bytes of overlay data after the last section.`);
  if (pe.hasTls) add('PE_TLS_CALLBACKS', 0, 'Has a TLS directory (code may run before the entry point).');
  if (pe.hasSignature) add('PE_SIGNATURE_PRESENT', 0, 'Carries an Authenticode signature directory (not verified).');
  const broken = pe.anomalies.filter((a) => a.includes('past the end') || a.includes('outside the file'));
  if (broken.length > 0) add('PE_TRUNCATED', 2, `Malformed or truncated PE: ${broken.slice(0, 3).join('; ')}.`);
  return out;
}

/** Describes a parsed PE the way `file` would: `PE32+ executable (DLL), x86-64, .NET`. */
export function describePe(pe: PeInfo): string {
  if (pe.kind === 'dos') return 'MS-DOS executable';
  const head = pe.bits === 64 ? 'PE32+' : 'PE32';
  return `${head} ${pe.dll ? 'DLL' : 'executable'} (${pe.subsystem}), ${pe.machine}${pe.dotnet ? ', .NET assembly' : ''}, ${pe.sections.length} sections`;
}
