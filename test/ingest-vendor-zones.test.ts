/**
 * Mist `zone` webhooks mapped onto Cairn zones, on both storage engines, with the shared Mist
 * samples: a zone carries the vendor's zone id (set through the zone API, unique per org); a
 * signed enter/exit for it moves the device in the same presence tracker as Cairn's own zone
 * assignment (events on the bus, zone-minute counts), under the same pseudonym as the device's
 * location events and the same minimisation (asset not tracked, location services off: counts
 * only, events without a pseudonym); unmapped zones are counted as `unmapped_vendor_zone`;
 * re-delivery changes nothing.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo, reposFor, type Database } from '../src/storage/index.ts';
import { ingestFile, mistSignature } from '../src/ingest/index.ts';
import type { ZoneEvent } from '../src/kernel/events.ts';
import type { CairnApp } from '../src/app.ts';

const FORMATS = new URL('../../shared/data/formats/', import.meta.url);
const sample = (name: string): string => readFileSync(new URL(name, FORMATS), 'utf8');

const MIST_SECRET = 'mist-webhook-secret-for-tests';
const MIST_MAP = '845a23bf-bed9-e43c-4c86-6fa474be7ae5';
/** The Mist zone of the `zone` sample. */
const SAMPLE_ZONE = '4495020a-236f-46e0-9453-e3f9cc6476f4';
const T0_S = 1_700_000_000;

type ZoneSample = { topic: string; events: Record<string, unknown>[] };

