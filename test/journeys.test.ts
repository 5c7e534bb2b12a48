/**
 * Journeys and the people directory end to end, on both storage engines (issue 4, R-CT-2,
 * R-CT-5, R-CT-8, R-DATA-3, R-DATA-11): fixes ingested through the real pipeline become zone
 * visits written in ingest transactions (a first visit in its own batch, departures in the next;
 * an open visit is not rewritten every batch; a device flickering across a zone border stays in
 * its visit; a device that goes idle leaves at its last sighting); after a crash the visits the
 * previous process left open are moved on by replaying the stored fixes and continue when the
 * device comes back; the
 * journey API answers by device id, by MAC in a POST body, by person, as JSON and CSV, with
 * dwell bands the org can move, narrowed to a site admin's sites, refused to observers, and
 * audited; the directory imports CSV, keeps identities encrypted, links by pseudonym only, and
 * unlinking or turning it off removes the links; retention purges old visits.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx, type Ctx } from '../src/privacy/index.ts';
import { JourneysRepo, type Database, type VisitRow } from '../src/storage/index.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5, 8);
const MAC = { d1: '3c:22:fb:9a:41:01', d2: '3c:22:fb:9a:41:02', d3: '3c:22:fb:9a:41:03', d4: '3c:22:fb:9a:41:04' };
const AT = { A: [5, 5], B: [25, 5], none: [15, 25], C: [5, 5] } as const;

interface World {
  orgId: string;
  siteId: string;
  floorId: string;
  floor2Id: string;
  zone: Record<'A' | 'B' | 'C', string>;
}

async function world(c: CairnApp, name: string): Promise<World> {
  const sys = systemCtx('test');
  const { tenancy, ingest } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name, country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const site2Id = (await tenancy.createSite(sys, orgId, { name: 'Annex' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'Ground', widthM: 50, heightM: 40 })).id;
  const floor2Id = (await tenancy.createFloor(sys, orgId, site2Id, { name: 'Annex 1', widthM: 20, heightM: 20 })).id;
  const square = (x: number, y: number): [number, number][] => [[x, y], [x + 10, y], [x + 10, y + 10], [x, y + 10]];
  const zone = {
    A: (await tenancy.createZone(sys, orgId, floorId, { name: 'Lobby', polygon: square(0, 0) })).id,
    B: (await tenancy.createZone(sys, orgId, floorId, { name: 'Cafe, east', polygon: square(20, 0) })).id,
    C: (await tenancy.createZone(sys, orgId, floor2Id, { name: 'Annex lab', polygon: square(0, 0) })).id,
  };
  await ingest.settings.update(sys, orgId, { locationServices: true });
  return { orgId, siteId, floorId, floor2Id, zone };
}

/** One native batch: each [mac, where, atMs], positions given by the vendor (x/y on a floor). */
async function feed(c: CairnApp, w: World, rows: [string, keyof typeof AT, number][]): Promise<void> {
  const observations = rows.map(([mac, where, atMs]) => ({ kind: 'wifi-connected' as const, deviceId: mac, atMs, x: AT[where][0], y: AT[where][1], floorId: where === 'C' ? w.floor2Id : w.floorId }));
  await c.services.ingest.ingest(systemCtx('test'), w.orgId, { source: 'native', observations: parseNativeBatch({ observations }) });
}

const stored = async (c: CairnApp, w: World, pseudonym: string): Promise<VisitRow[]> => new JourneysRepo(await c.core.directory.storeOf(w.orgId)).visitsOf(w.orgId, [pseudonym], 0, Number.MAX_SAFE_INTEGER, 100);
const pseudonymOf = async (c: CairnApp, w: World, mac: string) => c.core.keys.pseudonym(await c.core.directory.storeOf(w.orgId), w.orgId, 'mac', mac);
/**
 * Another batch of the org at `atMs` (a device outside every zone): visit changes decided after a
 * commit, and the minute's sweep (idle devices, refreshes, settled departures), are written by the
 * org's next batch.
 */
