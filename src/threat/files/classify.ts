/**
 * Content-based file classification (R-ATP-1, R-ATP-2): magic bytes and structure decide, the
 * name only breaks ties. Executables are MZ/PE, COFF objects, ELF, Mach-O, Java classes and the
 * exact EICAR test file, plus the seed's extension rule: a name ending `.bin .exe .com .elf .prx
 * .ex .ex_` whose content is not clearly some other type. Everything reads bounded prefixes or
 * bounded structures, so classification costs at most a few milliseconds per file.
 */
import { CairnError } from '../../kernel/errors.ts';
import { asBuffer, cstr, extensionOf, hasAt, within } from './bytes.ts';
import { parseElf, parseMachoHeader } from './elf.ts';
import { openCfb } from './ole.ts';
import { describePe, machineName, parsePe } from './pe.ts';
import type { FileCategory, FileType } from './types.ts';
import { listZip, readZipEntry, type ZipEntry } from './zip.ts';

/** The EICAR test string (68 bytes). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

/** Extensions that make a file an executable when its content is not clearly something else (R-ATP-1). */
export const EXECUTABLE_EXTENSIONS: readonly string[] = ['.bin', '.exe', '.com', '.elf', '.prx', '.ex', '.ex_'];

const SCRIPT_EXTENSIONS: Record<string, [string, string]> = {
  '.js': ['js', 'application/javascript'], '.jse': ['js', 'application/javascript'], '.mjs': ['js', 'application/javascript'],
  '.vbs': ['vbs', 'text/vbscript'], '.vbe': ['vbs', 'text/vbscript'], '.vba': ['vba', 'text/x-vba'], '.bas': ['vba', 'text/x-vba'],
  '.ps1': ['ps1', 'text/x-powershell'], '.psm1': ['ps1', 'text/x-powershell'], '.psd1': ['ps1', 'text/x-powershell'],
  '.bat': ['bat', 'text/x-msdos-batch'], '.cmd': ['bat', 'text/x-msdos-batch'],
  '.sh': ['sh', 'text/x-shellscript'], '.bash': ['sh', 'text/x-shellscript'],
  '.hta': ['hta', 'application/hta'], '.wsf': ['wsf', 'text/xml'], '.py': ['python', 'text/x-script.python'],
};

/**
 * True for the EICAR test file exactly as the EICAR rules define it: the 68-byte string at offset
 * 0, optionally followed only by space, tab, CR, LF or Ctrl-Z, 128 bytes in total at most.
 */
export function isEicar(bytes: Uint8Array): boolean {
  if (bytes.length < 68 || bytes.length > 128 || !hasAt(bytes, 0, EICAR)) return false;
  for (let i = 68; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x1a) return false;
  }
  return true;
}

function ft(mime: string, category: FileCategory, subtype: string, description: string, details: FileType['details'] = {}): FileType {
  return { mime, category, subtype, description, basis: 'content', details };
}

/**
 * Classifies a file by its content. `name` is R-DATA-8 metadata and is used only for the
 * executable-extension rule and to name text scripts that content alone cannot pin down.
 *
 * @example classifyFile(readFileSync('test_overlay_zip.exe')).category // 'executable' (MZ wins over the zip overlay)
 */
export function classifyFile(bytes: Uint8Array, name?: string): FileType {
  const buf = asBuffer(bytes);
  const ext = extensionOf(name);
  const found = byContent(buf, ext);
  if ((found.subtype === 'unknown' || found.subtype === 'text') && EXECUTABLE_EXTENSIONS.includes(ext)) {
    return {
      mime: 'application/octet-stream', category: 'executable', subtype: 'by-name', basis: 'name',
      description: `Executable by name (${ext}); content is not clearly another type`, details: { contentSubtype: found.subtype },
    };
  }
  return found;
}

function byContent(buf: Buffer, ext: string): FileType {
  if (buf.length === 0) return ft('inode/x-empty', 'other', 'empty', 'Empty file');
  if (isEicar(buf)) return ft('application/x-eicar-test-file', 'executable', 'eicar', 'EICAR anti-virus test file');
  return executable(buf) ?? document(buf) ?? archive(buf) ?? image(buf) ?? otherBinary(buf) ?? text(buf, ext);
}

// ---- executables -------------------------------------------------------------------------------