/** The `zone` sample with its event changed: `wifi` events name the `location_client` sample's device. */
function zoneBody(change: Record<string, unknown>): string {
  const body = JSON.parse(sample('mist-zone.json')) as ZoneSample;
  const ev: Record<string, unknown> = { ...body.events[0]!, timestamp: T0_S, ...change };
  if (ev['type'] === 'wifi') {
    delete ev['asset_id'];
    ev['mac'] = '5684dae9ac8b';
  }
  return JSON.stringify({ ...body, events: [ev] });
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`Mist zone events mapped onto Cairn zones (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let db: Database;
    let orgId: string;
    let floorId: string;
    let zoneA: string;
    let lab: string;
    let cookie: string;
    const entered: ZoneEvent[] = [];
    const exited: ZoneEvent[] = [];
    const sys = systemCtx('test');

    const postMist = (body: string, org = orgId) =>
      c.app.inject({ method: 'POST', url: `/api/v1/ingest/mist/${org}`, headers: { 'content-type': 'application/json', 'x-mist-signature-v2': mistSignature(body, MIST_SECRET) }, payload: body });

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup);
      c.core.bus.on('location.zone.entered', (e) => void entered.push(e));
      c.core.bus.on('location.zone.exited', (e) => void exited.push(e));
      const { tenancy, identity } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Campus', country: 'NL' })).id;
      db = await c.core.directory.storeOf(orgId);
      const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
      floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'Ground', widthM: 150, heightM: 100 })).id;
      zoneA = (await tenancy.createZone(sys, orgId, floorId, { name: 'A', polygon: [[10, 0], [20, 0], [20, 10], [10, 10]] })).id;
      await c.services.ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge', vendorFloors: { [MIST_MAP]: floorId }, mistSecret: MIST_SECRET });
      await identity.createUser(sys, orgId, { email: 'admin@campus.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      cookie = await login(c, 'admin@campus.example', 'admin-password-123');
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('the zone API sets, shows, clears and refuses a second use of a vendor zone id', { skip }, async () => {
      const create = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/floors/${floorId}/zones`, headers: { cookie }, payload: { name: 'Lab', polygon: [[40, 40], [60, 40], [60, 60], [40, 60]], vendorZoneId: ` ${SAMPLE_ZONE} ` } });
      assert.equal(create.statusCode, 201, create.body);
      assert.equal(create.json().vendorZoneId, SAMPLE_ZONE, 'trimmed');
      lab = create.json().id;
      const clash = await c.app.inject({ method: 'PATCH', url: `/api/v1/orgs/${orgId}/zones/${zoneA}`, headers: { cookie }, payload: { vendorZoneId: SAMPLE_ZONE } });
      assert.equal(clash.statusCode, 409);
      assert.equal(clash.json().error.code, 'CAIRN_ERR_CONFLICT');
      const own = await c.app.inject({ method: 'PATCH', url: `/api/v1/orgs/${orgId}/zones/${lab}`, headers: { cookie }, payload: { vendorZoneId: SAMPLE_ZONE, name: 'Lab' } });
      assert.equal(own.statusCode, 200, 'a zone may keep its own id');
      const cleared = await c.app.inject({ method: 'PATCH', url: `/api/v1/orgs/${orgId}/zones/${lab}`, headers: { cookie }, payload: { vendorZoneId: null } });
      assert.equal(cleared.json().vendorZoneId, null);
      await c.app.inject({ method: 'PATCH', url: `/api/v1/orgs/${orgId}/zones/${lab}`, headers: { cookie }, payload: { vendorZoneId: SAMPLE_ZONE } });
      const get = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/zones/${lab}`, headers: { cookie } });
      assert.equal(get.json().vendorZoneId, SAMPLE_ZONE);
      const list = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/floors/${floorId}/zones`, headers: { cookie } });
      assert.equal(list.json().find((z: { id: string }) => z.id === zoneA).vendorZoneId, null);
      const audit = await c.services.auditQueries.list(sys, orgId, { limit: 100 });
      assert.ok(audit.some((e) => e.action === 'zone.update' && e.target === `zone:${lab}`));
    });

    test('an enter of a mapped Mist zone moves the device as Cairn\'s own assignment does, under the same pseudonym', { skip }, async () => {
      const loc = await postMist(sample('mist-location_client.json').replace('1461220784', String(T0_S - 30)));
      assert.equal(loc.statusCode, 200, loc.body);
      const fix = (await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 10))[0]!;
      assert.equal(fix.zone_id, zoneA, 'first placed by its position, in A');
      const [e0, x0] = [entered.length, exited.length];
      const r = await postMist(zoneBody({ type: 'wifi', trigger: 'enter' }));
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual({ accepted: r.json().accepted, zoneEvents: r.json().zoneEvents, unlocated: r.json().unlocated, aggregateOnly: r.json().aggregateOnly, fixes: r.json().fixes }, { accepted: 1, zoneEvents: 2, unlocated: {}, aggregateOnly: {}, fixes: 0 });
      assert.deepEqual(exited.slice(x0).map((e) => [e.zoneId, e.device]), [[zoneA, fix.device]], 'leaves A');
      const ev = entered.slice(e0);
      assert.deepEqual(ev.map((e) => [e.zoneId, e.device, e.floorId, e.atMs]), [[lab, fix.device, floorId, T0_S * 1000]], 'enters the Lab under the pseudonym its location events carry');
      const counts = await new LocationRepo(db).presenceBetween(orgId, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(counts.find((p) => p.zone_id === lab)?.devices, 1, 'the Lab counts it for that minute');

      const again = await postMist(zoneBody({ type: 'wifi', trigger: 'enter' }));
      assert.equal(again.json().duplicates, 1, 're-delivery is skipped');
      assert.equal(again.json().zoneEvents, 0);

      const out = await postMist(zoneBody({ type: 'wifi', trigger: 'exit', timestamp: T0_S + 90 }));
      assert.equal(out.json().zoneEvents, 1);
      assert.deepEqual(exited.slice(x0 + 1).map((e) => [e.zoneId, e.device, e.atMs]), [[lab, fix.device, (T0_S + 90) * 1000]]);
      const stale = await postMist(zoneBody({ type: 'wifi', trigger: 'exit', timestamp: T0_S + 95 }));
      assert.equal(stale.json().zoneEvents, 0, 'leaving a zone it already left moves nothing');
    });

    test('an unmapped Mist zone is counted as unmapped_vendor_zone', { skip }, async () => {
      const r = await postMist(zoneBody({ zone_id: 'a-zone-nobody-mapped', timestamp: T0_S + 200 }));
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json().unlocated, { unmapped_vendor_zone: 1 });
      assert.equal(r.json().zoneEvents, 0);
    });

    test('minimisation: an untracked asset and an org without location services give counts and events without a pseudonym', { skip }, async () => {
      const { tenancy } = c.services;
      const other = (await tenancy.createOrg(sys, { name: 'Quiet', country: 'NL' })).id;
      const s2 = (await tenancy.createSite(sys, other, { name: 'S' })).id;
      const f2 = (await tenancy.createFloor(sys, other, s2, { name: 'F', widthM: 50, heightM: 50 })).id;
      const z2 = (await tenancy.createZone(sys, other, f2, { name: 'Z', polygon: [[10, 0], [20, 0], [20, 10], [10, 10]], vendorZoneId: SAMPLE_ZONE })).vendorZoneId;
      assert.equal(z2, SAMPLE_ZONE, 'vendor zone ids are unique per org, not across orgs');
      await c.services.ingest.settings.update(sys, other, { locationServices: true, mistSecret: MIST_SECRET });
      const e0 = entered.length;
      const asset = await postMist(zoneBody({ timestamp: T0_S + 300 }), other);
      assert.equal(asset.statusCode, 200, asset.body);
      assert.deepEqual(asset.json().aggregateOnly, { asset: 1 }, 'BLE tags are assets here, not tracked individually (R-LOC-3)');
      await c.services.ingest.settings.update(sys, other, { locationServices: false });
      const wifi = await postMist(zoneBody({ type: 'wifi', timestamp: T0_S + 400 }), other);
      assert.deepEqual(wifi.json().aggregateOnly, { location_services_off: 1 });
      const ev = entered.slice(e0).filter((e) => e.orgId === other);
      assert.equal(ev.length, 2);
      assert.ok(ev.every((e) => e.device === null), 'occupancy sees them; nobody can follow them');
      const odb = await c.core.directory.storeOf(other);
      const counts = await new LocationRepo(odb).presenceBetween(other, 0, Number.MAX_SAFE_INTEGER);
      assert.equal(counts.reduce((a, p) => a + p.devices, 0), 2);
      assert.equal((await reposFor(odb).devices.list(other, null, 10, '')).length, 0, 'no device record');
      assert.equal(await new LocationRepo(odb).countFixes(other), 0);
    });

    test('a recorded Mist file (cairn ingest) maps zone events the same way', { skip }, async () => {
      const e0 = entered.length;
      const r = await ingestFile(c.services.ingest, sys, orgId, zoneBody({ timestamp: T0_S + 600 }), { format: 'mist', siteId: null, referenceMs: Date.now() });
      assert.equal(r.zoneEvents, 1, JSON.stringify(r));
      assert.equal(entered.slice(e0)[0]?.zoneId, lab);
      assert.match(entered.slice(e0)[0]?.device ?? '', /^[0-9a-f]{32}$/, 'a badge the org tracks (bleTags ble-badge) is named by its pseudonym');
    });
  });
}
