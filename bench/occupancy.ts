/**
 * Hot-zone alert latency (issue 4): from the moment a batch of observations that pushes a zone
 * over its limit is handed in, to the moment the signed `occupancy-alerts` webhook arrives at a
 * local HTTP receiver over loopback, while the server ingests a steady 50 000 observations/s
 * (1 000-observation native batches every 20 ms, up to 4 in flight; 10 000 Wi-Fi devices with
 * positions on a 200 m × 100 m floor of 50 rooms, location services on, so every observation is
 * parsed, pseudonymised, placed, zoned and stored as a fix). Two phases: `pipeline` hands the
 * JSON batches to the ingest service in process; `http` posts them to
 * `POST /api/v1/ingest/observations` over loopback with a sensor token. Each reports the rate it
 * achieved (when the machine cannot keep up, batches start late and the rate falls short: the
 * latency is then measured under saturation) and the CPU time per observation.
 *
 * One room is the hot zone (fixed limit 20, hold 0 so the alert is due at once, hysteresis
 * 10 %). Every second, 25 probe devices enter it inside a regular batch (a violation is due),
 * and a second later leave it (a recovery is due). Latency is counted per expected alert, both
 * kinds; an alert missing when the run ends counts as missed. Embedded SQLite, one process
 * (load generator, server, receiver and SQLite share one event loop and the machine's cores).
 * Bounded: 15 s of load per phase (quick) or 60 s (--full).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';
import { seededRandom } from '../src/kernel/prng.ts';
import { startWebhookReceiver } from '../src/tracing/delivery/testkit.ts';

const DEVICES = 10_000;
const BATCH = 1_000;
const PERIOD_MS = 20; // 50 batches/s = 50 000 observations/s
const IN_FLIGHT = 4;
const PROBES = 25;
const LIMIT = 20;
const CYCLE_BATCHES = 50; // the probes switch zone every second

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function benchOccupancy(opts: { full: boolean }): Promise<Record<string, unknown>> {
  const seconds = opts.full ? 60 : 15;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-occupancy-'));
  const receiver = await startWebhookReceiver();
  const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0, auditCheckpointIntervalMinutes: 0, host: '127.0.0.1', port: 0, deliveryAllowPrivateTargets: true, ingestMaxInFlight: 64 } });
  const c = await buildApp(cfg);
  try {
    const sys = systemCtx('test');
    const { tenancy, ingest, occupancy, delivery, identity } = c.services;
    const orgId = (await tenancy.createOrg(sys, { name: 'Bench campus', country: 'NL' })).id;
    const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ', timezone: 'UTC' })).id;
    const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 200, heightM: 100 })).id;
    const zones: string[] = [];
    for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) zones.push((await tenancy.createZone(sys, orgId, floorId, { name: `R${i}-${j}`, polygon: [[i * 20, j * 20], [i * 20 + 20, j * 20], [i * 20 + 20, j * 20 + 20], [i * 20, j * 20 + 20]] })).id);
    const hot = zones[0]!; // room (0,0): x 0-20, y 0-20
    await ingest.settings.update(sys, orgId, { locationServices: true });
    await occupancy.updateSettings(sys, orgId, { alerts: { holdMinutes: 0, hysteresisPercent: 10 } });
    await occupancy.setBaseline(sys, orgId, hot, { mode: 'fixed', limit: LIMIT });
    await delivery.channels.create(sys, orgId, { kind: 'webhook', name: 'bench receiver', topics: ['occupancy-alerts'], webhook: { url: receiver.url, secret: 'bench-secret-0123456789abcdef' } });
    const token = (await identity.createToken(sys, orgId, { name: 'bench', role: 'sensor', siteId })).token;
    const address = await c.app.listen({ host: '127.0.0.1', port: 0 });
    c.startSchedulers();

    // Each device's observation as a JSON prefix (the time is appended per batch). Background
    // devices stay out of the hot room; probes stand in it or in the far corner room.
    const rnd = seededRandom(5);
    const mac = (i: number) => `00:1a:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:7e`;
    const obs = (m: string, x: number, y: number) => `{"kind":"wifi-connected","deviceId":"${m}","x":${x.toFixed(2)},"y":${y.toFixed(2)},"floorId":"${floorId}","atMs":`;
    const background: string[] = [];
    for (let i = 0; i < DEVICES; i++) {
      let x = rnd() * 200;
      const y = rnd() * 100;
      if (x < 21 && y < 21) x += 25;
      background.push(obs(mac(i), x, y));
    }
    const probesIn = Array.from({ length: PROBES }, (_, i) => obs(mac(100_000 + i), 2 + (i % 5) * 3, 2 + Math.floor(i / 5) * 3));
    const probesOut = Array.from({ length: PROBES }, (_, i) => obs(mac(100_000 + i), 182 + (i % 5) * 3, 82 + Math.floor(i / 5) * 3));
    const body = (k: number, atMs: number): string => {
      const parts: string[] = new Array(BATCH);
      const probe = k % CYCLE_BATCHES === 0 ? (Math.floor(k / CYCLE_BATCHES) % 2 === 0 ? probesIn : probesOut) : null;
      for (let i = 0; i < BATCH; i++) {
        const pre = probe && i >= BATCH - PROBES ? probe[i - (BATCH - PROBES)]! : background[(k * BATCH + i) % DEVICES]!;
        parts[i] = pre + atMs + '}';
      }
      return `{"observations":[${parts.join(',')}]}`;
    };

    // Expected alerts, in order, and their arrivals.
    const expected: { type: string; sentAt: number; gotAt?: number }[] = [];
    receiver.onRequest = (r) => {
      let type: string;
      try {
        type = JSON.parse(r.body).events[0].alert_events[0].type as string;
      } catch {
        return;
      }
      const e = expected.find((x) => x.type === type && x.gotAt === undefined);
      if (e) e.gotAt = r.atPerfMs;
    };

    const send = async (k: number, mode: 'pipeline' | 'http'): Promise<void> => {
      const b = body(k, Date.now());
      const sentAt = performance.now();
      if (k % CYCLE_BATCHES === 0) expected.push({ type: Math.floor(k / CYCLE_BATCHES) % 2 === 0 ? 'COMPLIANCE-VIOLATION' : 'COMPLIANCE-OK', sentAt });
      if (mode === 'pipeline') {
        // A batch arrives as I/O would: after a turn of the event loop (SQLite calls are synchronous,
        // so back-to-back batches in process would otherwise never let timers and sockets run).
        await new Promise((r) => setImmediate(r));
        await ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch(b), siteId });
        return;
      }
      const res = await fetch(`${address}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: b });
      if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      await res.arrayBuffer();
    };

    // Warm-up (not timed): every device once, so first pseudonyms and rows are out of the way.
    for (let k = 1; k <= DEVICES / BATCH; k++) await send(k, 'pipeline');

    const phase = async (mode: 'pipeline' | 'http'): Promise<Record<string, unknown>> => {
      expected.length = 0;
      // The probes start outside the hot room.
      await send(CYCLE_BATCHES, mode);
      await new Promise((r) => setTimeout(r, 1_500));
      expected.length = 0;
      const total = Math.round((seconds * 1000) / PERIOD_MS);
      let next = 0;
      let late = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          for (;;) {
            const k = next++;
            if (k >= total) return;
            const due = t0 + k * PERIOD_MS;
            const wait = due - performance.now();
            if (wait > 1) await new Promise((r) => setTimeout(r, wait));
            else if (wait < -PERIOD_MS) late++;
            await send(k, mode);
          }
        }),
      );
      const loadMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      // Let the last alerts arrive (bounded).
      const until = performance.now() + 3_000;
      while (expected.some((e) => e.gotAt === undefined) && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
      const lat = (type?: string) => expected.filter((e) => (type === undefined || e.type === type) && e.gotAt !== undefined).map((e) => e.gotAt! - e.sentAt).sort((a, b) => a - b);
      const all = lat();
      const v = lat('COMPLIANCE-VIOLATION');
      const ok = lat('COMPLIANCE-OK');
      return {
        targetObservationsPerSecond: Math.round((BATCH * 1000) / PERIOD_MS),
        achievedObservationsPerSecond: Math.round((total * BATCH) / (loadMs / 1000)),
        cpuMicrosPerObservation: round((cpu.user + cpu.system) / (total * BATCH)),
        loadSeconds: round(loadMs / 1000),
        batches: total,
        batchesStartedLate: late,
        alertsExpected: expected.length,
        alertsMissed: expected.filter((e) => e.gotAt === undefined).length,
        alertLatencyMs: { p50: round(quantile(all, 0.5)), p95: round(quantile(all, 0.95)), p99: round(quantile(all, 0.99)), max: round(all[all.length - 1] ?? NaN) },
        violationLatencyMs: { p50: round(quantile(v, 0.5)), p99: round(quantile(v, 0.99)), n: v.length },
        recoveryLatencyMs: { p50: round(quantile(ok, 0.5)), p99: round(quantile(ok, 0.99)), n: ok.length },
      };
    };
    const pipeline = await phase('pipeline');
    const overHttp = await phase('http');
    const deliveries = await delivery.list(sys, orgId, { limit: 1000 });
    return {
      devices: DEVICES,
      cores: availableParallelism(),
      pipeline,
      http: overHttp,
      deliveriesFailedOrPending: deliveries.filter((d) => d.state !== 'delivered').length,
    };
  } finally {
    await c.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
