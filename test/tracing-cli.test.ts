/**
 * `cairn trace` as a real process on a prepared store: the same service and audit as the API
 * (actor system:cli); a trace by MAC or badge prints the case report as JSON, CSV, HTML or text;
 * `--case` prints a stored report (audited as a view); a purpose is required; the MAC given on
 * the command line is nowhere in the audit log.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch, type NativeObservation } from '../src/ingest/index.ts';

const setup = sqliteSetup();
const cfg = setup.config();
const sys = systemCtx('test');
const MAC = '3c:22:fb:9a:41:78';
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
  orgId = (await tenancy.createOrg(sys, { name: 'CLI traces', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 40, heightM: 20 })).id;
  await tenancy.createZone(sys, orgId, floorId, { name: 'Lab', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] });
  await ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
  const obs: NativeObservation[] = [];
  for (let t = T0; t < T0 + 40 * MIN; t += 20_000) {
    obs.push({ kind: 'wifi-connected', deviceId: MAC, atMs: t, x: 5, y: 5, floorId, accuracyM: 0.5 });
    obs.push({ kind: 'ble-badge', idType: 'badge', deviceId: 'cli-badge-1', atMs: t + 1000, x: 6, y: 5, floorId, accuracyM: 0.5 });
  }
  for (let i = 0; i < obs.length; i += 1000) await ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: obs.slice(i, i + 1000) }) });
  await c.close();
});
after(() => setup.cleanup());

test('cairn trace by MAC or badge: JSON, CSV, HTML and text; a stored case by --case; audited as the CLI', () => {
  const window = ['--from', new Date(T0).toISOString(), '--to', new Date(T0 + 2 * 60 * MIN).toISOString(), '--purpose', 'Exposure check for incident 4'];
  const j = cairn(['trace', '--org', orgId, '--device', MAC, ...window, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.contacts.length, 1);
  assert.equal(report.contacts[0].cumulativeMinutes, 40);
  assert.deepEqual(report.contacts[0].zones.map((z: { name: string }) => z.name), ['Lab']);
  const byBadge = JSON.parse(cairn(['trace', '--org', orgId, '--device', 'badge:cli-badge-1', ...window, '--json', '--radius-m', '1.5', '--min-minutes', '30']).stdout);
  assert.equal(byBadge.contacts[0].device, report.subject.devices[0]);
  assert.equal(byBadge.thresholds.radiusMeters, 1.5);
  const csv = cairn(['trace', '--org', orgId, '--device', MAC, ...window, '--csv']);
  assert.equal(csv.stdout.trimEnd().split('\r\n').length, 2);
  const text = cairn(['trace', '--org', orgId, '--device', MAC, ...window]);
  assert.match(text.stdout, /1 contact\(s\)/);
  const html = cairn(['trace', '--org', orgId, '--case', report.id, '--html']);
  assert.equal(html.code, 0, html.stderr);
  assert.match(html.stdout, /<h1>Contact trace report<\/h1>/);
  const noPurpose = cairn(['trace', '--org', orgId, '--device', MAC, '--from', window[1]!, '--to', window[3]!]);
  assert.equal(noPurpose.code, 2);
  assert.match(noPurpose.stderr, /--purpose is required/);
  const audit = cairn(['audit', 'verify', '--org', orgId, '--json']);
  assert.equal(JSON.parse(audit.stdout).ok, true);
});

test('the audit log holds the traces with their purpose and never the MAC', async () => {
  const c = await makeApp(setup);
  try {
    const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
    const runs = events.filter((e) => e.action === 'contactTrace.run');
    assert.ok(runs.length >= 4 && runs.every((e) => e.actor === 'system:cli' && (e.details as { purpose: string }).purpose === 'Exposure check for incident 4'));
    assert.ok(events.some((e) => e.action === 'contactTrace.view'));
    assert.ok(!JSON.stringify(events).toLowerCase().includes(MAC.replace(/:/g, '')) && !JSON.stringify(events).includes(MAC));
  } finally {
    await c.close();
  }
});
