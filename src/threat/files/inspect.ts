/**
 * The static stage: dispatches each file to its analyser and walks containers recursively (zip and
 * OOXML parts, gzip, tar, cpio, ar, OLE embedded objects, OneNote and e-mail attachments, PE
 * overlays, data appended to images). One budget bounds the whole walk: nesting depth, entries
 * visited, decompressed bytes, per-entry size and expansion ratio, and wall-clock time. Parsers'
 * CairnErrors become reasons that mark the verdict incomplete; any other error is a bug and
 * propagates.
 */
import { CairnError } from '../../kernel/errors.ts';
import { asBuffer, printable } from './bytes.ts';
import { classifyFile } from './classify.ts';
import { arEntries, cpioEntries, gunzipLimited, gzipName, isoEntries, tarEntries, type ContainerEntry } from './containers.ts';
import { analyzeElf, parseElf } from './elf.ts';
import { analyzeOle, analyzeOoxml, analyzeRtf, emailAttachments, oneNoteEmbedded, type Embedded } from './office.ts';
import { openCfb } from './ole.ts';
import { analyzePdf, scanPdf } from './pdf.ts';
import { analyzePe, parsePe } from './pe.ts';
import { DEFAULT_FILE_LIMITS, type AnalyzerName, type FileLimits, type FileType, type Reason } from './types.ts';
import { listZip, readZipEntry, type ZipEntry } from './zip.ts';

/** Scans a child's bytes with YARA (or any other engine) and returns reasons without a path. */
export type ChildScanner = (bytes: Buffer) => Promise<Reason[]>;

export interface StaticOptions {
  /** File name (R-DATA-8), for the extension rule only. */
  name?: string;
  limits?: Partial<FileLimits>;
  /** The top-level type when the caller already classified the file. */
  type?: FileType;
  /** Run on every extracted child (the pipeline passes its YARA rules). */
  scanChild?: ChildScanner;
  /** ClamAV already scanned the file and found nothing (it unpacks 7z, rar, cab, ...). */
  clamdClean?: boolean;
}

const OLE_TYPES = new Set(['doc', 'xls', 'ppt', 'ole', 'msi', 'msg', 'ooxml-encrypted', 'vsd']);
const OOXML_TYPES = new Set(['docx', 'docm', 'dotx', 'dotm', 'xlsx', 'xlsm', 'xltx', 'xltm', 'xlsb', 'xlam', 'pptx', 'pptm', 'ppsx', 'ppsm', 'potx', 'vsdx', 'opc', 'xps']);
const ZIP_TYPES = new Set(['zip', 'jar', 'apk', 'epub']);
const OPAQUE_ARCHIVES = new Set(['7z', 'rar', 'bzip2', 'xz', 'zstd', 'cab', 'xar', 'vhd', 'vhdx', 'dmg', 'onepkg']);
const RISKY_NAME = /\.(exe|scr|com|pif|dll|cpl|msi|js|jse|vbs|vbe|wsf|hta|bat|cmd|ps1|lnk|iso|img|one|docm|xlsm|jar)$/i;
const APPENDED: [Buffer, string][] = [
  [Buffer.from('Rar!\x1a\x07', 'latin1'), 'rar'],
  [Buffer.from('PK\x03\x04', 'latin1'), 'zip'],
  [Buffer.from('377abcaf271c', 'hex'), '7z'],
  [Buffer.from('%PDF-', 'latin1'), 'pdf'],
];

/** Fills unset limits with the defaults. */
export function resolveLimits(l: Partial<FileLimits> | undefined): FileLimits {
  return { ...DEFAULT_FILE_LIMITS, ...(l ?? {}) };
}

class Walk {
  readonly reasons: Reason[] = [];
  readonly budget: { remaining: number };
  private entries = 0;
  private readonly deadline: number;
  private readonly once = new Set<string>();
  private certain = false;

  constructor(readonly limits: FileLimits, private readonly scanChild: ChildScanner | undefined, private readonly clamdClean: boolean) {
    this.budget = { remaining: limits.maxTotalUncompressedBytes };
    this.deadline = Date.now() + limits.maxAnalysisMs;
  }

