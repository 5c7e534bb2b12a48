/**
 * Encrypted-traffic analysis as a product (R-ATP-4, R-DATA-9): every sample capture of the shared
 * JA4 data set uploaded through the API gives the same handshakes as the pure analyzer; uploads are
 * refused while the org's switch is off; corrupt and oversized captures are refused with their
 * codes, leave nothing stored and the server keeps serving; block-listed fingerprints raise the
 * score; no client address or host name reaches the store files or the logs in clear; the CLI
 * prints one record per handshake; retention purges by the org's period on a fake clock.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { DAY_MS, FakeClock } from '../src/kernel/clock.ts';
import { tlsRepo } from '../src/storage/index.ts';
import { analyzeCaptureBytes, type TlsHandshakeRecord } from '../src/threat/tls/index.ts';
import { encodePcap, ethernetFrame, extractTcpSegments, ipTcp } from '../src/threat/tls/testkit.ts';
import type { CairnApp } from '../src/app.ts';

const PCAP_DIR = new URL('../../shared/data/ja4/pcap/', import.meta.url);
const SAMPLES = readdirSync(PCAP_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
const sample = (name: string) => readFileSync(new URL(name, PCAP_DIR));
const sys = systemCtx('test');
/** JA4 of the one ClientHello in tls12.pcap (Firefox to contile.services.mozilla.com). */
const TLS12_JA4 = 't13d1715h2_5b57614c22b0_3d5424432f57';

/** What the pure analyzer finds in a sample (the reference for what the service must store). */
function reference(name: string): TlsHandshakeRecord[] {
  return analyzeCaptureBytes(sample(name)).records;
}

/**
 * A pcap of `count` connections, each the ClientHello of tls12.pcap from its own client address
 * and port, closed by the client at once unless `close` is false (closed connections are
 * reported while the capture streams, open ones when it ends), one every `stepMs` from `startMs`.
 */
function synthCapture(count: number, startMs: number, stepMs = 1000, close = true): Uint8Array {
  const hello = extractTcpSegments(sample('tls12.pcap'))[0]!;
  const packets = [];
  for (let i = 0; i < count; i++) {
    const src = new Uint8Array([10, 99, (i >> 8) & 255, i & 255]);
    const conn = { src, dst: hello.dst, sport: 40_000 + (i % 20_000), dport: 443 };
    packets.push({ data: ethernetFrame(ipTcp({ ...conn, seq: 1000, flags: 0x18, payload: hello.payload })), timestampMs: startMs + i * stepMs });
    if (close) packets.push({ data: ethernetFrame(ipTcp({ ...conn, seq: 1000 + hello.payload.length, flags: 0x04 })), timestampMs: startMs + i * stepMs + 1 });
  }
  return encodePcap(packets, { linkType: 1 });
}

async function* chunked(b: Uint8Array, size = 16_384): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function setSwitch(c: CairnApp, orgId: string, on: boolean): Promise<void> {
  await c.services.threat.settings.update(sys, orgId, { fileRetentionDays: {}, encryptedTrafficAnalysis: on });
}

async function storedCount(c: CairnApp, orgId: string): Promise<number> {
  const db = await c.core.directory.storeOf(orgId);
  return (await tlsRepo(db).summary(orgId, { flagAt: 7 })).handshakes;
}

interface Org {
  id: string;
  sensor: Record<string, string>;
  admin: Record<string, string>;
}

let seq = 0;
async function makeOrg(c: CairnApp, country = 'NL'): Promise<Org> {
  const org = await c.services.tenancy.createOrg(sys, { name: `TLS org ${seq}`, country });
  const token = await c.services.identity.createToken(sys, org.id, { name: 'capture sensor', role: 'sensor' });
  const email = `tls-admin-${seq++}@org.example`;
  await c.services.identity.createUser(sys, org.id, { email, password: 'tls-admin-password-1', roles: [{ role: 'org_admin' }] });
  return { id: org.id, sensor: { authorization: `Bearer ${token.token}` }, admin: { cookie: await login(c, email, 'tls-admin-password-1') } };
}

