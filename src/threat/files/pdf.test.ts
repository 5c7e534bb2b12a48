/** Tests for the PDF analyser: actions hidden in object streams, #xx name escapes, stream bombs and hostile text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { analyzePdf, scanPdf } from './pdf.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const big = (): { remaining: number } => ({ remaining: 64 << 20 });

/** A PDF whose interesting dictionaries sit inside a FlateDecode object stream. */
function pdfWithObjStm(inner: string): Buffer {
  const packed = deflateSync(Buffer.from(inner, 'latin1'));
  return Buffer.concat([
    Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n'),
    Buffer.from(`5 0 obj\n<< /Type /ObjStm /N 2 /First 10 /Filter /FlateDecode /Length ${packed.length} >>\nstream\n`),
    packed,
    Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'),
  ]);
}

test('the corpus PDF has no active content', { skip: !existsSync(`${DIR}test.pdf`) && 'no corpus' }, () => {
  const f = scanPdf(readFileSync(`${DIR}test.pdf`), big());
  assert.equal(f.version, '1.6');
  assert.ok(f.objects > 0);
  assert.ok(f.streams.inflated > 0, 'FlateDecode streams were opened');
  assert.deepEqual(analyzePdf(f).filter((r) => r.score > 0), []);
});

test('finds /OpenAction + /JavaScript hidden in a compressed object stream', () => {
  const pdf = pdfWithObjStm('<< /OpenAction 7 0 R >> << /S /JavaScript /JS (app.alert\\(1\\)) >>');
  assert.ok(!pdf.includes('/JavaScript'), 'not visible in the raw bytes');
  const f = scanPdf(pdf, big());
  assert.ok(f.counts.JavaScript > 0 && f.counts.OpenAction > 0);
  assert.ok(analyzePdf(f).some((r) => r.code === 'PDF_AUTO_JAVASCRIPT' && r.score >= 6));
});

test('decodes #xx escapes in names and reports the obfuscation', () => {
  const f = scanPdf(Buffer.from('%PDF-1.4\n1 0 obj\n<< /Open#41ction << /S /J#61vaScript /JS (x) >> >>\nendobj\n'), big());
  assert.equal(f.counts.OpenAction, 1);
  assert.equal(f.counts.JavaScript, 1);
  const codes = analyzePdf(f).map((r) => r.code);
  assert.ok(codes.includes('PDF_OBFUSCATED_NAMES') && codes.includes('PDF_AUTO_JAVASCRIPT'));
});

test('a /Launch action with an embedded file is a recommended block', () => {
  const f = scanPdf(Buffer.from('%PDF-1.5\n1 0 obj\n<< /Names << /EmbeddedFiles 2 0 R >> /OpenAction << /S /Launch /F (x.exe) >> >>\nendobj\n'), big());
  const launch = analyzePdf(f).find((r) => r.code === 'PDF_LAUNCH');
  assert.ok(launch && launch.score >= 7);
});

test('a decompression bomb inside a stream exhausts the budget, not the memory', () => {
  const packed = deflateSync(Buffer.alloc(30 << 20));
  const pdf = Buffer.concat([Buffer.from(`%PDF-1.7\n1 0 obj\n<< /Filter /FlateDecode /Length ${packed.length} >>\nstream\n`), packed, Buffer.from('\nendstream\nendobj\n')]);
  const budget = { remaining: 4 << 20 };
  const f = scanPdf(pdf, budget);
  assert.ok(f.budgetExhausted);
  assert.ok(analyzePdf(f).some((r) => r.code === 'PDF_STREAM_BUDGET' && r.incomplete));
});

test('garbage, truncation and digit floods end in bounded time', () => {
  const t0 = Date.now();
  assert.ok(analyzePdf(scanPdf(Buffer.from('%PDF-1.7\n'), big())).some((r) => r.code === 'PDF_UNPARSABLE'));
  scanPdf(Buffer.from(`%PDF-1.7\n${'1'.repeat(2_000_000)}`), big());
  scanPdf(Buffer.from(`%PDF-1.7\n${'stream\n'.repeat(200_000)}`), big());
  scanPdf(Buffer.from(`%PDF-1.7\n1 0 obj << /Filter /FlateDecode /Length 99999999 >>\nstream\n\x78\x9c\x01\x02`), big());
  assert.ok(Date.now() - t0 < 30_000, `${Date.now() - t0} ms`);
});
