/** Seeded mutation fuzzing of the message reader: broken MIME yields a verdict or CAIRN_ERR_MIME_MALFORMED, within bounded time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { EICAR } from '../files/index.ts';
import { mutate, prng } from '../files/testkit.ts';
import { scanMessage } from './analyze.ts';
import type { ScanDeps } from './scanner.ts';
import { buildMail } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;
const SEED = 0x3a11c0de;
const RUNS = 3000;

/** The file pipeline is fuzzed on its own; here a fast stand-in keeps the runs on the MIME side. */
const deps: ScanDeps = {
  files: { scanBuffer: async (_o, b) => ({ sha256: '0'.repeat(64), sizeBytes: b.length, type: { mime: 'application/octet-stream', category: 'other', subtype: 'bin', description: '', basis: 'content', details: {} }, score: Buffer.from(b).includes('EICAR') ? 10 : 0, state: Buffer.from(b).includes('EICAR') ? 'malicious' : 'clean', recommendedAction: 'allow', complete: true, reasons: [], stages: [], durationMs: 0 }) },
  lists: { domainLists: async () => ({ block: new Set(['evil.example']), allow: new Set() }) },
};

test(`fuzz: ${RUNS} seeded mutations of messages return a verdict or CAIRN_ERR_MIME_MALFORMED, in bounded time`, { timeout: 300_000 }, async () => {
  const inner = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'inner', text: 'x', attachments: [{ filename: 'e.txt', content: EICAR }] });
  const seeds = [
    await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'plain', text: 'hello https://evil.example/x' }),
    await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'alt', text: 'hi', html: '<a href="https://a.example/">https://www.b.example/</a>', attachments: [{ filename: 'a.bin', content: Buffer.alloc(300, 7) }] }),
    await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'fwd', text: 'fwd', attachments: [{ filename: 'in.eml', content: inner, contentType: 'message/rfc822' }, { filename: 'in2.eml', content: inner, contentType: 'message/rfc822', encoding: 'base64' }] }),
    ...['test.eml', 'test_broken.eml'].filter((f) => existsSync(DIR + f)).map((f) => readFileSync(DIR + f)),
  ];
  const rand = prng(SEED);
  const failures: string[] = [];
  const outcomes = { verdict: 0, malformed: 0 };
  let slowest = 0;
  for (let i = 0; i < RUNS; i++) {
    let input = seeds[i % seeds.length]!;
    for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) input = mutate(input, rand);
    const t0 = performance.now();
    try {
      const { verdict } = await scanMessage('org', input, deps, { timeoutMs: 5000 });
      assert.ok(verdict.score >= 0 && verdict.score <= 10);
      outcomes.verdict++;
    } catch (e) {
      if (e instanceof CairnError && e.code === 'CAIRN_ERR_MIME_MALFORMED') outcomes.malformed++;
      else failures.push(`run ${i}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')}`);
    }
    slowest = Math.max(slowest, performance.now() - t0);
  }
  assert.deepEqual(failures.slice(0, 10), []);
  assert.ok(outcomes.verdict > 100 && outcomes.malformed > 100, JSON.stringify(outcomes));
  assert.ok(slowest < 5000, `slowest run ${slowest} ms`);
});
