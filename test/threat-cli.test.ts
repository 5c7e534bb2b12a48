/**
 * `cairn threat scan` run as a real process (dist/main.js, built by `npm test`): a verdict per
 * file with type, category, SHA-256, score and reasons, the same pipeline as the API; nothing is
 * stored without --org; with --org the files are submitted to that org (verdict cache, audit).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { EICAR } from '../src/threat/files/index.ts';

const CORPUS = new URL('../../shared/data/files/', import.meta.url).pathname;
const noCorpus = existsSync(join(CORPUS, 'manifest.json')) ? false : 'no shared corpus';
const setup = sqliteSetup();
const cfg = setup.config();
const scratch = mkdtempSync(join(tmpdir(), 'cairn-scan-'));
after(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await setup.cleanup();
});

function cairn(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], {
    env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent', CAIRN_CLAMD_SOCKET: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Rec {
  file: string;
  sha256: string;
  type: string;
  category: string;
  score: number;
  state: string;
  recommendedAction: string;
  complete: boolean;
  reasons: { code: string; message: string }[];
}

test('threat scan --json prints the expected verdict per corpus file and stores nothing', { skip: noCorpus }, () => {
  const eicar = join(scratch, 'eicar.com');
  writeFileSync(eicar, EICAR);
  const names = ['test.exe', 'test_upx.exe', 'test.elf', 'test.pdf', 'test.docx', 'test_aes256_password.zip'];
  const r = cairn(['threat', 'scan', '--json', ...names.map((n) => join(CORPUS, n)), eicar]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Rec[];
  const manifest = new Map((JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { name: string; sha256: string }[]).map((m) => [m.name, m.sha256]));
  assert.deepEqual(out.map((x) => x.file), [...names.map((n) => join(CORPUS, n)), eicar]);
  for (const [i, n] of names.entries()) assert.equal(out[i]!.sha256, manifest.get(n), n);
  const by = (n: string) => out.find((x) => x.file.endsWith(`/${n}`))!;
  assert.deepEqual([by('test.exe').type, by('test.exe').category, by('test.exe').state], ['pe-exe', 'executable', 'clean']);
  assert.deepEqual([by('test.elf').type, by('test.elf').category], ['elf', 'executable']);
  assert.deepEqual([by('test.pdf').type, by('test.pdf').category], ['pdf', 'document']);
  assert.deepEqual([by('test.docx').type, by('test.docx').category], ['docx', 'document']);
  const upx = by('test_upx.exe');
  assert.equal(upx.state, 'suspicious');
  assert.ok(upx.reasons.some((x) => x.code === 'PE_PACKER'), 'the UPX packer is a reason');
  const zip = by('test_aes256_password.zip');
  assert.deepEqual([zip.category, zip.state, zip.complete], ['archive', 'unknown', false], 'encrypted: never clean');
  assert.ok(zip.reasons.some((x) => x.code === 'ARCHIVE_ENCRYPTED'));
  const e = by('eicar.com');
  assert.deepEqual([e.type, e.category, e.state, e.recommendedAction], ['eicar', 'executable', 'malicious', 'block']);
  assert.ok(e.score >= 7);
  assert.equal(existsSync(cfg.dataDir) ? readdirSync(cfg.dataDir).filter((f) => f.endsWith('.sqlite')).length : 0, 0, 'without --org no store is opened');

  const nl = JSON.parse(cairn(['threat', 'scan', '--json', '--lang', 'nl', eicar]).stdout) as Rec[];
  assert.equal(nl[0]!.reasons[0]!.message, 'EICAR-antivirustestbestand.');
  const missing = cairn(['threat', 'scan', '--json', join(scratch, 'nope.bin')]);
  assert.equal(missing.code, 1);
  assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }[])[0]!.error.code, 'CAIRN_ERR_VALIDATION');
  const human = cairn(['threat', 'scan', eicar]);
  assert.match(human.stdout, /^malicious\s+10\.0\s+executable\/eicar/m);
  assert.equal(cairn(['threat', 'scan', '--help']).code, 0);
});

test('threat scan --org submits to the org: stored verdict, counted submissions, audited', { skip: noCorpus }, async () => {
  const org = JSON.parse(cairn(['org', 'create', '--name', 'Scan BV', '--country', 'NL', '--json']).stdout) as { id: string };
  const file = join(CORPUS, 'test_upx.exe');
  for (let i = 0; i < 2; i++) assert.equal(cairn(['threat', 'scan', '--org', org.id, '--json', file]).code, 0);
  const c = await makeApp(setup);
  try {
    const sys = systemCtx('test');
    const sha = (JSON.parse(cairn(['threat', 'scan', '--json', file]).stdout) as Rec[])[0]!.sha256;
    const v = await c.services.threat.files.lookup(sys, org.id, sha);
    assert.deepEqual([v.submissionCount, v.state], [2, 'suspicious']);
    const subs = await c.services.threat.files.submissions(sys, org.id, sha);
    assert.deepEqual(subs.map((s) => [s.source, s.fileName]), [['cli', 'test_upx.exe'], ['cli', 'test_upx.exe']]);
    const events = await c.services.auditQueries.list(sys, org.id, { limit: 100 });
    assert.equal(events.filter((e) => e.action === 'threat.file.submit' && e.actor === 'system:cli').length, 2);
  } finally {
    await c.close();
  }
});
