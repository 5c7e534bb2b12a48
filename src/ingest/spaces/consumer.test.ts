/** Spaces firehose consumer against a real local HTTP server replaying a recorded stream: drops, 503, idle, sink failures, exactly-once, batches and their checkpoints across a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CairnError } from '../../kernel/errors.ts';
import { readFormat } from '../testdata.ts';
import { SPACES_FIREHOSE_PATH, SpacesFirehoseConsumer, type FirehoseBatch, type FirehoseCheckpoint, type FirehoseState } from './consumer.ts';
import type { SpacesRecord } from './firehose.ts';

const BASE_TS = 1641977166586;
const EVENTS = 60;

/** A recorded stream built from the sample: 60 location events (two per timestamp) and a keep-alive every 10. */
function recordedStream(): { uid: string; ts: number; line: string }[] {
  const dlu = JSON.parse(readFormat('cisco-spaces-device_location_update.json')) as Record<string, unknown> & {
    deviceLocationUpdate: { device: { macAddress: string } };
  };
  const ka = JSON.parse(readFormat('cisco-spaces-keep_alive.json')) as Record<string, unknown>;
  const out: { uid: string; ts: number; line: string }[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const ts = BASE_TS + Math.floor(i / 2) * 100;
    const rec = structuredClone(dlu);
    rec['recordUid'] = `event-${i}`;
    rec['recordTimestamp'] = ts;
    rec.deviceLocationUpdate.device.macAddress = `00:39:a7:8f:4a:${i.toString(16).padStart(2, '0')}`;
    out.push({ uid: `event-${i}`, ts, line: JSON.stringify(rec) });
    if (i % 10 === 9) out.push({ uid: `ka-${i}`, ts, line: JSON.stringify({ ...ka, recordUid: `ka-${i}`, recordTimestamp: ts }) });
  }
  return out;
}

async function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${SPACES_FIREHOSE_PATH}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('replays a recorded stream through drops, a 503 and split lines: every record delivered exactly once, in order', async () => {
  const stream = recordedStream();
  const requests: { from: string | null; key: string | undefined }[] = [];
  let n = 0;
  const srv = await serve(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ from: u.searchParams.get('fromTimestamp'), key: req.headers['x-api-key'] as string | undefined });
    const from = Number(u.searchParams.get('fromTimestamp') ?? 0);
    const lines = stream.filter((r) => r.ts >= from).map((r) => r.line + '\n');
    n++;
    if (n === 2) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    if (n === 1 || n === 3) {
      // Send 25 lines, then half of the next one, then cut the connection.
      const cut = n === 1 ? 25 : 20;
      res.write(lines.slice(0, cut).join(''));
      const next = lines[cut]!;
      res.write(next.slice(0, next.length >> 1));
      await sleep(30);
      res.socket?.destroy();
      return;
    }
    // Last connection: everything left, one line split across two writes, a blank line, then stay open.
    const all = lines.join('');
    res.write(all.slice(0, 1000));
    await sleep(10);
    res.write(all.slice(1000) + '\r\n');
  });
  const delivered: SpacesRecord[] = [];
  const states: FirehoseState[] = [];
  const c = new SpacesFirehoseConsumer({
    url: srv.url,
    apiKey: 'test-key-not-real',
    fromTimestamp: BASE_TS,
    resumeOverlapMs: 150,
    initialBackoffMs: 5,
    random: () => 0.5,
    onRecord: async (r) => {
      await sleep(0);
      delivered.push(r);
    },
    onStateChange: (s) => states.push(s),
  });
  const done = c.run();
  try {
    await until(() => delivered.length >= EVENTS);
    await sleep(50); // anything extra would arrive now
    assert.deepEqual(delivered.map((r) => r.recordUid), Array.from({ length: EVENTS }, (_, i) => `event-${i}`));
    assert.equal(c.lastRecordTimestamp, BASE_TS + 29 * 100);
    assert.ok(c.stats.duplicates > 0, 'resuming with overlap replays some records, which are dropped');
    assert.equal(c.stats.keepAlives, 6);
    assert.equal(c.stats.connections, 4);
    assert.ok(requests.every((r) => r.key === 'test-key-not-real'));
    assert.equal(requests[0]?.from, String(BASE_TS));
    // After the first drop: 23 events and 2 keep-alives went through, the last at BASE_TS + 11 * 100; resume 150 ms earlier.
    assert.equal(requests[1]?.from, String(BASE_TS + 1100 - 150));
    assert.ok(states.some((s) => s.state === 'backoff' && s.reason === 'http_503'));
    assert.ok(states.some((s) => s.state === 'backoff' && s.reason === 'disconnected'));
  } finally {
    await c.stop();
    await done;
    await srv.close();
  }
  assert.equal(states.at(-1)?.state, 'stopped');
});

