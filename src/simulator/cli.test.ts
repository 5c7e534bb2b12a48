import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseNativeBatch, receiveMistWebhook } from '../ingest/index.ts';
import { isLoopbackHost, runSimulate } from './cli.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-sim-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('writes the campus, devices, payloads per day and the ground truth to a directory', async () => {
  const dir = tmp();
  const s = await runSimulate({ seed: 4, people: 15, days: 2, format: 'syslog', outDir: dir, truthPeople: 5, sampleSeconds: 300 });
  assert.deepEqual(readdirSync(join(dir, 'payloads')).sort(), ['syslog-2024-03-04.log', 'syslog-2024-03-05.log']);
  const campus = JSON.parse(readFileSync(join(dir, 'campus.json'), 'utf8')) as { sites: { floors: { sensors: unknown[]; zones: unknown[] }[] }[] };
  assert.equal(campus.sites.length, s.campus.buildings);
  assert.ok(campus.sites[0]!.floors[0]!.sensors.length > 10 && campus.sites[0]!.floors[0]!.zones.length > 4);
  assert.equal((JSON.parse(readFileSync(join(dir, 'devices.json'), 'utf8')) as unknown[]).length, s.devices['total']);
  const lines = readFileSync(join(dir, 'payloads', 'syslog-2024-03-04.log'), 'utf8').trim().split('\n');
  assert.ok(lines.length > 10 && lines.every((l) => l.includes('stm[')));
  // RFC 3164 lines have no year: the file's mtime (the last line's time) anchors it.
  assert.equal(new Date(statSync(join(dir, 'payloads', 'syslog-2024-03-04.log')).mtimeMs).toISOString().slice(0, 10), '2024-03-04');
  const contacts = JSON.parse(readFileSync(join(dir, 'truth', 'contacts.json'), 'utf8')) as { radiusM: number; contacts: { a: string; minutes: number; badgeA: string }[] };
  assert.equal(contacts.radiusM, 2);
  assert.equal(contacts.contacts.length, s.contacts);
  assert.ok(contacts.contacts.every((c) => c.minutes >= 15 && c.badgeA.startsWith('ibeacon:')));
  const positions = readFileSync(join(dir, 'truth', 'positions.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { person: string; zone: string });
  assert.equal(positions.length, s.truthSamples);
  assert.ok(positions.length > 50 && positions.every((p) => ['p-00001', 'p-00002', 'p-00003', 'p-00004', 'p-00005'].includes(p.person) && p.zone !== null));
  assert.equal(s.payloads, s.associations, 'one syslog line per association event');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), JSON.parse(JSON.stringify(s)));
});

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  atMs: number;
}

async function server(status: number | ((n: number) => number)): Promise<{ url: string; got: Received[]; close: () => Promise<void> }> {
  const got: Received[] = [];
  const srv = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), atMs: performance.now() });
      const code = typeof status === 'number' ? status : status(got.length);
      res.writeHead(code, { 'content-type': 'application/json', ...(code === 429 ? { 'retry-after': '0.05' } : {}) }).end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, got, close: () => new Promise((r) => srv.close(() => r())) };
}

test('POSTs native batches to a local Cairn with the token, at the rate and count asked', async () => {
  const srv = await server(202);
  try {
    const s = await runSimulate({ seed: 4, people: 20, days: 1, format: 'native', url: srv.url, token: 'tok-test', rate: 10, maxRequests: 5, startMs: Date.UTC(2024, 2, 4) });
    assert.equal(srv.got.length, 5);
    assert.deepEqual(s.http, { url: `${srv.url}/api/v1/ingest/observations`, sent: 5, statuses: { '202': 5 }, errors: 0, stoppedAtLimit: true });
    for (const r of srv.got) {
      assert.equal(r.url, '/api/v1/ingest/observations');
      assert.equal(r.headers['authorization'], 'Bearer tok-test');
      assert.ok(parseNativeBatch(r.body).length > 0);
    }
    // 10 requests per second: requests start at least 100 ms apart (the first one also connects,
    // so measure from the second; allow for delivery jitter).
    const span = srv.got[4]!.atMs - srv.got[1]!.atMs;
    assert.ok(span >= 260, `${span.toFixed(0)} ms between the 2nd and 5th request`);
  } finally {
    await srv.close();
  }
});

test('POSTs signed Mist webhooks that the Mist receiver accepts', async () => {
  const srv = await server(200);
  try {
    const s = await runSimulate({ seed: 4, people: 20, days: 1, format: 'mist', url: `${srv.url}/api/v1/ingest/mist/org-1`, secret: 'mist-secret-not-real', rate: 1000, maxRequests: 10, startMs: Date.UTC(2024, 2, 4) });
    assert.equal(s.http!.sent, 10);
    for (const r of srv.got) {
      const h = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
      assert.ok(receiveMistWebhook(r.body, h, { secret: 'mist-secret-not-real' }).observations.length > 0);
    }
  } finally {
    await srv.close();
  }
});

test('waits and re-sends when Cairn pushes back with 429', async () => {
  const srv = await server((n) => (n === 1 ? 429 : 202));
  try {
    const s = await runSimulate({ seed: 4, people: 20, days: 1, format: 'native', url: srv.url, rate: 1000, maxRequests: 2, startMs: Date.UTC(2024, 2, 4) });
    assert.equal(srv.got.length, 3);
    assert.equal(srv.got[0]!.body, srv.got[1]!.body, 'the refused batch is sent again');
    assert.deepEqual(s.http!.statuses, { '202': 2 });
  } finally {
    await srv.close();
  }
});

test('refuses remote URLs, formats that do not travel over HTTP, and ambiguous destinations', async () => {
  for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['example.com', '10.0.0.1', '128.0.0.1', '::2', '127.0.0.256']) assert.ok(!isLoopbackHost(h), h);
  const base = { seed: 1, people: 5, days: 1 } as const;
  await assert.rejects(runSimulate({ ...base, format: 'native', url: 'http://example.com/api/v1/ingest/observations' }), /this machine/);
  await assert.rejects(runSimulate({ ...base, format: 'syslog', url: 'http://127.0.0.1:1/' }), /--out/);
  await assert.rejects(runSimulate({ ...base, format: 'native' }), { code: 'CAIRN_ERR_VALIDATION' });
  await assert.rejects(runSimulate({ ...base, format: 'native', outDir: tmp(), url: 'http://127.0.0.1:1/' }), /exactly one/);
});

test('`cairn simulate` is on the command line and prints a JSON summary', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dir = tmp();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', '--seed', '2', '--people', '8', '--format', 'encounters', '--out', dir, '--json'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { format: string; encounters: number; people: number };
  assert.equal(s.format, 'encounters');
  assert.equal(s.people, 8);
  assert.ok(s.encounters > 0);
  const bad = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'simulate', '--people', '0', '--out', dir], { cwd: root, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /CAIRN_ERR_VALIDATION/);
});
