/**
 * The `cairn` command line, run as a real process on a fresh data directory: every command has
 * --help; orgs, users and tokens are created through the audited services; `config` hides
 * secrets; invalid configuration stops with a message naming the key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sqliteSetup } from './helpers.ts';

const setup = sqliteSetup();
const cfg = setup.config();
after(() => setup.cleanup());

function cairn(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], {
    env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('every command and subcommand answers --help', () => {
  const commands = [[], ['serve'], ['migrate'], ['org'], ['org', 'create'], ['org', 'list'], ['org', 'delete'], ['user'], ['user', 'create'], ['token'], ['token', 'create'], ['audit'], ['audit', 'verify'], ['retention'], ['retention', 'run'], ['keys'], ['keys', 'rotate'], ['keys', 'rewrap-master'], ['config']];
  for (const c of commands) {
    const r = cairn([...c, '--help']);
    assert.equal(r.code, 0, `${c.join(' ')} --help: ${r.stderr}`);
    assert.match(r.stdout, /Usage: cairn/, c.join(' '));
  }
});

test('migrate, org create, org list --json, user create, token create, audit verify, retention run', () => {
  assert.equal(cairn(['migrate']).code, 0);
  const created = cairn(['org', 'create', '--name', 'Gemeente Delft', '--country', 'NL', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const org = JSON.parse(created.stdout);
  assert.equal(org.region, 'eu');
  const list = JSON.parse(cairn(['org', 'list', '--json']).stdout);
  assert.deepEqual(list.map((o: { id: string; name: string }) => [o.id, o.name]), [[org.id, 'Gemeente Delft']]);
  const user = cairn(['user', 'create', '--org', org.id, '--email', 'beheer@delft.example', '--role', 'org_admin', '--json']);
  assert.equal(user.code, 0, user.stderr);
  assert.ok(JSON.parse(user.stdout).password.length >= 12, 'a generated password is shown once');
  const token = JSON.parse(cairn(['token', 'create', '--org', org.id, '--name', 'ap-1', '--json']).stdout);
  assert.match(token.token, /^cairn_eu_[0-9a-f]{32}_/);
  const verify = cairn(['audit', 'verify', '--org', org.id, '--json']);
  assert.equal(verify.code, 0);
  assert.equal(JSON.parse(verify.stdout).ok, true);
  assert.ok(JSON.parse(verify.stdout).eventsChecked >= 3, 'the CLI actions were audited');
  assert.equal(cairn(['retention', 'run', '--json']).code, 0);
  const bad = cairn(['user', 'create', '--org', org.id, '--email', 'not-an-email']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /CAIRN_ERR_VALIDATION/);
});

test('config prints the effective configuration with secrets redacted; bad config names the key', () => {
  const r = cairn(['config'], { CAIRN_PG_URL: 'postgres://cairn:s3cret@db/x' });
  assert.equal(r.code, 0);
  const c = JSON.parse(r.stdout);
  assert.equal(c.masterKey, '[redacted]');
  assert.ok(!r.stdout.includes('s3cret') && !r.stdout.includes(cfg.masterKey!));
  const d = cairn(['config', '--describe']);
  assert.match(d.stdout, /CAIRN_RETENTION_BATCH/);
  const bad = cairn(['config'], { PORT: 'http' });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /CAIRN_ERR_CONFIG: Invalid configuration port \(PORT\)/);
});
