/**
 * `cairn journey` and `cairn people import` as real processes on a prepared store: the CLI goes
 * through the same services and audit as the API (actor system:cli); a journey by MAC or by the
 * org's person id prints JSON, CSV or one line per visit; the import prints counts only; a MAC
 * given on the command line is nowhere in the audit log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';

const setup = sqliteSetup();
const cfg = setup.config();
const sys = systemCtx('test');
const MAC = '3c:22:fb:9a:41:77';
const T0 = Date.UTC(2026, 1, 2, 9);
const MIN = 60_000;
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
  const { tenancy, ingest } = c.services;
  orgId = (await tenancy.createOrg(sys, { name: 'CLI journeys', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 40, heightM: 20 })).id;
  await tenancy.createZone(sys, orgId, floorId, { name: 'Lobby', polygon: [[0, 0], [10, 0], [10, 10], [0, 10]] });
  await tenancy.createZone(sys, orgId, floorId, { name: 'Lab', polygon: [[20, 0], [30, 0], [30, 10], [20, 10]] });
  await ingest.settings.update(sys, orgId, { locationServices: true });
  const at = (x: number, atMs: number) => ({ kind: 'wifi-connected' as const, deviceId: MAC, atMs, x, y: 5, floorId });
  await ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: [at(5, T0), at(5, T0 + 2 * MIN), at(25, T0 + 3 * MIN), at(25, T0 + 6 * MIN)] }) });
  await c.close();
});
after(() => setup.cleanup());

test('cairn people import reads CSV, turns the directory on when asked, prints counts only', () => {
  const file = join(cfg.dataDir, 'people.csv');
  writeFileSync(file, `person_id,name,email,macs\r\nE-77,Ann de Wit,ann@cli.example,${MAC}\r\n`);
  const off = cairn(['people', 'import', '--org', orgId, file]);
  assert.equal(off.code, 1);
  assert.match(off.stderr, /CAIRN_ERR_FEATURE_DISABLED/);
  const r = cairn(['people', 'import', '--org', orgId, file, '--enable', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { people: 1, created: 1, updated: 0, linked: 1, unlinked: 0, moved: 0, ignored: [] });
  const human = cairn(['people', 'import', '--org', orgId, file]);
  assert.match(human.stdout, /imported 1 people: 0 created, 1 updated/);
  assert.ok(!human.stdout.includes('Ann') && !human.stdout.includes(MAC));
});

test('cairn journey by MAC or person: JSON, CSV and text, audited as the CLI', () => {
  const window = ['--from', new Date(T0 - MIN).toISOString(), '--to', new Date(T0 + 60 * MIN).toISOString()];
  const j = cairn(['journey', '--org', orgId, '--device', MAC, ...window, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const journey = JSON.parse(j.stdout);
  assert.deepEqual(journey.visits.map((v: { zoneName: string; dwellSeconds: number; band: string }) => [v.zoneName, v.dwellSeconds, v.band]), [['Lobby', 180, 'passerby'], ['Lab', 180, 'passerby']]);
  const byPerson = JSON.parse(cairn(['journey', '--org', orgId, '--person', 'E-77', ...window, '--json']).stdout);
  assert.equal(byPerson.subject.kind, 'person');
  assert.deepEqual(byPerson.visits, journey.visits);
  const csv = cairn(['journey', '--org', orgId, '--device', journey.subject.devices[0], ...window, '--csv']);
  assert.equal(csv.stdout.trimEnd().split('\r\n').length, 3);
  const text = cairn(['journey', '--org', orgId, '--device', MAC, ...window]);
  assert.match(text.stdout, /2 visit\(s\)/);
  assert.match(text.stdout, /passerby\s+.*Lobby/);
  const bad = cairn(['journey', '--org', orgId, ...window]);
  assert.equal(bad.code, 2);
  const verify = JSON.parse(cairn(['audit', 'verify', '--org', orgId, '--json']).stdout);
  assert.equal(verify.ok, true);
});

test('the CLI\'s reads are in the audit log, without the MAC', async () => {
  const c = await makeApp(setup);
  try {
    const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
    const reads = events.filter((e) => e.action === 'journey.read');
    assert.ok(reads.length >= 4 && reads.every((e) => e.actor === 'system:cli'));
    assert.ok(!JSON.stringify(events).includes('3c22fb9a4177') && !JSON.stringify(events).includes(MAC));
  } finally {
    await c.close();
  }
});
