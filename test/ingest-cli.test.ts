/**
 * `cairn ingest` as a real process on a prepared store: each format's shared sample goes through
 * the same pipeline as the live receivers and ends up as pseudonymous fixes in the right zones;
 * the JSON summary counts accepted, rejected by reason, devices and fixes; loading a file twice
 * stores nothing twice; large native files are split into committed batches; no progress bar
 * when stdout is not a terminal.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo } from '../src/storage/index.ts';

const FORMATS = fileURLToPath(new URL('../../shared/data/formats/', import.meta.url));
const CONTACTS = fileURLToPath(new URL('../../shared/data/contacts/', import.meta.url));
const setup = sqliteSetup();
const cfg = setup.config();
const sys = systemCtx('test');
let orgId = '';
let siteId = '';
const zone: Record<string, string> = {};

function cairn(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/main.js', ...args], {
    env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ingest(files: string[], format: string): Record<string, unknown> & { accepted: number; fixes: number; devices: number; duplicates: number; rejected: Record<string, number> } {
  const r = cairn(['ingest', ...files, '--format', format, '--org', orgId, '--site', siteId, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

before(async () => {
  const c = await makeApp(setup);
  const { tenancy, sensors, ingest: svc } = c.services;
  orgId = (await tenancy.createOrg(sys, { name: 'CLI campus', country: 'NL' })).id;
  siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 150, heightM: 100 })).id;
  zone.A = (await tenancy.createZone(sys, orgId, floorId, { name: 'A', polygon: [[10, 0], [20, 0], [20, 10], [10, 10]] })).id;
  zone.M = (await tenancy.createZone(sys, orgId, floorId, { name: 'M', polygon: [[0, 10.5], [10, 10.5], [10, 16], [0, 16]] })).id;
  zone.S = (await tenancy.createZone(sys, orgId, floorId, { name: 'S', polygon: [[100, 50], [130, 50], [130, 80], [100, 80]] })).id;
  zone.Y = (await tenancy.createZone(sys, orgId, floorId, { name: 'Y', polygon: [[70, 0], [90, 0], [90, 20], [70, 20]] })).id;
  await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'Garage', xM: 80, yM: 10, vendorId: 'NH4ParkingGarageStorage_AP2' });
  await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'AP-1', xM: 40, yM: 40, mac: '02:00:5e:aa:00:01' });
  await svc.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge', vendorFloors: { '845a23bf-bed9-e43c-4c86-6fa474be7ae5': floorId, g_000000000000000001: floorId, 'location-ad0a997': floorId } });
  await c.close();
});
after(() => setup.cleanup());

test('ingest --help names every format', () => {
  const r = cairn(['ingest', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: cairn ingest/);
  for (const f of ['mist', 'meraki', 'spaces', 'syslog', 'native', 'encounters']) assert.match(r.stdout, new RegExp(f));
});

test('each format\'s sample becomes fixes in the right zones; a second load stores nothing twice', async () => {
  const mist = ingest([join(FORMATS, 'mist-location_client.json'), join(FORMATS, 'mist-location_asset.json'), join(FORMATS, 'mist-location.json')], 'mist');
  assert.equal(mist.fixes, 2);
  assert.equal(mist.devices, 2);
  assert.deepEqual(mist.rejected, { unsupported_type: 1 }, 'the generic sample\'s placeholder type is refused by reason');
  const again = ingest([join(FORMATS, 'mist-location_client.json')], 'mist');
  assert.equal(again.fixes, 0, 're-loading stores nothing twice');
  const meraki = ingest([join(FORMATS, 'meraki-scanning-v3-wifi.constructed.json')], 'meraki');
  assert.equal(meraki.fixes, 2);
  assert.deepEqual(meraki.aggregateOnly, { unconnected: 1 });
  const spaces = ingest([join(FORMATS, 'cisco-spaces-device_location_update.json'), join(FORMATS, 'cisco-spaces-keep_alive.json')], 'spaces');
  assert.equal(spaces.fixes, 1);
  const syslog = ingest([join(FORMATS, 'aruba-syslog-examples.log')], 'syslog');
  assert.equal(syslog.fixes, 1);
  assert.equal(syslog.sessions, 1, 'one association session stored (clients the sender hashed are not identities)');

  const c = await makeApp(setup);
  const db = await c.core.directory.storeOf(orgId);
  const fixes = await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 1000);
  await c.close();
  const bySource = (s: string) => fixes.filter((f) => f.source === s).map((f) => f.zone_id);
  assert.deepEqual(bySource('mist'), [zone.A, zone.A]);
  assert.deepEqual(bySource('meraki'), [zone.M, zone.M]);
  assert.deepEqual(bySource('spaces'), [zone.S]);
  assert.deepEqual(bySource('syslog'), [zone.Y]);
  for (const f of fixes) assert.match(f.device, /^[0-9a-f]{32}$/, 'devices are pseudonyms');
});

test('a large native file is split into committed batches; encounters are counted', () => {
  const file = join(cfg.dataDir, 'native.json');
  const t0 = Date.UTC(2024, 2, 1, 9);
  const observations = Array.from({ length: 2500 }, (_, i) => ({ kind: 'wifi-connected', deviceId: `02:00:00:00:00:${(i % 50).toString(16).padStart(2, '0')}`, atMs: t0 + i * 1000, apMac: '02:00:5e:aa:00:01', sourceRecordId: `n-${i}` }));
  writeFileSync(file, JSON.stringify({ observations }));
  const r = ingest([file], 'native');
  assert.equal(r.accepted, 2500);
  assert.equal(r.fixes, 2500);
  assert.equal(r.devices, 50);
  assert.equal(ingest([file], 'native').duplicates, 2500);
  const enc = cairn(['ingest', join(CONTACTS, 'tij_WS16.dat'), '--format', 'encounters', '--org', orgId, '--site', siteId, '--json']);
  assert.equal(enc.code, 0, enc.stderr);
  assert.ok(JSON.parse(enc.stdout).encounters > 1000);
});

test('bad input: an unknown format or org is refused with a clear message', () => {
  const f = cairn(['ingest', join(FORMATS, 'mist-ping.json'), '--format', 'csv', '--org', orgId, '--site', siteId]);
  assert.notEqual(f.code, 0);
  assert.match(f.stderr, /csv/);
  const o = cairn(['ingest', join(FORMATS, 'mist-ping.json'), '--format', 'mist', '--org', '01900000-0000-7000-8000-000000000000', '--site', siteId]);
  assert.equal(o.code, 1);
  assert.match(o.stderr, /CAIRN_ERR_NOT_FOUND/);
  const human = cairn(['ingest', join(FORMATS, 'mist-ping.json'), '--format', 'mist', '--org', orgId, '--site', siteId]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^accepted 0, /);
  assert.ok(!human.stdout.includes('\r'), 'no progress bar when stdout is not a terminal');
});