function executable(buf: Buffer): FileType | undefined {
  if (buf.length >= 64 && (hasAt(buf, 0, 'MZ') || hasAt(buf, 0, 'ZM'))) {
    if (hasAt(buf, 0, 'ZM')) return ft('application/x-dosexec', 'executable', 'dos', 'MS-DOS executable (ZM)');
    try {
      const pe = parsePe(buf, { headersOnly: true });
      if (pe.kind === 'dos') return ft('application/x-dosexec', 'executable', 'dos', 'MS-DOS executable');
      return ft('application/vnd.microsoft.portable-executable', 'executable', pe.dll ? 'pe-dll' : 'pe-exe', describePe(pe), {
        bits: pe.bits, dll: pe.dll, dotnet: pe.dotnet, machine: pe.machine, subsystem: pe.subsystem, sections: pe.sections.length,
      });
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      return ft('application/vnd.microsoft.portable-executable', 'executable', 'pe-exe', 'PE executable (malformed headers)', { malformed: true });
    }
  }
  if (hasAt(buf, 0, '\x7fELF')) {
    try {
      const elf = parseElf(buf, { headersOnly: true });
      const mime = elf.type === 'exec' ? 'application/x-executable'
        : elf.type === 'rel' ? 'application/x-object'
          : elf.type === 'core' ? 'application/x-coredump'
            : elf.type === 'dyn' ? (elf.interpreter ? 'application/x-pie-executable' : 'application/x-sharedlib') : 'application/x-elf';
      const kind = { exec: 'executable', rel: 'relocatable object', core: 'core file', dyn: elf.interpreter ? 'pie executable' : 'shared object' }[elf.type] ?? `type ${elf.type}`;
      return ft(mime, 'executable', 'elf', `ELF ${elf.bits}-bit ${elf.endian === 'little' ? 'LSB' : 'MSB'} ${kind}, ${elf.machine}`, {
        bits: elf.bits, machine: elf.machine, elfType: elf.type, stripped: elf.stripped,
      });
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      return ft('application/x-elf', 'executable', 'elf', 'ELF (malformed header)', { malformed: true });
    }
  }
  const macho = parseMachoHeader(buf);
  if (macho) {
    return ft('application/x-mach-binary', 'executable', macho.fat ? 'macho-fat' : 'macho',
      macho.fat ? `Mach-O universal binary with ${macho.cpus.length} architectures: ${macho.cpus.join(', ')}` : `Mach-O ${macho.bits}-bit ${macho.cpus[0]} ${macho.fileType}`,
      { bits: macho.bits, fat: macho.fat, machine: macho.cpus.join(',') });
  }
  if (buf.length >= 10 && buf.readUInt32BE(0) === 0xcafebabe) {
    const major = buf.readUInt16BE(6);
    if (major >= 45 && major < 100) return ft('application/x-java-applet', 'executable', 'java-class', `Java class file, version ${major}`);
  }
  const coff = coffObject(buf);
  if (coff) return ft('application/x-coff', 'executable', 'coff', `COFF object file, ${coff}`, { machine: coff });
  return undefined;
}

/** A Microsoft COFF object (no MZ stub): plausible machine, sections, no optional header. */
function coffObject(buf: Buffer): string | undefined {
  // /bigobj: Sig1 0x0000, Sig2 0xFFFF, version >= 2, then machine and the fixed class id.
  if (buf.length >= 56 && buf.readUInt16LE(0) === 0 && buf.readUInt16LE(2) === 0xffff && buf.readUInt16LE(4) >= 2
    && buf.subarray(12, 28).toString('hex') === 'c7a1bad1eebaa94baf20faf66aa4dcb8') {
    return `${machineName(buf.readUInt16LE(6)) ?? 'unknown machine'} (bigobj)`;
  }
  if (buf.length < 60) return undefined;
  const machine = machineName(buf.readUInt16LE(0));
  const nSections = buf.readUInt16LE(2);
  const symPtr = buf.readUInt32LE(8);
  const nSyms = buf.readUInt32LE(12);
  if (!machine || nSections === 0 || nSections > 96 || buf.readUInt16LE(16) !== 0) return undefined;
  if (symPtr !== 0 && (symPtr < 20 || !within(buf, symPtr, nSyms * 18))) return undefined;
  if (!within(buf, 20, nSections * 40)) return undefined;
  for (let i = 0; i < nSections; i++) {
    const at = 20 + i * 40;
    const name = buf.subarray(at, at + 8);
    let ended = false;
    for (const c of name) {
      if (c === 0) ended = true;
      else if (ended || c < 0x20 || c > 0x7e) return undefined;
    }
    if (name[0] === 0) return undefined;
    const rawSize = buf.readUInt32LE(at + 16);
    const rawPtr = buf.readUInt32LE(at + 20);
    if (rawSize > 0 && !within(buf, rawPtr, rawSize)) return undefined;
  }
  return machine;
}

