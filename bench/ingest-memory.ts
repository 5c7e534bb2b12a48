/**
 * Peak memory of the server with 10 000 live devices (issue 3 target ≤ 300 MB). The server runs
 * in a child process of its own (embedded SQLite, default configuration, so ingest back-pressure
 * at its default bound) and is measured there: peak RSS (`resourceUsage().maxRSS`) and the peaks
 * of V8 heap, external and array-buffer memory sampled every 50 ms. This process is the sensor
 * network: 10 000 BLE badges walking about a 200 m × 100 m floor with 128 sensors, every badge
 * heard by its 5 nearest sensors every 10 s of data time, sent as native batches of 1 000 over
 * loopback by 8 concurrent senders. Every stage carries state per device: the Kalman smoother,
 * the presence tracker (zone per device), the pseudonym cache, the device-row cache. The run lasts
 * past the presence idle time (5 min of data), so the figure is the steady state, and RSS at each
 * fifth of the run shows whether anything keeps growing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BLE_MODEL, rssiAtDistance } from '../src/location/index.ts';
import { seededNormal, seededRandom } from '../src/kernel/prng.ts';

const DEVICES = 10_000;
const BATCH = 1_000;
const WIDTH = 200;
const HEIGHT = 100;
const SENSOR_STEP = 12.5;
const ROUND_MS = 10_000;
const SENDERS = 8;
const MB = 1024 * 1024;

interface Ready {
  type: 'ready';
  base: string;
  token: string;
  sensors: { id: string; x: number; y: number }[];
  baseline: { rssMB: number; heapMB: number };
}
interface Report {
  type: 'report';
  peakRssMB: number;
  sampledPeakRssMB: number;
  peakHeapUsedMB: number;
  peakExternalMB: number;
  peakArrayBuffersMB: number;
  rssNowMB: number;
  heapUsedNowMB: number;
  liveDevices: number;
  rssMBAt: number[];
}

const mb = (n: number) => Math.round((n / MB) * 10) / 10;

// ---- the server (child process) ------------------------------------------------------------

async function child(dataDir: string): Promise<void> {
  const { loadConfig } = await import('../src/config.ts');
  const { buildApp } = await import('../src/app.ts');
  const { systemCtx } = await import('../src/privacy/index.ts');
  const cfg = loadConfig({ env: {}, overrides: { dataDir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0, auditCheckpointIntervalMinutes: 0, host: '127.0.0.1', port: 0 } });
  const c = await buildApp(cfg);
  const sys = systemCtx('bench');
  const { tenancy, sensors, ingest, identity } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name: 'Memory campus', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: WIDTH, heightM: HEIGHT })).id;
  for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) await tenancy.createZone(sys, orgId, floorId, { name: `R${i}-${j}`, polygon: [[i * 20, j * 20], [i * 20 + 20, j * 20], [i * 20 + 20, j * 20 + 20], [i * 20, j * 20 + 20]] });
  const placed: Ready['sensors'] = [];
  for (let x = SENSOR_STEP / 2; x < WIDTH; x += SENSOR_STEP) {
    for (let y = SENSOR_STEP / 2; y < HEIGHT; y += SENSOR_STEP) {
      const id = `ble-${placed.length}`;
      await sensors.create(sys, orgId, siteId, { floorId, kind: 'ble-sensor', name: id, vendorId: id, xM: x, yM: y });
      placed.push({ id, x, y });
    }
  }
  await ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
  const token = (await identity.createToken(sys, orgId, { name: 'bench', role: 'sensor', siteId })).token;
  const base = await c.app.listen({ host: '127.0.0.1', port: 0 });

  const peak = { rss: 0, heap: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
    return m;
  };
  const m0 = sample();
  const timer = setInterval(sample, 50);
  const rssMBAt: number[] = [];
  const send = (msg: Ready | Report) => process.send!(msg);
  send({ type: 'ready', base, token, sensors: placed, baseline: { rssMB: mb(m0.rss), heapMB: mb(m0.heapUsed) } });
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'mark') {
      rssMBAt.push(mb(sample().rss));
      return;
    }
    if (msg.type !== 'report') return;
    clearInterval(timer);
    const now = sample();
    send({
      type: 'report',
      peakRssMB: mb(process.resourceUsage().maxRSS * 1024),
      sampledPeakRssMB: mb(peak.rss),
      peakHeapUsedMB: mb(peak.heap),
      peakExternalMB: mb(peak.external),
      peakArrayBuffersMB: mb(peak.arrayBuffers),
      rssNowMB: mb(now.rss),
      heapUsedNowMB: mb(now.heapUsed),
      liveDevices: ingest.presence(orgId)?.state.size ?? 0,
      rssMBAt,
    });
    void c.close().then(() => process.exit(0));
  });
}

// ---- the sensor network (this process) -----------------------------------------------------

/** 10 000 badges walking at up to 1 m/s; each round, each is heard by its 5 nearest sensors. */
class Badges {
  readonly macs: string[] = [];
  private readonly pos = new Float64Array(DEVICES * 2);
  private readonly rnd = seededRandom(7);
  private readonly normal = seededNormal(seededRandom(11));