function upload(c: CairnApp, org: Org, body: Uint8Array, type = 'application/vnd.tcpdump.pcap') {
  return c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/threat/pcaps`, headers: { ...org.sensor, 'content-type': type }, payload: Buffer.from(body) });
}

/** The fields that identify a handshake, for comparing the stored records with the reference. */
const key = (r: { ja4: string; ja4_r: string; ja4_o: string; ja3_hash: string; sni: string | null; srcAddress: string; srcPort: number; dstAddress: string; dstPort: number }) =>
  [r.ja4, r.ja4_r, r.ja4_o, r.ja3_hash, r.sni, r.srcAddress, r.srcPort, r.dstAddress, r.dstPort].join('|');

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`TLS capture uploads (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp | undefined;
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('every sample capture uploads and stores exactly the handshakes the analyzer finds', { skip }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup);
      const org = await makeOrg(c);
      await setSwitch(c, org.id, true);
      const expected: string[] = [];
      for (const name of SAMPLES) {
        const res = await upload(c, org, sample(name), name.endsWith('ng') ? 'application/x-pcapng' : 'application/vnd.tcpdump.pcap');
        assert.equal(res.statusCode, 200, `${name}: ${res.body}`);
        const ref = reference(name);
        const s = JSON.parse(res.body);
        assert.equal(s.handshakes, ref.length, name);
        assert.equal(s.stored, ref.length, name);
        assert.ok(s.top.length <= 10 && s.top.every((t: Record<string, unknown>) => !('sni' in t) && !('srcAddress' in t)), 'the summary names no host or address');
        expected.push(...ref.map(key));
      }
      assert.ok(expected.length >= 200, `the samples hold ${expected.length} handshakes`);
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?limit=1000`, headers: org.admin });
      assert.equal(r.statusCode, 200, r.body);
      const stored = JSON.parse(r.body) as { ja4: string; ja4_r: string; ja4_o: string; ja3_hash: string; sni: string | null; srcAddress: string; srcPort: number; dstAddress: string; dstPort: number; client: string; reasons: unknown[] }[];
      assert.deepEqual(stored.map(key).sort(), expected.sort());

      // Filters and paging.
      const byJa4 = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?ja4=${TLS12_JA4}`, headers: org.admin })).body) as { ja4: string }[];
      assert.ok(byJa4.length >= 1 && byJa4.every((x) => x.ja4 === TLS12_JA4));
      const page1 = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?limit=50`, headers: org.admin })).body) as { id: string }[];
      const page2 = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?limit=50&before=${page1.at(-1)!.id}`, headers: org.admin })).body) as { id: string }[];
      assert.equal(page2.length, 50);
      assert.ok(page2.every((x) => x.id < page1.at(-1)!.id));
      const recent = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?from=2023-12-01T00:00:00Z&to=2024-01-01T00:00:00Z`, headers: org.admin })).body) as { seenAt: string }[];
      assert.ok(recent.length >= 1 && recent.every((x) => x.seenAt >= '2023-12-01' && x.seenAt < '2024-01-01'));
      assert.equal((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?ja4=not-a-ja4`, headers: org.admin })).statusCode, 400);

      // Clients by pseudonym: one per client address, counts add up to every handshake.
      const clients = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls/clients?limit=1000`, headers: org.admin })).body) as { client: string; handshakes: number }[];
      assert.equal(clients.length, new Set(stored.map((x) => x.srcAddress)).size);
      assert.equal(clients.reduce((s, x) => s + x.handshakes, 0), expected.length);
      assert.ok(clients.every((x) => /^[0-9a-f]{32}$/.test(x.client)));
      const summary = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls/summary`, headers: org.admin })).body);
      assert.equal(summary.handshakes, expected.length);
      assert.equal(summary.clients, clients.length);

      // Uploads and personal reads are audited, without addresses or host names.
      const events = await c.services.auditQueries.list(sys, org.id, { limit: 1000 });
      assert.equal(events.filter((e) => e.action === 'tls.capture.upload').length, SAMPLES.length);
      assert.ok(events.some((e) => e.action === 'tls.read' && e.actor.startsWith('user:')));
      assert.ok(events.some((e) => e.action === 'tls.clients.read'));
      const auditText = JSON.stringify(events);
      for (const x of stored.slice(0, 20)) {
        assert.ok(!auditText.includes(x.srcAddress), 'no client address in the audit log');
        if (x.sni) assert.ok(!auditText.includes(x.sni), 'no host name in the audit log');
      }
    });

    test('a block-listed JA4 raises the score; an allow-listed one clears it; a block entry wins', { skip }, async () => {
      const org = await makeOrg(c!);
      await setSwitch(c!, org.id, true);
      const before = JSON.parse((await upload(c!, org, sample('tls12.pcap'))).body);
      assert.equal(before.top[0].score, 0);
      await c!.services.threat.lists.add(sys, org.id, { list: 'block', kind: 'ja4', value: TLS12_JA4 });
      const blocked = JSON.parse((await upload(c!, org, sample('tls12.pcap'))).body);
      assert.ok(blocked.top[0].score >= 7, JSON.stringify(blocked.top));
      assert.equal(blocked.top[0].reasons[0].code, 'ja4_blocklisted');
      const flagged = JSON.parse((await c!.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?minScore=7`, headers: org.admin })).body);
      assert.equal(flagged.length, 1);
      assert.match(flagged[0].reasons[0].detail, new RegExp(TLS12_JA4));
      const dutch = JSON.parse((await c!.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?minScore=7&lang=nl`, headers: org.admin })).body);
      assert.equal(dutch[0].reasons[0].detail, `JA4 ${TLS12_JA4} staat op de blokkeerlijst.`);
      const clients = JSON.parse((await c!.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls/clients?minScore=7`, headers: org.admin })).body);
      assert.equal(clients.length, 1);
      assert.ok(clients[0].maxScore >= 7);
      assert.equal(clients[0].handshakes, 2, 'both handshakes of the client are counted');
      const summary = JSON.parse((await c!.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls/summary`, headers: org.admin })).body);
      assert.equal(summary.flaggedClients, 1);

      // tls-alpn-h2.pcap offers weak ciphers (score 1); allow-listing its JA4 clears it.
      const weak = reference('tls-alpn-h2.pcap')[0]!;
      assert.equal(JSON.parse((await upload(c!, org, sample('tls-alpn-h2.pcap'))).body).top[0].score, 1);
      await c!.services.threat.lists.add(sys, org.id, { list: 'allow', kind: 'ja4', value: weak.ja4 });
      const allowed = JSON.parse((await upload(c!, org, sample('tls-alpn-h2.pcap'))).body);
      assert.deepEqual([allowed.top[0].score, allowed.top[0].reasons.map((r: { code: string }) => r.code)], [0, ['allow_listed']]);
      // A block entry on its server address wins over the allow entry.
      await c!.services.threat.lists.add(sys, org.id, { list: 'block', kind: 'ip', value: weak.dstAddress });
      const both = JSON.parse((await upload(c!, org, sample('tls-alpn-h2.pcap'))).body);
      assert.ok(both.top[0].score >= 8);
      assert.ok(both.top[0].reasons.some((r: { code: string }) => r.code === 'ip_blocklisted'));
    });
  });
}

