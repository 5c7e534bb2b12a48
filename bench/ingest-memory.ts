/**
 * Peak memory of the server with 10 000 live devices (issue 3 target ≤ 300 MB). The server runs
 * as deployed, `dist/main.js serve` (the esbuild bundle; embedded SQLite; default configuration,
 * so ingest back-pressure at its default bound), in a process of its own, and is measured there:
 * peak RSS (Linux `VmHWM`), V8 heap sampled from its /metrics every 250 ms. This process is the
 * sensor network: 10 000 BLE badges walking about a 200 m × 100 m floor of 50 rooms with 128
 * sensors, every badge heard by its 5 nearest sensors every 10 s of data time, sent as native
 * batches of 1 000 over loopback by 8 concurrent senders. Every stage keeps state per device:
 * Kalman smoother, presence tracker (zone per device), pseudonym cache, device-row cache. The run
 * lasts past the presence idle time (5 min of data), so the peak is the steady state's, and RSS
 * at each fifth of the run shows whether anything keeps growing. Figures in MiB (2^20 bytes).
 *
 * What the figure is made of (measured with heap snapshots and the sampling heap profiler): the
 * idle server is ~115-125 MiB (node binary ~47, V8 heap ~70 committed, ~30 live); 10 000 live
 * devices add ~18 MiB of live heap; the rest of the peak is V8 letting the old generation fill
 * with batch garbage (~150 MiB used before a full GC brings it back to ~50-60).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { reposFor } from '../src/storage/index.ts';
import { DEFAULT_BLE_MODEL, rssiAtDistance } from '../src/location/index.ts';
import { seededNormal, seededRandom } from '../src/kernel/prng.ts';

const DEVICES = 10_000;
const BATCH = 1_000;
const WIDTH = 200;
const HEIGHT = 100;
const SENSOR_STEP = 12.5;
const ROUND_MS = 10_000;
const SENDERS = 8;
const MIB = 1024 * 1024;
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const BUILD = fileURLToPath(new URL('../scripts/build.mjs', import.meta.url));

interface World {
  orgId: string;
  token: string;
  sensors: { id: string; x: number; y: number }[];
}

const mib = (n: number) => Math.round((n / MIB) * 10) / 10;

/** The org, its floor (50 rooms), 128 BLE sensors and a sensor token, made before the server starts. */
async function prepare(cfg: Config): Promise<World> {
  const c = await buildApp(cfg, { http: false });
  try {
    const sys = systemCtx('test');
    const { tenancy, sensors, ingest, identity } = c.services;
    const orgId = (await tenancy.createOrg(sys, { name: 'Memory campus', country: 'NL' })).id;
    const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
    const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: WIDTH, heightM: HEIGHT })).id;
    for (let i = 0; i < 10; i++) for (let j = 0; j < 5; j++) await tenancy.createZone(sys, orgId, floorId, { name: `R${i}-${j}`, polygon: [[i * 20, j * 20], [i * 20 + 20, j * 20], [i * 20 + 20, j * 20 + 20], [i * 20, j * 20 + 20]] });
    const placed: World['sensors'] = [];
    for (let x = SENSOR_STEP / 2; x < WIDTH; x += SENSOR_STEP) {
      for (let y = SENSOR_STEP / 2; y < HEIGHT; y += SENSOR_STEP) {
        const id = `ble-${placed.length}`;
        await sensors.create(sys, orgId, siteId, { floorId, kind: 'ble-sensor', name: id, vendorId: id, xM: x, yM: y });
        placed.push({ id, x, y });
      }
    }
    await ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
    const token = (await identity.createToken(sys, orgId, { name: 'bench', role: 'sensor', siteId })).token;
    return { orgId, token, sensors: placed };
  } finally {
    await c.close();
  }
}

