/**
 * `cairn dsar` as a real process on a fresh data directory (R-PRIV-4): a privacy officer records a
 * request received by letter, lists, approves and fulfils it, writes the archive to a file, and
 * sees overdue requests flagged (exit code 3); `show` is the one command that prints the identifier.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx, unzip } from '../src/privacy/index.ts';

const setup = sqliteSetup();
const cfg = setup.config();
let orgId = '';

function cairn(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], {
    env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  orgId = (await c.services.tenancy.createOrg(sys, { name: 'CLI rights', country: 'NL' })).id;
  await c.services.people.setEnabled(sys, orgId, true);
  await c.services.people.create(sys, orgId, { personId: 'emp-1', name: 'Ann Letter', email: 'ann@letter.example', badges: ['B-LETTER'] });
  await c.close();
});
after(() => setup.cleanup());

test('intake, list, approve, fulfil and archive through the CLI; identifiers only in show', () => {
  for (const sub of ['list', 'show', 'intake', 'approve', 'reject', 'extend', 'fulfil', 'lift', 'archive']) assert.equal(cairn(['dsar', sub, '--help']).code, 0, sub);
  const intake = cairn(['dsar', 'intake', '--org', orgId, '--kind', 'access', '--id-kind', 'badge', '--identifier', 'B-LETTER', '--json']);
  assert.equal(intake.code, 0, intake.stderr);
  const r = JSON.parse(intake.stdout) as { id: string; status: string; statusToken: string };
  assert.equal(r.status, 'verified');
  const list = cairn(['dsar', 'list', '--org', orgId]);
  assert.equal(list.code, 0);
  assert.match(list.stdout, new RegExp(r.id));
  assert.ok(!list.stdout.includes('B-LETTER'), 'the list names no identifier');
  assert.match(cairn(['dsar', 'show', r.id, '--org', orgId]).stdout, /badge: B-LETTER/);
  assert.equal(cairn(['dsar', 'fulfil', r.id, '--org', orgId]).code, 1, 'not approved yet');
  assert.match(cairn(['dsar', 'fulfil', r.id, '--org', orgId]).stderr, /CAIRN_ERR_DSAR_STATE/);
  assert.equal(cairn(['dsar', 'approve', r.id, '--org', orgId]).code, 0);
  const done = cairn(['dsar', 'fulfil', r.id, '--org', orgId, '--json']);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(JSON.parse(done.stdout).records['tracing.people'], 1);
  const file = join(cfg.dataDir, 'copy.zip');
  assert.equal(cairn(['dsar', 'archive', r.id, file, '--org', orgId]).code, 0);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the archive file is private');
  assert.match(unzip(readFileSync(file)).get('data/tracing.people.json')!.toString(), /Ann Letter/);
  assert.equal(cairn(['dsar', 'list', '--org', orgId, '--overdue']).code, 0, 'nothing overdue');
  const bad = cairn(['dsar', 'intake', '--org', orgId, '--kind', 'deletion', '--id-kind', 'mac', '--identifier', 'nope']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /CAIRN_ERR_DSAR_IDENTIFIER/);
});