test('a failing sink sees the record again after the reconnect, and it is delivered once', async () => {
  const stream = recordedStream().slice(0, 12);
  const srv = await serve((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fromTimestamp') ?? 0);
    res.writeHead(200);
    res.write(stream.filter((r) => r.ts >= from).map((r) => r.line + '\n').join(''));
  });
  const attempts = new Map<string, number>();
  const delivered: string[] = [];
  const c = new SpacesFirehoseConsumer({
    url: srv.url,
    apiKey: 'k',
    fromTimestamp: BASE_TS,
    initialBackoffMs: 5,
    random: () => 0,
    onRecord: (r) => {
      const k = (attempts.get(r.recordUid) ?? 0) + 1;
      attempts.set(r.recordUid, k);
      if (r.recordUid === 'event-5' && k === 1) throw new Error('database busy');
      delivered.push(r.recordUid);
    },
  });
  const done = c.run();
  try {
    await until(() => delivered.length >= 11);
    await sleep(30);
    assert.deepEqual(delivered, Array.from({ length: 11 }, (_, i) => `event-${i}`));
    assert.equal(attempts.get('event-5'), 2);
  } finally {
    await c.stop();
    await done;
    await srv.close();
  }
});

test('skips bad and oversized lines, and stops with CAIRN_ERR_UNAUTHENTICATED when the key is refused', async () => {
  const good = recordedStream()[0]!.line;
  let calls = 0;
  const srv = await serve((_req, res) => {
    calls++;
    if (calls > 1) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200);
    res.end(`{"recordUid":\n${'x'.repeat(5000)}\n${good}\n`);
  });
  const skipped: string[] = [];
  const got: string[] = [];
  const c = new SpacesFirehoseConsumer({ url: srv.url, apiKey: 'k', initialBackoffMs: 5, maxLineBytes: 4096, onRecord: (r) => { got.push(r.recordUid); }, onSkip: (w) => skipped.push(w) });
  await assert.rejects(c.run(), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_UNAUTHENTICATED');
  assert.deepEqual(got, ['event-0']);
  assert.deepEqual(skipped, ['bad_json', 'line_too_long']);
  await srv.close();
});

test('a connection that goes silent is dropped after idleTimeoutMs and resumed', async () => {
  const stream = recordedStream().slice(0, 8);
  let n = 0;
  const srv = await serve((req, res) => {
    n++;
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fromTimestamp') ?? 0);
    const lines = stream.filter((r) => r.ts >= from).map((r) => r.line + '\n');
    res.writeHead(200);
    // First connection: half the records, then silence with the socket left open.
    res.write((n === 1 ? lines.slice(0, 4) : lines).join(''));
  });
  const got: string[] = [];
  const states: FirehoseState[] = [];
  const c = new SpacesFirehoseConsumer({ url: srv.url, apiKey: 'k', fromTimestamp: BASE_TS, idleTimeoutMs: 150, initialBackoffMs: 5, random: () => 0, onRecord: (r) => { got.push(r.recordUid); }, onStateChange: (s) => states.push(s) });
  const done = c.run();
  try {
    await until(() => got.length >= 8);
    assert.deepEqual(got, Array.from({ length: 8 }, (_, i) => `event-${i}`));
    assert.ok(states.some((s) => s.state === 'backoff' && s.reason === 'idle'), JSON.stringify(states));
  } finally {
    await c.stop();
    await done;
    await srv.close();
  }
});

/** 60 location events 100 ms apart, with three out of order: e26 and e27 arrive late (before the cut at 30), e35 after it. */
function outOfOrderStream(): { uid: string; ts: number; line: string }[] {
  const dlu = JSON.parse(readFormat('cisco-spaces-device_location_update.json')) as Record<string, unknown> & { deviceLocationUpdate: { device: { macAddress: string } } };
  const late: Record<number, number> = { 26: 15, 27: 20, 35: 28 };
  return Array.from({ length: EVENTS }, (_, i) => {
    const ts = BASE_TS + (late[i] ?? i) * 100;
    const rec = structuredClone(dlu);
    rec['recordUid'] = `event-${i}`;
    rec['recordTimestamp'] = ts;
    rec.deviceLocationUpdate.device.macAddress = `00:39:a7:8f:4a:${i.toString(16).padStart(2, '0')}`;
    return { uid: `event-${i}`, ts, line: JSON.stringify(rec) };
  });
}