describe('TLS capture uploads: refusals', () => {
  const setup = sqliteSetup();
  let c: CairnApp;
  after(async () => {
    await c?.close();
    await setup.cleanup();
  });

  test('uploads are refused while the org has encrypted-traffic analysis off, and nothing is stored', async () => {
    c = await makeApp(setup);
    const org = await makeOrg(c);
    const off = await upload(c, org, sample('tls12.pcap'));
    assert.equal(off.statusCode, 409);
    assert.equal(JSON.parse(off.body).error.code, 'CAIRN_ERR_FEATURE_DISABLED');
    const offNl = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/threat/pcaps`, headers: { ...org.sensor, 'content-type': 'application/vnd.tcpdump.pcap', 'accept-language': 'nl-NL,nl;q=0.9' }, payload: sample('tls12.pcap') });
    assert.match(JSON.parse(offNl.body).error.message, /versleuteld verkeer staat uit/);
    await setSwitch(c, org.id, true);
    assert.equal((await upload(c, org, sample('tls12.pcap'))).statusCode, 200);
    await setSwitch(c, org.id, false);
    assert.equal((await upload(c, org, sample('tls-sni.pcapng'))).statusCode, 409);
    assert.equal(await storedCount(c, org.id), 1, 'only the upload made while the switch was on is stored');
    await assert.rejects(c.services.tls.upload(sys, org.id, chunked(sample('tls12.pcap'))), /CAIRN_ERR_FEATURE_DISABLED|turned off|is off/);
  });

  test('a capture over the size limit is refused with 413 and nothing is stored', async () => {
    const small = sqliteSetup();
    const c = await makeApp(small, { tlsPcapLimitBytes: 65_536 });
    after(async () => {
      await c.close();
      await small.cleanup();
    });
    const org = await makeOrg(c);
    await setSwitch(c, org.id, true);
    const big = sample('tls-handshake.pcapng');
    assert.ok(big.length > 65_536);
    const res = await upload(c, org, big);
    assert.equal(res.statusCode, 413);
    assert.equal(JSON.parse(res.body).error.code, 'CAIRN_ERR_BODY_TOO_LARGE');
    assert.equal(JSON.parse(res.body).error.details.limitBytes, 65_536);
    // Streamed without a declared length: refused once the limit is passed, stored batches taken back.
    await assert.rejects(c.services.tls.upload(sys, org.id, chunked(synthCapture(400, Date.UTC(2026, 0, 1)), 4096)), (e: { code?: string }) => e.code === 'CAIRN_ERR_BODY_TOO_LARGE');
    assert.equal(await storedCount(c, org.id), 0);
  });

  test('corrupt captures get 422 with their code, leave nothing stored, and the server keeps serving', async () => {
    const org = await makeOrg(c);
    await setSwitch(c, org.id, true);
    const good = sample('tls12.pcap');
    const badLength = Buffer.concat([good.subarray(0, 24), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f]), Buffer.alloc(64)]);
    const cases: [string, Uint8Array, string][] = [
      ['not a capture', Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'.repeat(4)), 'CAIRN_ERR_PCAP_UNSUPPORTED'],
      ['empty', new Uint8Array(0), 'CAIRN_ERR_PCAP_CORRUPT'],
      ['header cut short', good.subarray(0, 10), 'CAIRN_ERR_PCAP_CORRUPT'],
      ['impossible record length', badLength, 'CAIRN_ERR_PCAP_CORRUPT'],
    ];
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(c.app.server.address() as { port: number }).port}`;
    for (const [what, body, code] of cases) {
      const res = await fetch(`${base}/api/v1/orgs/${org.id}/threat/pcaps`, { method: 'POST', headers: { ...org.sensor, 'content-type': 'application/octet-stream' }, body });
      assert.equal(res.status, 422, what);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, code, what);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, `still serving after ${what}`);
    }
    const ok = await fetch(`${base}/api/v1/orgs/${org.id}/threat/pcaps`, { method: 'POST', headers: { ...org.sensor, 'content-type': 'application/vnd.tcpdump.pcap' }, body: good });
    assert.equal(ok.status, 200);
    assert.equal(await storedCount(c, org.id), 1);

    // Corruption after more than one stored batch: the batches of that upload are taken back.
    const capture = synthCapture(1200, Date.UTC(2026, 0, 1));
    const corrupt = Buffer.concat([capture, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f])]);
    await assert.rejects(c.services.tls.upload(sys, org.id, chunked(corrupt)), (e: { code?: string }) => e.code === 'CAIRN_ERR_PCAP_CORRUPT');
    assert.equal(await storedCount(c, org.id), 1, 'only the earlier good upload remains');
    const events = await c.services.auditQueries.list(sys, org.id, { limit: 1000 });
    const discard = events.find((e) => e.action === 'tls.capture.discard');
    assert.ok(discard, 'the take-back is audited');
    assert.ok(Number((discard.details as { removed: number }).removed) >= 500, JSON.stringify(discard.details));
  });

  test('handshakes reported only when the capture ends are stored in bounded batches too', async () => {
    const org = await makeOrg(c);
    await setSwitch(c, org.id, true);
    const s = await c.services.tls.upload(sys, org.id, chunked(synthCapture(1200, Date.UTC(2026, 0, 1), 1000, false)));
    assert.deepEqual([s.handshakes, s.stored], [1200, 1200]);
    assert.equal(await storedCount(c, org.id), 1200);
    const events = await c.services.auditQueries.list(sys, org.id, { limit: 100 });
    assert.deepEqual(events.filter((e) => e.action.startsWith('tls.')).map((e) => [e.action, e.details.count ?? e.details.stored]).reverse(), [['tls.handshakes.store', 500], ['tls.handshakes.store', 500], ['tls.capture.upload', 1200]]);
  });

  test('only the hellos are analysed: later packets are skipped unread, the capture is never held whole', async () => {
    const org = await makeOrg(c);
    await setSwitch(c, org.id, true);
    const s = await c.services.tls.upload(sys, org.id, chunked(sample('http2-with-cookies.pcapng'), 65_536));
    assert.equal(s.handshakes, 1);
    assert.ok(s.skippedAfterHandshake > 100, `skipped ${s.skippedAfterHandshake}`);
    assert.ok(s.stats.peakBufferedBytes < 65_536, `buffered at most ${s.stats.peakBufferedBytes} bytes`);
  });
});