  add(r: Reason, path: string | undefined): void {
    this.reasons.push(path ? { ...r, path } : r);
    if (r.certain) this.certain = true;
  }

  private addOnce(key: string, r: Reason, path: string | undefined): void {
    if (this.once.has(key)) return;
    this.once.add(key);
    this.add(r, path);
  }

  /** Largest output an entry with `compressed` input may produce: entry cap, budget and ratio. */
  private entryCap(compressed: number): number {
    const l = this.limits;
    return Math.min(l.maxEntryBytes, this.budget.remaining, Math.max(l.ratioMinBytes, compressed * l.maxEntryRatio));
  }

  async node(buf: Buffer, type: FileType, path: string | undefined, depth: number): Promise<void> {
    const before = this.entries;
    try {
      await this.dispatch(buf, type, path, depth);
      if (this.entries > before) this.add({ analyzer: analyzerOf(type), code: 'CONTAINER_ENTRIES', score: 0, message: `${this.entries - before} embedded file(s) inspected.` }, path);
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      if (e.code === 'CAIRN_ERR_ARCHIVE_BOMB') {
        this.add({ analyzer: 'archive', code: 'ARCHIVE_BOMB', score: 6, incomplete: true, message: `Stopped unpacking: ${e.message}` }, path);
      } else {
        this.add({ analyzer: analyzerOf(type), code: 'UNPARSABLE', score: 2, incomplete: true, message: `Could not parse (${type.subtype}): ${e.message}` }, path);
      }
    }
  }

  async child(bytes: Buffer, name: string, parentPath: string | undefined, depth: number, parent: FileType): Promise<void> {
    if (this.certain) return;
    const path = parentPath ? `${parentPath}::${name}` : name;
    if (Date.now() > this.deadline) {
      this.addOnce('time', { analyzer: 'limits', code: 'TIME_BUDGET', score: 1, incomplete: true, message: `Stopped after ${this.limits.maxAnalysisMs} ms; not every part was inspected.` }, path);
      return;
    }
    if (depth > this.limits.maxDepth) {
      this.addOnce('depth', { analyzer: 'archive', code: 'ARCHIVE_TOO_DEEP', score: 3, incomplete: true, message: `Nesting deeper than ${this.limits.maxDepth} levels was not opened (nested archive bomb?).` }, path);
      return;
    }
    if (++this.entries > this.limits.maxEntries) {
      this.addOnce('entries', { analyzer: 'archive', code: 'ARCHIVE_TOO_MANY_ENTRIES', score: 2, incomplete: true, message: `More than ${this.limits.maxEntries} entries; the rest were not inspected.` }, path);
      return;
    }
    const type = classifyFile(bytes, name);
    if (parent.category === 'document' && type.category === 'executable') {
      this.add({ analyzer: 'office', code: 'DOCUMENT_EMBEDDED_EXECUTABLE', score: 5, message: `The document carries an executable (${type.description}).` }, path);
    }
    if (this.scanChild && bytes.length > 0) for (const r of await this.scanChild(bytes)) this.add(r, path);
    if (this.certain) return;
    await this.node(bytes, type, path, depth);
  }

  private async embedded(list: Embedded[] | ContainerEntry[], path: string | undefined, depth: number, parent: FileType): Promise<void> {
    for (const e of list) {
      if (this.certain) return;
      const bytes = 'bytes' in e ? e.bytes : e.data;
      if ('short' in e && e.short) this.add({ analyzer: 'archive', code: 'ARCHIVE_TRUNCATED', score: 1, incomplete: true, message: `${e.name} is cut short.` }, path);
      this.budget.remaining -= bytes.length;
      if (this.budget.remaining < 0) {
        this.addOnce('budget', { analyzer: 'archive', code: 'ARCHIVE_BUDGET', score: 3, incomplete: true, message: `More than ${this.limits.maxTotalUncompressedBytes} bytes unpacked; the rest were not inspected.` }, path);
        return;
      }
      await this.child(bytes, e.name, path, depth + 1, parent);
    }
  }

