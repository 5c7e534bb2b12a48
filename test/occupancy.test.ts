/**
 * Live occupancy and hot-zone alerts end to end, on SQLite and PostgreSQL: observations through
 * the ingest pipeline → live counts per zone and floor (window and randomised-address policy per
 * org) → a zone over its limit for the hold time → a violation stored, audited and delivered to a
 * real local HTTP receiver (Mist `occupancy-alerts` payload, HMAC-SHA256 signed) and to a real
 * SMTP sink → hysteresis and the recovery event. Deliveries that fail are retried with back-off,
 * every attempt recorded, and a restarted server resumes the queue. Identities appear only when
 * the org turns them on. Learned baselines, the live event stream and the CLI are covered too.
 * Time is a fake clock moved by hand; evaluations are awaited, never timed.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { makeApp, login, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { FakeClock, MINUTE_MS, DAY_MS } from '../src/kernel/clock.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';
import { OccupancyRepo, type OccupancyMinuteRow } from '../src/storage/index.ts';
import { verifyCairnSignature, verifyMistCompatibleSignature } from '../src/tracing/index.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../src/tracing/delivery/testkit.ts';
import { startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import type { CairnApp } from '../src/app.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0); // a Monday, 09:00 UTC
const SECRET = 'occupancy-test-secret-0123456789';
const sys = systemCtx('test');

interface World {
  orgId: string;
  siteId: string;
  floorId: string;
  zoneA: string;
  zoneB: string;
}

/** MAC number `i` (globally administered) or, with `random`, a locally administered one. */
function mac(i: number, random = false): string {
  return `${random ? '02' : '00'}:10:20:30:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
}

async function world(c: CairnApp, name: string): Promise<World> {
  const { tenancy } = c.services;
  const org = await tenancy.createOrg(sys, { name, country: 'NL' });
  const site = await tenancy.createSite(sys, org.id, { name: 'HQ', timezone: 'UTC' });
  const floor = await tenancy.createFloor(sys, org.id, site.id, { name: 'Ground', widthM: 40, heightM: 20 });
  const a = await tenancy.createZone(sys, org.id, floor.id, { name: 'Canteen', polygon: [[0, 0], [10, 0], [10, 10], [0, 10]] });
  const b = await tenancy.createZone(sys, org.id, floor.id, { name: 'Lobby', polygon: [[10, 0], [20, 0], [20, 10], [10, 10]] });
  return { orgId: org.id, siteId: site.id, floorId: floor.id, zoneA: a.id, zoneB: b.id };
}

/** Devices seen at (x, y) on the floor at `atMs` through the ingest pipeline. */
async function seen(c: CairnApp, w: World, devices: { mac: string; x: number; y: number }[], atMs: number): Promise<void> {
  const observations = devices.map((d) => ({ kind: 'wifi-connected' as const, deviceId: d.mac, atMs, x: d.x, y: d.y, floorId: w.floorId }));
  await c.services.ingest.ingest(sys, w.orgId, { source: 'native', observations: parseNativeBatch({ observations }), siteId: w.siteId });
}

const inA = (n: number, from = 0, random = false) => Array.from({ length: n }, (_, i) => ({ mac: mac(from + i, random), x: 2 + i * 0.1, y: 5 }));
const inB = (n: number, from = 500) => Array.from({ length: n }, (_, i) => ({ mac: mac(from + i), x: 15, y: 5 + i * 0.1 }));

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`occupancy and hot-zone alerts (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let clock: FakeClock;
    let receiver: WebhookReceiver;
    let sink: SmtpSink;
    let w: World;

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      clock = new FakeClock(T0);
      receiver = await startWebhookReceiver();
      sink = await startSmtpSink();
      c = await makeApp(setup, { deliveryAllowPrivateTargets: true }, { clock });
      w = await world(c, 'Occupancy org');
    });
    after(async () => {
      await c?.close();
      await receiver?.close();
      await sink?.close();
      await setup?.cleanup();
    });

    test('live counts per zone and floor, within the org\'s window, with its randomised-address policy', { skip }, async () => {
      const occ = c.services.occupancy;
      await seen(c, w, [...inA(3), ...inA(1, 100, true), ...inB(2), { mac: mac(900), x: 30, y: 15 }], clock.nowMs());
      await occ.evaluate(w.orgId);
      let v = await occ.live(sys, w.orgId, w.siteId);
      assert.equal(v.source, 'memory');
      assert.equal(v.randomizedPolicy, 'count');
      const zone = (id: string) => v.zones.find((z) => z.zoneId === id)!;
      assert.deepEqual([zone(w.zoneA).figure, zone(w.zoneA).devices, zone(w.zoneA).randomized], [4, 4, 1]);
      assert.equal(zone(w.zoneB).figure, 2);
      assert.equal(v.floors[0]!.figure, 7, 'the floor is its zones plus the devices outside them');
      assert.equal(v.floors[0]!.outsideZones.figure, 1);
      assert.equal(v.figure, 7);
      assert.ok(!JSON.stringify(v).includes('00:10:20'), 'no address in the view');

      await occ.updateSettings(sys, w.orgId, { randomized: 'skip' });
      v = await occ.live(sys, w.orgId, w.siteId);
      assert.deepEqual([zone(w.zoneA).figure, zone(w.zoneA).devices, zone(w.zoneA).randomized], [3, 4, 1], 'skip leaves the randomised address out of the figure');

      // The window: 2 minutes later, with a 1-minute window, nobody counts any more.
      await occ.updateSettings(sys, w.orgId, { windowMinutes: 1, randomized: 'count' });
      clock.advance(2 * MINUTE_MS);
      v = await occ.live(sys, w.orgId, w.siteId);
      assert.equal(v.figure, 0);
      await assert.rejects(occ.updateSettings(sys, w.orgId, { windowMinutes: 6 }), /windowMinutes must be 1-5/);
      await occ.updateSettings(sys, w.orgId, { windowMinutes: 5 });
      const events = await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      assert.ok(events.some((e) => e.action === 'occupancy.settings.update'), 'settings changes are audited');

      // An observer reads the live counts (aggregates) over HTTP, but not the settings.
      await c.services.identity.createUser(sys, w.orgId, { email: `observer-${engine}@occupancy.example`, password: 'observer-pass-123', roles: [{ role: 'observer' }] });
      const cookie = await login(c, `observer-${engine}@occupancy.example`, 'observer-pass-123');
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/sites/${w.siteId}/occupancy`, headers: { cookie } });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/occupancy/settings`, headers: { cookie } })).statusCode, 404);
      assert.equal((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/occupancy/alerts`, headers: { cookie } })).statusCode, 404);
    });

    test('a zone over its limit for the hold time raises one violation, delivered signed in Mist\'s shape and by e-mail; it recovers with hysteresis', { skip }, async () => {
      const occ = c.services.occupancy;
      const ch = await c.services.delivery.channels.create(sys, w.orgId, { kind: 'webhook', name: 'BMS', topics: ['occupancy-alerts'], webhook: { url: receiver.url, secret: SECRET } });
      assert.equal(ch.webhook?.origin, new URL(receiver.url).origin);
      assert.equal(ch.secret, undefined, 'a given secret is never echoed');
      await c.services.delivery.channels.create(sys, w.orgId, { kind: 'email', name: 'Facilities', topics: ['occupancy-alerts'], email: { host: '127.0.0.1', port: sink.port, tls: 'none', from: 'cairn@occupancy.example', to: ['facilities@occupancy.example'] } });
      await occ.setBaseline(sys, w.orgId, w.zoneA, { mode: 'fixed', limit: 10 });
      const start = clock.nowMs();
      const first = receiver.requests.length;
      // 12 present: over the limit of 10, but not yet for 5 minutes.
      for (let m = 0; m < 5; m++) {
        await seen(c, w, inA(12), clock.nowMs());
        await occ.evaluate(w.orgId);
        assert.equal((await occ.live(sys, w.orgId, w.siteId)).zones.find((z) => z.zoneId === w.zoneA)!.alert, 'over');
        clock.advance(MINUTE_MS);
      }
      await seen(c, w, inA(12), clock.nowMs());
      await occ.evaluate(w.orgId);
      await occ.evaluate(w.orgId);
      assert.equal(clock.nowMs() - start, 5 * MINUTE_MS);
      const [hook] = (await receiver.waitFor(first + 1)).slice(first);
      await c.services.delivery.idle();
      assert.equal(receiver.requests.length, first + 1, 'one violation, once');
      assert.ok(verifyMistCompatibleSignature(hook!.body, hook!.headers['x-mist-signature-v2'] as string, SECRET), 'Mist-compatible signature');
      assert.ok(verifyCairnSignature(hook!.body, hook!.headers['x-cairn-signature'] as string, SECRET, clock.nowMs()), 'timed signature');
      assert.ok(!verifyCairnSignature(hook!.body + ' ', hook!.headers['x-cairn-signature'] as string, SECRET, clock.nowMs()), 'a changed body fails');
      const body = JSON.parse(hook!.body);
      assert.equal(body.topic, 'occupancy-alerts');
      assert.equal(body.events[0].site_id, w.siteId);
      assert.equal(body.events[0].site_name, 'HQ');
      const ev = body.events[0].alert_events[0];
      assert.deepEqual(
        { org_id: ev.org_id, map_id: ev.map_id, zone_id: ev.zone_id, zone_name: ev.zone_name, current_occupancy: ev.current_occupancy, occupancy_limit: ev.occupancy_limit, type: ev.type, timestamp: ev.timestamp },
        { org_id: w.orgId, map_id: w.floorId, zone_id: w.zoneA, zone_name: 'Canteen', current_occupancy: 12, occupancy_limit: 10, type: 'COMPLIANCE-VIOLATION', timestamp: clock.nowMs() / 1000 },
      );
      assert.equal(ev.cairn_devices, undefined, 'no identities unless the org turns them on');
      assert.ok(!hook!.body.includes('00:10:20'), 'no address in the payload');
      const mails = await sink.waitFor(1);
      assert.deepEqual(mails[0]!.to, ['facilities@occupancy.example']);
      assert.match(mails[0]!.raw.toString(), /Subject: \[Cairn\] Canteen: 12 present, limit 10/);

      // 10 present (the other two unseen for longer than the window): at the limit, above the
      // clear level of 9, so still a violation.
      clock.advance(MINUTE_MS);
      await seen(c, w, inA(10), clock.nowMs());
      clock.advance(5 * MINUTE_MS + 1);
      await seen(c, w, inA(10), clock.nowMs());
      await occ.evaluate(w.orgId);
      const zoneA = async () => (await occ.live(sys, w.orgId, w.siteId)).zones.find((z) => z.zoneId === w.zoneA)!;
      assert.deepEqual([(await zoneA()).figure, (await zoneA()).alert], [10, 'violation'], 'hysteresis holds it');
      // 9 present (the tenth unseen for the window) for 5 minutes: recovered.
      clock.advance(5 * MINUTE_MS + 1);
      for (let m = 0; m <= 5; m++) {
        await seen(c, w, inA(9), clock.nowMs());
        await occ.evaluate(w.orgId);
        assert.equal((await zoneA()).alert, m < 5 ? 'clearing' : 'ok');
        if (m < 5) clock.advance(MINUTE_MS);
      }
      const ok = JSON.parse((await receiver.waitFor(first + 2))[first + 1]!.body).events[0].alert_events[0];
      assert.equal(ok.type, 'COMPLIANCE-OK');
      assert.equal(ok.current_occupancy, 9);
      assert.equal(ok.cairn_episode_id, ev.cairn_alert_id);
      await sink.waitFor(2);

      const alerts = await occ.alerts(sys, w.orgId, { siteId: w.siteId });
      assert.deepEqual(alerts.map((a) => a.type), ['COMPLIANCE-OK', 'COMPLIANCE-VIOLATION']);
      assert.equal(alerts[0]!.episodeId, alerts[1]!.id);
      const deliveries = await c.services.delivery.list(sys, w.orgId, { sourceId: alerts[1]!.id });
      assert.equal(deliveries.length, 2, 'one per channel');
      assert.ok(deliveries.every((d) => d.state === 'delivered' && d.attemptLog.length === 1 && d.attemptLog[0]!.ok));
      const audit = await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      assert.ok(audit.some((e) => e.action === 'occupancy.alert.violation'));
      assert.ok(audit.some((e) => e.action === 'delivery.channel.create'));
      const sent = JSON.stringify(await c.services.delivery.channels.list(sys, w.orgId));
      assert.ok(!sent.includes(SECRET) && !sent.includes('facilities@') && !sent.includes('/hooks/cairn'), 'secrets, recipients and URL paths are never shown');
      await occ.setBaseline(sys, w.orgId, w.zoneA, { mode: 'off' });
      for (const ch2 of await c.services.delivery.channels.list(sys, w.orgId)) await c.services.delivery.channels.remove(sys, w.orgId, ch2.id);
    });

    test('failed deliveries are retried with back-off, every attempt recorded, and a restart resumes the queue', { skip }, async () => {
      const occ = c.services.occupancy;
      const first = receiver.requests.length;
      receiver.answer = (n) => (n < first + 2 ? { status: 503 } : { status: 200 });
      await c.services.delivery.channels.create(sys, w.orgId, { kind: 'webhook', name: 'Flaky', topics: ['occupancy-alerts'], webhook: { url: receiver.url, secret: SECRET } });
      await occ.updateSettings(sys, w.orgId, { alerts: { holdMinutes: 0 } });
      await occ.setBaseline(sys, w.orgId, w.zoneB, { mode: 'fixed', limit: 1 });
      clock.advance(10 * MINUTE_MS);
      await seen(c, w, inB(3), clock.nowMs());
      await occ.evaluate(w.orgId);
      await receiver.waitFor(first + 1);
      await c.services.delivery.idle();
      const [d] = await c.services.delivery.list(sys, w.orgId, { limit: 1 });
      assert.equal(d!.state, 'pending');
      assert.equal(d!.attempts, 1);
      assert.equal(d!.lastError, 'http_503');
      assert.ok(Date.parse(d!.nextAt!) > clock.nowMs(), 'the next attempt waits');

      // Restart: a new server on the same store sends the pending row when it is due.
      await c.close();
      c = await makeApp(setup, { deliveryAllowPrivateTargets: true }, { clock });
      assert.equal(await c.services.delivery.runDue(), 0, 'not due yet');
      clock.advance(2_500);
      assert.equal(await c.services.delivery.runDue(), 1);
      clock.advance(10_000);
      assert.equal(await c.services.delivery.runDue(), 1);
      const [after2] = await c.services.delivery.list(sys, w.orgId, { limit: 1 });
      assert.equal(after2!.state, 'delivered');
      assert.deepEqual(after2!.attemptLog.map((a) => [a.attempt, a.ok, a.status, a.error]), [[1, false, 503, 'http_503'], [2, false, 503, 'http_503'], [3, true, 200, null]]);
      const got = receiver.requests.slice(first);
      assert.equal(got.length, 3);
      assert.deepEqual(got.map((r) => r.headers['x-cairn-attempt']), ['1', '2', '3']);
      assert.equal(new Set(got.map((r) => r.headers['x-cairn-delivery'])).size, 1, 'the same delivery id each time (receivers de-duplicate on it)');
      receiver.answer = () => ({ status: 200 });
      // The open episode survived the restart: the zone recovers, and the recovery is delivered.
      clock.advance(MINUTE_MS);
      await c.services.occupancy.evaluate(w.orgId);
      await c.services.delivery.idle();
      const alerts = await c.services.occupancy.alerts(sys, w.orgId, { zoneId: w.zoneB });
      assert.equal(alerts[0]!.type, 'COMPLIANCE-OK', 'the episode opened before the restart is closed after it');
      // A permanent refusal is not retried.
      receiver.answer = () => ({ status: 410 });
      const ping = await c.services.delivery.test(sys, w.orgId, (await c.services.delivery.channels.list(sys, w.orgId))[0]!.id);
      await c.services.delivery.idle();
      const failed = (await c.services.delivery.list(sys, w.orgId)).find((x) => x.id === ping.deliveryId)!;
      assert.equal(failed.state, 'failed');
      assert.equal(failed.attempts, 1);
      receiver.answer = () => ({ status: 200 });
      await c.services.occupancy.setBaseline(sys, w.orgId, w.zoneB, { mode: 'off' });
    });

    test('identities appear in alerts only when the org turns them on, as pseudonyms, read back audited', { skip }, async () => {
      const occ = c.services.occupancy;
      await c.services.ingest.settings.update(sys, w.orgId, { locationServices: true });
      await occ.updateSettings(sys, w.orgId, { alerts: { revealIdentities: true, holdMinutes: 0 } });
      await occ.setBaseline(sys, w.orgId, w.zoneB, { mode: 'fixed', limit: 1 });
      const first = receiver.requests.length;
      clock.advance(10 * MINUTE_MS);
      await seen(c, w, inB(2, 700), clock.nowMs());
      await occ.evaluate(w.orgId);
      const [hook] = (await receiver.waitFor(first + 1)).slice(first);
      const ev = JSON.parse(hook!.body).events[0].alert_events[0];
      assert.equal(ev.cairn_devices.length, 2);
      for (const d of ev.cairn_devices) assert.match(d, /^[0-9a-f]{32}$/, 'pseudonyms, never addresses');
      const plain = await occ.alerts(sys, w.orgId, { zoneId: w.zoneB, limit: 1 });
      assert.equal(plain[0]!.devices, undefined, 'not without asking');
      const named = await occ.alerts(sys, w.orgId, { zoneId: w.zoneB, limit: 1, identities: true });
      assert.deepEqual(named[0]!.devices, ev.cairn_devices);
      const audit = await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      assert.ok(audit.some((e) => e.action === 'occupancy.alerts.identities.read'));
      await occ.updateSettings(sys, w.orgId, { alerts: { revealIdentities: false } });
      await occ.setBaseline(sys, w.orgId, w.zoneB, { mode: 'off' });
      await c.services.delivery.idle();
    });

    test('a learned baseline is the chosen percentile per hour of week of the zone-minute history', { skip }, async () => {
      const occ = c.services.occupancy;
      const zoneC = (await c.services.tenancy.createZone(sys, w.orgId, w.floorId, { name: 'Meeting room', polygon: [[20, 12], [28, 12], [28, 20], [20, 20]] })).id;
      // The two Tuesdays before (the clock is on a Monday): 09:00-09:59 with peaks 1…60, one per
      // minute; every other minute of the history empty.
      const today = clock.nowMs() - (clock.nowMs() % DAY_MS);
      assert.equal(new Date(today).getUTCDay(), 1);
      const rows: OccupancyMinuteRow[] = [];
      for (const tuesday of [today - 13 * DAY_MS, today - 6 * DAY_MS]) {
        for (let m = 0; m < 60; m++) rows.push({ org_id: w.orgId, floor_id: w.floorId, zone_id: zoneC, bucket_ms: tuesday + 9 * 3_600_000 + m * MINUTE_MS, site_id: w.siteId, occupancy: m + 1, occupancy_randomized: 0, occupancy_peak: m + 1, occupancy_peak_randomized: 0 });
      }
      const db = await c.core.directory.storeOf(w.orgId);
      await db.tx((x) => new OccupancyRepo(x).putOccupancyMinutes(rows));
      // Learning reads from the first recorded minute of the zone.
      const b = await occ.setBaseline(sys, w.orgId, zoneC, { mode: 'learned', percentile: 90, lookbackDays: 28 });
      assert.equal(b.mode, 'learned');
      assert.equal(b.learned!.length, 168);
      assert.equal(b.learned![24 + 9], 54, 'Tuesday 09:00: the 90th percentile of 1…60 twice is 54');
      assert.equal(b.learned![24 + 10], 1, 'an hour with only empty minutes gets the floor of 1');
      assert.ok(b.learnedMinutes > 13 * 24 * 60);
      assert.deepEqual(b.current, { limit: 1, source: 'learned' }, 'Monday morning now: the learned limit of that hour');
      const again = await occ.learn(sys, w.orgId, zoneC);
      assert.deepEqual(again.learned, b.learned);
      const audit = await c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      assert.ok(audit.some((e) => e.action === 'occupancy.baseline.learn'));
      await occ.setBaseline(sys, w.orgId, zoneC, { mode: 'zone' });
      assert.equal((await occ.getBaseline(sys, w.orgId, zoneC)).mode, 'zone');
      await assert.rejects(occ.learn(sys, w.orgId, zoneC), /no learned baseline/);
    });

    test('the live stream sends a snapshot, then the zones that changed', { skip }, async () => {
      const occ = c.services.occupancy;
      const address = await c.app.listen({ host: '127.0.0.1', port: 0 });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(`${address}/api/v1/orgs/${w.orgId}/sites/${w.siteId}/occupancy/stream?maxEvents=2`, resolve);
        req.on('error', reject);
      });
      // Without a session the stream is refused like any route.
      assert.equal(res.statusCode, 401);
      res.resume();
      await c.services.identity.createUser(sys, w.orgId, { email: `admin-${engine}@occupancy.example`, password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      const cookie = await login(c, `admin-${engine}@occupancy.example`, 'admin-password-123');
      const stream = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.get(`${address}/api/v1/orgs/${w.orgId}/sites/${w.siteId}/occupancy/stream?maxEvents=2`, { headers: { cookie } }, resolve);
        req.on('error', reject);
      });
      assert.equal(stream.statusCode, 200);
      assert.match(String(stream.headers['content-type']), /text\/event-stream/);
      stream.setEncoding('utf8');
      let text = '';
      let wake = () => undefined as void;
      const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
      stream.on('data', (d: string) => {
        text += d;
        wake();
      });
      const events = () => [...text.matchAll(/event: (\w+)\ndata: (.*)\n/g)].map((m) => ({ event: m[1]!, data: JSON.parse(m[2]!) }));
      const until = async (n: number) => {
        while (events().length < n) await new Promise<void>((resolve) => (wake = resolve));
      };
      await until(1);
      assert.equal(events()[0]!.event, 'snapshot');
      clock.advance(10 * MINUTE_MS);
      await seen(c, w, inA(4, 300), clock.nowMs());
      await occ.evaluate(w.orgId);
      await until(2);
      const change = events()[1]!;
      assert.equal(change.event, 'occupancy');
      assert.equal(change.data.zones.find((z: { zoneId: string }) => z.zoneId === w.zoneA)?.figure, 4);
      assert.ok(change.data.zones.every((z: { figure: number }) => typeof z.figure === 'number'));
      await ended; // maxEvents=2: the server closes the stream after the second event
    });

    test('minute aggregates carry no device id, and another process (a second server, the CLI) reads the latest minute from the store', { skip }, async () => {
      const occ = c.services.occupancy;
      await occ.flushMinutes();
      const db = await c.core.directory.storeOf(w.orgId);
      const rows = await new OccupancyRepo(db).history(w.orgId, w.siteId, 0, Number.MAX_SAFE_INTEGER, null, 100_000);
      assert.ok(rows.some((r) => r.zone_id === w.zoneA && r.occupancy === 4));
      assert.deepEqual(Object.keys(rows[0]!).sort(), ['bucket_ms', 'devices', 'floor_id', 'occupancy', 'occupancy_peak', 'occupancy_peak_randomized', 'occupancy_randomized', 'randomized', 'zone_id']);
      const other = await makeApp(setup, {}, { clock });
      try {
        const v = await other.services.occupancy.live(sys, w.orgId, w.siteId);
        assert.equal(v.source, 'store');
        assert.equal(v.zones.find((z) => z.zoneId === w.zoneA)!.figure, 4);
        assert.equal(v.asOf, new Date(clock.nowMs() - (clock.nowMs() % MINUTE_MS)).toISOString());
      } finally {
        await other.close();
      }
      if (engine !== 'sqlite') return;
      const cfg = setup.config({ deliveryAllowPrivateTargets: true });
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'occupancy', '--org', w.orgId, '--site', w.siteId, '--json'], {
        env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const v = JSON.parse(r.stdout);
      assert.equal(v.source, 'store');
      // The CLI's clock is the real one, long after the fake minutes: nothing is live any more,
      // but the answer is well-formed and names the zones.
      assert.deepEqual(v.zones.map((z: { name: string }) => z.name).sort(), ['Canteen', 'Lobby', 'Meeting room']);
    });

    test('alerts and their deliveries go with contact-tracing data (30 days); the minute aggregates stay longer', { skip }, async () => {
      const before = await c.services.occupancy.alerts(sys, w.orgId, { from: new Date(0).toISOString(), limit: 1000 });
      assert.ok(before.length > 0);
      assert.ok((await c.services.delivery.list(sys, w.orgId, { limit: 1000 })).length > 0);
      clock.advance(31 * DAY_MS);
      const reports = await c.services.retention.runAll(sys);
      const mine = reports.find((r) => r.orgId === w.orgId)!;
      assert.ok((mine.purged.location ?? 0) >= before.length);
      assert.equal((await c.services.occupancy.alerts(sys, w.orgId, { from: new Date(0).toISOString(), limit: 1000 })).length, 0);
      assert.equal((await c.services.delivery.list(sys, w.orgId, { limit: 1000 })).length, 0);
      const db = await c.core.directory.storeOf(w.orgId);
      assert.ok((await new OccupancyRepo(db).history(w.orgId, w.siteId, 0, Number.MAX_SAFE_INTEGER, null, 10)).length > 0, 'analytics: 365 days');
    });
  });
}
