/**
 * `cairn threat mail …` run as a real process: scanning messages without an org stores nothing,
 * broken MIME gives an error record with its code and exit 1, settings and the quarantine are
 * reachable for an org (audited as the CLI).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { sqliteSetup } from './helpers.ts';
import { EICAR } from '../src/threat/files/index.ts';
import { buildMail } from '../src/threat/email/testkit.ts';

const setup = sqliteSetup();
const cfg = setup.config();
const dir = mkdtempSync(join(tmpdir(), 'cairn-mail-cli-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  return setup.cleanup();
});

function cairn(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], { env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('every mail command answers --help', () => {
  for (const c of [['threat', 'mail'], ['threat', 'mail', 'scan'], ['threat', 'mail', 'settings'], ['threat', 'mail', 'quarantine'], ['threat', 'mail', 'quarantine', 'list'], ['threat', 'mail', 'quarantine', 'release'], ['threat', 'mail', 'quarantine', 'delete']]) {
    const r = cairn([...c, '--help']);
    assert.equal(r.code, 0, `${c.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Usage: cairn threat mail/);
  }
});

test('threat mail scan prints a verdict per message and an error record for broken MIME', async () => {
  writeFileSync(join(dir, 'eicar.eml'), await buildMail({ from: 'a@x.example', to: 'b@y.example', subject: 'x', text: 'x', attachments: [{ filename: 'e.com', content: EICAR }] }));
  writeFileSync(join(dir, 'clean.eml'), await buildMail({ from: 'a@x.example', to: 'b@y.example', subject: 'x', text: 'see https://docs.example/' }));
  writeFileSync(join(dir, 'broken.eml'), 'not a header line\r\n\r\nbody');
  const r = cairn(['threat', 'mail', 'scan', join(dir, 'eicar.eml'), join(dir, 'clean.eml'), join(dir, 'broken.eml'), '--json']);
  assert.equal(r.code, 1, r.stderr);
  const [eicar, clean, broken] = JSON.parse(r.stdout) as { state?: string; attachments?: { type: string }[]; linkHosts?: string[]; error?: { code: string } }[];
  assert.equal(eicar!.state, 'malicious');
  assert.equal(eicar!.attachments![0]!.type, 'eicar');
  assert.deepEqual([clean!.state, clean!.linkHosts], ['clean', ['docs.example']]);
  assert.equal(broken!.error!.code, 'CAIRN_ERR_MIME_MALFORMED');
  assert.ok(!existsSync(join(cfg.dataDir, 'eu.sqlite')), 'without --org nothing is stored');
});

test('threat mail settings and quarantine list for an org', () => {
  const org = JSON.parse(cairn(['org', 'create', '--name', 'Mail Org', '--country', 'NL', '--json']).stdout) as { id: string };
  const set = cairn(['threat', 'mail', 'settings', '--org', org.id, '--domains', 'mail-org.example,other.example', '--language', 'nl', '--json']);
  assert.equal(set.code, 0, set.stderr);
  const s = JSON.parse(set.stdout) as { domains: string[]; language: string };
  assert.deepEqual([s.domains, s.language], [['mail-org.example', 'other.example'], 'nl']);
  const list = cairn(['threat', 'mail', 'quarantine', 'list', '--org', org.id, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), []);
  const rel = cairn(['threat', 'mail', 'quarantine', 'release', '--org', org.id, '--id', '01900000-0000-7000-8000-000000000000']);
  assert.equal(rel.code, 1);
  assert.match(rel.stderr, /CAIRN_ERR_NOT_FOUND/);
});