  private async dispatch(buf: Buffer, type: FileType, path: string | undefined, depth: number): Promise<void> {
    const add = (r: Reason): void => this.add(r, path);
    const s = type.subtype;
    if (s === 'eicar') {
      add({ analyzer: 'classify', code: 'EICAR', score: 10, certain: true, message: 'EICAR anti-virus test file.' });
    } else if (s === 'pe-exe' || s === 'pe-dll' || s === 'dos') {
      const pe = parsePe(buf);
      for (const r of analyzePe(pe)) add(r);
      if (pe.overlayBytes >= 64) {
        const overlay = buf.subarray(pe.overlayOffset);
        const ot = classifyFile(overlay);
        if (['archive', 'executable', 'document'].includes(ot.category)) {
          add({ analyzer: 'pe', code: 'PE_OVERLAY_PAYLOAD', score: 2, message: `The overlay holds a ${ot.description}.` });
          await this.embedded([{ name: 'overlay', bytes: overlay }], path, depth, type);
        }
      }
    } else if (s === 'elf') {
      for (const r of analyzeElf(parseElf(buf))) add(r);
    } else if (OLE_TYPES.has(s)) {
      const { reasons, embedded } = analyzeOle(openCfb(buf), this.budget);
      for (const r of reasons) add(r);
      await this.embedded(embedded, path, depth, type);
    } else if (OOXML_TYPES.has(s) || s.startsWith('odf-')) {
      const listing = listZip(buf, { maxEntries: this.limits.maxEntries });
      if (OOXML_TYPES.has(s)) for (const r of analyzeOoxml(buf, listing.entries, this.budget)) add(r);
      if (listing.entries.some((e) => /^(Basic|Scripts)\/.+/.test(e.name))) add({ analyzer: 'office', code: 'ODF_MACROS', score: 3, message: 'OpenDocument macros (Basic/ or Scripts/).' });
      await this.zip(buf, path, depth, type, (e) => !/\.(xml|rels)$/i.test(e.name));
    } else if (ZIP_TYPES.has(s)) {
      await this.zip(buf, path, depth, type, () => true);
    } else if (s === 'pdf') {
      for (const r of analyzePdf(scanPdf(buf, this.budget))) add(r);
    } else if (s === 'rtf') {
      for (const r of analyzeRtf(buf)) add(r);
    } else if (s === 'onenote') {
      const files = oneNoteEmbedded(buf);
      if (files.length > 0) add({ analyzer: 'office', code: 'ONENOTE_EMBEDDED_FILES', score: 1, message: `OneNote section embeds ${files.length} file(s).` });
      await this.embedded(files, path, depth, type);
    } else if (s === 'gzip') {
      const out = gunzipLimited(buf, this.entryCap(buf.length));
      await this.embedded([{ name: gzipName(buf) ?? 'gzip-content', bytes: out }], path, depth, type);
    } else if (s === 'tar') {
      await this.embedded([...tarEntries(buf, this.limits.maxEntries)], path, depth, type);
    } else if (s === 'cpio') {
      await this.embedded([...cpioEntries(buf, this.limits.maxEntries)], path, depth, type);
    } else if (s === 'iso' && type.description.startsWith('ISO 9660')) {
      await this.embedded([...isoEntries(buf, this.limits.maxEntries)], path, depth, type);
    } else if (s === 'ar' || s === 'deb') {
      await this.embedded([...arEntries(buf, this.limits.maxEntries)], path, depth, type);
    } else if (OPAQUE_ARCHIVES.has(s) || s === 'iso') {
      if (this.clamdClean) add({ analyzer: 'archive', code: 'ARCHIVE_CLAMAV_ONLY', score: 0, message: `${type.description}: contents were checked by ClamAV only.` });
      else add({ analyzer: 'archive', code: 'ARCHIVE_NOT_INSPECTED', score: 1, incomplete: true, message: `Could not inspect the contents of this ${type.description} (format not unpacked here).` });
    } else if (s === 'eml') {
      const parts = emailAttachments(buf);
      if (parts.length > 0) add({ analyzer: 'archive', code: 'EMAIL_ATTACHMENTS', score: 0, message: `${parts.length} base64 part(s) decoded and inspected.` });
      await this.embedded(parts, path, depth, type);
    } else if (type.category === 'image') {
      await this.appended(buf, path, depth, type);
    }
  }