  constructor(private readonly sensors: Ready['sensors']) {
    for (let i = 0; i < DEVICES; i++) {
      const b = randomBytes(6);
      b[0] = b[0]! & 0xfc;
      this.macs.push([...b].map((v) => v.toString(16).padStart(2, '0')).join(':'));
      this.pos[2 * i] = this.rnd() * WIDTH;
      this.pos[2 * i + 1] = this.rnd() * HEIGHT;
    }
  }

  /** The JSON body of batch `k` of a round (devices k·1000 … k·1000+999), seen at `atMs`. */
  body(k: number, atMs: number): string {
    const observations = [];
    for (let i = k * BATCH; i < (k + 1) * BATCH; i++) {
      const step = (ROUND_MS / 1000) * this.rnd();
      const dir = this.rnd() * 2 * Math.PI;
      const x = Math.min(WIDTH - 0.1, Math.max(0.1, this.pos[2 * i]! + step * Math.cos(dir)));
      const y = Math.min(HEIGHT - 0.1, Math.max(0.1, this.pos[2 * i + 1]! + step * Math.sin(dir)));
      this.pos[2 * i] = x;
      this.pos[2 * i + 1] = y;
      const near = this.sensors
        .map((s) => ({ id: s.id, d: Math.hypot(s.x - x, s.y - y) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 5);
      observations.push({
        kind: 'ble-badge',
        deviceId: this.macs[i]!,
        atMs,
        readings: near.map((n) => ({ sensorId: n.id, rssiDbm: Math.max(-129, Math.min(-1, Math.round((rssiAtDistance(DEFAULT_BLE_MODEL, n.d) + 4 * this.normal()) * 10) / 10)) })),
      });
    }
    return JSON.stringify({ observations });
  }
}

/**
 * Run the server in a child process, stream `rounds` × 10 000 observations into it and report
 * its peak memory (MB).
 *
 * @example const m = await benchIngestMemory({ full: false }) // { peakRssMB: 180.2, … }
 */
export async function benchIngestMemory(opts: { full: boolean }): Promise<Record<string, number>> {
  // 36 rounds = 6 min of data (past the 5 min presence idle time); --full: 30 min.
  const rounds = opts.full ? 180 : 36;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-memory-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--memory-child', dir], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    const next = <T extends { type: string }>(type: T['type']): Promise<T> =>
      new Promise((resolve, reject) => {
        const onMsg = (m: T) => {
          if (m.type !== type) return;
          proc.off('message', onMsg);
          resolve(m);
        };
        proc.on('message', onMsg);
        void exited.then(() => reject(new Error('the server process exited')));
      });
    const ready = await next<Ready>('ready');
    const badges = new Badges(ready.sensors);
    const t0 = Date.UTC(2026, 0, 5, 8);
    const perRound = DEVICES / BATCH;
    const total = rounds * perRound;
    let busy = 0;
    let queued = 0;
    const post = async (body: string) => {
      for (;;) {
        const r = await fetch(`${ready.base}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${ready.token}`, 'content-type': 'application/json' }, body });
        const text = await r.text();
        if (r.status === 200) return;
        if (r.status !== 503) throw new Error(`ingest answered ${r.status}: ${text.slice(0, 200)}`);
        busy++;
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    const t = performance.now();
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (queued < total) {
          const n = queued++;
          const round = Math.floor(n / perRound);
          await post(badges.body(n % perRound, t0 + round * ROUND_MS + (n % perRound) * (ROUND_MS / perRound)));
          if ((n + 1) % Math.ceil(total / 5) === 0) proc.send({ type: 'mark' });
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    proc.send({ type: 'report' });
    const r = await next<Report>('report');
    await exited;
    const out: Record<string, number> = {
      memoryDevices: DEVICES,
      memoryLiveDevicesAtEnd: r.liveDevices,
      memoryObservations: total * BATCH,
      memoryDataMinutes: (rounds * ROUND_MS) / 60_000,
      memoryHttpObservationsPerSecond: Math.round((total * BATCH) / seconds),
      memoryBusyAnswers: busy,
      memoryBaselineRssMB: ready.baseline.rssMB,
      memoryPeakRssMB: r.peakRssMB,
      memoryPeakHeapUsedMB: r.peakHeapUsedMB,
      memoryPeakExternalMB: r.peakExternalMB,
      memoryPeakArrayBuffersMB: r.peakArrayBuffersMB,
      memoryRssAtEndMB: r.rssNowMB,
      memoryHeapUsedAtEndMB: r.heapUsedNowMB,
    };
    r.rssMBAt.forEach((v, i) => (out[`memoryRssMBAfter${(i + 1) * 20}pct`] = v));
    return out;
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--memory-child') await child(process.argv[3]!);
