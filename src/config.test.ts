import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig, redactedConfig, describeConfig, CONFIG_SCHEMA } from './config.ts';

test('defaults need no environment', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.store, 'sqlite');
  assert.deepEqual(c.regions, ['eu', 'us']);
});

test('invalid values stop start-up with a message naming the key', () => {
  assert.throws(() => loadConfig({ env: { PORT: 'eighty' } }), /port \(PORT\)/);
  assert.throws(() => loadConfig({ env: { CAIRN_STORE: 'mongo' } }), /store \(CAIRN_STORE\).*sqlite, postgres/);
  assert.throws(() => loadConfig({ env: { CAIRN_DEFAULT_REGION: 'mars' } }), /defaultRegion/);
  assert.throws(() => loadConfig({ env: { CAIRN_MASTER_KEY: 'c2hvcnQ=' } }), /masterKey/);
  assert.throws(() => loadConfig({ env: { CAIRN_TLS_CERT: '/x.pem' } }), /tlsCert/);
  assert.throws(() => loadConfig({ env: { CAIRN_CLAMD_SOCKET: 'clamd' } }), /clamdSocket \(CAIRN_CLAMD_SOCKET\)/);
  assert.equal(loadConfig({ env: { CAIRN_CLAMD_SOCKET: '127.0.0.1:3310' } }).clamdSocket, '127.0.0.1:3310');
});

test('config file values apply below environment, unknown keys are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-cfg-'));
  const f = join(dir, 'c.json');
  writeFileSync(f, JSON.stringify({ port: 9000, logLevel: 'warn' }));
  const c = loadConfig({ env: { CAIRN_CONFIG_FILE: f, CAIRN_LOG_LEVEL: 'debug' } });
  assert.equal(c.port, 9000);
  assert.equal(c.logLevel, 'debug');
  writeFileSync(f, JSON.stringify({ prot: 1 }));
  assert.throws(() => loadConfig({ env: { CAIRN_CONFIG_FILE: f } }), /prot: unknown key/);
});

test('redacted configuration hides secrets', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const r = redactedConfig(loadConfig({ env: { CAIRN_MASTER_KEY: key, CAIRN_PG_URL: 'postgres://u:pw@h/db' } }));
  assert.equal(r.masterKey, '[redacted]');
  assert.ok(!JSON.stringify(r).includes(key));
  assert.ok(!JSON.stringify(r).includes('pw'));
});

test('every key has a description and an environment variable', () => {
  for (const d of describeConfig()) {
    assert.ok(d.description.length > 10, d.key);
    assert.match(d.env, /^[A-Z_]+$/);
  }
  assert.equal(describeConfig().length, Object.keys(CONFIG_SCHEMA).length);
});
