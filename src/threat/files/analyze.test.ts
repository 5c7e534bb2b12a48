/** Tests for the verdict pipeline: lists, early stops, size limit, organisation rules, and verdicts on the shared corpus. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { analyzeFile } from './analyze.ts';
import { EICAR } from './classify.ts';
import { buildZip } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const haveCorpus = existsSync(`${DIR}manifest.json`);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('a block-listed hash is malicious at once; later stages are skipped', async () => {
  const bytes = Buffer.from('anything at all');
  const v = await analyzeFile(bytes, { lists: { blockSha256: new Set([sha(bytes)]) } });
  assert.deepEqual([v.state, v.score, v.recommendedAction], ['malicious', 10, 'block']);
  assert.deepEqual(v.stages.map((s) => [s.analyzer, s.status]), [['lists', 'ran'], ['yara', 'skipped'], ['clamav', 'skipped'], ['static', 'skipped']]);
});

test('an allow-listed hash is clean even when its content would be flagged', async () => {
  const bytes = Buffer.from(EICAR);
  const v = await analyzeFile(bytes, { lists: { allowSha256: new Set([sha(bytes)]) } });
  assert.deepEqual([v.state, v.score], ['clean', 0]);
  const both = await analyzeFile(bytes, { lists: { allowSha256: new Set([sha(bytes)]), blockSha256: new Set([sha(bytes)]) } });
  assert.equal(both.state, 'malicious', 'the block list wins');
});

test('EICAR is malicious through YARA and the pipeline stops before the static stage', async () => {
  const v = await analyzeFile(Buffer.from(`${EICAR}\r\n`), { name: 'eicar.com' });
  assert.deepEqual([v.state, v.score, v.type.subtype], ['malicious', 10, 'eicar']);
  assert.ok(v.reasons.some((r) => r.analyzer === 'yara' && r.code === 'EICAR'));
  assert.equal(v.stages.find((s) => s.analyzer === 'static')?.status, 'skipped');
});

test('EICAR inside a zip inside a zip is found by YARA on the extracted child', async () => {
  const inner = buildZip([{ name: 'eicar.com', data: Buffer.from(EICAR) }]);
  const outer = buildZip([{ name: 'readme.txt', data: Buffer.from('hi') }, { name: 'inner.zip', data: inner }]);
  const v = await analyzeFile(outer, { name: 'outer.zip' });
  assert.equal(v.state, 'malicious');
  assert.ok(v.reasons.some((r) => r.code === 'EICAR' && r.path === 'inner.zip::eicar.com'), JSON.stringify(v.reasons));
});

test('a file over the size limit is "not scanned: too large" and never clean', async () => {
  const v = await analyzeFile(Buffer.alloc(2048, 0x41), { limits: { maxFileBytes: 1024 } });
  assert.equal(v.state, 'unknown');
  assert.ok(v.score >= 3);
  assert.equal(v.complete, false);
  assert.match(v.reasons[0]?.message ?? '', /Not scanned: too large/);
  assert.ok(v.stages.filter((s) => s.analyzer !== 'lists').every((s) => s.status === 'skipped'));
});

test('an unparsable file is unknown, not clean', async () => {
  const broken = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(600, 0xff)]);
  const v = await analyzeFile(broken, { name: 'x.doc' });
  assert.equal(v.state, 'unknown');
  assert.ok(v.reasons.some((r) => r.code === 'UNPARSABLE'));
});

test('organisation rules take part with their own score', async () => {
  const v = await analyzeFile(Buffer.from('quarterly report ACME-PROJECT-BLUEBIRD draft'), {
    orgRules: ['rule bluebird { meta: score = 7 description = "confidential project name" strings: $a = "ACME-PROJECT-BLUEBIRD" condition: $a }'],
  });
  assert.equal(v.state, 'malicious');
  assert.ok(v.reasons.some((r) => r.code === 'YARA_BLUEBIRD' && /Organisation rule/.test(r.message)));
  await assert.rejects(analyzeFile(Buffer.from('x'), { orgRules: ['rule broken {'] }), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_VALIDATION');
});

test('the verdict never echoes the submitted file name (R-DATA-8)', async () => {
  const v = await analyzeFile(Buffer.from('hello'), { name: 'salary-jan.de.vries.txt' });
  assert.ok(!JSON.stringify(v).includes('jan.de.vries'));
});

/** Expected verdicts on the benign corpus; the non-clean ones are the fixtures built to trip analysers. */
const CORPUS_STATES: Record<string, string> = {
  'test_upx.exe': 'suspicious', 'test.xls': 'malicious', 'test_pe_object.doc': 'suspicious', 'test_pe.b64': 'suspicious',
  'test.vba': 'malicious', 'test_password.docx': 'unknown', 'test_aes256_password.zip': 'unknown', 'test.onepkg': 'unknown',
  'test.rar': 'unknown', 'test.7z': 'unknown', 'test.bz2': 'unknown', 'test.xz': 'unknown', 'test.deb': 'unknown',
  'test.xar': 'unknown', 'test_lzx.cab': 'unknown', 'test_zip.cab': 'unknown',
};

test('verdicts on the shared corpus: benign files clean, trap fixtures flagged, unopened containers unknown', { skip: !haveCorpus && 'no corpus' }, async () => {
  const manifest = JSON.parse(readFileSync(`${DIR}manifest.json`, 'utf8')) as { name: string }[];
  for (const f of manifest) {
    const v = await analyzeFile(readFileSync(DIR + f.name), { name: f.name });
    assert.equal(v.state, CORPUS_STATES[f.name] ?? 'clean', `${f.name}: ${v.state} ${v.score} ${v.reasons.map((r) => r.code).join(',')}`);
    if (!v.complete) assert.notEqual(v.state, 'clean', `${f.name} is incomplete but clean`);
    assert.ok(v.score >= 0 && v.score <= 10);
    assert.equal(v.recommendedAction, v.score >= 7 ? 'block' : 'allow');
    assert.ok(v.reasons.every((r) => typeof r.analyzer === 'string' && typeof r.message === 'string' && r.message.length > 0));
  }
});
