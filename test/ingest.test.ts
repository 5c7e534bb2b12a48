/**
 * Ingest end to end, on both storage engines: every format's shared sample goes in through its
 * real entry point (the webhook routes with their signature or secret, the native batch route
 * with a sensor token, the file loader `cairn ingest` uses) and ends up as pseudonymous fixes in
 * the right zones. Re-delivery stores nothing twice; fields the org did not enable are not
 * stored; unconnected devices, untracked assets and SDK phones without an opt-in get no precise
 * fix (SDK phones without an opt-in are dropped); without location services only zone counts are kept; wrong signatures and secrets are
 * refused with CAIRN_ERR_SIGNATURE and counted in /metrics; no raw MAC or IP reaches a store or
 * a log line.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { IngestRepo, LocationRepo, reposFor, type Database, type FixRow } from '../src/storage/index.ts';
import { ingestFile, mistSignature } from '../src/ingest/index.ts';
import { DEFAULT_BLE_MODEL, rssiAtDistance } from '../src/location/index.ts';
import type { ZoneEvent } from '../src/kernel/events.ts';
import type { CairnApp } from '../src/app.ts';

const FORMATS = new URL('../../shared/data/formats/', import.meta.url);
const sample = (name: string): string => readFileSync(new URL(name, FORMATS), 'utf8');

const MIST_SECRET = 'mist-webhook-secret-for-tests';
const MERAKI_SECRET = 'supersecret-test';
const MIST_MAP = '845a23bf-bed9-e43c-4c86-6fa474be7ae5';
const SDK_APP = 'de87bf9d-183f-e383-cc68-6ba43947d403';
/** Client identifiers and personal values in the samples (sensor/AP MACs are infrastructure and may be stored). */
const CLIENT_NEEDLES = ['5684dae9ac8b', '7fc2936fd243', '70ef0071535f', '02005e100001', '02005e100002', '02005eb00001', '0039a78f4a00', 'cc44ccbb9033', '20f85ef4440d', SDK_APP, '192.0.2.25', '192.168.36.244', '10.13.17.26', 'user@example.com', 'badge-0042'];

function macForms(hex12: string): string[] {
  if (!/^[0-9a-f]{12}$/.test(hex12)) return [hex12];
  const colons = hex12.replace(/(..)(?!$)/g, '$1:');
  const forms = [hex12, colons, colons.replace(/:/g, '-'), `${hex12.slice(0, 4)}.${hex12.slice(4, 8)}.${hex12.slice(8)}`];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}
const NEEDLES = CLIENT_NEEDLES.flatMap(macForms);

