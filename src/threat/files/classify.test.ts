/** Tests for content-based classification: the shared corpus against its manifest, the seed's extension rule, EICAR exactness and look-alike formats. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { classifyFile, EICAR, isEicar } from './classify.ts';
import { buildPe32Dll, buildZip } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const haveCorpus = existsSync(`${DIR}manifest.json`);

interface ManifestEntry { name: string; size: number; sha256: string; mime_libmagic: string; description_libmagic: string }

/** What each corpus file is by content (category/subtype), decided from the manifest's descriptions. */
const EXPECTED: Record<string, [string, string]> = {
  'test.exe': ['executable', 'pe-exe'], 'test_upx.exe': ['executable', 'pe-exe'], 'test_xor.exe': ['executable', 'pe-exe'],
  'test_overlay_zip.exe': ['executable', 'pe-exe'], 'test.elf': ['executable', 'elf'], 'test.macho': ['executable', 'macho'],
  'test.pdf': ['document', 'pdf'], 'test.doc': ['document', 'doc'], 'test_classic.doc': ['document', 'doc'],
  'test.docx': ['document', 'docx'], 'test.xls': ['document', 'xls'], 'test_password.docx': ['document', 'ooxml-encrypted'],
  'test.msi': ['document', 'msi'], 'test.one': ['document', 'onenote'], 'test.onepkg': ['document', 'onepkg'],
  'test_pe_object.doc': ['document', 'doc'], 'test.zip': ['archive', 'zip'], 'test_aes256_password.zip': ['archive', 'zip'],
  'test.rar': ['archive', 'rar'], 'test.7z': ['archive', '7z'], 'test.tar': ['archive', 'tar'], 'test.gz': ['archive', 'gzip'],
  'test.bz2': ['archive', 'bzip2'], 'test.xz': ['archive', 'xz'], 'test.cpio': ['archive', 'cpio'], 'test.deb': ['archive', 'deb'],
  'test.xar': ['archive', 'xar'], 'test.iso': ['archive', 'iso'], 'test_lzx.cab': ['archive', 'cab'], 'test_zip.cab': ['archive', 'cab'],
  'test.eml': ['email', 'eml'], 'test_broken.eml': ['other', 'text'], 'test.lnk': ['other', 'lnk'], 'test.url': ['other', 'text'],
  'test.iqy': ['document', 'iqy'], 'test.jnlp': ['other', 'jnlp'], 'test.der': ['other', 'x509-der'], 'test.pem': ['other', 'pem'],
  'test.empty': ['other', 'empty'], 'test_embed_rar.jpg': ['image', 'jpeg'], 'test_pe.b64': ['other', 'text'], 'test.gif': ['image', 'gif'],
  'test.vba': ['script', 'vba'], 'test.bat': ['script', 'bat'], 'test.js': ['script', 'js'], 'test.html': ['script', 'html'],
  'test.plist': ['other', 'plist'], 'test.json': ['other', 'json'], 'test.xml': ['other', 'xml'], 'test.txt': ['other', 'text'],
  'test.ini': ['other', 'text'], 'test.yara': ['other', 'text'], 'test.vsto': ['other', 'clickonce-manifest'],
};

/** Where our MIME type deliberately differs from libmagic's, and why. */
const MIME_EXCEPTIONS: Record<string, string> = {
  'test_overlay_zip.exe': 'MZ at offset 0 wins; libmagic reports the appended zip',
  'test.one': 'libmagic 5.44 has no OneNote section magic',
  'test.der': 'a DER certificate; libmagic says data',
  'test.vba': 'VBA source recognised by its tokens; libmagic says text',
};

test('classifies every corpus file by content as the manifest describes it', { skip: !haveCorpus && 'shared corpus not present' }, () => {
  const manifest = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')) as ManifestEntry[];
  assert.equal(manifest.length, 53);
  let mimeMatches = 0;
  for (const f of manifest) {
    const bytes = readFileSync(DIR + f.name);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, `${f.name} changed on disk`);
    const t = classifyFile(bytes, f.name);
    const want = EXPECTED[f.name];
    assert.ok(want, `no expectation for ${f.name}`);
    assert.deepEqual([t.category, t.subtype], want, `${f.name}: got ${t.category}/${t.subtype} (${t.description})`);
    assert.equal(t.basis, 'content', f.name);
    if (t.mime === f.mime_libmagic) mimeMatches++;
    else assert.ok(MIME_EXCEPTIONS[f.name], `${f.name}: mime ${t.mime} vs libmagic ${f.mime_libmagic}`);
  }
  assert.equal(mimeMatches, 53 - Object.keys(MIME_EXCEPTIONS).length);
});

test('classification does not trust the name: a PE named .txt is an executable, a zip named .exe is a zip', { skip: !haveCorpus && 'no corpus' }, () => {
  assert.equal(classifyFile(readFileSync(`${DIR}test.exe`), 'notes.txt').category, 'executable');
  const zipAsExe = classifyFile(readFileSync(`${DIR}test.zip`), 'setup.exe');
  assert.deepEqual([zipAsExe.category, zipAsExe.subtype, zipAsExe.basis], ['archive', 'zip', 'content']);
});

test('distinguishes PE facts: .NET, 64-bit EXE versus 32-bit DLL', { skip: !haveCorpus && 'no corpus' }, () => {
  const net = classifyFile(readFileSync(`${DIR}test.exe`));
  assert.deepEqual([net.details.dotnet, net.details.bits, net.details.dll], [true, 64, false]);
  const dll = classifyFile(buildPe32Dll());
  assert.deepEqual([dll.subtype, dll.details.bits, dll.details.dll, dll.details.machine], ['pe-dll', 32, true, 'x86']);
});

