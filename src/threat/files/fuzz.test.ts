/** Seeded mutation fuzzing of classification and static analysis over the shared corpus and hand-made structures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { classifyFile } from './classify.ts';
import { staticAnalysis } from './inspect.ts';
import { buildNestedZip, buildOverlapZip, buildPe32Dll, buildZip, mutate, prng } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const SEED = 0xca1e2025;
const PER_FILE = 100;
const LIMITS = { maxTotalUncompressedBytes: 16 << 20, maxEntryBytes: 8 << 20, ratioMinBytes: 4 << 20, maxAnalysisMs: 3000 };

function corpus(): { name: string; bytes: Buffer }[] {
  const files: { name: string; bytes: Buffer }[] = existsSync(DIR) ? readdirSync(DIR).filter((n) => n.startsWith('test')).sort().map((name) => ({ name, bytes: readFileSync(DIR + name) })) : [];
  // Hand-made structures widen the seed set (and keep the test meaningful without the corpus).
  files.push(
    { name: 'dll.dll', bytes: buildPe32Dll() },
    { name: 'upx.exe', bytes: buildPe32Dll({ upx: true }) },
    { name: 'nested.zip', bytes: buildNestedZip(3, 4, 64 * 1024) },
    { name: 'overlap.zip', bytes: buildOverlapZip(Buffer.alloc(64 * 1024), 50) },
    { name: 'mixed.zip', bytes: buildZip([{ name: 'a.txt', data: Buffer.from('hello') }, { name: 'b.bin', data: Buffer.alloc(5000, 7), method: 0 }]) },
  );
  return files;
}

test(`fuzz: ${PER_FILE} seeded mutations per corpus file through classify + static analysis return or throw CairnError, in bounded time`, { timeout: 300_000 }, async () => {
  const rand = prng(SEED);
  const seeds = corpus();
  const failures: string[] = [];
  let runs = 0;
  const seen = new Set<string>();
  let slowest = { ms: 0, what: '' };
  const started = Date.now();
  for (const { name, bytes } of seeds) {
    for (let i = 0; i < PER_FILE; i++) {
      let input = bytes;
      for (let k = 0, n = 1 + Math.floor(rand() * 3); k < n; k++) input = mutate(input, rand);
      const t0 = Date.now();
      try {
        classifyFile(input, name);
        const r = await staticAnalysis(input, { name, limits: LIMITS });
        for (const x of r.reasons) seen.add(x.code);
        for (const x of r.reasons) if (typeof x.code !== 'string' || !(x.score >= 0 && x.score <= 10)) failures.push(`${name}#${i}: bad reason ${JSON.stringify(x)}`);
      } catch (e) {
        if (!(e instanceof CairnError)) failures.push(`${name}#${i}: ${(e as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(e)}`);
      }
      const ms = Date.now() - t0;
      if (ms > slowest.ms) slowest = { ms, what: `${name}#${i}` };
      runs++;
    }
  }
  assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${runs} inputs failed (seed ${SEED})`);
  assert.ok(runs >= 5000, `${runs} inputs`);
  // The mutations reached the analysers, not just the classifier.
  for (const code of ['UNPARSABLE', 'CONTAINER_ENTRIES', 'PE_OVERLAY', 'ARCHIVE_TRUNCATED', 'OFFICE_MACROS']) assert.ok(seen.has(code), `no input reached ${code}`);
  assert.ok(slowest.ms < 5000, `slowest input ${slowest.what} took ${slowest.ms} ms`);
  assert.ok(Date.now() - started < 240_000);
});

test('fuzz: every prefix length class of each corpus file is handled', { timeout: 120_000 }, async () => {
  const failures: string[] = [];
  for (const { name, bytes } of corpus()) {
    for (const len of [1, 2, 4, 8, 31, 64, 100, 512, 513, 2048, Math.floor(bytes.length / 2), bytes.length - 1]) {
      if (len <= 0 || len >= bytes.length) continue;
      try {
        classifyFile(bytes.subarray(0, len), name);
        await staticAnalysis(bytes.subarray(0, len), { name, limits: LIMITS });
      } catch (e) {
        if (!(e instanceof CairnError)) failures.push(`${name}[0..${len}): ${String(e)}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});
