/**
 * Office, RTF, OneNote and e-mail static analysers: VBA macros (auto-exec entry points and the
 * calls droppers make), Excel 4 (XLM) macro sheets, legacy encryption flags, embedded OLE
 * packages, OOXML external relationships (remote templates, MSHTML/MSDT links), DDE fields, RTF
 * objects and files embedded in OneNote sections. Each returns reasons plus embedded payloads for
 * the caller to analyse in turn.
 */
import { CairnError } from '../../kernel/errors.ts';
import { asBuffer, cstr, printable, within } from './bytes.ts';
import type { Cfb } from './ole.ts';
import { extractVba, type VbaModule } from './ovba.ts';
import type { Reason } from './types.ts';
import { readZipEntry, type ZipEntry } from './zip.ts';

/** A file found inside another, to be classified and analysed by the caller. */
export interface Embedded {
  name: string;
  bytes: Buffer;
}

export interface StaticResult {
  reasons: Reason[];
  embedded: Embedded[];
}

const AUTOEXEC = /\b(Auto_?Open|Auto_?Close|Auto_?Exec|Auto_?New|Document_(Open|Close|New|BeforeClose)|DocumentOpen|Workbook_(Open|Activate|BeforeClose)|App_\w+|\w+_(Layout|Painted|Painting|Resize))\b/gi;
const SUSPICIOUS: [RegExp, string][] = [
  [/\bShell(Execute)?\s*\(|\bShell\s+["\w]/i, 'Shell'],
  [/WScript\.Shell|Shell\.Application/i, 'WScript.Shell'],
  [/\bCreateObject\s*\(/i, 'CreateObject'],
  [/\bGetObject\s*\(/i, 'GetObject'],
  [/\bCallByName\b/i, 'CallByName'],
  [/URLDownloadToFile/i, 'URLDownloadToFile'],
  [/XMLHTTP|WinHttp\.WinHttpRequest|ServerXMLHTTP/i, 'HTTP request'],
  [/ADODB\.Stream|\.SaveToFile\b/i, 'ADODB.Stream'],
  [/\bpowershell\b/i, 'powershell'],
  [/\bcmd(\.exe)?\s+\/c\b/i, 'cmd /c'],
  [/\b(mshta|certutil|bitsadmin|regsvr32|rundll32|wmic|schtasks)\b/i, 'LOLBin'],
  [/Win32_Process\b/i, 'Win32_Process'],
  [/\bDeclare\s+(PtrSafe\s+)?(Function|Sub)\b[^\n]*\bLib\s+"(kernel32|ntdll|user32)/i, 'Windows API declaration'],
  [/\b(VirtualAlloc(Ex)?|RtlMoveMemory|CreateThread|WriteProcessMemory|EnumSystemLocales|EnumDateFormats)\b/i, 'memory / thread API'],
  [/\bExecuteExcel4Macro\b/i, 'ExecuteExcel4Macro'],
  [/\bEnviron\s*\(/i, 'Environ'],
  [/\bStrReverse\s*\(/i, 'StrReverse'],
  [/bin\.base64|\bBase64Decode\b/i, 'Base64 decoding'],
];
const EXEC_FAMILY = new Set(['Shell', 'WScript.Shell', 'URLDownloadToFile', 'HTTP request', 'ADODB.Stream', 'powershell', 'cmd /c', 'LOLBin', 'Win32_Process', 'memory / thread API', 'ExecuteExcel4Macro']);

/**
 * Judges VBA module sources the way olevba does: entry points that run on open, calls that run
 * programs or fetch payloads, and heavy character-code obfuscation.
 *
 * @example analyzeVbaSources([{ name: 'M', source: 'Sub AutoOpen()\nShell "cmd /c calc"\nEnd Sub' }])
 */
export function analyzeVbaSources(modules: Pick<VbaModule, 'name' | 'source'>[], where?: string): Reason[] {
  const out: Reason[] = [];
  if (modules.length === 0) return out;
  const add = (code: string, score: number, message: string): void => void out.push({ analyzer: 'office', code, score, message, ...(where ? { path: where } : {}) });
  const all = modules.map((m) => m.source).join('\n');
  // Attribute lines and comments do not run.
  const code = all.split(/\r?\n/).filter((l) => !/^\s*(Attribute\s|'|Rem\s)/i.test(l)).join('\n');
  const auto = [...new Set([...code.matchAll(AUTOEXEC)].map((m) => m[0]))];
  const hits = SUSPICIOUS.filter(([re]) => re.test(code)).map(([, label]) => label);
  const execHits = hits.filter((h) => EXEC_FAMILY.has(h));
  const chr = (code.match(/\bChr[WB]?\$?\s*\(/gi) ?? []).length;
  add('OFFICE_MACROS', 2, `VBA macros in ${modules.length} module(s): ${modules.map((m) => printable(m.name, 40)).slice(0, 10).join(', ')}.`);
  if (auto.length > 0 && execHits.length > 0) {
    add('OFFICE_AUTOEXEC_EXECUTION', 7, `Macro runs automatically (${auto.slice(0, 5).join(', ')}) and can execute or download: ${execHits.join(', ')}.`);
  } else if (auto.length > 0) {
    add('OFFICE_AUTOEXEC', 3, `Macro runs automatically: ${auto.slice(0, 5).join(', ')}.`);
  }
  if (hits.length > 0 && !(auto.length > 0 && execHits.length > 0)) add('OFFICE_SUSPICIOUS_VBA', execHits.length > 0 ? 4 : 2, `Macro uses ${hits.join(', ')}.`);
  if (chr > 50) add('OFFICE_VBA_OBFUSCATION', 3, `Macro builds strings from ${chr} Chr() calls (obfuscation).`);
  return out;
}

/** Parses an OLE1 `\x01Ole10Native` stream: the packaged file's name and bytes. */
export function parseOle10Native(data: Buffer): Embedded | undefined {
  if (data.length < 10) return undefined;
  let p = 4 + 2; // total size, flags
  const label = cstr(data, p, 260);
  p += label.length + 1;
  const source = cstr(data, p, 260);
  p += source.length + 1;
  p += 8; // two reserved longs
  const temp = cstr(data, p, 260);
  p += temp.length + 1;
  if (!within(data, p, 4)) return undefined;
  const size = data.readUInt32LE(p);
  p += 4;
  if (!within(data, p, size)) return undefined;
  return { name: printable(label || temp.replace(/^.*[\\/]/, '') || 'ole10native', 120), bytes: data.subarray(p, p + size) };
}

function excelFacts(wb: Buffer): { encrypted: boolean; macroSheets: number; hiddenMacroSheets: number; autoOpenName: boolean } {
  const f = { encrypted: false, macroSheets: 0, hiddenMacroSheets: 0, autoOpenName: false };
  let p = 0;
  for (let n = 0; p + 4 <= wb.length && n < 200_000; n++) {
    const id = wb.readUInt16LE(p);
    const len = wb.readUInt16LE(p + 2);
    const body = wb.subarray(p + 4, Math.min(wb.length, p + 4 + len));
    if (id === 0x002f) f.encrypted = true; // FILEPASS
    if (id === 0x0085 && body.length >= 6 && body[5] === 0x01) { // BOUNDSHEET of type macro sheet
      f.macroSheets++;
      if (body[4] !== 0) f.hiddenMacroSheets++;
    }
    if (id === 0x0018 && body.length >= 16 && (body.readUInt16LE(0) & 0x0020) !== 0 && body[15] === 0x01) f.autoOpenName = true; // built-in Auto_Open
    if (id === 0x000a && n > 0) break; // EOF of the globals substream
    p += 4 + len;
  }
  return f;
}

/**
 * Analyses an opened compound file: VBA projects, XLM macro sheets, legacy encryption and
 * embedded OLE packages. `budget` is the shared decompression allowance.
 *
 * @example analyzeOle(openCfb(bytes), { remaining: 64 << 20 }).reasons
 */
export function analyzeOle(cfb: Cfb, budget: { remaining: number }): StaticResult {
  const reasons: Reason[] = [];
  const embedded: Embedded[] = [];
  const add = (code: string, score: number, message: string, incomplete = false): void => {
    reasons.push({ analyzer: 'office', code, score, message, ...(incomplete ? { incomplete } : {}) });
  };
  if (cfb.has('EncryptedPackage')) add('OFFICE_ENCRYPTED', 2, 'Could not inspect: the document is password-encrypted.', true);
  const word = cfb.find(/^WordDocument$/)[0];
  if (word) {
    const fib = cfb.read(word, 64);
    if (fib.length >= 12 && (fib.readUInt16LE(10) & 0x0100) !== 0) add('OFFICE_ENCRYPTED', 2, 'Could not inspect: the Word document is encrypted.', true);
  }
  const workbook = cfb.find(/^(Workbook|Book)$/)[0];
  if (workbook) {
    const f = excelFacts(cfb.read(workbook, 16 << 20));
    if (f.encrypted) add('OFFICE_ENCRYPTED', 2, 'Could not inspect: the workbook is encrypted (FILEPASS).', true);
    if (f.macroSheets > 0) {
      const score = f.autoOpenName ? 7 : f.hiddenMacroSheets > 0 ? 6 : 4;
      add('OFFICE_XLM_MACROS', score, `Excel 4 (XLM) macro sheet(s): ${f.macroSheets}${f.hiddenMacroSheets ? `, ${f.hiddenMacroSheets} hidden` : ''}${f.autoOpenName ? ', with an Auto_Open name' : ''}.`);
    }
  }
  const projects = extractVba(cfb, budget);
  for (const p of projects) {
    reasons.push(...analyzeVbaSources(p.modules, p.path));
    if (p.failures.length > 0) add('OFFICE_VBA_UNREADABLE', 2, `Could not decompress VBA in ${p.path}: ${p.failures.slice(0, 5).join(', ')}.`, true);
  }
  if (projects.length === 0 && cfb.entries.some((e) => /_VBA_PROJECT$/i.test(e.path))) add('OFFICE_VBA_UNREADABLE', 2, 'VBA project present but its dir stream is missing.', true);
  for (const s of cfb.find(/Ole10Native$/)) {
    const e = parseOle10Native(cfb.read(s, 32 << 20));
    if (e) embedded.push({ ...e, name: `${s.path.replace(/\/[^/]*$/, '')}/${e.name}` });
  }
  for (const s of cfb.find(/(^|\/)(Package|CONTENTS)$/)) embedded.push({ name: s.path, bytes: cfb.read(s, 32 << 20) });
  // Outlook .msg attachments: PR_ATTACH_DATA_BIN, named by PR_ATTACH_LONG_FILENAME when present.
  for (const s of cfb.find(/^__attach_version1\.0_#[0-9A-F]{8}\/__substg1\.0_37010102$/i)) {
    const dir = s.path.slice(0, s.path.indexOf('/'));
    const nameStream = cfb.find(new RegExp(`^${dir.replace(/[.#]/g, '\\$&')}/__substg1\\.0_3707001F$`, 'i'))[0];
    const name = nameStream ? printable(cfb.read(nameStream, 1024).toString('utf16le').replace(/\0+$/, ''), 120) : dir;
    embedded.push({ name: `${dir}/${name}`, bytes: cfb.read(s, 32 << 20) });
  }
  if (embedded.length > 0) add('OFFICE_EMBEDDED_OBJECT', 1, `Embedded OLE object(s): ${embedded.map((e) => e.name).slice(0, 5).join(', ')}.`);
  return { reasons, embedded };
}

/**
 * OOXML checks on the package parts: external relationships (remote templates, external OLE
 * objects, `mhtml:` / `ms-msdt:` targets), DDE fields, XLM macro sheets and ActiveX controls.
 * Part bodies read here are charged to `budget`.
 */
export function analyzeOoxml(bytes: Uint8Array, entries: ZipEntry[], budget: { remaining: number }): Reason[] {
  const buf = asBuffer(bytes);
  const reasons: Reason[] = [];
  const add = (code: string, score: number, message: string): void => void reasons.push({ analyzer: 'office', code, score, message });
  const read = (e: ZipEntry): string | undefined => {
    if (e.encrypted || e.uncompressedSize > 8 << 20 || budget.remaining <= 0) return undefined;
    try {
      const out = readZipEntry(buf, e, { maxBytes: Math.min(8 << 20, budget.remaining) });
      budget.remaining -= out.length;
      return out.toString('utf8');
    } catch (err) {
      if (!(err instanceof CairnError)) throw err;
      return undefined;
    }
  };
  const external: string[] = [];
  let remoteTemplate = false;
  let follina = false;
  for (const e of entries.filter((x) => x.name.endsWith('.rels')).slice(0, 400)) {
    const xml = read(e) ?? '';
    for (const m of xml.matchAll(/<Relationship\b[^>]*>/g)) {
      const rel = m[0];
      if (!/TargetMode\s*=\s*"External"/i.test(rel)) continue;
      const type = /Type\s*=\s*"([^"]*)"/.exec(rel)?.[1] ?? '';
      const target = /Target\s*=\s*"([^"]*)"/.exec(rel)?.[1] ?? '';
      if (/\/hyperlink$/.test(type)) continue;
      if (/attachedTemplate$/.test(type)) remoteTemplate = true;
      if (/^(mhtml|ms-msdt|ms-search|search-ms):/i.test(target) || /!$/.test(target)) follina = true;
      external.push(`${type.replace(/^.*\//, '')} -> ${printable(target, 80)}`);
    }
  }
  if (follina) add('OFFICE_EXTERNAL_HANDLER', 8, `External relationship to a protocol handler (MSHTML/MSDT style): ${external.slice(0, 3).join('; ')}.`);
  else if (remoteTemplate) add('OFFICE_REMOTE_TEMPLATE', 6, `Loads a remote template: ${external.slice(0, 3).join('; ')}.`);
  else if (external.some((x) => x.startsWith('oleObject'))) add('OFFICE_EXTERNAL_OLE', 6, `Links an external OLE object: ${external.slice(0, 3).join('; ')}.`);
  else if (external.length > 0) add('OFFICE_EXTERNAL_RELATIONSHIP', 1, `External relationships: ${external.slice(0, 3).join('; ')}.`);
  const body = entries.find((e) => e.name === 'word/document.xml');
  const doc = body ? read(body) ?? '' : '';
  if (/\bDDEAUTO\b|<w:instrText[^>]*>\s*(DDE|DDEAUTO)\b|<w:fldSimple[^>]*w:instr="\s*DDE/i.test(doc)) add('OFFICE_DDE', 5, 'Contains a DDE field that can run a command.');
  if (entries.some((e) => /^xl\/macrosheets\//i.test(e.name))) add('OFFICE_XLM_MACROS', 4, 'Excel 4 (XLM) macro sheet present.');
  if (entries.some((e) => /\/activeX\//i.test(e.name))) add('OFFICE_ACTIVEX', 1, 'ActiveX controls present.');
  return reasons;
}

/**
 * RTF checks: embedded objects, objects that update themselves on open, and the Equation Editor
 * class used by CVE-2017-11882 exploits (also when written as hex).
 */
export function analyzeRtf(bytes: Uint8Array): Reason[] {
  const s = asBuffer(bytes).toString('latin1');
  const reasons: Reason[] = [];
  const add = (code: string, score: number, message: string): void => void reasons.push({ analyzer: 'rtf', code, score, message });
  const objects = (s.match(/\\objdata\b/g) ?? []).length;
  if (/equation\.3|4571756174696f6e2e33|Equation\.DSMT/i.test(s)) add('RTF_EQUATION_EDITOR', 6, 'Embeds an Equation Editor object (CVE-2017-11882 exploit vector).');
  if (/\\objupdate\b/.test(s)) add('RTF_OBJUPDATE', 4, 'An embedded object updates itself when the document opens (\\objupdate).');
  if (objects > 0) add('RTF_OBJECT', 2, `Embedded OLE object(s): ${objects}.`);
  if (/\\objclass\s+Package\b|5061636b61676500/i.test(s)) add('RTF_PACKAGE', 3, 'Embeds an OLE Package (a file dropped on the user\'s disk).');
  return reasons;
}

const FILE_DATA_STORE = Buffer.from('e716e3bd65261145a4c48d4d0b7a9eac', 'hex');

/**
 * Files embedded in a OneNote section (FileDataStoreObject blocks), the 2023 vector for .hta,
 * .bat and .exe payloads behind a "double-click to view" image.
 */
export function oneNoteEmbedded(bytes: Uint8Array, max = 64): Embedded[] {
  const buf = asBuffer(bytes);
  const out: Embedded[] = [];
  let p = buf.indexOf(FILE_DATA_STORE);
  while (p >= 0 && out.length < max) {
    const at = p + 16;
    if (within(buf, at, 20)) {
      const len = Number(buf.readBigUInt64LE(at));
      const data = at + 20;
      if (Number.isSafeInteger(len) && within(buf, data, len)) out.push({ name: `onenote-file-${out.length + 1}`, bytes: buf.subarray(data, data + len) });
    }
    p = buf.indexOf(FILE_DATA_STORE, p + 16);
  }
  return out;
}

/**
 * Base64 attachments of an RFC 822 message, found by their part headers (bounded, tolerant of
 * broken MIME). Full MIME handling belongs to the e-mail module; this keeps a submitted .eml from
 * passing as clean with an unopened attachment.
 */
export function emailAttachments(bytes: Uint8Array, max = 64): Embedded[] {
  const lines = asBuffer(bytes).toString('latin1').split('\n');
  const out: Embedded[] = [];
  let head: string[] = [];
  for (let i = 0; i < lines.length && out.length < max; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line !== '') {
      if (/^[\w-]+:/.test(line) || (head.length > 0 && /^[ \t]/.test(line))) head.push(line);
      else head = [];
      continue;
    }
    const block = head.join('\n');
    head = [];
    if (!/content-transfer-encoding:\s*base64/i.test(block)) continue;
    const name = /(?:file)?name\*?=\s*"?([^";\n]+)"?/i.exec(block)?.[1];
    const parts: string[] = [];
    for (; i + 1 < lines.length && /^[A-Za-z0-9+/=]+\r?$/.test(lines[i + 1] as string); i++) parts.push((lines[i + 1] as string).trim());
    const b64 = parts.join('');
    if (b64.length >= 8) out.push({ name: printable(name ?? `part-${out.length + 1}`, 120), bytes: Buffer.from(b64, 'base64') });
  }
  return out;
}
