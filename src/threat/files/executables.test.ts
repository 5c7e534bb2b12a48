/** Tests for the PE, ELF and Mach-O parsers and analysers, including truncated and hostile headers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { analyzeElf, parseElf, parseMachoHeader } from './elf.ts';
import { analyzePe, parsePe } from './pe.ts';
import { buildPe32Dll } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const skip = !existsSync(`${DIR}test.exe`) && 'shared corpus not present';
const file = (n: string): Buffer => readFileSync(DIR + n);

test('parses a .NET PE32+ console executable: sections, entropy, imports', { skip }, () => {
  const pe = parsePe(file('test.exe'));
  assert.deepEqual([pe.kind, pe.bits, pe.machine, pe.dotnet, pe.dll, pe.subsystem], ['pe', 64, 'x86-64', true, false, 'console']);
  assert.equal(pe.sections.length, 2);
  for (const s of pe.sections) assert.ok(s.entropy >= 0 && s.entropy <= 8, `${s.name} ${s.entropy}`);
  assert.equal(pe.overlayBytes, 0);
});

test('finds UPX packing in test_upx.exe from section names and entropy', { skip }, () => {
  const pe = parsePe(file('test_upx.exe'));
  assert.deepEqual(pe.sections.map((s) => s.name).slice(0, 2), ['UPX0', 'UPX1']);
  const codes = analyzePe(pe).map((r) => r.code);
  assert.ok(codes.includes('PE_PACKER'), codes.join());
  assert.ok(codes.includes('PE_HIGH_ENTROPY_CODE'), codes.join());
});

test('reads the import table of a native PE', { skip }, () => {
  const pe = parsePe(file('test_xor.exe'));
  assert.ok(pe.imports.length > 0);
  assert.ok(pe.imports.some((i) => /kernel32\.dll/i.test(i.dll)), pe.imports.map((i) => i.dll).join());
  assert.ok(pe.importedFunctionCount > 10);
});

test('measures the overlay of a PE with a zip appended', { skip }, () => {
  const bytes = file('test_overlay_zip.exe');
  const pe = parsePe(bytes);
  assert.ok(pe.overlayBytes > 1000);
  assert.equal(bytes.readUInt32LE(pe.overlayOffset), 0x04034b50, 'the overlay starts with a zip local header');
  assert.ok(analyzePe(pe).some((r) => r.code === 'PE_OVERLAY'));
});

test('parses a hand-built PE32 DLL and flags a writable+executable UPX section', () => {
  const plain = parsePe(buildPe32Dll());
  assert.deepEqual([plain.bits, plain.dll, plain.machine, plain.entrySection], [32, true, 'x86', '.text']);
  const codes = analyzePe(parsePe(buildPe32Dll({ upx: true }))).map((r) => r.code);
  assert.ok(codes.includes('PE_PACKER') && codes.includes('PE_WX_SECTION'), codes.join());
});

test('a truncated PE gives reasons or CAIRN_ERR_FILE_UNPARSABLE, never a crash', { skip }, () => {
  const bytes = file('test_xor.exe');
  for (const len of [2, 63, 64, 0x80, 0x100, 0x200, 0x400, 4096, bytes.length - 1]) {
    try {
      const pe = parsePe(bytes.subarray(0, len));
      analyzePe(pe);
      if (len > 0x400 && len < bytes.length) assert.ok(pe.anomalies.length > 0, `anomalies expected at ${len}`);
    } catch (e) {
      assert.ok(e instanceof CairnError && e.code === 'CAIRN_ERR_FILE_UNPARSABLE', `${len}: ${String(e)}`);
    }
  }
});

test('a PE whose header points far outside the file is reported, not followed', () => {
  const b = buildPe32Dll();
  b.writeUInt32LE(0x7fffffff, 0x3c); // e_lfanew
  assert.equal(parsePe(b).kind, 'dos');
  const c = buildPe32Dll();
  c.writeUInt16LE(0xffff, 0x84 + 2); // 65535 sections
  const pe = parsePe(c);
  assert.ok(pe.anomalies.some((a) => a.includes('sections')));
});

test('parses the ELF corpus file: class, machine, interpreter, sections, not stripped', { skip }, () => {
  const elf = parseElf(file('test.elf'));
  assert.deepEqual([elf.bits, elf.endian, elf.type, elf.machine], [64, 'little', 'dyn', 'x86-64']);
  assert.equal(elf.interpreter, '/lib64/ld-linux-x86-64.so.2');
  assert.equal(elf.stripped, false);
  assert.ok(elf.sections.some((s) => s.name === '.text' && s.executable && s.entropy > 0));
  assert.equal(elf.wxSegment, false);
  assert.deepEqual(analyzeElf(elf).filter((r) => r.score > 0), []);
});

test('a truncated or corrupted ELF gives anomalies or CAIRN_ERR_FILE_UNPARSABLE', { skip }, () => {
  const bytes = file('test.elf');
  for (const len of [4, 16, 52, 64, 200, 4096, bytes.length - 100]) {
    try {
      const elf = parseElf(bytes.subarray(0, len));
      analyzeElf(elf);
    } catch (e) {
      assert.ok(e instanceof CairnError && e.code === 'CAIRN_ERR_FILE_UNPARSABLE', `${len}: ${String(e)}`);
    }
  }
  const bad = Buffer.from(bytes);
  bad.writeUInt16LE(0xffff, 60); // e_shnum
  bad.writeUInt16LE(0xffff, 56); // e_phnum
  const elf = parseElf(bad);
  assert.ok(elf.anomalies.length > 0);
  const stripped = Buffer.from(bytes);
  stripped.writeUInt16LE(0, 60); // no section headers
  assert.ok(analyzeElf(parseElf(stripped)).some((r) => r.code === 'ELF_NO_SECTIONS'));
});

test('reads a thin Mach-O header', { skip }, () => {
  const m = parseMachoHeader(file('test.macho'));
  assert.deepEqual(m, { fat: false, bits: 64, cpus: ['x86_64'], fileType: 'executable' });
});