test('applies the seed extension rule only when the content is not clearly another type', () => {
  const blob = Buffer.from([0xb4, 0x09, 0xba, 0x0c, 0x01, 0xcd, 0x21, 0xcd, 0x20, 0x00, 0x01]); // a DOS .COM program has no header
  for (const ext of ['.bin', '.exe', '.com', '.elf', '.prx', '.ex', '.ex_']) {
    const t = classifyFile(blob, `x${ext}`);
    assert.deepEqual([t.category, t.basis], ['executable', 'name'], ext);
  }
  assert.equal(classifyFile(blob, 'x.dat').category, 'other');
  assert.equal(classifyFile(Buffer.from('just some words'), 'readme.exe').category, 'executable');
  assert.equal(classifyFile(Buffer.from('{"a":1}'), 'data.bin').subtype, 'json');
  assert.equal(classifyFile(Buffer.from('%PDF-1.7\n1 0 obj\n'), 'scan.exe').subtype, 'pdf');
  assert.equal(classifyFile(Buffer.alloc(0), 'empty.exe').subtype, 'empty');
});

test('recognises the EICAR file exactly: trailing whitespace up to 128 bytes only', () => {
  assert.equal(EICAR.length, 68);
  assert.ok(isEicar(Buffer.from(EICAR)));
  assert.ok(isEicar(Buffer.from(`${EICAR}\r\n`)));
  assert.ok(isEicar(Buffer.from(EICAR + ' \t\x1a'.repeat(20))));
  assert.ok(!isEicar(Buffer.from(`${EICAR}x`)), 'other characters after the string');
  assert.ok(!isEicar(Buffer.from(EICAR + ' '.repeat(61))), 'longer than 128 bytes');
  assert.ok(!isEicar(Buffer.from(` ${EICAR}`)), 'not at offset 0');
  const t = classifyFile(Buffer.from(`${EICAR}\n`));
  assert.deepEqual([t.category, t.subtype], ['executable', 'eicar']);
});

test('tells a fat Mach-O from a Java class file (both start CAFEBABE)', () => {
  const fat = Buffer.alloc(64);
  fat.writeUInt32BE(0xcafebabe, 0);
  fat.writeUInt32BE(2, 4);
  fat.writeUInt32BE(0x01000007, 8);
  fat.writeUInt32BE(0x0100000c, 28);
  const t = classifyFile(fat);
  assert.deepEqual([t.subtype, t.details.machine], ['macho-fat', 'x86_64,arm64']);
  const cls = Buffer.alloc(64);
  cls.writeUInt32BE(0xcafebabe, 0);
  cls.writeUInt16BE(0, 4);
  cls.writeUInt16BE(61, 6);
  assert.equal(classifyFile(cls).subtype, 'java-class');
});

test('recognises a COFF object without an MZ stub and rejects look-alikes', () => {
  const obj = Buffer.alloc(200);
  obj.writeUInt16LE(0x8664, 0);
  obj.writeUInt16LE(1, 2);
  obj.writeUInt32LE(100, 8); // symbol table
  obj.writeUInt32LE(2, 12);
  obj.write('.text', 20, 'latin1');
  obj.writeUInt32LE(16, 20 + 16);
  obj.writeUInt32LE(60, 20 + 20);
  const t = classifyFile(obj);
  assert.deepEqual([t.category, t.subtype, t.details.machine], ['executable', 'coff', 'x86-64']);
  obj.write('\x01bad', 20, 'latin1');
  assert.notEqual(classifyFile(obj).subtype, 'coff');
});

test('reads OOXML content types to tell docx, xlsm and pptx apart', () => {
  const ct = (main: string): Buffer => buildZip([
    { name: '[Content_Types].xml', data: Buffer.from(`<Types><Override PartName="/x" ContentType="${main}"/></Types>`) },
    { name: 'x', data: Buffer.from('<x/>') },
  ]);
  assert.equal(classifyFile(ct('application/vnd.ms-excel.sheet.macroEnabled.main+xml')).subtype, 'xlsm');
  assert.equal(classifyFile(ct('application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml')).subtype, 'pptx');
  assert.equal(classifyFile(buildZip([{ name: 'META-INF/MANIFEST.MF', data: Buffer.from('Manifest-Version: 1.0\n') }])).subtype, 'jar');
});

test('classifies scripts by content: shebang, batch, PowerShell, HTML with script, HTA', () => {
  const c = (s: string, name?: string): string => classifyFile(Buffer.from(s), name).subtype;
  assert.equal(c('#!/usr/bin/env bash\necho hi\n'), 'sh');
  assert.equal(c('@echo off\r\nset X=1\r\ngoto end\r\n'), 'bat');
  assert.equal(c('$url = "http://x"\nInvoke-WebRequest -Uri $url | Out-Null\n'), 'ps1');
  assert.equal(c('<html><body><script>alert(1)</script></body></html>'), 'html');
  assert.equal(c('<html><body>hello</body></html>'), 'html');
  assert.equal(classifyFile(Buffer.from('<html><body>hello</body></html>')).category, 'other');
  assert.equal(c('<html><head><HTA:APPLICATION ID="x"/><script>x</script></head></html>'), 'hta');
  assert.equal(c('Dim s\nSet s = CreateObject("WScript.Shell")\ns.Run "calc"\n'), 'vbs');
  assert.equal(c('plain words only', 'run.ps1'), 'ps1');
});

test('classifies an XML prolog flood in linear time (no regex backtracking)', () => {
  const hostile = Buffer.from(`${'<?a?>'.repeat(5000)}x`);
  const t0 = Date.now();
  classifyFile(hostile);
  assert.ok(Date.now() - t0 < 30_000);
});