const nextBatch = (c: CairnApp, w: World, atMs: number) => feed(c, w, [['02:00:5e:00:0f:ff', 'none', atMs]]);

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`journeys and people (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let w: World;
    let admin: string;
    let siteAdmin: string;
    let observer: string;
    const sys: Ctx = systemCtx('test');

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup);
      w = await world(c, 'Journeys campus');
      const { identity } = c.services;
      await identity.createUser(sys, w.orgId, { email: 'admin@journeys.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      await identity.createUser(sys, w.orgId, { email: 'site@journeys.example', password: 'site-password-1234', roles: [{ role: 'site_admin', siteId: w.siteId }] });
      await identity.createUser(sys, w.orgId, { email: 'observer@journeys.example', password: 'observer-pass-123', roles: [{ role: 'observer' }] });
      admin = await login(c, 'admin@journeys.example', 'admin-password-123');
      siteAdmin = await login(c, 'site@journeys.example', 'site-password-1234');
      observer = await login(c, 'observer@journeys.example', 'observer-pass-123');
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('visits are written with the batches: opened on enter, not rewritten every batch, closed on leaving', { skip }, async () => {
      const d1 = await pseudonymOf(c, w, MAC.d1);
      await feed(c, w, [[MAC.d1, 'A', T0], [MAC.d2, 'A', T0]]);
      assert.deepEqual((await stored(c, w, d1)).map((v) => [v.zone_id, v.enter_ms, v.last_ms, v.exit_ms]), [[w.zone.A, T0, T0, null]], 'open at once, with the enter time');
      await feed(c, w, [[MAC.d1, 'A', T0 + MIN], [MAC.d2, 'A', T0 + MIN / 2]]);
      assert.equal((await stored(c, w, d1))[0]!.last_ms, T0, 'a minute later the open visit is not rewritten');
      for (const m of [4, 8, 12, 16, 20]) await feed(c, w, [[MAC.d1, 'A', T0 + m * MIN]]);
      assert.equal((await stored(c, w, d1))[0]!.last_ms, T0, 'twenty minutes on, the open visit is still as first written');
      await feed(c, w, [[MAC.d1, 'A', T0 + 21 * MIN]]);
      assert.equal((await stored(c, w, d1))[0]!.last_ms, T0 + 20 * MIN, 'after the refresh interval it is rewritten');
      await feed(c, w, [[MAC.d1, 'B', T0 + 22 * MIN]]);
      await feed(c, w, [[MAC.d1, 'none', T0 + 23 * MIN]]);
      await feed(c, w, [[MAC.d1, 'C', T0 + 24 * MIN], [MAC.d1, 'C', T0 + 27 * MIN], [MAC.d1, 'C', T0 + 30 * MIN], [MAC.d1, 'C', T0 + 33 * MIN]]);
      await nextBatch(c, w, T0 + 33 * MIN);
      const v = await stored(c, w, d1);
      assert.deepEqual(v.map((r) => [r.zone_id, r.enter_ms, r.exit_ms]), [[w.zone.A, T0, T0 + 22 * MIN], [w.zone.B, T0 + 22 * MIN, T0 + 23 * MIN], [w.zone.C, T0 + 24 * MIN, null]]);
      assert.ok(v.every((r) => /^[0-9a-f]{32}$/.test(r.device)), 'devices are pseudonyms');
    });

    test('a device that goes idle leaves its zone at its last sighting', { skip }, async () => {
      const d2 = await pseudonymOf(c, w, MAC.d2);
      assert.deepEqual((await stored(c, w, d2)).map((r) => [r.zone_id, r.enter_ms, r.last_ms, r.exit_ms]), [[w.zone.A, T0, T0 + MIN / 2, T0 + MIN / 2]]);
    });

    test('a device flickering across a zone border for less than the settle time stays in its visit', { skip }, async () => {
      const mac = '3c:22:fb:9a:41:05';
      const t = T0 + 2 * 60 * MIN;
      await feed(c, w, [[mac, 'A', t], [mac, 'B', t + 10_000], [mac, 'A', t + 20_000], [mac, 'none', t + 30_000]]);
      await feed(c, w, [[mac, 'A', t + 40_000], [mac, 'A', t + 2 * MIN]]);
      await feed(c, w, [[mac, 'B', t + 3 * MIN], [mac, 'B', t + 4 * MIN], [mac, 'B', t + 5 * MIN]]);
      await nextBatch(c, w, t + 5 * MIN);
      const v = await stored(c, w, await pseudonymOf(c, w, mac));
      assert.deepEqual(v.map((r) => [r.zone_id, r.enter_ms, r.exit_ms]), [[w.zone.A, t, t + 3 * MIN], [w.zone.B, t + 3 * MIN, null]], 'one visit to A, then B once the device stayed there');
    });

    test('the journey by device id, as JSON and CSV, in dwell bands; by MAC only in a POST body', { skip }, async () => {
      const d1 = await pseudonymOf(c, w, MAC.d1);
      const qs = `from=${new Date(T0 - 60 * MIN).toISOString()}&to=${new Date(T0 + 60 * MIN).toISOString()}`;
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/devices/${d1}/journey?${qs}`, headers: { cookie: admin } });
      assert.equal(r.statusCode, 200, r.body);
      const j = r.json();
      assert.deepEqual(
        j.visits.map((v: { zoneName: string; enter: string; exit: string; dwellSeconds: number; band: string; ongoing: boolean }) => [v.zoneName, v.enter, v.exit, v.dwellSeconds, v.band, v.ongoing]),
        [
          ['Lobby', new Date(T0).toISOString(), new Date(T0 + 22 * MIN).toISOString(), 1320, 'bounce', false],
          ['Cafe, east', new Date(T0 + 22 * MIN).toISOString(), new Date(T0 + 23 * MIN).toISOString(), 60, 'passerby', false],
          ['Annex lab', new Date(T0 + 24 * MIN).toISOString(), new Date(T0 + 33 * MIN).toISOString(), 540, 'bounce', false],
        ],
        'the open visit ended (by the wall clock) at its last sighting, taken from memory',
      );
      assert.deepEqual(j.totals, { visits: 3, dwellSeconds: 1920, byBand: { passerby: 1, bounce: 2, engaged: 0, stationed: 0 } });
      assert.equal(j.narrowed, false);

      const csv = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/devices/${d1}/journey?${qs}&format=csv`, headers: { cookie: admin } });
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      const lines = csv.body.trimEnd().split('\r\n');
      assert.equal(lines[0], 'device,site_id,site,floor_id,floor,zone_id,zone,enter,exit,dwell_seconds,band,ongoing');
      assert.equal(lines.length, 4);
      assert.ok(lines[2]!.includes('"Cafe, east"'), 'a name with a comma is quoted');

      const byMac = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/journeys/search`, headers: { cookie: admin }, payload: { mac: MAC.d1.toUpperCase().replace(/:/g, '-'), from: new Date(T0 - 60 * MIN).toISOString(), to: new Date(T0 + 60 * MIN).toISOString() } });
      assert.equal(byMac.statusCode, 200, byMac.body);
      assert.deepEqual(byMac.json().visits, j.visits);
      assert.deepEqual(byMac.json().subject, { kind: 'device', devices: [d1] });

      const bands = await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${w.orgId}/journeys/settings`, headers: { cookie: admin }, payload: { passerbyMaxMinutes: 8, bounceMaxMinutes: 10, engagedMaxMinutes: 60 } });
      assert.equal(bands.statusCode, 200, bands.body);
      const moved = (await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/devices/${d1}/journey?${qs}`, headers: { cookie: admin } })).json();
      assert.deepEqual(moved.visits.map((v: { band: string }) => v.band), ['engaged', 'passerby', 'bounce']);
      const refused = await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${w.orgId}/journeys/settings`, headers: { cookie: admin }, payload: { passerbyMaxMinutes: 10, bounceMaxMinutes: 10, engagedMaxMinutes: 60 } });
      assert.equal(refused.statusCode, 400);
      await c.services.journeys.setBands(sys, w.orgId, null);
    });

    test('site admins see their sites only; observers are refused; every read is audited without the MAC', { skip }, async () => {
      const d1 = await pseudonymOf(c, w, MAC.d1);
      const url = `/api/v1/orgs/${w.orgId}/devices/${d1}/journey?from=${new Date(T0 - MIN).toISOString()}&to=${new Date(T0 + 60 * MIN).toISOString()}`;
      const s = await c.app.inject({ method: 'GET', url, headers: { cookie: siteAdmin } });
      assert.equal(s.statusCode, 200, s.body);
      assert.deepEqual(s.json().visits.map((v: { zoneId: string }) => v.zoneId), [w.zone.A, w.zone.B]);
      assert.equal(s.json().narrowed, true);
      const o = await c.app.inject({ method: 'GET', url, headers: { cookie: observer } });
      assert.equal(o.statusCode, 404);
      const events = await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      const reads = events.filter((e) => e.action === 'journey.read');
      assert.ok(reads.length >= 4 && reads.every((e) => e.target === `device:${d1}`), 'journey reads are audited by device id');
      assert.ok(events.some((e) => e.action === 'journey.query' && e.outcome === 'denied'), 'the observer\'s attempt is audited');
      assert.ok(!JSON.stringify(events).toLowerCase().includes('3c22fb9a4101') && !JSON.stringify(events).includes(MAC.d1), 'no MAC in the audit log');
    });

    test('the people directory: off by default, CSV import encrypted, journeys by person, unlink and off remove links', { skip }, async () => {
      const csv = 'person_id,name,email,macs,badges,department\r\nE-001,"de Vries, Jan",jan@journeys.example,3C-22-FB-9A-41-01,badge-0042,Radiology\r\nE-002,Ann,,,badge-0043,IT\r\n';
      const off = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/people/import`, headers: { cookie: admin, 'content-type': 'text/csv' }, payload: csv });
      assert.equal(off.statusCode, 409);
      assert.equal(off.json().error.code, 'CAIRN_ERR_FEATURE_DISABLED');
      assert.equal((await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${w.orgId}/people/settings`, headers: { cookie: admin }, payload: { enabled: true } })).statusCode, 200);
      const imp = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/people/import`, headers: { cookie: admin, 'content-type': 'text/csv' }, payload: csv });
      assert.equal(imp.statusCode, 200, imp.body);
      assert.deepEqual(imp.json(), { people: 2, created: 2, updated: 0, linked: 3, unlinked: 0, moved: 0, ignored: ['department'] });
      const again = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/people/import`, headers: { cookie: admin }, payload: [{ personId: 'E-002', name: 'Ann B.', badges: ['badge-0044'] }] });
      assert.deepEqual(again.json(), { people: 1, created: 0, updated: 1, linked: 1, unlinked: 1, moved: 0, ignored: [] });

      const list = (await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/people`, headers: { cookie: admin } })).json();
      const jan = list.find((p: { personId: string }) => p.personId === 'E-001');
      assert.equal(jan.name, 'de Vries, Jan');
      assert.equal(jan.email, 'jan@journeys.example');
      const d1 = await pseudonymOf(c, w, MAC.d1);
      assert.deepEqual(jan.devices.map((d: { id: string; kind: string }) => [d.id, d.kind]).sort(), [[d1, 'mac'], [await c.core.keys.pseudonym(await c.core.directory.storeOf(w.orgId), w.orgId, 'badge', 'badge-0042'), 'badge']].sort());
      const db: Database = await c.core.directory.storeOf(w.orgId);
      const raw = JSON.stringify(await db.all('SELECT * FROM people')) + JSON.stringify(await db.all('SELECT * FROM person_devices'));
      for (const needle of ['de Vries', 'jan@journeys', 'E-001', 'badge-0042', '3c22fb9a4101', '3C-22-FB']) assert.ok(!raw.includes(needle), `${needle} is not stored in clear`);
      assert.equal((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/people`, headers: { cookie: siteAdmin } })).statusCode, 404, 'site admins never see identities');

      const window = { from: new Date(T0 - MIN).toISOString(), to: new Date(T0 + 60 * MIN).toISOString() };
      const byPerson = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/people/${jan.id}/journey?from=${window.from}&to=${window.to}`, headers: { cookie: admin } });
      assert.equal(byPerson.statusCode, 200, byPerson.body);
      assert.equal(byPerson.json().subject.kind, 'person');
      assert.equal(byPerson.json().visits.length, 3);
      const byRef = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/journeys/search`, headers: { cookie: admin }, payload: { personRef: 'E-001', ...window } });
      assert.equal(byRef.json().visits.length, 3);
      assert.equal((await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/journeys/search`, headers: { cookie: admin }, payload: { personRef: 'E-999', ...window } })).statusCode, 404);

      const unlink = await c.app.inject({ method: 'DELETE', url: `/api/v1/orgs/${w.orgId}/people/${jan.id}/devices/${d1}`, headers: { cookie: admin } });
      assert.equal(unlink.statusCode, 204);
      assert.equal((await db.all('SELECT device FROM person_devices WHERE device = $1', [d1])).length, 0, 'unlinking deletes the link');
      assert.equal((await c.services.journeys.query(sys, w.orgId, { personId: jan.id, fromMs: T0 - MIN, toMs: T0 + 60 * MIN })).visits.length, 0, 'without the link the person has no journey');
      const relink = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/people/${jan.id}/devices`, headers: { cookie: admin }, payload: { mac: MAC.d1 } });
      assert.deepEqual(relink.json(), { id: d1, kind: 'mac' });

      const offAgain = await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${w.orgId}/people/settings`, headers: { cookie: admin }, payload: { enabled: false } });
      assert.deepEqual(offAgain.json(), { enabled: false, people: 0, erased: { people: 2, links: 3 } });
      assert.equal((await db.all('SELECT * FROM people')).length + (await db.all('SELECT * FROM person_devices')).length, 0, 'off erases the directory');
      const actions = (await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 })).map((e) => e.action);
      for (const a of ['person.settings', 'person.import', 'person.read', 'person.unlink', 'person.link']) assert.ok(actions.includes(a), `${a} is audited`);
    });

    test('after a crash, open visits are completed from the fixes and continue when the device comes back', { skip }, async () => {
      const t1 = T0 + 3 * 60 * MIN;
      const w2 = await world(c, 'Crash campus');
      await feed(c, w2, [[MAC.d3, 'A', t1], [MAC.d4, 'B', t1]]);
      await feed(c, w2, [[MAC.d3, 'A', t1 + MIN], [MAC.d4, 'B', t1 + MIN]]);
      await feed(c, w2, [[MAC.d3, 'A', t1 + 2 * MIN], [MAC.d4, 'B', t1 + 2 * MIN]]);
      const d3 = await pseudonymOf(c, w2, MAC.d3);
      const d4 = await pseudonymOf(c, w2, MAC.d4);
      assert.equal((await stored(c, w2, d3))[0]!.last_ms, t1, 'the store lags the last sighting (no rewrite yet)');
      // A crash: the process goes away without writing anything more.
      await c.close();
      c = await makeApp(setup);

      const before = await c.services.journeys.query(sys, w2.orgId, { device: d3, fromMs: t1 - MIN, toMs: t1 + 60 * MIN });
      assert.deepEqual(before.visits.map((v) => [v.enter, v.exit, v.dwellSeconds]), [[new Date(t1).toISOString(), new Date(t1 + 2 * MIN).toISOString(), 120]], 'the last sighting comes from the stored fixes');

      await feed(c, w2, [[MAC.d3, 'A', t1 + 4 * MIN]]);
      await feed(c, w2, [[MAC.d3, 'A', t1 + 8 * MIN]]);
      assert.deepEqual((await stored(c, w2, d3)).map((r) => [r.enter_ms, r.exit_ms]), [[t1, null]], 'back within the idle time: the same visit goes on');
      const after = await c.services.journeys.query(sys, w2.orgId, { device: d3, fromMs: t1 - MIN, toMs: t1 + 60 * MIN });
      assert.deepEqual(after.visits.map((v) => [v.enter, v.exit]), [[new Date(t1).toISOString(), new Date(t1 + 8 * MIN).toISOString()]]);
      await feed(c, w2, [[MAC.d3, 'A', t1 + 30 * MIN]]);
      await nextBatch(c, w2, t1 + 30 * MIN);
      assert.deepEqual((await stored(c, w2, d4)).map((r) => [r.enter_ms, r.exit_ms]), [[t1, t1 + 2 * MIN]], 'not back: it ended at its last sighting');
      assert.deepEqual((await stored(c, w2, d3)).map((r) => [r.zone_id, r.enter_ms, r.exit_ms]), [[w2.zone.A, t1, t1 + 8 * MIN], [w2.zone.A, t1 + 30 * MIN, null]], 'after a longer absence a new visit starts');
    });

    test('retention purges visits that ended before the period', { skip }, async () => {
      const r = await c.services.retention.runForOrg(sys, w.orgId);
      assert.ok((r.purged.location ?? 0) > 0);
      const d1 = await pseudonymOf(c, w, MAC.d1);
      assert.deepEqual(await stored(c, w, d1), []);
    });
  });
}