function findNeedles(haystack: Buffer, where: string): string[] {
  const lower = haystack.toString('latin1').toLowerCase();
  const utf16 = haystack.toString('utf16le').toLowerCase();
  return NEEDLES.filter((n) => lower.includes(n.toLowerCase()) || utf16.includes(n.toLowerCase())).map((n) => `${n} in ${where}`);
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`ingest pipeline (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let db: Database;
    let orgId: string;
    let siteId: string;
    let floorId: string;
    let sensorToken: string;
    let cookie: string;
    const zone: Record<string, string> = {};
    const logs: string[] = [];
    const events: ZoneEvent[] = [];
    const sys = systemCtx('test');

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      c = await makeApp(setup, { logLevel: 'debug' }, { logDestination: dest as never });
      c.core.bus.on('location.zone.entered', (e) => void events.push(e));
      const { tenancy, identity } = c.services;
      const org = await tenancy.createOrg(sys, { name: 'Campus', country: 'NL' });
      orgId = org.id;
      db = await c.core.directory.storeOf(orgId);
      siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
      floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'Ground', widthM: 150, heightM: 100 })).id;
      const zones: [string, [number, number][]][] = [
        ['A', [[10, 0], [20, 0], [20, 10], [10, 10]]],
        ['M', [[0, 10.5], [10, 10.5], [10, 16], [0, 16]]],
        ['S', [[100, 50], [130, 50], [130, 80], [100, 80]]],
        ['N', [[40, 40], [60, 40], [60, 60], [40, 60]]],
        ['Y', [[70, 0], [90, 0], [90, 20], [70, 20]]],
      ];
      for (const [name, polygon] of zones) zone[name] = (await tenancy.createZone(sys, orgId, floorId, { name, polygon })).id;
      const place = (name: string, kind: 'ap' | 'ble-sensor', xM: number, yM: number, ids: { mac?: string; vendorId?: string }) => c.services.sensors.create(sys, orgId, siteId, { floorId, kind, name, xM, yM, ...ids });
      await place('AP-1', 'ap', 2, 2, { mac: '02:00:5e:aa:00:01' });
      await place('AP-2', 'ap', 8, 2, { mac: '02:00:5e:aa:00:02' });
      await place('AP-3', 'ap', 2, 30, { mac: '02:00:5e:aa:00:03' });
      await place('AP-4', 'ap', 5, 12, { mac: '02:00:5e:aa:00:04' });
      await place('Garage AP', 'ap', 80, 10, { vendorId: 'NH4ParkingGarageStorage_AP2' });
      await place('BLE-1', 'ble-sensor', 40, 40, { vendorId: 'ble-s1' });
      await place('BLE-2', 'ble-sensor', 60, 40, { vendorId: 'ble-s2' });
      await place('BLE-3', 'ble-sensor', 50, 60, { vendorId: 'ble-s3' });
      await c.services.ingest.settings.update(sys, orgId, {
        locationServices: true,
        bleTags: 'ble-badge',
        collect: { meraki: ['ip'] },
        vendorFloors: { [MIST_MAP]: floorId, g_000000000000000001: floorId, 'location-ad0a997': floorId },
        mistSecret: MIST_SECRET,
        merakiSecret: MERAKI_SECRET,
        merakiValidator: 'validator-0123456789',
        spacesCoordinateUnit: 'ft',
      });
      sensorToken = (await identity.createToken(sys, orgId, { name: 'sensor', role: 'sensor' })).token;
      await identity.createUser(sys, orgId, { email: 'admin@campus.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      cookie = await login(c, 'admin@campus.example', 'admin-password-123');
    });
    let closed = false;
    after(async () => {
      if (!closed) await c?.close();
      await setup?.cleanup();
    });

    const fixes = (): Promise<FixRow[]> => new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 10_000);
    const postMist = (body: string, signature = mistSignature(body, MIST_SECRET), org = orgId) =>
      c.app.inject({ method: 'POST', url: `/api/v1/ingest/mist/${org}`, headers: { 'content-type': 'application/json', 'x-mist-signature-v2': signature }, payload: body });
    const metric = async (source: string, reason: string): Promise<number> => {
      const text = (await c.app.inject({ method: 'GET', url: '/metrics' })).body;
      const m = new RegExp(`^cairn_ingest_rejected_total\\{source="${source}",reason="${reason}"\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };

    test('Mist location_client: a signed webhook becomes a pseudonymous fix in its zone', { skip }, async () => {
      const before = events.length;
      const r = await postMist(sample('mist-location_client.json'));
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().fixes, 1);
      const f = (await fixes()).filter((x) => x.source === 'mist');
      assert.equal(f.length, 1);
      assert.match(f[0]!.device, /^[0-9a-f]{32}$/);
      assert.equal(f[0]!.zone_id, zone.A);
      assert.equal(f[0]!.method, 'vendor');
      assert.equal(f[0]!.accuracy_m, 7.5, 'connected Wi-Fi without a vendor accuracy gets the R-LOC-2 figure');
      assert.equal(f[0]!.at_ms, 1461220784000);
      assert.ok(events.slice(before).some((e) => e.zoneId === zone.A && e.device === f[0]!.device), 'a zone enter event names the pseudonym');
    });

    test('re-delivering a webhook stores nothing twice', { skip }, async () => {
      const n = (await fixes()).length;
      const r = await postMist(sample('mist-location_client.json'));
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().fixes, 0);
      assert.equal((await fixes()).length, n);
    });

    test('a wrong or missing Mist signature is refused with CAIRN_ERR_SIGNATURE and counted', { skip }, async () => {
      const before = await metric('mist', 'bad_signature');
      const body = sample('mist-location_client.json');
      const r = await postMist(body, mistSignature(body, 'not-the-secret'));
      assert.equal(r.statusCode, 401);
      assert.equal(r.json().error.code, 'CAIRN_ERR_SIGNATURE');
      assert.equal(await metric('mist', 'bad_signature'), before + 1);
      const missing = await c.app.inject({ method: 'POST', url: `/api/v1/ingest/mist/${orgId}`, headers: { 'content-type': 'application/json' }, payload: body });
      assert.equal(missing.json().error.code, 'CAIRN_ERR_SIGNATURE');
      assert.ok((await metric('mist', 'missing_signature')) >= 1);
      const unknownOrg = await postMist(body, undefined, '01900000-0000-7000-8000-000000000000');
      assert.equal(unknownOrg.statusCode, 404);
    });

    test('unconnected devices get no precise fix by default; SDK phones only after an opt-in', { skip }, async () => {
      const n = (await fixes()).length;
      const un = await postMist(sample('mist-location_unclient.json'));
      assert.equal(un.statusCode, 200);
      assert.deepEqual(un.json().aggregateOnly, { unconnected: 1 });
      assert.equal(un.json().fixes, 0);
      const sdk = await postMist(sample('mist-location_sdk.json'));
      assert.deepEqual(sdk.json().rejected, { sdk_without_opt_in: 1 }, 'an app user without a current opt-in is dropped (R-PRIV-5)');
      assert.deepEqual(sdk.json().aggregateOnly, {});
      assert.equal((await fixes()).length, n, 'no fix for either');
      const presence = await new LocationRepo(db).presenceBetween(orgId, 0, Number.MAX_SAFE_INTEGER);
      assert.ok(presence.some((p) => p.zone_id === zone.A && p.devices >= 1), 'the unconnected device still counts in the zone aggregate');
      await c.services.ingest.settings.update(sys, orgId, { sdkOptIn: { add: [SDK_APP] } });
      const same = await postMist(sample('mist-location_sdk.json'));
      assert.equal(same.json().duplicates, 1, 'the same delivery again is a re-delivery, whatever changed since');
      const later = await postMist(sample('mist-location_sdk.json').replace('1461220784', '1461220790'));
      assert.equal(later.json().fixes, 1, 'after the opt-in the SDK phone is located');
      const f = (await fixes()).find((x) => x.kind === 'sdk');
      assert.equal(f?.zone_id, zone.A);
      assert.equal(f?.accuracy_m, 2);
    });

    test('Mist BLE asset, raw RSSI and zone topics: badges tracked, bad records rejected by reason', { skip }, async () => {
      const asset = await postMist(sample('mist-location_asset.json'));
      assert.equal(asset.json().fixes, 1);
      const f = (await fixes()).find((x) => x.kind === 'ble-badge' && x.source === 'mist');
      assert.equal(f?.zone_id, zone.A);
      const raw = await postMist(sample('mist-discovered-raw-rssi.json').replace('"topic": "string"', '"topic": "discovered-raw-rssi"'));
      assert.equal(raw.statusCode, 200, raw.body);
      assert.deepEqual(raw.json().rejected, { invalid_mac: 1 }, 'the sample\'s placeholder "mac": "string" (and RSSI 0) make it unusable');
      assert.ok((await metric('mist', 'invalid_mac')) >= 1);
      const z = await postMist(sample('mist-zone.json'));
      assert.deepEqual(z.json().unlocated, { unmapped_vendor_zone: 1 }, 'no zone here stands for the sample\'s Mist zone');
      const ping = await postMist(sample('mist-ping.json'));
      assert.equal(ping.statusCode, 200);
    });

    test('Meraki: validator GET, shared secret, WiFi and BLE samples located; disabled fields not stored', { skip }, async () => {
      const v = await c.app.inject({ method: 'GET', url: `/api/v1/ingest/meraki/${orgId}` });
      assert.equal(v.statusCode, 200);
      assert.equal(v.body, 'validator-0123456789');
      assert.match(String(v.headers['content-type']), /^text\/plain/);
      const bad = await c.app.inject({ method: 'POST', url: `/api/v1/ingest/meraki/${orgId}`, headers: { 'content-type': 'application/json' }, payload: sample('meraki-scanning-v3-wifi.constructed.json').replace(MERAKI_SECRET, 'wrong-secret-123') });
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().error.code, 'CAIRN_ERR_SIGNATURE');
      assert.equal(await metric('meraki', 'bad_secret'), 1);

      const wifi = await c.app.inject({ method: 'POST', url: `/api/v1/ingest/meraki/${orgId}`, headers: { 'content-type': 'application/json' }, payload: sample('meraki-scanning-v3-wifi.constructed.json') });
      assert.equal(wifi.statusCode, 200, wifi.body);
      assert.equal(wifi.json().fixes, 2, 'the connected client\'s two locations');
      assert.deepEqual(wifi.json().aggregateOnly, { unconnected: 1 }, 'the probing client is counted, not tracked');
      const mf = (await fixes()).filter((x) => x.source === 'meraki');
      assert.deepEqual(mf.map((x) => x.zone_id), [zone.M, zone.M]);
      assert.equal(mf[0]!.accuracy_m, 1.69, 'the vendor\'s accuracy is passed through');
      const dev = await reposFor(db).devices.get(orgId, mf[0]!.device);
      assert.ok(dev, 'the connected client has a device record');
      assert.equal(await c.core.keys.decrypt(db, orgId, 'devices.ip', dev.ip_enc!), '192.0.2.25', 'the collected IP is stored, encrypted');
      assert.equal(dev.username_enc, null, 'the user id is not collected, so not stored');
      assert.equal(dev.hostname_enc, null);

      const ble = await c.app.inject({ method: 'POST', url: `/api/v1/ingest/meraki/${orgId}`, headers: { 'content-type': 'application/json' }, payload: sample('meraki-scanning-v3-ble.constructed.json') });
      assert.equal(ble.statusCode, 200, ble.body);
      assert.equal(ble.json().fixes, 2);
      const bf = (await fixes()).filter((x) => x.source === 'meraki' && x.kind === 'ble-badge');
      assert.deepEqual(bf.map((x) => [x.method, x.zone_id]), [['association', zone.M], ['vendor', zone.A]], 'the located tag by vendor x/y, the other on its nearest AP');
      assert.equal(bf[0]!.device, bf[1]!.device, 'both reports carry the same iBeacon identity');
      assert.equal(bf[0]!.accuracy_m, 12, 'an association fix has the AP\'s coverage radius');
    });

    test('native batch with a sensor token: multi-sensor RSSI solved by WLS into its zone; sourceRecordId re-delivery', { skip }, async () => {
      const t0 = Date.UTC(2024, 2, 1, 9);
      const truth = { x: 50, y: 48 };
      const readings = [['ble-s1', 40, 40], ['ble-s2', 60, 40], ['ble-s3', 50, 60]].map(([id, x, y]) => ({ sensorId: id as string, rssiDbm: Math.round(rssiAtDistance(DEFAULT_BLE_MODEL, Math.hypot(truth.x - (x as number), truth.y - (y as number))) * 10) / 10 }));
      const body = { observations: [{ kind: 'ble-badge', idType: 'badge', deviceId: 'badge-0042', atMs: t0, readings, sourceRecordId: 'batch-1/0' }] };
      const send = () => c.app.inject({ method: 'POST', url: '/api/v1/ingest/observations', headers: { authorization: `Bearer ${sensorToken}` }, payload: body });
      const r = await send();
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().fixes, 1);
      const f = (await fixes()).find((x) => x.source === 'native')!;
      assert.equal(f.method, 'wls');
      assert.equal(f.zone_id, zone.N);
      assert.ok(Math.hypot(f.x_m - truth.x, f.y_m - truth.y) < 1, `solved near the truth: ${f.x_m}, ${f.y_m}`);
      assert.ok(f.accuracy_m > 0);
      const again = await send();
      assert.equal(again.json().duplicates, 1);
      assert.equal(again.json().fixes, 0);
      assert.equal((await fixes()).filter((x) => x.source === 'native').length, 1);
      const malformed = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/observations', headers: { authorization: `Bearer ${sensorToken}`, 'content-type': 'application/json' }, payload: '{"observations": [' });
      assert.equal(malformed.statusCode, 400);
      assert.equal(malformed.json().error.code, 'CAIRN_ERR_INGEST_MALFORMED');
      assert.ok((await metric('native', 'bad_json')) >= 1);
      const tooMany = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/observations', headers: { authorization: `Bearer ${sensorToken}` }, payload: { observations: Array.from({ length: 1001 }, () => body.observations[0]) } });
      assert.equal(tooMany.statusCode, 400);
      assert.equal(tooMany.json().error.details.reason, 'too_many_items');
      const noAuth = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/observations', payload: body });
      assert.equal(noAuth.statusCode, 401);
    });

    test('Cisco Spaces and syslog files through the CLI\'s loader', { skip }, async () => {
      const spaces = await ingestFile(c.services.ingest, sys, orgId, sample('cisco-spaces-device_location_update.json') + '\n', { format: 'spaces', siteId, referenceMs: Date.UTC(2020, 7, 1) });
      assert.equal(spaces.fixes, 1, JSON.stringify(spaces));
      const sf = (await fixes()).find((x) => x.source === 'spaces')!;
      assert.equal(sf.zone_id, zone.S, 'feet converted to metres on the mapped floor');
      const again = await ingestFile(c.services.ingest, sys, orgId, sample('cisco-spaces-device_location_update.json'), { format: 'spaces', siteId, referenceMs: Date.UTC(2020, 7, 1) });
      assert.equal(again.duplicates, 1, 'recordUid makes re-delivery harmless');
      const syslog = await ingestFile(c.services.ingest, sys, orgId, sample('aruba-syslog-examples.log'), { format: 'syslog', siteId, referenceMs: Date.UTC(2020, 7, 1) });
      assert.equal(syslog.fixes, 1, JSON.stringify(syslog));
      assert.ok((syslog.rejected.hashed_client ?? 0) >= 1, 'clients the sender already hashed are not usable identities');
      const yf = (await fixes()).find((x) => x.source === 'syslog')!;
      assert.equal(yf.method, 'association');
      assert.equal(yf.zone_id, zone.Y);
    });

    test('an org without location services keeps only zone counts', { skip }, async () => {
      const other = await c.services.tenancy.createOrg(sys, { name: 'Quiet', country: 'NL' });
      const s2 = await c.services.tenancy.createSite(sys, other.id, { name: 'S' });
      const f2 = await c.services.tenancy.createFloor(sys, other.id, s2.id, { name: 'F', widthM: 50, heightM: 50 });
      await c.services.tenancy.createZone(sys, other.id, f2.id, { name: 'Z', polygon: [[10, 0], [20, 0], [20, 10], [10, 10]] });
      await c.services.ingest.settings.update(sys, other.id, { vendorFloors: { [MIST_MAP]: f2.id }, mistSecret: MIST_SECRET });
      const r = await postMist(sample('mist-location_client.json'), undefined, other.id);
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json().aggregateOnly, { location_services_off: 1 });
      const odb = await c.core.directory.storeOf(other.id);
      assert.equal(await new LocationRepo(odb).countFixes(other.id), 0);
      assert.equal((await reposFor(odb).devices.list(other.id, null, 10, '')).length, 0, 'no per-device record either');
      const p = await new LocationRepo(odb).presenceBetween(other.id, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(p.reduce((a, x) => a + x.devices, 0), 1);
    });

    test('settings: secrets never shown, changes audited by field name', { skip }, async () => {
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/ingest/settings`, headers: { cookie } });
      assert.equal(r.statusCode, 200);
      const s = r.json();
      assert.equal(s.mistSecretSet, true);
      assert.equal(s.locationServices, true);
      assert.equal(s.sdkOptInCount, 1);
      assert.ok(!r.body.includes(MIST_SECRET) && !r.body.includes(MERAKI_SECRET) && !r.body.includes(SDK_APP));
      const bad = await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${orgId}/ingest/settings`, headers: { cookie }, payload: { collect: { mist: ['shoe_size'] } } });
      assert.equal(bad.statusCode, 400);
      const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
      const upd = events.filter((e) => e.action === 'ingest.settings.update');
      assert.ok(upd.length >= 2);
      assert.ok(!JSON.stringify(upd).includes(MIST_SECRET));
      assert.ok(events.some((e) => e.action === 'ingest.batch'), 'each batch is audited (counts only)');
    });

    test('retention purges fixes past the location class', { skip }, async () => {
      const n = (await fixes()).length;
      assert.ok(n >= 8, `fixes so far: ${n}`);
      await c.services.retention.runAll(sys);
      assert.equal((await fixes()).length, 0, 'the sample fixes are years old: past 30 days');
      assert.equal((await new IngestRepo(db).claimRecords(orgId, 'native', [{ id: 'batch-1/0', atMs: 0 }])).size, 1, 're-delivery records aged out too');
    });

    test('no raw client MAC, IP or user id is in the stores or the logs', { skip }, async () => {
      await c.close();
      closed = true;
      const found: string[] = [];
      if (engine === 'sqlite') {
        const dir = setup.config().dataDir;
        for (const f of readdirSync(dir)) found.push(...findNeedles(readFileSync(join(dir, f)), f));
      } else {
        const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${setup.config().pgSchemaPrefix}_*`, '--data-only'], { maxBuffer: 256 * 1024 * 1024 });
        found.push(...findNeedles(dump, 'pg_dump'));
      }
      const allLogs = logs.join('');
      assert.ok(allLogs.length > 1000, 'logs were captured');
      found.push(...findNeedles(Buffer.from(allLogs), 'logs'));
      assert.deepEqual(found, []);
    });
  });
}