// ---- documents ---------------------------------------------------------------------------------

const OOXML: Record<string, [string, string]> = {
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml': ['docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  'application/vnd.ms-word.document.macroEnabled.main+xml': ['docm', 'application/vnd.ms-word.document.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml': ['dotx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.template'],
  'application/vnd.ms-word.template.macroEnabledTemplate.main+xml': ['dotm', 'application/vnd.ms-word.template.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml': ['xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  'application/vnd.ms-excel.sheet.macroEnabled.main+xml': ['xlsm', 'application/vnd.ms-excel.sheet.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml': ['xltx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.template'],
  'application/vnd.ms-excel.template.macroEnabled.main+xml': ['xltm', 'application/vnd.ms-excel.template.macroEnabled.12'],
  'application/vnd.ms-excel.sheet.binary.macroEnabled.main': ['xlsb', 'application/vnd.ms-excel.sheet.binary.macroEnabled.12'],
  'application/vnd.ms-excel.addin.macroEnabled.main+xml': ['xlam', 'application/vnd.ms-excel.addin.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml': ['pptx', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
  'application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml': ['pptm', 'application/vnd.ms-powerpoint.presentation.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml': ['ppsx', 'application/vnd.openxmlformats-officedocument.presentationml.slideshow'],
  'application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml': ['ppsm', 'application/vnd.ms-powerpoint.slideshow.macroEnabled.12'],
  'application/vnd.openxmlformats-officedocument.presentationml.template.main+xml': ['potx', 'application/vnd.openxmlformats-officedocument.presentationml.template'],
  'application/vnd.ms-visio.drawing.main+xml': ['vsdx', 'application/vnd.ms-visio.drawing'],
};

const ONENOTE_GUID = Buffer.from('e4525c7b8cd8a74daeb15378d02996d3', 'hex');
const ONETOC_GUID = Buffer.from('a12fff43d9ef764c9ee210ea5722765f', 'hex');
const MSI_CLSIDS = new Set(['000C1084-0000-0000-C000-000000000046', '000C1086-0000-0000-C000-000000000046', '000C1082-0000-0000-C000-000000000046']);

function document(buf: Buffer): FileType | undefined {
  if (hasAt(buf, 0, Buffer.from('d0cf11e0a1b11ae1', 'hex'))) return ole(buf);
  if (hasAt(buf, 0, 'PK\x03\x04') || hasAt(buf, 0, 'PK\x05\x06') || hasAt(buf, 0, 'PK\x07\x08')) return zipFamily(buf);
  const pdfAt = buf.subarray(0, 1024).indexOf('%PDF-');
  if (pdfAt >= 0) {
    const version = /^%PDF-(\d\.\d)/.exec(buf.toString('latin1', pdfAt, pdfAt + 8))?.[1] ?? '?';
    return ft('application/pdf', 'document', 'pdf', `PDF document, version ${version}`, { version, ...(pdfAt > 0 ? { headerOffset: pdfAt } : {}) });
  }
  if (hasAt(buf, 0, '{\\rt')) return ft('text/rtf', 'document', 'rtf', 'Rich Text Format document');
  if (hasAt(buf, 0, ONENOTE_GUID)) return ft('application/onenote', 'document', 'onenote', 'Microsoft OneNote section');
  if (hasAt(buf, 0, ONETOC_GUID)) return ft('application/onenote', 'document', 'onenote-toc', 'Microsoft OneNote table of contents');
  return undefined;
}

function ole(buf: Buffer): FileType {
  try {
    const cfb = openCfb(buf);
    const macros = cfb.entries.some((e) => /(^|\/)VBA\/dir$/i.test(e.path));
    const d = { macros };
    if (cfb.has('EncryptedPackage') && cfb.has('EncryptionInfo')) {
      return ft('application/encrypted', 'document', 'ooxml-encrypted', 'Password-encrypted Office Open XML document (CDFV2 Encrypted)', { encrypted: true });
    }
    if (MSI_CLSIDS.has(cfb.rootClsid)) return ft('application/x-msi', 'document', 'msi', 'Windows Installer package (MSI)', d);
    if (cfb.has('WordDocument')) return ft('application/msword', 'document', 'doc', 'Microsoft Word 97-2003 document', d);
    if (cfb.has('Workbook') || cfb.has('Book')) return ft('application/vnd.ms-excel', 'document', 'xls', 'Microsoft Excel 97-2003 workbook', d);
    if (cfb.has('PowerPoint Document')) return ft('application/vnd.ms-powerpoint', 'document', 'ppt', 'Microsoft PowerPoint 97-2003 presentation', d);
    if (cfb.has('__properties_version1.0') || cfb.entries.some((e) => e.name.startsWith('__substg1.0_'))) {
      return ft('application/vnd.ms-outlook', 'email', 'msg', 'Microsoft Outlook message');
    }
    if (cfb.has('VisioDocument')) return ft('application/vnd.visio', 'document', 'vsd', 'Microsoft Visio drawing', d);
    return ft('application/x-ole-storage', 'document', 'ole', 'OLE2 compound document', d);
  } catch (e) {
    if (!(e instanceof CairnError)) throw e;
    return ft('application/x-ole-storage', 'document', 'ole', 'OLE2 compound document (malformed)', { malformed: true });
  }
}

function readSmall(buf: Buffer, entry: ZipEntry): string | undefined {
  if (entry.encrypted || entry.uncompressedSize > 1 << 20) return undefined;
  try {
    return readZipEntry(buf, entry, { maxBytes: 1 << 20 }).toString('utf8');
  } catch (e) {
    if (!(e instanceof CairnError)) throw e;
    return undefined;
  }
}

function zipFamily(buf: Buffer): FileType {
  let entries: ZipEntry[];
  try {
    entries = listZip(buf, { maxEntries: 10_000 }).entries;
  } catch (e) {
    if (!(e instanceof CairnError)) throw e;
    return ft('application/zip', 'archive', 'zip', 'Zip archive (malformed)', { malformed: true });
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const encrypted = entries.some((e) => e.encrypted);
  const macros = entries.some((e) => /(^|\/)vbaProject\.bin$/i.test(e.name));
  const ct = byName.get('[Content_Types].xml');
  if (ct) {
    const xml = readSmall(buf, ct) ?? '';
    for (const m of xml.matchAll(/ContentType="([^"]+)"/g)) {
      const hit = OOXML[m[1] as string];
      if (hit) return ft(hit[1], 'document', hit[0], `Office Open XML document (${hit[0]})`, { macros });
    }
    const guess = byName.has('word/document.xml') ? 'docx' : byName.has('xl/workbook.xml') ? 'xlsx' : byName.has('ppt/presentation.xml') ? 'pptx' : undefined;
    if (guess) return ft('application/vnd.openxmlformats-officedocument', 'document', guess, `Office Open XML document (${guess}, by part names)`, { macros });
    if (byName.has('FixedDocumentSequence.fdseq') || [...byName.keys()].some((n) => n.endsWith('.fdseq'))) return ft('application/vnd.ms-xpsdocument', 'document', 'xps', 'XPS document');
    return ft('application/vnd.openxmlformats-package', 'document', 'opc', 'Open Packaging Conventions container', { macros });
  }
  const mt = byName.get('mimetype');
  if (mt && mt.method === 0) {
    const m = (readSmall(buf, mt) ?? '').trim();
    if (m.startsWith('application/vnd.oasis.opendocument.')) return ft(m, 'document', `odf-${m.split('.').pop()}`, `OpenDocument (${m.split('.').pop()})`);
    if (m === 'application/epub+zip') return ft(m, 'document', 'epub', 'EPUB e-book');
  }
  if (byName.has('AndroidManifest.xml') && byName.has('classes.dex')) return ft('application/vnd.android.package-archive', 'archive', 'apk', 'Android package');
  if (byName.has('META-INF/MANIFEST.MF')) return ft('application/java-archive', 'archive', 'jar', 'Java archive', { encrypted });
  return ft('application/zip', 'archive', 'zip', `Zip archive, ${entries.length} entries${encrypted ? ', encrypted' : ''}`, { entries: entries.length, encrypted });
}

// ---- archives ----------------------------------------------------------------------------------

function archive(buf: Buffer): FileType | undefined {
  const a = (mime: string, subtype: string, description: string, details: FileType['details'] = {}): FileType => ft(mime, 'archive', subtype, description, details);
  if (hasAt(buf, 0, Buffer.from('377abcaf271c', 'hex'))) return a('application/x-7z-compressed', '7z', '7-Zip archive');
  if (hasAt(buf, 0, 'Rar!\x1a\x07\x01\x00')) return a('application/x-rar', 'rar', 'RAR archive, v5');
  if (hasAt(buf, 0, 'Rar!\x1a\x07\x00')) return a('application/x-rar', 'rar', 'RAR archive, v4');
  if (hasAt(buf, 0, '\x1f\x8b\x08')) return a('application/gzip', 'gzip', 'gzip compressed data');
  if (hasAt(buf, 0, 'BZh') && buf.length >= 10 && buf[3]! >= 0x31 && buf[3]! <= 0x39
    && (hasAt(buf, 4, Buffer.from('314159265359', 'hex')) || hasAt(buf, 4, Buffer.from('177245385090', 'hex')))) {
    return a('application/x-bzip2', 'bzip2', 'bzip2 compressed data');
  }
  if (hasAt(buf, 0, Buffer.from('fd377a585a00', 'hex'))) return a('application/x-xz', 'xz', 'XZ compressed data');
  if (hasAt(buf, 0, Buffer.from('28b52ffd', 'hex'))) return a('application/zstd', 'zstd', 'Zstandard compressed data');
  if (hasAt(buf, 0, 'MSCF\0\0\0\0')) {
    return cabIsOneNotePackage(buf)
      ? ft('application/msonenote', 'document', 'onepkg', 'OneNote package (cabinet)')
      : a('application/vnd.ms-cab-compressed', 'cab', 'Microsoft Cabinet archive');
  }
  if (hasAt(buf, 0, 'xar!')) return a('application/x-xar', 'xar', 'xar archive');
  if (hasAt(buf, 0, '!<arch>\n')) {
    return hasAt(buf, 8, 'debian-binary')
      ? a('application/vnd.debian.binary-package', 'deb', 'Debian binary package')
      : a('application/x-archive', 'ar', 'ar archive (static library)');
  }
  if (hasAt(buf, 0, '070707') || hasAt(buf, 0, '070701') || hasAt(buf, 0, '070702')
    || (buf.length >= 26 && (buf.readUInt16LE(0) === 0x71c7 || buf.readUInt16BE(0) === 0x71c7))) {
    return a('application/x-cpio', 'cpio', 'cpio archive');
  }
  if (isTar(buf)) return a('application/x-tar', 'tar', hasAt(buf, 257, 'ustar') ? 'POSIX tar archive' : 'tar archive (v7)');
  for (const off of [0x8001, 0x8801, 0x9001]) {
    if (hasAt(buf, off, 'CD001')) return a('application/x-iso9660-image', 'iso', 'ISO 9660 CD-ROM filesystem image');
    if (hasAt(buf, off, 'BEA01')) return a('application/x-iso9660-image', 'iso', 'UDF filesystem image');
  }
  if (hasAt(buf, 0, 'vhdxfile')) return a('application/x-vhdx', 'vhdx', 'Hyper-V virtual disk (VHDX)');
  if (hasAt(buf, 0, 'conectix') || (buf.length >= 512 && hasAt(buf, buf.length - 512, 'conectix'))) return a('application/x-vhd', 'vhd', 'Virtual PC disk image (VHD)');
  if (buf.length >= 512 && hasAt(buf, buf.length - 512, 'koly')) return a('application/x-apple-diskimage', 'dmg', 'Apple disk image (DMG)');
  return undefined;
}

/** True when the first tar header's checksum is right (covers v7 archives without `ustar`). */
export function isTar(buf: Buffer): boolean {
  if (buf.length < 512) return false;
  if (hasAt(buf, 257, 'ustar')) return true;
  if (buf[0] === 0) return false;
  const field = buf.toString('latin1', 148, 156).replace(/\0.*$/, '').trim();
  if (!/^[0-7]{1,7}$/.test(field)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (buf[i] as number);
  return sum === parseInt(field, 8);
}

function cabIsOneNotePackage(buf: Buffer): boolean {
  if (buf.length < 36) return false;
  let p = buf.readUInt32LE(16);
  const n = Math.min(buf.readUInt16LE(28), 64);
  let one = 0;
  for (let i = 0; i < n && within(buf, p, 16); i++) {
    const name = cstr(buf, p + 16, 256);
    if (/\.(one|onetoc2)$/i.test(name)) one++;
    p += 16 + name.length + 1;
  }
  return one > 0;
}

// ---- images and other binary -------------------------------------------------------------------

function image(buf: Buffer): FileType | undefined {
  const i = (mime: string, subtype: string, description: string): FileType => ft(mime, 'image', subtype, description);
  if (hasAt(buf, 0, Buffer.from('ffd8ff', 'hex'))) return i('image/jpeg', 'jpeg', 'JPEG image');
  if (hasAt(buf, 0, Buffer.from('89504e470d0a1a0a', 'hex'))) return i('image/png', 'png', 'PNG image');
  if (hasAt(buf, 0, 'GIF87a') || hasAt(buf, 0, 'GIF89a')) return i('image/gif', 'gif', 'GIF image');
  if (hasAt(buf, 0, 'II*\0') || hasAt(buf, 0, 'MM\0*')) return i('image/tiff', 'tiff', 'TIFF image');
  if (hasAt(buf, 0, 'RIFF') && hasAt(buf, 8, 'WEBP')) return i('image/webp', 'webp', 'WebP image');
  if (hasAt(buf, 0, 'BM') && buf.length >= 26 && buf.readUInt32LE(6) === 0 && [12, 40, 52, 56, 64, 108, 124].includes(buf.readUInt32LE(14))) {
    return i('image/bmp', 'bmp', 'BMP image');
  }
  if (buf.length >= 22 && buf.readUInt32BE(0) === 0x00000100 && buf.readUInt16LE(4) > 0 && buf.readUInt16LE(4) < 64 && buf[9] === 0) {
    return i('image/vnd.microsoft.icon', 'ico', 'Windows icon');
  }
  if (hasAt(buf, 4, 'ftypheic') || hasAt(buf, 4, 'ftypheix') || hasAt(buf, 4, 'ftypmif1')) return i('image/heic', 'heic', 'HEIF image');
  return undefined;
}

const LNK_HEADER = Buffer.from('4c0000000114020000000000c000000000000046', 'hex');

function otherBinary(buf: Buffer): FileType | undefined {
  if (hasAt(buf, 0, LNK_HEADER)) return ft('application/x-ms-shortcut', 'other', 'lnk', 'Windows shortcut (LNK)');
  if (hasAt(buf, 0, '\0asm')) return ft('application/wasm', 'other', 'wasm', 'WebAssembly module');
  if (hasAt(buf, 0, 'SQLite format 3\0')) return ft('application/vnd.sqlite3', 'other', 'sqlite', 'SQLite database');
  // DER: SEQUENCE (long form length) whose length covers the file, holding another SEQUENCE.
  if (buf.length >= 8 && buf[0] === 0x30 && buf[1] === 0x82 && buf[4] === 0x30 && (buf[5] === 0x82 || buf[5] === 0x81)) {
    const len = buf.readUInt16BE(2) + 4;
    if (len <= buf.length && len >= buf.length - 2) return ft('application/pkix-cert', 'other', 'x509-der', 'DER-encoded X.509 certificate or ASN.1 structure');
  }
  return undefined;
}

// ---- text --------------------------------------------------------------------------------------

const TEXT_SAMPLE = 64 * 1024;

/** Decodes a text sample, or undefined when the bytes do not look like text. */
function textSample(buf: Buffer): string | undefined {
  const head = buf.subarray(0, TEXT_SAMPLE);
  if (hasAt(head, 0, '\xff\xfe') || hasAt(head, 0, '\xfe\xff')) {
    const le = head[0] === 0xff;
    const body = head.subarray(2, 2 + ((head.length - 2) & ~1));
    const s = le ? body.toString('utf16le') : Buffer.from(body).swap16().toString('utf16le');
    return /[\u0000-\u0008\u000e-\u001a\u001c-\u001f]/.test(s) ? undefined : s;
  }
  let control = 0;
  for (const c of head) {
    if (c === 0) return undefined;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x0c && c !== 0x1b) control++;
  }
  if (control > head.length / 100) return undefined;
  const s = head.toString('utf8');
  return s.startsWith('\ufeff') ? s.slice(1) : s;
}

function text(buf: Buffer, ext: string): FileType {
  const s = textSample(buf);
  if (s === undefined) return ft('application/octet-stream', 'other', 'unknown', 'Binary data of unknown type');
  const lead = s.trimStart();
  const t = (mime: string, category: FileCategory, subtype: string, description: string): FileType => ft(mime, category, subtype, description);
  if (/^WEB\r?\n\d\r?\n(https?|ftp):\/\//i.test(s)) return t('text/plain', 'document', 'iqy', 'Excel web query (IQY)');
  if (isEmail(s)) return t('message/rfc822', 'email', 'eml', 'E-mail message (RFC 822)');
  if (lead.startsWith('-----BEGIN ')) {
    const what = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(lead)?.[1] ?? 'PEM';
    return t('text/plain', 'other', 'pem', `PEM ${what.toLowerCase()}`);
  }
  if ((lead.startsWith('{') || lead.startsWith('[')) && looksJson(buf, s)) return t('application/json', 'other', 'json', 'JSON text');
  const markup = markupType(lead, s);
  if (markup) return markup;
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(s);
  if (shebang) {
    const prog = (shebang[1]!.endsWith('/env') ? shebang[2] ?? '' : shebang[1]!).replace(/^.*\//, '');
    if (/^(ba|da|k|z|c|tc|fi)?sh$/.test(prog)) return t('text/x-shellscript', 'script', 'sh', `${prog} script`);
    if (/^python[\d.]*$/.test(prog)) return t('text/x-script.python', 'script', 'python', 'Python script');
    if (/^perl/.test(prog)) return t('text/x-perl', 'script', 'perl', 'Perl script');
    if (/^(node|nodejs|deno|bun)$/.test(prog)) return t('application/javascript', 'script', 'js', 'JavaScript (Node) script');
    if (/^ruby/.test(prog)) return t('text/x-ruby', 'script', 'ruby', 'Ruby script');
    if (/^pwsh|^powershell/i.test(prog)) return t('text/x-powershell', 'script', 'ps1', 'PowerShell script');
    return t('text/x-script', 'script', 'script', `Script for ${prog}`);
  }
  if (/^(@\s*echo\s+off|@?rem\s|::)/im.test(lead.slice(0, 200)) && /^\s*(@?echo\b|set\s|goto\s|if\s|call\s|rem\s|::|start\s|exit\b)/im.test(s)) {
    return t('text/x-msdos-batch', 'script', 'bat', 'DOS/Windows batch file');
  }
  const lang = scriptLanguage(s, ext);
  if (lang) return lang;
  const byExt = SCRIPT_EXTENSIONS[ext];
  if (byExt) return { ...t(byExt[1], 'script', byExt[0], `Script by name (${ext}); content is plain text`), basis: 'name' };
  return t('text/plain', 'other', 'text', 'Plain text');
}

function looksJson(buf: Buffer, sample: string): boolean {
  if (buf.length > 1 << 20) return /^[[{]\s*("|\[|\{|\]|\}|\d|-|true|false|null)/.test(sample.trimStart());
  try {
    JSON.parse(buf.toString('utf8').replace(/^\ufeff/, ''));
    return true;
  } catch {
    return false;
  }
}

const MAIL_HEADERS = /^(from|to|subject|date|received|message-id|mime-version|return-path|delivered-to|reply-to|cc|x-[\w-]+|content-type|dkim-signature|authentication-results|arc-[\w-]+|thread-\w+|in-reply-to|references|sender|x-mailer)$/i;

/** RFC 5322 header block at the very start (after an optional mbox `From ` line). */
function isEmail(s: string): boolean {
  const lines = s.slice(0, 32 * 1024).split(/\r?\n/);
  let i = lines[0]?.startsWith('From ') ? 1 : 0;
  let headers = 0;
  let known = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') break;
    if (/^[ \t]/.test(line) && headers > 0) continue;
    const m = /^([!-9;-~]+):/.exec(line);
    if (!m) return false;
    headers++;
    if (MAIL_HEADERS.test(m[1] as string)) known++;
  }
  return headers >= 3 && known >= 2 && /^(from|received|return-path|delivered-to|message-id):/im.test(s.slice(0, 32 * 1024));
}

function markupType(lead: string, s: string): FileType | undefined {
  const t = (mime: string, category: FileCategory, subtype: string, description: string): FileType => ft(mime, category, subtype, description);
  const head = lead.slice(0, 4096);
  if (/<hta:application\b/i.test(s)) return t('application/hta', 'script', 'hta', 'HTML application (HTA)');
  const xml = head.startsWith('<?xml');
  const root = rootElement(head);
  const html = root === 'html' || /^<!doctype\s+html/i.test(head) || (!xml && /^<(head|body|script|iframe|div|meta|title)\b/i.test(head));
  if (html) {
    return /<script\b/i.test(s) ? t('text/html', 'script', 'html', 'HTML document with script') : t('text/html', 'other', 'html', 'HTML document');
  }
  if (!xml && !root) return undefined;
  if (!root) return t('text/xml', 'other', 'xml', 'XML document');
  if (root === 'svg') return t('image/svg+xml', 'image', 'svg', /<script\b/i.test(s) ? 'SVG image with script' : 'SVG image');
  if (root === 'plist') return t('text/xml', 'other', 'plist', 'Apple property list (XML)');
  if (root === 'jnlp') return t('text/xml', 'other', 'jnlp', 'Java Web Start launch file (JNLP)');
  if ((root === 'job' || root === 'package') && /<script\b[^>]*language\s*=/i.test(s)) return t('text/xml', 'script', 'wsf', 'Windows Script File');
  if (/^(asmv1:)?assembly$/.test(root) && /urn:schemas-microsoft-com:asm\.v/i.test(head)) return t('text/xml', 'other', 'clickonce-manifest', 'ClickOnce / VSTO deployment manifest');
  if (!xml && !/^<[A-Za-z_][\w:.-]*(\s+[\w:.-]+\s*=\s*("[^"]*"|'[^']*'))*\s*\/?>/.test(head)) return undefined;
  return t('text/xml', 'other', 'xml', 'XML document');
}

/** Name of the first element after the XML prolog (declarations, comments, DOCTYPE), lower-cased. */
function rootElement(head: string): string | undefined {
  let i = 0;
  for (let guard = 0; guard < 256; guard++) {
    while (i < head.length && /\s/.test(head[i] as string)) i++;
    const close = head.startsWith('<?', i) ? '?>' : head.startsWith('<!--', i) ? '-->' : head.startsWith('<!', i) ? '>' : undefined;
    if (!close) break;
    const end = head.indexOf(close, i + 2);
    if (end < 0) return undefined;
    i = end + close.length;
  }
  return /^<([A-Za-z_][\w:.-]*)/.exec(head.slice(i, i + 256))?.[1]?.toLowerCase();
}

/** Scores script-language tokens; a language needs several distinct tokens to win. */
function scriptLanguage(s: string, ext: string): FileType | undefined {
  const count = (res: RegExp[]): number => res.reduce((n, re) => n + (re.test(s) ? 1 : 0), 0);
  const vb = count([
    /^\s*(Private\s+|Public\s+)?(Sub|Function)\s+\w+\s*\(/im, /^\s*End\s+(Sub|Function)\b/im, /^\s*Dim\s+\w+/im, /^\s*Option\s+Explicit\b/im,
    /\bCreateObject\s*\(/i, /\bWScript\.\w+/, /\bMsgBox\b/, /^\s*Set\s+\w+\s*=/im, /^Attribute VB_/m,
  ]);
  const ps = count([
    /\$[A-Za-z_]\w*\s*=\s*/, /\b(Get|Set|New|Invoke|Start|Write|Add|Remove|Out|Test|Import)-[A-Z][A-Za-z]+\b/, /\bparam\s*\(/i,
    /\[(System\.)?[A-Z][\w.]+\]::/, /-EncodedCommand\b|-enc\s+[A-Za-z0-9+/=]{16,}/i, /\|\s*(ForEach-Object|Where-Object|Select-Object|Out-Null)\b/,
  ]);
  const js = count([
    /\bfunction\b\s*[\w$]*\s*\([^)]*\)\s*\{/, /\b(var|let|const)\s+[\w$]+\s*=/, /=>\s*[{(\w]/, /\brequire\s*\(\s*['"]/, /\bmodule\.exports\b|\bexport\s+(default|function|const)\b/,
    /\bdocument\.(write|getElementById|createElement|body)\b/, /\bwindow\.\w+/, /\bnew\s+ActiveXObject\s*\(/, /\bconsole\.log\s*\(/, /\bString\.fromCharCode\s*\(/,
  ]);
  const best = Math.max(vb, ps, js);
  if (best < 2) return undefined;
  const t = (mime: string, subtype: string, description: string): FileType => ft(mime, 'script', subtype, description);
  if (vb === best) {
    const vba = ext === '.vba' || ext === '.bas' || ext === '.cls' || /^Attribute VB_|\b(Auto_?Open|Document_Open|Workbook_Open|AutoExec|ThisDocument|ActiveDocument|ThisWorkbook)\b/im.test(s);
    return vba ? t('text/x-vba', 'vba', 'Visual Basic for Applications source') : t('text/vbscript', 'vbs', 'VBScript');
  }
  if (ps === best) return t('text/x-powershell', 'ps1', 'PowerShell script');
  return js >= 3 || ['.js', '.jse', '.mjs'].includes(ext) ? t('application/javascript', 'js', 'JavaScript source') : undefined;
}
