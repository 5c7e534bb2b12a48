/**
 * HTTP ingest back-pressure, with real concurrent requests over loopback (SQLite; the gate sits
 * before the store, so the engine does not matter). With `ingestMaxInFlight` deliveries holding
 * their slots (bodies half sent), the next native batch, Mist webhook and Meraki POST are answered
 * 503 CAIRN_ERR_INGEST_BACKPRESSURE with Retry-After at once, counted in cairn_ingest_busy_total
 * and not as rejected records; the Meraki validator GET is not held back. Finishing the stalled
 * bodies stores them; a client that hangs up frees its slot. A burst of senders that retry on
 * 503, as the simulator does, ends with every observation stored exactly once.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { sqliteSetup, makeApp, type EngineSetup } from './helpers.ts';
import { loadBatch, metricValue, setupLoadOrg, storedCounts, type LoadOrg } from './ingest-load.ts';
import { mistSignature } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';
import type { Database } from '../src/storage/index.ts';

const FORMATS = new URL('../../shared/data/formats/', import.meta.url);
const MIST_SECRET = 'mist-webhook-secret-for-tests';
const MERAKI_SECRET = 'supersecret-test';
const MAX_IN_FLIGHT = 2;

describe('ingest back-pressure', () => {
  let setup: EngineSetup;
  let c: CairnApp;
  let org: LoadOrg;
  let db: Database;
  let base: string;
  let port: number;
  let nextId = 0;
  const ids = (n: number) => Array.from({ length: n }, () => nextId++);

  before(async () => {
    setup = sqliteSetup();
    c = await makeApp(setup, { ingestMaxInFlight: MAX_IN_FLIGHT });
    org = await setupLoadOrg(c, { mistSecret: MIST_SECRET, merakiSecret: MERAKI_SECRET });
    db = await c.core.directory.storeOf(org.orgId);
    base = await c.app.listen({ host: '127.0.0.1', port: 0 });
    port = Number(new URL(base).port);
  });
  after(async () => {
    await c?.close();
    await setup?.cleanup();
  });

  const metrics = async () => (await fetch(`${base}/metrics`)).text();
  const postNative = (body: string) => fetch(`${base}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${org.token}`, 'content-type': 'application/json' }, body });
  /** Wait (bounded) until the in-flight gauge reads `n`. */
  const inFlightIs = async (n: number) => {
    const until = Date.now() + 10_000;
    for (;;) {
      const v = metricValue(await metrics(), 'cairn_ingest_in_flight');
      if (v === n) return;
      if (Date.now() > until) assert.fail(`in-flight gauge stuck at ${v}, expected ${n}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  /** A native POST whose body is sent only in part: it holds a slot until `finish()`. */
  function stalled(body: string): { finish(): Promise<{ status: number; body: string }>; abort(): void } {
    const bytes = Buffer.from(body);
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/ingest/observations', agent: false, headers: { authorization: `Bearer ${org.token}`, 'content-type': 'application/json', 'content-length': bytes.length } });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.once('response', (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.once('error', reject);
    });
    answered.catch(() => undefined);
    req.flushHeaders();
    req.write(bytes.subarray(0, bytes.length >> 1));
    return {
      finish: () => {
        req.end(bytes.subarray(bytes.length >> 1));
        return answered;
      },
      abort: () => req.destroy(),
    };
  }

  test('a full gate answers 503 with Retry-After to native, Mist and Meraki at once, without reading the body', async () => {
    const heldIds = [ids(50), ids(50)];
    const held = heldIds.map((g) => stalled(loadBatch(org.floorId, g)));
    await inFlightIs(MAX_IN_FLIGHT);

    const native = await postNative(loadBatch(org.floorId, ids(10)));
    assert.equal(native.status, 503);
    assert.equal(native.headers.get('retry-after'), '1');
    const err = (await native.json()) as { error: { code: string; details: { maxInFlight: number } } };
    assert.equal(err.error.code, 'CAIRN_ERR_INGEST_BACKPRESSURE');
    assert.equal(err.error.details.maxInFlight, MAX_IN_FLIGHT);

    const mistBody = readFileSync(new URL('mist-location_client.json', FORMATS), 'utf8');
    const mist = await fetch(`${base}/api/v1/ingest/mist/${org.orgId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-mist-signature-v2': mistSignature(mistBody, MIST_SECRET) }, body: mistBody });
    assert.equal(mist.status, 503);
    assert.equal(mist.headers.get('retry-after'), '1');
    assert.equal(((await mist.json()) as { error: { code: string } }).error.code, 'CAIRN_ERR_INGEST_BACKPRESSURE');

    const meraki = await fetch(`${base}/api/v1/ingest/meraki/${org.orgId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(new URL('meraki-scanning-v3-wifi.constructed.json', FORMATS), 'utf8') });
    assert.equal(meraki.status, 503);
    assert.equal(meraki.headers.get('retry-after'), '1');
    await meraki.arrayBuffer();

    const validator = await fetch(`${base}/api/v1/ingest/meraki/${org.orgId}`);
    assert.equal(validator.status, 200, 'the validator GET is no delivery and is not held back');
    await validator.arrayBuffer();

    // A body larger than the body limit is refused by back-pressure first: it is never read.
    const big = await postNative('x'.repeat(5 * 1_048_576));
    assert.equal(big.status, 503);
    await big.arrayBuffer();

    const m = await metrics();
    assert.equal(metricValue(m, 'cairn_ingest_busy_total', 'source="native"'), 2);
    assert.equal(metricValue(m, 'cairn_ingest_busy_total', 'source="mist"'), 1);
    assert.equal(metricValue(m, 'cairn_ingest_busy_total', 'source="meraki"'), 1);
    assert.equal(metricValue(m, 'cairn_errors_total', 'code="CAIRN_ERR_INGEST_BACKPRESSURE"'), 4);
    assert.doesNotMatch(m, /cairn_ingest_rejected_total\{[^}]*reason="ingest_backpressure"/, 'a busy answer is no rejected record');

    // The held deliveries finish and are stored; then there is room again.
    for (const h of held) {
      const r = await h.finish();
      assert.equal(r.status, 200, r.body);
      assert.equal((JSON.parse(r.body) as { fixes: number }).fixes, 50);
    }
    await inFlightIs(0);
    const again = await postNative(loadBatch(org.floorId, ids(10)));
    assert.equal(again.status, 200, await again.text());
    const stored = await storedCounts(db, org.orgId);
    for (const g of heldIds.flat()) assert.equal(stored.get(g), 1);
  });

  test('a sender that hangs up mid-body frees its slot', async () => {
    const held = [stalled(loadBatch(org.floorId, ids(20))), stalled(loadBatch(org.floorId, ids(20)))];
    await inFlightIs(MAX_IN_FLIGHT);
    const refused = await postNative(loadBatch(org.floorId, ids(5)));
    assert.equal(refused.status, 503);
    await refused.arrayBuffer();
    for (const h of held) h.abort();
    await inFlightIs(0);
    const ok = await postNative(loadBatch(org.floorId, ids(5)));
    assert.equal(ok.status, 200, await ok.text());
  });

  test('a burst of senders that retry after 503 gets every observation stored exactly once', { timeout: 120_000 }, async () => {
    const before = metricValue(await metrics(), 'cairn_ingest_busy_total', 'source="native"');
    const SENDERS = 12;
    const BATCHES = 4;
    const batches = Array.from({ length: SENDERS * BATCHES }, () => ids(250));
    let busy = 0;
    await Promise.all(
      Array.from({ length: SENDERS }, async (_, s) => {
        for (let b = 0; b < BATCHES; b++) {
          const body = loadBatch(org.floorId, batches[s * BATCHES + b]!);
          for (let attempt = 0; ; attempt++) {
            const r = await postNative(body);
            if (r.status === 200) {
              await r.arrayBuffer();
              break;
            }
            assert.equal(r.status, 503, await r.text());
            assert.ok(r.headers.get('retry-after'));
            assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'CAIRN_ERR_INGEST_BACKPRESSURE');
            busy++;
            assert.ok(attempt < 1000, 'a sender kept being refused');
            // Retry-After says 1 s; a test sender waits less to stay quick.
            await new Promise((res) => setTimeout(res, 5 + Math.random() * 20));
          }
        }
      }),
    );
    await inFlightIs(0);
    assert.equal(metricValue(await metrics(), 'cairn_ingest_busy_total', 'source="native"') - before, busy, 'every 503 is counted');
    const stored = await storedCounts(db, org.orgId);
    for (const g of batches.flat()) assert.equal(stored.get(g), 1, `observation ${g}`);
  });
});