  private async zip(buf: Buffer, path: string | undefined, depth: number, type: FileType, want: (e: ZipEntry) => boolean): Promise<void> {
    const add = (r: Reason): void => this.add(r, path);
    const listing = listZip(buf, { maxEntries: this.limits.maxEntries });
    if (listing.overlapping) {
      add({ analyzer: 'archive', code: 'ARCHIVE_OVERLAPPING_ENTRIES', score: 8, incomplete: true, message: 'Entries share or overlap their data (a flat zip bomb); nothing was unpacked.' });
      return;
    }
    if (listing.fromLocalHeaders) add({ analyzer: 'archive', code: 'ARCHIVE_TRUNCATED', score: 1, incomplete: true, message: 'The zip has no usable central directory; entries were recovered from local headers.' });
    else if (listing.truncated) add({ analyzer: 'archive', code: 'ARCHIVE_TRUNCATED', score: 1, incomplete: true, message: 'Not every zip entry could be listed.' });
    const declared = listing.entries.reduce((n, e) => n + e.uncompressedSize, 0);
    if (declared > this.limits.maxTotalUncompressedBytes) {
      add({ analyzer: 'archive', code: 'ARCHIVE_BOMB', score: 6, incomplete: true, message: `Entries declare ${declared} bytes in total, over the ${this.limits.maxTotalUncompressedBytes}-byte limit.` });
    }
    const encrypted: string[] = [];
    const unsupported: string[] = [];
    for (const e of listing.entries) {
      if (this.certain) return;
      if (e.isDirectory || !want(e)) continue;
      if (e.encrypted) {
        encrypted.push(e.name);
        continue;
      }
      if (e.method !== 0 && e.method !== 8) {
        unsupported.push(`${e.name} (method ${e.method})`);
        continue;
      }
      const ratio = e.uncompressedSize / Math.max(1, e.compressedSize);
      if (e.uncompressedSize > this.limits.ratioMinBytes && ratio > this.limits.maxEntryRatio) {
        add({ analyzer: 'archive', code: 'ARCHIVE_BOMB', score: 6, incomplete: true, message: `${e.name} declares ${e.uncompressedSize} bytes from ${e.compressedSize} (ratio ${Math.round(ratio)}:1); not unpacked.` });
        continue;
      }
      if (e.uncompressedSize > this.limits.maxEntryBytes) {
        add({ analyzer: 'archive', code: 'ARCHIVE_ENTRY_TOO_LARGE', score: 1, incomplete: true, message: `${e.name} (${e.uncompressedSize} bytes) is over the per-entry limit; not unpacked.` });
        continue;
      }
      const cap = this.entryCap(e.compressedSize);
      if (cap <= 0) {
        this.addOnce('budget', { analyzer: 'archive', code: 'ARCHIVE_BUDGET', score: 3, incomplete: true, message: `More than ${this.limits.maxTotalUncompressedBytes} bytes unpacked; the rest were not inspected.` }, path);
        return;
      }
      let data: Buffer;
      try {
        data = readZipEntry(buf, e, { maxBytes: cap });
      } catch (err) {
        if (!(err instanceof CairnError)) throw err;
        if (err.code === 'CAIRN_ERR_ARCHIVE_BOMB') {
          add({ analyzer: 'archive', code: 'ARCHIVE_BOMB', score: 6, incomplete: true, message: `${e.name} inflates past ${cap} bytes although it declares ${e.uncompressedSize} (ratio or size limit); stopped.` });
        } else add({ analyzer: 'archive', code: 'ARCHIVE_ENTRY_UNREADABLE', score: 1, incomplete: true, message: `Could not read ${e.name}: ${err.message}` });
        continue;
      }
      if (data.length > e.uncompressedSize + 1024 && e.method === 8) {
        add({ analyzer: 'archive', code: 'ARCHIVE_SIZE_MISMATCH', score: 3, message: `${e.name} inflates to ${data.length} bytes but declares ${e.uncompressedSize}.` });
      }
      await this.embedded([{ name: e.name, bytes: data }], path, depth, type);
    }
    if (encrypted.length > 0) {
      const risky = encrypted.filter((n) => RISKY_NAME.test(n));
      add({ analyzer: 'archive', code: 'ARCHIVE_ENCRYPTED', score: 2, incomplete: true, message: `Could not inspect: encrypted (${encrypted.length} entr${encrypted.length === 1 ? 'y' : 'ies'}${listing.entries.some((e) => e.aes) ? ', AES' : ', ZipCrypto'}).` });
      if (risky.length > 0) add({ analyzer: 'archive', code: 'ARCHIVE_ENCRYPTED_EXECUTABLE', score: 5, message: `Encrypted archive hides executable or script names: ${risky.slice(0, 5).map((n) => printable(n, 60)).join(', ')}.` });
    }
    if (unsupported.length > 0) add({ analyzer: 'archive', code: 'ARCHIVE_METHOD_UNSUPPORTED', score: 1, incomplete: true, message: `Could not inspect: unsupported compression for ${unsupported.slice(0, 5).join(', ')}.` });
  }

