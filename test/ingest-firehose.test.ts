/**
 * The Cisco Spaces firehose end to end, on both storage engines: an org admin sets the stream
 * (URL, API key never shown), `serve`'s consumer streams a recorded stream built from the shared
 * Spaces samples out of a local HTTP server that drops the connection mid-way, the app is closed
 * and built again on the same store, and every event ends up as exactly one pseudonymous fix:
 * nothing lost, nothing twice. Settings changes restart the stream (a refused key stops it), the
 * status endpoint reports it, and neither the key nor a client MAC reaches a store or a log.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { IngestRepo, LocationRepo, type Database } from '../src/storage/index.ts';
import { SPACES_FIREHOSE_PATH } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const FORMATS = new URL('../../shared/data/formats/', import.meta.url);
const sample = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, FORMATS), 'utf8')) as Record<string, unknown>;

const API_KEY = 'spaces-partner-key-for-tests-0042';
const BASE_TS = 1641977166586;
const EVENTS = 60;
const mac = (i: number) => `00:39:a7:8f:4a:${i.toString(16).padStart(2, '0')}`;

interface Line {
  /** Position in the stream (events and what follows them); a connection may stop before one. */
  at: number;
  ts: number;
  text: string;
}

/**
 * A recorded stream from the samples: 60 location updates (two per 100 ms, each its own device),
 * a keep-alive after every tenth, a DEVICE_COUNT event and a line of garbage.
 */
function recordedStream(): Line[] {
  const dlu = sample('cisco-spaces-device_location_update.json') as Record<string, unknown> & { deviceLocationUpdate: { device: { macAddress: string } } };
  const ka = sample('cisco-spaces-keep_alive.json');
  const out: Line[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const ts = BASE_TS + Math.floor(i / 2) * 100;
    const rec = structuredClone(dlu);
    rec['recordUid'] = `event-${i}`;
    rec['recordTimestamp'] = ts;
    rec.deviceLocationUpdate.device.macAddress = mac(i);
    out.push({ at: i, ts, text: JSON.stringify(rec) });
    if (i % 10 === 9) out.push({ at: i, ts, text: JSON.stringify({ ...ka, recordUid: `ka-${i}`, recordTimestamp: ts }) });
    if (i === 12) out.push({ at: i, ts, text: '{"recordUid": "torn' });
    if (i === 50) out.push({ at: i, ts, text: JSON.stringify({ recordUid: 'count-50', recordTimestamp: ts, eventType: 'DEVICE_COUNT', deviceCount: { location: { locationId: 'location-ad0a997' }, associatedCount: 7 } }) });
  }
  return out;
}