test('batch mode: each batch carries its checkpoint; a consumer restarted from it replays the overlap and delivers the rest exactly once', async () => {
  const stream = outOfOrderStream();
  const froms: number[] = [];
  let n = 0;
  const srv = await serve((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fromTimestamp') ?? 0);
    froms.push(from);
    n++;
    const lines = stream.filter((r) => r.ts >= from).map((r) => r.line + '\n');
    res.writeHead(200);
    // The first process sees 30 events, then the stream stalls (the process is stopped); the second gets the rest.
    res.write((n === 1 ? lines.slice(0, 30) : lines).join(''));
  });
  const delivered: string[] = [];
  let saved: FirehoseCheckpoint | undefined;
  const sink = async (b: FirehoseBatch) => {
    await sleep(0);
    delivered.push(...b.records.map((r) => r.recordUid));
    saved = b.checkpoint; // what a store commits with the batch
  };
  const opts = { url: srv.url, apiKey: 'k', resumeOverlapMs: 1000, lingerMs: 20, initialBackoffMs: 5, random: () => 0 };
  const first = new SpacesFirehoseConsumer({ ...opts, fromTimestamp: BASE_TS, onBatch: sink });
  const done1 = first.run();
  try {
    await until(() => delivered.length >= 30);
  } finally {
    await first.stop();
    await done1;
  }
  assert.deepEqual(saved, first.checkpoint);
  assert.equal(saved!.recordTimestamp, BASE_TS + 2900);
  assert.deepEqual(new Set(saved!.boundaryUids), new Set(['event-19', 'event-20', 'event-21', 'event-22', 'event-23', 'event-24', 'event-25', 'event-27', 'event-28', 'event-29']), 'every uid inside the overlap, the late e27 included, the older late e26 not');

  const second = new SpacesFirehoseConsumer({ ...opts, checkpoint: saved!, onBatch: sink });
  const done2 = second.run();
  try {
    await until(() => second.lastRecordTimestamp === BASE_TS + 5900);
    assert.equal(froms[1], BASE_TS + 2900 - 1000, 'resumes the overlap before the checkpoint');
    assert.deepEqual([...delivered].sort(), stream.map((r) => r.uid).sort(), 'every event exactly once');
    assert.equal(second.stats.duplicates, 10, 'the overlap replayed e19–e29 (e26 is older than it), all dropped');
  } finally {
    await second.stop();
    await done2;
    await srv.close();
  }
});

test('batch mode: batches are at most maxBatch; a failed batch is replayed whole after the reconnect', async () => {
  const stream = recordedStream().filter((r) => r.uid.startsWith('event-')).slice(0, 25);
  const srv = await serve((req, res) => {
    const from = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('fromTimestamp') ?? 0);
    res.writeHead(200);
    res.write(stream.filter((r) => r.ts >= from).map((r) => r.line + '\n').join(''));
  });
  const sizes: number[] = [];
  const delivered: string[] = [];
  let failed = false;
  const c = new SpacesFirehoseConsumer({
    url: srv.url,
    apiKey: 'k',
    fromTimestamp: BASE_TS,
    maxBatch: 10,
    lingerMs: 20,
    initialBackoffMs: 5,
    random: () => 0,
    onBatch: async ({ records }) => {
      if (!failed && records.some((r) => r.recordUid === 'event-12')) {
        failed = true;
        throw new Error('database busy');
      }
      sizes.push(records.length);
      delivered.push(...records.map((r) => r.recordUid));
    },
  });
  const done = c.run();
  try {
    await until(() => c.lastRecordTimestamp === stream.at(-1)!.ts);
    assert.ok(failed);
    assert.ok(sizes.every((s) => s >= 1 && s <= 10), JSON.stringify(sizes));
    assert.deepEqual(delivered, stream.map((r) => r.uid), 'in order, each once');
  } finally {
    await c.stop();
    await done;
    await srv.close();
  }
});