describe('TLS metadata privacy and retention', () => {
  test('no client address or host name reaches the SQLite files or the logs in clear', async () => {
    const setup = sqliteSetup();
    const logs: string[] = [];
    const dest = new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    const c = await makeApp(setup, { logLevel: 'debug' }, { logDestination: dest as never });
    try {
      const org = await makeOrg(c);
      await setSwitch(c, org.id, true);
      // A real server: light-my-request would hold each capture whole in the request object.
      await c.app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(c.app.server.address() as { port: number }).port}/api/v1/orgs/${org.id}/threat/pcaps`;
      const needles = new Set<string>();
      for (const name of SAMPLES) {
        for (const r of reference(name)) for (const v of [r.srcAddress, r.dstAddress, r.sni]) if (v && v.length >= 7 && !v.startsWith('127.')) needles.add(v.toLowerCase());
        const res = await fetch(url, { method: 'POST', headers: { ...org.sensor, 'content-type': 'application/vnd.tcpdump.pcap' }, body: sample(name) });
        assert.equal(res.status, 200, await res.text());
      }
      assert.ok(needles.size > 50, `${needles.size} addresses and host names to look for`);
      const list = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls?limit=1000`, headers: org.admin });
      assert.ok(list.body.includes('contile.services.mozilla.com'), 'an admin reads the decrypted host names');
      await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/threat/tls/clients`, headers: org.admin });
      await upload(c, org, Buffer.from('definitely not a capture'));
      await c.services.retention.runAll(sys);
      await c.close();
      const found: string[] = [];
      const scan = (buf: Buffer, where: string) => {
        const text = buf.toString('latin1').toLowerCase();
        for (const n of needles) if (text.includes(n)) found.push(`${n} in ${where}`);
      };
      const dir = setup.config().dataDir;
      const files = readdirSync(dir);
      assert.ok(files.some((f) => f.endsWith('.sqlite')));
      for (const f of files) scan(readFileSync(join(dir, f)), f);
      assert.ok(logs.join('').length > 1000, 'logs were captured');
      scan(Buffer.from(logs.join('')), 'logs');
      assert.deepEqual(found, []);
    } finally {
      await setup.cleanup();
    }
  });

  test('handshakes are purged after the org\'s tls_metadata period (30 days by default), in batches', async () => {
    const setup = sqliteSetup();
    const start = Date.UTC(2026, 2, 1);
    const clock = new FakeClock(start);
    const c = await makeApp(setup, { retentionBatchRows: 7 }, { clock });
    try {
      const a = await makeOrg(c);
      const b = await makeOrg(c, 'US');
      for (const o of [a, b]) await setSwitch(c, o.id, true);
      // Day 0 and day 20: 12 handshakes each, in both orgs.
      for (const day of [0, 20]) {
        clock.set(start + day * DAY_MS);
        for (const o of [a, b]) await c.services.tls.upload(sys, o.id, chunked(synthCapture(12, start + day * DAY_MS)));
      }
      await c.services.retention.set(sys, b.id, 'tls_metadata', 10);
      clock.set(start + 35 * DAY_MS);
      const reports = await c.services.retention.runAll(sys);
      const purged = new Map(reports.map((r) => [r.orgId, r.purged]));
      assert.equal(purged.get(a.id)?.tls_metadata, 12, 'A (30 days) loses day 0 only');
      assert.equal(purged.get(b.id)?.tls_metadata, 24, 'B (10 days) loses both');
      assert.equal(await storedCount(c, a.id), 12);
      assert.equal(await storedCount(c, b.id), 0);
      const left = await c.services.tls.list(sys, a.id, { limit: 100 });
      assert.ok(left.every((r) => Date.parse(r.receivedAt) === start + 20 * DAY_MS));
      const retention = await c.services.retention.list(sys, a.id);
      assert.equal(retention.find((r) => r.dataClass === 'tls_metadata')?.enforced, true);
    } finally {
      await c.close();
      await setup.cleanup();
    }
  });
});

describe('cairn threat pcap', () => {
  const setup = sqliteSetup();
  const cfg = setup.config();
  after(() => setup.cleanup());
  const cairn = (args: string[]) => {
    const r = spawnSync(process.execPath, ['dist/main.js', ...args], { env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const files = ['tls12.pcap', 'ipv6.pcapng', 'quic-tls-handshake.pcapng'].map((f) => new URL(f, PCAP_DIR).pathname);

  test('--json prints one record per handshake with addresses, ports, SNI, ALPN, JA3, JA4 forms and score', () => {
    const r = cairn(['threat', 'pcap', ...files, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const records = JSON.parse(r.stdout) as Record<string, unknown>[];
    const ref = files.flatMap((f) => analyzeCaptureBytes(readFileSync(f)).records.map((x) => ({ f, x })));
    assert.equal(records.length, ref.length);
    for (const [i, { f, x }] of ref.entries()) {
      const p = records[i]!;
      assert.deepEqual(Object.keys(p), ['file', 'transport', 'time', 'srcAddress', 'srcPort', 'dstAddress', 'dstPort', 'sni', 'alpn', 'ja3', 'ja3_hash', 'ja4', 'ja4_r', 'ja4_o', 'score', 'reasons']);
      assert.deepEqual([p.file, p.srcAddress, p.srcPort, p.dstAddress, p.dstPort, p.sni, p.alpn, p.ja3, p.ja3_hash, p.ja4, p.ja4_r, p.ja4_o], [f, x.srcAddress, x.srcPort, x.dstAddress, x.dstPort, x.sni, x.alpn, x.ja3, x.ja3_hash, x.ja4, x.ja4_r, x.ja4_o]);
      assert.equal(typeof p.score, 'number');
    }
    assert.ok(records.some((p) => p.transport === 'quic'));
    const bad = cairn(['threat', 'pcap', new URL('tls12.pcap', PCAP_DIR).pathname, '/nonexistent.pcap', '--json']);
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).length, 1, 'the readable file is still printed');
    assert.match(bad.stderr, /CAIRN_ERR_VALIDATION/);
  });

  test('--org stores and scores against the org, and respects its switch', async () => {
    const created = cairn(['org', 'create', '--name', 'CLI capture org', '--country', 'NL', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const orgId = JSON.parse(created.stdout).id as string;
    const off = cairn(['threat', 'pcap', files[0]!, '--org', orgId, '--json']);
    assert.equal(off.code, 1);
    assert.match(off.stderr, /CAIRN_ERR_FEATURE_DISABLED/);
    assert.deepEqual(JSON.parse(off.stdout), []);
    const c = await makeApp(setup);
    await setSwitch(c, orgId, true);
    await c.services.threat.lists.add(sys, orgId, { list: 'block', kind: 'ja4', value: TLS12_JA4 });
    await c.close();
    const on = cairn(['threat', 'pcap', files[0]!, '--org', orgId, '--json']);
    assert.equal(on.code, 0, on.stderr);
    const [p] = JSON.parse(on.stdout) as { id: string; score: number }[];
    assert.match(p!.id, /^[0-9a-f-]{36}$/);
    assert.ok(p!.score >= 7, 'scored against the org block list');
    const c2 = await makeApp(setup);
    try {
      const stored = await c2.services.tls.list(sys, orgId, {});
      assert.deepEqual(stored.map((s) => s.id), [p!.id]);
      const events = await c2.services.auditQueries.list(sys, orgId, { limit: 100 });
      assert.ok(events.some((e) => e.action === 'tls.capture.upload' && e.actor === 'system:cli'));
    } finally {
      await c2.close();
    }
  });
});
