/**
 * `cairn export`, `cairn ropa` and `cairn incident` as real processes on a fresh data directory:
 * the export goes to a private file (mode 0600) or standard output and checks out against its
 * manifest; a damaged archive is caught (exit 3); the records of processing print as Markdown and
 * JSON; an incident is recorded, listed with its deadline, notified another way and closed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { readZip, systemCtx } from '../src/privacy/index.ts';

const setup = sqliteSetup();
const cfg = setup.config();
let orgId = '';

function cairn(args: string[]): { code: number; stdout: string; raw: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], {
    env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' },
    encoding: 'buffer',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout.toString('utf8'), raw: r.stdout, stderr: r.stderr.toString('utf8') };
}

before(async () => {
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  orgId = (await c.services.tenancy.createOrg(sys, { name: 'CLI Export', country: 'NL' })).id;
  const site = await c.services.tenancy.createSite(sys, orgId, { name: 'HQ' });
  await c.services.identity.createUser(sys, orgId, { email: 'admin@cli-export.example', password: 'admin-password-1234', roles: [{ role: 'org_admin' }] });
  await c.services.devices.report(sys, orgId, [{ mac: '02:00:00:00:00:01', kind: 'wifi', siteId: site.id, seenAtMs: Date.now(), ip: '10.9.8.7' } as never]);
  await c.close();
});
after(() => setup.cleanup());

test('cairn export writes a private archive that verifies; standard output works for a pipe; damage is caught', () => {
  const help = cairn(['incident', '--help']);
  for (const sub of ['create', 'list', 'show', 'update', 'notify', 'close']) assert.match(help.stdout, new RegExp(`\\b${sub}\\b`), `incident ${sub}`);
  const file = join(cfg.dataDir, 'org.zip');
  const r = cairn(['export', '--org', orgId, file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { files: number; rows: number; undecryptable: number };
  assert.ok(summary.files > 40 && summary.rows > 5);
  assert.equal(summary.undecryptable, 0);
  assert.equal(statSync(file).mode & 0o777, 0o600, 'the archive file is private');
  assert.match(readZip(readFileSync(file)).get('data/devices.devices.jsonl')!.toString(), /10\.9\.8\.7/);
  const ok = cairn(['export', '--verify', file]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /match the manifest/);

  const piped = cairn(['export', '--org', orgId, '-']);
  assert.equal(piped.code, 0, piped.stderr);
  assert.ok(readZip(piped.raw).has('manifest.json'), 'the archive on standard output');
  assert.match(piped.stderr, /exported org/);

  // A byte flipped inside the devices file: its CRC-32 no longer matches, the check fails.
  const bad = readFileSync(file);
  const at = bad.indexOf(Buffer.from('data/devices.devices.jsonl'));
  assert.ok(at > 0);
  bad[at + 40] = bad[at + 40]! ^ 0x55;
  const tampered = join(cfg.dataDir, 'tampered.zip');
  writeFileSync(tampered, bad);
  const v = cairn(['export', '--verify', tampered]);
  assert.notEqual(v.code, 0, 'a damaged archive does not verify');
  assert.match(v.stderr, /CAIRN_ERR_VALIDATION/);

  assert.equal(cairn(['export', '--org', orgId]).code, 2, 'a file to write is required');
});

test('cairn ropa prints the records of processing; cairn incident runs open → notified → closed', () => {
  const md = cairn(['ropa', '--org', orgId]);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^# Records of processing activities: CLI Export/);
  const json = JSON.parse(cairn(['ropa', '--org', orgId, '--format', 'json']).stdout) as { format: string; activities: { id: string }[] };
  assert.equal(json.format, 'cairn-ropa/1');
  assert.ok(json.activities.some((a) => a.id === 'ingest.devices'));

  const created = cairn(['incident', 'create', '--org', orgId, '--title', 'Backup tape missing', '--classes', 'device,location', '--subjects', 'staff', '--people', '300', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const inc = JSON.parse(created.stdout) as { id: string; status: string; deadlineAt: string };
  assert.equal(inc.status, 'open');
  const list = cairn(['incident', 'list', '--org', orgId]);
  assert.match(list.stdout, new RegExp(`${inc.id}  open .* deadline ${inc.deadlineAt}  7[12](\\.\\d)? h left`));
  assert.equal(cairn(['incident', 'list', '--org', orgId, '--overdue']).code, 0, 'nothing overdue yet');
  assert.equal(cairn(['incident', 'close', inc.id, '--org', orgId]).code, 1, 'not before notice');
  // No mail server here: e-mail is refused with a clear code, a notice given another way is recorded.
  const mail = cairn(['incident', 'notify', inc.id, '--org', orgId]);
  assert.equal(mail.code, 1);
  assert.match(mail.stderr, /CAIRN_ERR_FEATURE_DISABLED/);
  assert.equal(cairn(['incident', 'notify', inc.id, '--org', orgId, '--manual', 'Phoned the DPO']).code, 0);
  const shown = cairn(['incident', 'show', inc.id, '--org', orgId]);
  assert.match(shown.stdout, /notice .* manual recorded: Phoned the DPO/);
  assert.equal(cairn(['incident', 'close', inc.id, '--org', orgId, '--measures', 'Tapes now encrypted']).code, 0);
  assert.match(cairn(['incident', 'show', inc.id, '--org', orgId]).stdout, /closed .* \(resolved\)/);
  assert.equal(cairn(['incident', 'create', '--org', orgId, '--title', 'x', '--classes', 'nope']).code, 2);
});
