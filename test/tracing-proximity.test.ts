/**
 * Proximity tracing end to end, on SQLite and PostgreSQL: fixes through the ingest pipeline, the
 * tracing index (open hours in memory, closed hours in tracks and cells, late fixes marking
 * closed hours dirty), traces by badge, MAC and person, co-presence at one AP, badge encounters
 * through the upload route, case reports (list, JSON/CSV/HTML views, delete) audited with their
 * purpose, the thresholds, and retention.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, HOUR_MS, MINUTE_MS } from '../src/kernel/clock.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch, type NativeObservation } from '../src/ingest/index.ts';
import { ProximityRepo } from '../src/storage/index.ts';
import type { CairnApp } from '../src/app.ts';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';

const T0 = Date.UTC(2024, 2, 4, 9, 0);
const sys = systemCtx('test');
const PURPOSE = 'Exposure check for incident 17';

/** A badge standing at (x, y) for `minutes`, one vendor fix every 10 s. */
function stay(badge: string, floorId: string, x: number, y: number, fromMs: number, minutes: number, accuracyM = 0.5): NativeObservation[] {
  const out: NativeObservation[] = [];
  for (let t = fromMs; t < fromMs + minutes * MINUTE_MS; t += 10_000) out.push({ kind: 'ble-badge', idType: 'badge', deviceId: badge, atMs: t, x, y, floorId, accuracyM });
  return out;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`proximity tracing (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    const clock = new FakeClock(T0 + 40 * MINUTE_MS);
    let orgId = '', siteId = '', floorId = '', zoneId = '';

    async function ingest(obs: NativeObservation[]): Promise<void> {
      obs.sort((a, b) => a.atMs! - b.atMs!);
      for (let i = 0; i < obs.length; i += 1000) await c.services.ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: obs.slice(i, i + 1000) }), siteId });
    }
    const trace = (badge: string, extra: Record<string, unknown> = {}) => c.services.proximity.trace(sys, orgId, { badge, fromMs: T0 - HOUR_MS, toMs: T0 + 3 * HOUR_MS, purpose: PURPOSE, ...extra });

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup, {}, { clock });
      const { tenancy, ingest: ing } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Trace Co', country: 'NL' })).id;
      siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
      floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 60, heightM: 30 })).id;
      zoneId = (await tenancy.createZone(sys, orgId, floorId, { name: 'Meeting room', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] })).id;
      await ing.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
      // A and B sit 1 m apart for 30 minutes; C is 6 m away; D is 1.2 m from A for 10 minutes.
      await ingest([
        ...stay('badge-a', floorId, 10, 10, T0, 30),
        ...stay('badge-b', floorId, 11, 10, T0, 30),
        ...stay('badge-c', floorId, 16, 10, T0, 30),
        ...stay('badge-d', floorId, 10, 11.2, T0 + 5 * MINUTE_MS, 10),
      ]);
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('finds contacts from the open hour, before the index has closed it', { skip }, async () => {
      const r = await trace('badge-a');
      const pseudo = await c.core.keys.pseudonymiser(c.core.stores.region('eu'), orgId);
      assert.equal(c.services.proximity.index.indexedUntil(orgId), T0, 'the hour is still open');
      assert.deepEqual(r.contacts.map((x) => x.device), [pseudo('badge', 'badge-b')]);
      const b = r.contacts[0]!;
      assert.equal(b.rank, 1);
      assert.equal(b.cumulativeMinutes, 30);
      assert.equal(b.firstContact, new Date(T0).toISOString());
      assert.equal(b.lastContact, new Date(T0 + 30 * MINUTE_MS).toISOString());
      assert.ok(b.closestMeters !== null && Math.abs(b.closestMeters - 1) < 0.05, `closest ${b.closestMeters}`);
      assert.deepEqual(b.zones, [{ zoneId, name: 'Meeting room', minutes: 30 }]);
      assert.deepEqual(b.evidence, ['proximity']);
      const d = await trace('badge-a', { minMinutes: 5 });
      assert.deepEqual(d.contacts.map((x) => x.cumulativeMinutes), [30, 10], 'a lower threshold takes D in');
    });

    test('a restarted server rebuilds the open hour from the stored fixes', { skip }, async () => {
      const c2 = await makeApp(setup, {}, { clock });
      try {
        const r = await c2.services.proximity.trace(sys, orgId, { badge: 'badge-a', fromMs: T0 - HOUR_MS, toMs: T0 + 3 * HOUR_MS, purpose: PURPOSE, minMinutes: 5 });
        assert.equal(c2.services.proximity.index.indexedUntil(orgId), T0, 'still open');
        assert.deepEqual(r.contacts.map((x) => x.cumulativeMinutes), [30, 10]);
      } finally {
        await c2.close();
      }
    });

    test('gives the same answer from the closed index, and counts late fixes', { skip }, async () => {
      clock.set(T0 + 3 * HOUR_MS);
      const r = await trace('badge-a');
      assert.ok(c.services.proximity.index.indexedUntil(orgId)! >= T0 + HOUR_MS, 'the hour is indexed');
      const size = await new ProximityRepo(c.core.stores.region('eu')).indexSize(orgId);
      assert.ok(size.tracks === 4 && size.cells >= 1, `index rows ${JSON.stringify(size)}`);
      assert.equal(r.contacts.length, 1);
      assert.equal(r.contacts[0]!.cumulativeMinutes, 30);
      assert.ok(Math.abs(r.contacts[0]!.closestMeters! - 1) < 0.05);
      // E sat next to A the whole half hour, but its fixes arrive only now (backfill).
      await ingest(stay('badge-e', floorId, 10, 9, T0, 30));
      const late = await trace('badge-a');
      assert.equal(late.contacts.length, 2, 'the dirty hour was rebuilt');
    });

    test('traces by MAC, and by person through the people directory', { skip }, async () => {
      const mac = '3c:22:fb:9a:41:07';
      const obs: NativeObservation[] = [];
      for (let t = T0; t < T0 + 20 * MINUTE_MS; t += 30_000) obs.push({ kind: 'wifi-connected', idType: 'mac', deviceId: mac, atMs: t, x: 10.5, y: 10.5, floorId, accuracyM: 0.5 });
      await ingest(obs);
      const r = await c.services.proximity.trace(sys, orgId, { mac, fromMs: T0, toMs: T0 + HOUR_MS, purpose: PURPOSE, minMinutes: 15 });
      assert.equal(r.contacts.length, 3, 'A, B and E were within 2 m of the laptop for 20 minutes; D for only 10');
      const people = c.services.people;
      await people.setEnabled(sys, orgId, true);
      const p = await people.create(sys, orgId, { personId: 'emp-1', badges: ['badge-a'], macs: [mac] });
      const byPerson = await c.services.proximity.trace(sys, orgId, { personId: p.id, fromMs: T0, toMs: T0 + HOUR_MS, purpose: PURPOSE });
      assert.equal(byPerson.subject.kind, 'person');
      const pseudo = await c.core.keys.pseudonymiser(c.core.stores.region('eu'), orgId);
      assert.ok(!byPerson.contacts.some((x) => x.device === pseudo('badge', 'badge-a') || x.device === pseudo('mac', mac)), 'the person\'s own devices are not contacts');
      assert.deepEqual(byPerson.contacts.map((x) => x.device).sort(), [pseudo('badge', 'badge-b'), pseudo('badge', 'badge-e')].sort());
    });

    test('co-presence at one AP counts for association-only data', { skip }, async () => {
      const ap = await c.services.sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'AP-1', mac: '5c:5b:35:00:00:01', xM: 40, yM: 20, coverageRadiusM: 12 });
      assert.ok(ap.id);
      const obs: NativeObservation[] = [];
      for (let t = T0 + HOUR_MS; t < T0 + HOUR_MS + 25 * MINUTE_MS; t += 60_000) {
        obs.push({ kind: 'wifi-connected', idType: 'mac', deviceId: '02:00:00:00:00:11', atMs: t, apMac: '5c:5b:35:00:00:01' });
        obs.push({ kind: 'wifi-connected', idType: 'mac', deviceId: '02:00:00:00:00:12', atMs: t + 5_000, apMac: '5c:5b:35:00:00:01' });
      }
      await ingest(obs);
      clock.set(T0 + 4 * HOUR_MS);
      const r = await c.services.proximity.trace(sys, orgId, { mac: '02:00:00:00:00:11', fromMs: T0 + HOUR_MS, toMs: T0 + 2 * HOUR_MS, purpose: PURPOSE });
      assert.equal(r.contacts.length, 1);
      assert.deepEqual(r.contacts[0]!.evidence, ['co-presence']);
      assert.equal(r.contacts[0]!.closestMeters, null);
      assert.equal(r.contacts[0]!.cumulativeMinutes, 25);
      await c.services.proximity.updateSettings(sys, orgId, { coPresence: false });
      const off = await c.services.proximity.trace(sys, orgId, { mac: '02:00:00:00:00:11', fromMs: T0 + HOUR_MS, toMs: T0 + 2 * HOUR_MS, purpose: PURPOSE });
      assert.equal(off.contacts.length, 0, 'the org turned co-presence off');
      await c.services.proximity.updateSettings(sys, orgId, { coPresence: true });
    });

    test('badge encounters uploaded by a sensor are stored pseudonymised and traced', { skip }, async () => {
      const token = await c.services.identity.createToken(sys, orgId, { name: 'badge gateway', role: 'sensor' });
      const at = T0 + 2 * HOUR_MS;
      const enc = Array.from({ length: 60 }, (_, i) => ({ a: 'badge-x', b: 'badge-y', rssi: -60, atMs: at + i * 20_000, durationMs: 20_000 }));
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/encounters', headers: { authorization: `Bearer ${token.token}` }, payload: enc });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { accepted: 60, stored: 60, duplicates: 0 });
      const again = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/encounters', headers: { authorization: `Bearer ${token.token}` }, payload: { encounters: enc.map((e) => ({ ...e, a: e.b, b: e.a })) } });
      assert.deepEqual(again.json(), { accepted: 60, stored: 0, duplicates: 60 }, 'the same pair in the other order is the same encounter');
      const bad = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/encounters', headers: { authorization: `Bearer ${token.token}` }, payload: [{ a: 'x', b: 'x', atMs: at }] });
      assert.equal(bad.statusCode, 400);
      const r = await trace('badge-x', { fromMs: at - HOUR_MS, toMs: at + HOUR_MS });
      assert.equal(r.contacts.length, 1);
      assert.equal(r.contacts[0]!.cumulativeSeconds, 1200);
      assert.deepEqual(r.contacts[0]!.evidence, ['encounter']);
      await c.services.proximity.updateSettings(sys, orgId, { encounterMinRssiDbm: -50 });
      assert.equal((await trace('badge-x', { fromMs: at - HOUR_MS, toMs: at + HOUR_MS })).contacts.length, 0, 'weaker than the org\'s floor');
      await c.services.proximity.updateSettings(sys, orgId, { encounterMinRssiDbm: null });
    });

    test('case reports: listed, viewed as JSON, CSV and HTML, each view audited with the purpose, deleted', { skip }, async () => {
      const { identity } = c.services;
      await identity.createUser(sys, orgId, { email: 'admin@trace.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      const cookie = await login(c, 'admin@trace.example', 'admin-password-123');
      const run = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/contact-traces`, headers: { cookie }, payload: { badge: 'badge-a', from: new Date(T0).toISOString(), to: new Date(T0 + HOUR_MS).toISOString(), purpose: PURPOSE, secondDegree: true } });
      assert.equal(run.statusCode, 200, run.body);
      const report = run.json() as { id: string; contacts: { device: string }[]; secondDegree: { via: string }[] };
      assert.ok(report.contacts.length >= 2 && Array.isArray(report.secondDegree));
      const list = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/contact-traces`, headers: { cookie } });
      assert.equal(list.statusCode, 200);
      assert.equal((list.json() as { id: string; purpose: string }[])[0]!.id, report.id);
      const csv = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/contact-traces/${report.id}?format=csv`, headers: { cookie } });
      assert.equal(csv.statusCode, 200);
      assert.match(csv.headers['content-type'] as string, /text\/csv/);
      assert.ok(csv.body.startsWith('degree,rank,device,person_id,via,first_contact'));
      const html = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/contact-traces/${report.id}?format=html`, headers: { cookie } });
      assert.match(html.headers['content-type'] as string, /text\/html/);
      assert.ok(html.body.includes(PURPOSE) && html.body.includes('no health information'));
      const json = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/contact-traces/${report.id}`, headers: { cookie } });
      assert.deepEqual(json.json(), run.json());
      const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
      const views = events.filter((e) => e.action === 'contactTrace.view' && e.target === `case:${report.id}`);
      assert.equal(views.length, 3);
      assert.ok(views.every((e) => (e.details as { purpose?: string }).purpose === PURPOSE));
      assert.ok(events.some((e) => e.action === 'contactTrace.run' && e.target === `case:${report.id}` && (e.details as { purpose?: string }).purpose === PURPOSE));
      const health = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/contact-traces`, headers: { cookie }, payload: { badge: 'badge-a', from: new Date(T0).toISOString(), to: new Date(T0 + HOUR_MS).toISOString(), purpose: 'employee tested positive' } });
      assert.equal(health.statusCode, 400);
      assert.match(health.json().error.message, /health information/);
      const long = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/contact-traces`, headers: { cookie }, payload: { badge: 'badge-a', from: new Date(T0).toISOString(), to: new Date(T0 + 20 * 24 * HOUR_MS).toISOString(), purpose: PURPOSE } });
      assert.equal(long.statusCode, 400, 'longer than the org\'s window');
      const del = await c.app.inject({ method: 'DELETE', url: `/api/v1/orgs/${orgId}/contact-traces/${report.id}`, headers: { cookie } });
      assert.equal(del.statusCode, 204);
      assert.equal((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/contact-traces/${report.id}`, headers: { cookie } })).statusCode, 404);
    });

    test('thresholds are the org admin\'s, within bounds', { skip }, async () => {
      const s = await c.services.proximity.updateSettings(sys, orgId, { radiusMeters: 1.5, minMinutes: 10 });
      assert.equal(s.radiusMeters, 1.5);
      assert.equal((await c.services.proximity.settings(sys, orgId)).minMinutes, 10);
      await assert.rejects(c.services.proximity.updateSettings(sys, orgId, { radiusMeters: 50 }), /radiusMeters must be/);
      await c.services.proximity.updateSettings(sys, orgId, { radiusMeters: 2, minMinutes: 15 });
    });

    test('retention purges the index, encounters and case reports with the fixes', { skip }, async () => {
      clock.set(T0 + 40 * 24 * HOUR_MS);
      await c.services.retention.runForOrg(sys, orgId);
      const db = c.core.stores.region('eu');
      const repo = new ProximityRepo(db);
      const size = await repo.indexSize(orgId);
      assert.deepEqual([size.tracks, size.cells], [0, 0]);
      assert.equal(await repo.countEncounters(orgId), 0);
      assert.equal((await repo.listCases(orgId, 100)).length, 0);
      const r = await c.services.proximity.trace(sys, orgId, { badge: 'badge-a', fromMs: T0, toMs: T0 + HOUR_MS, purpose: PURPOSE });
      assert.equal(r.contacts.length, 0, 'nothing left to find');
    });
  });
}