/** The server's peak and current resident set (Linux /proc), bytes; undefined elsewhere. */
function procMemory(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** Start `dist/main.js serve` on the configuration's store; resolves with its base URL. */
function startServer(cfg: Config): Promise<{ proc: ChildProcess; base: string; exited: Promise<void> }> {
  const env = { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, HOST: '127.0.0.1', PORT: '0', CAIRN_LOG_LEVEL: 'warn', CAIRN_RETENTION_INTERVAL_MIN: '0', CAIRN_AUDIT_CHECKPOINT_INTERVAL_MIN: '0', CAIRN_STORE: 'sqlite', CAIRN_DEMO: 'false' };
  const proc = spawn(process.execPath, [MAIN, 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    void exited.then(() => reject(new Error(`the server exited: ${out}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /API\s+(http:\/\/\S+)\/api\/v1/.exec(out);
      if (m) resolve({ proc, base: m[1]!, exited });
    });
  });
}

// ---- the sensor network (this process) -----------------------------------------------------

/** 10 000 badges walking at up to 1 m/s; each round, each is heard by its 5 nearest sensors. */
class Badges {
  readonly macs: string[] = [];
  private readonly pos = new Float64Array(DEVICES * 2);
  private readonly rnd = seededRandom(7);
  private readonly normal = seededNormal(seededRandom(11));

  constructor(private readonly sensors: World['sensors']) {
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
 * Start the bundled server, stream `rounds` × 10 000 observations into it and report its peak
 * memory (MiB).
 *
 * @example const m = await benchIngestMemory({ full: false }) // { memoryPeakRssMiB: 240.1, … }
 */
export async function benchIngestMemory(opts: { full: boolean }): Promise<Record<string, number>> {
  // 36 rounds = 6 min of data (past the 5 min presence idle time); --full: 30 min.
  const rounds = opts.full ? 180 : 36;
  // The server as deployed: the esbuild bundle (rebuilt here only when a source is newer).
  const built = spawnSync(process.execPath, [BUILD, '--if-stale'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the bundle did not build');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-memory-'));
  const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0 } });
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    const world = await prepare(cfg);
    server = await startServer(cfg);
    const { proc, base } = server;
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${base}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    };
    const baselineRss = procMemory(proc.pid!)?.rss ?? (await metric('cairn_process_resident_memory_bytes'));
    const baselineHeap = await metric('cairn_nodejs_heap_size_used_bytes');
    // Heap and RSS sampled from the server's own /metrics every 250 ms (one small request).
    const peak = { heap: baselineHeap, heapTotal: 0, rss: baselineRss };
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(`${base}/metrics`)).text();
        const v = (n: string) => Number(new RegExp(`^${n} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
        peak.heap = Math.max(peak.heap, v('cairn_nodejs_heap_size_used_bytes'));
        peak.heapTotal = Math.max(peak.heapTotal, v('cairn_nodejs_heap_size_total_bytes'));
        peak.rss = Math.max(peak.rss, v('cairn_process_resident_memory_bytes'));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const badges = new Badges(world.sensors);
    // Live data: it ends now. (Data hours ago would be backfill to the proximity index of issue 4,
    // which then re-reads a whole hour of fixes every minute.)
    const t0 = Date.now() - rounds * ROUND_MS;
    const perRound = DEVICES / BATCH;
    const total = rounds * perRound;
    const rssAt: number[] = [];
    let busy = 0;
    let queued = 0;
    let done = 0;
    const post = async (body: string) => {
      for (;;) {
        const r = await fetch(`${base}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${world.token}`, 'content-type': 'application/json' }, body });
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
          if (++done % Math.ceil(total / 5) === 0) rssAt.push(procMemory(proc.pid!)?.rss ?? (await metric('cairn_process_resident_memory_bytes')));
        }
      }),
    );
    const seconds = (performance.now() - t) / 1000;
    sampling = false;
    await sampler;
    const end = procMemory(proc.pid!);
    const out: Record<string, number> = {
      memoryDevices: DEVICES,
      memoryObservations: total * BATCH,
      memoryDataMinutes: (rounds * ROUND_MS) / 60_000,
      memoryHttpObservationsPerSecond: Math.round((total * BATCH) / seconds),
      memoryBusyAnswers: busy,
      memoryBaselineRssMiB: mib(baselineRss),
      memoryBaselineHeapUsedMiB: mib(baselineHeap),
      memoryPeakRssMiB: mib(end?.hwm ?? peak.rss),
      memoryPeakHeapUsedMiB: mib(peak.heap),
      memoryPeakHeapTotalMiB: mib(peak.heapTotal),
      memoryRssAtEndMiB: mib(end?.rss ?? (await metric('cairn_process_resident_memory_bytes'))),
      memoryHeapUsedAtEndMiB: mib(await metric('cairn_nodejs_heap_size_used_bytes')),
    };
    rssAt.forEach((v, i) => (out[`memoryRssMiBAfter${(i + 1) * 20}pct`] = mib(v)));
    proc.kill('SIGTERM');
    await server.exited;
    // Every badge reached the store as a device.
    const c = await buildApp(cfg, { http: false });
    try {
      const db = await c.core.directory.storeOf(world.orgId);
      out.memoryDevicesStored = (await reposFor(db).devices.count(world.orgId, null, 0)).total;
    } finally {
      await c.close();
    }
    return out;
  } finally {
    if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
      server.proc.kill('SIGKILL');
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