  /** Archives, PDFs or executables glued behind an image (polyglots such as JPEG + RAR). */
  private async appended(buf: Buffer, path: string | undefined, depth: number, type: FileType): Promise<void> {
    let best: { at: number; kind: string } | undefined;
    for (const [sig, kind] of APPENDED) {
      const at = buf.indexOf(sig, 16);
      if (at > 0 && (!best || at < best.at)) best = { at, kind };
    }
    const stub = buf.indexOf('This program cannot be run in DOS mode', 16);
    if (stub >= 0x4e && buf[stub - 0x4e] === 0x4d && buf[stub - 0x4d] === 0x5a && (!best || stub - 0x4e < best.at)) best = { at: stub - 0x4e, kind: 'executable' };
    if (!best) return;
    this.add({ analyzer: 'image', code: 'IMAGE_APPENDED_PAYLOAD', score: 3, message: `A ${best.kind} is hidden inside the image at offset ${best.at}.` }, path);
    await this.embedded([{ name: `appended-${best.kind}`, bytes: buf.subarray(best.at) }], path, depth, type);
  }
}

function analyzerOf(type: FileType): AnalyzerName {
  if (type.subtype.startsWith('pe') || type.subtype === 'dos') return 'pe';
  if (type.subtype === 'elf') return 'elf';
  if (type.subtype === 'pdf') return 'pdf';
  if (type.subtype === 'rtf') return 'rtf';
  if (type.category === 'archive') return 'archive';
  if (type.category === 'document' || type.category === 'email') return 'office';
  return 'classify';
}

/**
 * Runs the static stage alone (no lists, no ClamAV; YARA only for children when `scanChild` is
 * given): classification, format analysers and the recursive container walk, within `limits`.
 * Returns reasons; throws only on programming errors.
 *
 * @example (await staticAnalysis(bytes, { name: 'a.zip' })).reasons.map((r) => r.code)
 */
export async function staticAnalysis(bytes: Uint8Array, opts: StaticOptions = {}): Promise<{ type: FileType; reasons: Reason[]; budgetLeftBytes: number }> {
  const buf = asBuffer(bytes);
  const type = opts.type ?? classifyFile(buf, opts.name);
  const walk = new Walk(resolveLimits(opts.limits), opts.scanChild, opts.clamdClean ?? false);
  await walk.node(buf, type, undefined, 0);
  return { type, reasons: walk.reasons, budgetLeftBytes: walk.budget.remaining };
}