/** A local firehose: answers `fromTimestamp` like Spaces, checks the key, and follows a plan per connection. */
async function replayServer(stream: Line[], plan: (n: number) => { upTo?: number; dropAfter?: number }) {
  const requests: { from: number; key: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fromTimestamp') ?? 0);
    const key = req.headers['x-api-key'] as string | undefined;
    requests.push({ from, key });
    if (key !== API_KEY) {
      res.writeHead(401).end();
      return;
    }
    const p = plan(requests.length);
    const lines = stream.filter((l) => l.ts >= from && (p.upTo === undefined || l.at < p.upTo)).map((l) => l.text + '\n');
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (p.dropAfter !== undefined) {
      // Some lines, half of the next one, then the connection is cut.
      const next = lines[p.dropAfter]!;
      res.write(lines.slice(0, p.dropAfter).join('') + next.slice(0, next.length >> 1), () => res.socket?.destroy());
      return;
    }
    res.write(lines.join('')); // and stay open, as the firehose does
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${SPACES_FIREHOSE_PATH}`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function until(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function needles(): string[] {
  const hex = Array.from({ length: EVENTS }, (_, i) => mac(i).replace(/:/g, ''));
  return [API_KEY, '192.168.36.244', ...hex.flatMap((h) => [h, h.replace(/(..)(?!$)/g, '$1:'), h.replace(/(..)(?!$)/g, '$1-')])];
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`Cisco Spaces firehose (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    const stream = recordedStream();
    const lastTs = stream.at(-1)!.ts;
    const tsOf = (i: number) => BASE_TS + Math.floor(i / 2) * 100;
    let setup: EngineSetup;
    let c: CairnApp | undefined;
    let db: Database;
    let orgId: string;
    let floorId: string;
    let zoneS: string;
    let cookie = '';
    const logs: string[] = [];
    const sys = systemCtx('test');
    // Connection 1 drops after 25 lines; connection 2 stalls before event 45 (then the app is closed); later ones send all.
    let srv: Awaited<ReturnType<typeof replayServer>>;

    const open = async (): Promise<CairnApp> => {
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      const app = await makeApp(setup, { spacesFirehoseHosts: ['127.0.0.1'], logLevel: 'debug' }, { logDestination: dest as never });
      app.services.firehose.tuning = { initialBackoffMs: 20, maxBackoffMs: 200 };
      return app;
    };
    const api = (method: 'GET' | 'PUT', path: string, payload?: unknown) => c!.app.inject({ method, url: `/api/v1/orgs/${orgId}/ingest/spaces-firehose${path}`, headers: { cookie }, ...(payload ? { payload: payload as object } : {}) });
    const cursorMs = async () => (await new IngestRepo(db).getFirehoseCursor(orgId))?.record_ms;

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      srv = await replayServer(stream, (n) => (n === 1 ? { dropAfter: 25 } : n === 2 ? { upTo: 45 } : {}));
      c = await open();
      const { tenancy, identity } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Retail', country: 'NL' })).id;
      db = await c.core.directory.storeOf(orgId);
      const siteId = (await tenancy.createSite(sys, orgId, { name: 'Store' })).id;
      floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'Ground', widthM: 150, heightM: 100 })).id;
      zoneS = (await tenancy.createZone(sys, orgId, floorId, { name: 'S', polygon: [[100, 50], [130, 50], [130, 80], [100, 80]] })).id;
      await c.services.ingest.settings.update(sys, orgId, { locationServices: true, vendorFloors: { 'location-ad0a997': floorId }, spacesCoordinateUnit: 'ft' });
      await identity.createUser(sys, orgId, { email: 'admin@retail.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      cookie = await login(c, 'admin@retail.example', 'admin-password-123');
    });
    after(async () => {
      await c?.close();
      await srv?.close();
      await setup?.cleanup();
    });

    test('settings: only allowed hosts, a key before it is on, the key never shown', { skip }, async () => {
      const elsewhere = await api('PUT', '', { url: 'https://internal.example/api/partners/v1/firehose/events', apiKey: API_KEY });
      assert.equal(elsewhere.statusCode, 400);
      assert.equal(elsewhere.json().error.details.field, 'url');
      const query = await api('PUT', '', { url: `${srv.url}?key=${API_KEY}` });
      assert.equal(query.statusCode, 400, 'no credentials in the URL');
      const noKey = await api('PUT', '', { url: srv.url, enabled: true });
      assert.equal(noKey.statusCode, 400);
      assert.equal(noKey.json().error.details.field, 'apiKey');
      const put = await api('PUT', '', { url: srv.url, apiKey: API_KEY, enabled: true });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual({ ...(put.json() as object), updatedAt: null }, { enabled: true, url: srv.url, apiKeySet: true, updatedAt: null });
      const get = await api('GET', '');
      assert.equal(get.json().apiKeySet, true);
      assert.ok(!get.body.includes(API_KEY) && !put.body.includes(API_KEY));
      const status = await api('GET', '/status');
      assert.equal(status.json().state, 'stopped', 'on, but nothing streams until serve starts it');
      const audit = await c!.services.auditQueries.list(sys, orgId, { limit: 100 });
      const upd = audit.filter((e) => e.action === 'ingest.firehose.update');
      assert.ok(upd.length >= 1);
      assert.ok(!JSON.stringify(audit).includes(API_KEY), 'the audit names the fields, not the key');
    });

    test('a dropped connection and an app restart on the same store: every event stored exactly once', { skip }, async () => {
      assert.equal(await c!.services.firehose.start(), 1);
      await until('the first process to reach event 44', async () => (await cursorMs()) === tsOf(44));
      const s1 = (await api('GET', '/status')).json();
      assert.equal(s1.connected, true);
      assert.equal(s1.lastEventAt, new Date(tsOf(44)).toISOString());
      assert.equal(s1.lastErrorCode, 'disconnected', 'the first connection was cut mid-line');
      assert.ok(s1.rejected >= 1, 'the torn line is counted');
      assert.equal(srv.requests[1]!.from, stream[24]!.ts - 5000, 'resumed the overlap before the last line committed (the 25th)');
      assert.equal((await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 1000)).length, 45, 'events 0-44 stored before the restart, with the cursor');
      await c!.close();
      c = undefined;

      c = await open();
      db = await c.core.directory.storeOf(orgId);
      cookie = await login(c, 'admin@retail.example', 'admin-password-123');
      assert.equal(await c.services.firehose.start(), 1, 'the org\'s firehose is on: serve starts it again');
      await until('the second process to reach the last event', async () => (await cursorMs()) === lastTs);
      assert.equal(srv.requests[2]!.from, tsOf(44) - 5000, 'resumed from the stored cursor');

      const fixes = await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 1000);
      assert.equal(fixes.length, EVENTS, 'nothing lost, nothing twice');
      assert.equal(new Set(fixes.map((f) => f.device)).size, EVENTS);
      assert.ok(fixes.every((f) => f.source === 'spaces' && f.zone_id === zoneS && f.floor_id === floorId && /^[0-9a-f]{32}$/.test(f.device)));
      const records = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM ingest_records WHERE org_id = $1 AND source = 'spaces'", [orgId]);
      assert.equal(Number(records!.n), EVENTS);
      const s2 = (await api('GET', '/status')).json();
      assert.equal(s2.accepted, EVENTS - 45 + 1, 'events 45-59 and the count event: the replayed overlap was recognised from the stored cursor');
      assert.ok(s2.duplicates >= 45, `overlap replays dropped: ${s2.duplicates}`);
      const cursor = await new IngestRepo(db).getFirehoseCursor(orgId);
      assert.ok((JSON.parse(cursor!.boundary_uids) as string[]).includes('event-59'));
    });

    test('a settings change restarts the stream: a refused key stops it, the right one resumes, off stops it', { skip }, async () => {
      const before = srv.requests.length;
      const wrong = await api('PUT', '', { apiKey: 'not-the-right-key-1' });
      assert.equal(wrong.statusCode, 200);
      await until('the refused key', async () => (await api('GET', '/status')).json().lastErrorCode === 'unauthenticated');
      const s = (await api('GET', '/status')).json();
      assert.equal(s.state, 'stopped');
      assert.equal(s.connected, false);
      assert.equal(srv.requests[before]!.key, 'not-the-right-key-1');
      await api('PUT', '', { apiKey: API_KEY });
      await until('streaming again', async () => (await api('GET', '/status')).json().connected === true);
      assert.equal(srv.requests.at(-1)!.from, lastTs - 5000, 'the same stream: resumed from its cursor');
      await api('PUT', '', { enabled: false });
      const off = (await api('GET', '/status')).json();
      assert.equal(off.state, 'off');
      assert.equal((await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 1000)).length, EVENTS, 'still each event once');
    });

    test('neither the API key nor a client MAC or IP is in the stores or the logs', { skip }, async () => {
      await c!.close();
      c = undefined;
      const hay: [string, Buffer][] = [];
      if (engine === 'sqlite') {
        const dir = setup.config().dataDir;
        for (const f of readdirSync(dir)) hay.push([f, readFileSync(join(dir, f))]);
      } else {
        hay.push(['pg_dump', execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${setup.config().pgSchemaPrefix}_*`, '--data-only'], { maxBuffer: 256 * 1024 * 1024 })]);
      }
      hay.push(['logs', Buffer.from(logs.join(''))]);
      assert.ok(logs.join('').length > 1000, 'logs were captured');
      const found: string[] = [];
      for (const [where, buf] of hay) {
        const text = buf.toString('latin1').toLowerCase();
        for (const n of needles()) if (text.includes(n.toLowerCase())) found.push(`${n} in ${where}`);
      }
      assert.deepEqual(found, []);
    });
  });
}
