/**
 * Ingest figures: observations per second through normalise → pseudonymise → locate → zone →
 * store on one core (native batches of 1 000 over ~10 000 devices, each heard by 5 BLE sensors,
 * location services on so every fix is stored; and again with location services off, zone counts
 * only), HTTP batch ingest over loopback with 1 000-observation batches (sensor token, JSON
 * bodies prepared beforehand, 4 requests in flight, client in the same process), and syslog lines
 * per second: the simulator's controller log (Aruba and hostapd association events of 1 000
 * people's phones and laptops on its campus) through the parser alone, and sent over TCP to the
 * syslog listener, which parses, batches and commits them through the pipeline (fixes, sessions).
 * Embedded SQLite. Beside each rate, the CPU time per observation or line (`…CpuMicros…`): on a
 * shared machine the wall-clock rate also measures the neighbours, the CPU time much less so.
 * Then `memory…`: peak memory of the bundled server with 10 000 live devices (`ingest-memory.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { loadConfig } from '../src/config.ts';
import { buildApp, type CairnApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { SyslogListener, associationToObservation, parseNativeBatch, parseSyslogLine, syslogAssociation, type NativeBatch } from '../src/ingest/index.ts';
import { Simulation, campusPlan, syslogLine, type SimAssociation } from '../src/simulator/index.ts';
import { DEFAULT_BLE_MODEL, rssiAtDistance } from '../src/location/index.ts';
import { seededNormal, seededRandom } from '../src/kernel/prng.ts';
import { LocationRepo } from '../src/storage/index.ts';
import { benchIngestMemory } from './ingest-memory.ts';

const DEVICES = 10_000;
const BATCH = 1_000;
const WIDTH = 200;
const HEIGHT = 100;
const SENSOR_STEP = 12.5;

interface World {
  orgId: string;
  siteId: string;
  sensors: { id: string; x: number; y: number }[];
  macs: string[];
  pos: Float64Array;
  /** Each device's 5 nearest sensors and their distances (devices stand still; RSSI noise varies). */
  near: { id: string; d: number }[][];
}

async function prepare(c: CairnApp): Promise<World> {
  const sys = systemCtx('test');
  const { tenancy, sensors, ingest } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name: 'Bench campus', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: WIDTH, heightM: HEIGHT })).id;
  // 10 × 5 rooms of 20 m × 20 m.
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
  const rnd = seededRandom(7);
  const macs: string[] = [];
  const pos = new Float64Array(DEVICES * 2);
  for (let i = 0; i < DEVICES; i++) {
    const b = randomBytes(6);
    b[0] = b[0]! & 0xfc; // globally administered, unicast
    macs.push([...b].map((v) => v.toString(16).padStart(2, '0')).join(':'));
    pos[2 * i] = rnd() * WIDTH;
    pos[2 * i + 1] = rnd() * HEIGHT;
  }
  const near = Array.from({ length: DEVICES }, (_, i) =>
    placed
      .map((s) => ({ id: s.id, d: Math.hypot(s.x - pos[2 * i]!, s.y - pos[2 * i + 1]!) }))
      .sort((a, b) => a.d - b.d)
      .slice(0, 5),
  );
  return { orgId, siteId, sensors: placed, macs, pos, near };
}

/** Batch `k`: devices k·1000 … k·1000+999 (mod 10 000), one second after batch k−1, heard by their 5 nearest sensors. */
function batch(w: World, k: number, t0: number, normal: () => number): NativeBatch {
  const observations: NativeBatch['observations'] = new Array(BATCH);
  for (let i = 0; i < BATCH; i++) {
    const dev = (k * BATCH + i) % DEVICES;
    observations[i] = {
      kind: 'ble-badge',
      deviceId: w.macs[dev]!,
      atMs: t0 + k * 1000,
      readings: w.near[dev]!.map((n) => ({ sensorId: n.id, rssiDbm: Math.max(-129, Math.min(-1, Math.round((rssiAtDistance(DEFAULT_BLE_MODEL, n.d) + 4 * normal()) * 10) / 10)) })),
    };
  }
  return { observations };
}

function rate(n: number, ms: number): number {
  return Math.round(n / (ms / 1000));
}

/** Process CPU time (user + system) since `from`, in µs. */
function cpuMicros(from: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(from);
  return u.user + u.system;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The simulator's controller syslog for `days` office mornings: the association events of
 * 1 000 people between 08:00 and 10:00 (computed once; later days repeat that morning, each on its
 * own date), written as Aruba (odd buildings) and hostapd (even ones) lines with a PRI.
 */
function syslogLines(sim: Simulation, days: number): string[] {
  const day0 = sim.options.startMs;
  const events: SimAssociation[] = [];
  for (const tick of sim.ticks({ fromMs: day0 + 8 * HOUR_MS, toMs: day0 + 10 * HOUR_MS })) events.push(...tick.associations);
  const lines: string[] = [];
  for (let d = 0; d < days; d++) for (const a of events) lines.push(syslogLine(sim, { ...a, atMs: a.atMs + d * DAY_MS }, 'mixed'));
  return lines;
}

/**
 * Syslog figures on the simulator's campus (its own org, location services on): lines per second
 * through the parser (line → association → observation, what the listener does per line), and
 * through the TCP listener end to end, from the first byte sent until every line is committed.
 */
async function benchSyslog(c: CairnApp, full: boolean): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const sys = systemCtx('test');
  const { tenancy, sensors, ingest } = c.services;
  // Only connected Wi-Fi matters to syslog: other devices report rarely, which speeds the simulation up.
  const sim = new Simulation({ seed: 3, people: 1_000, badgePeriodMs: HOUR_MS, probePeriodMs: HOUR_MS, sdkPeriodMs: HOUR_MS });
  const orgId = (await tenancy.createOrg(sys, { name: 'Bench syslog campus', country: 'NL' })).id;
  for (const site of campusPlan(sim.campus).sites) {
    const siteId = (await tenancy.createSite(sys, orgId, { name: site.name })).id;
    for (const f of site.floors) {
      const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: f.name, level: f.level, widthM: f.widthM, heightM: f.heightM })).id;
      for (const z of f.zones) await tenancy.createZone(sys, orgId, floorId, { name: z.name, polygon: z.polygon as [number, number][] });
      for (const sn of f.sensors) await sensors.create(sys, orgId, siteId, { floorId, kind: sn.kind, name: sn.name, mac: sn.mac, vendorId: sn.vendorId ?? null, xM: sn.xM, yM: sn.yM, coverageRadiusM: sn.coverageRadiusM, txPowerDbm: sn.txPowerDbm });
    }
  }
  await ingest.settings.update(sys, orgId, { locationServices: true });
  const lines = syslogLines(sim, full ? 40 : 4);
  out.syslogLines = lines.length;

  // Parser: the listener's per-line work, no sockets and no store (best of three passes).
  const referenceMs = sim.options.startMs;
  let best = Infinity;
  let observations = 0;
  for (let pass = 0; pass < 3; pass++) {
    observations = 0;
    const t = performance.now();
    for (const line of lines) {
      const a = syslogAssociation(parseSyslogLine(line, { referenceMs }));
      if (a && associationToObservation(a)) observations++;
    }
    best = Math.min(best, performance.now() - t);
  }
  out.syslogParseLinesPerSecond = rate(lines.length, best);
  out.syslogObservations = observations;

  // Listener: one TCP connection over loopback, newline-framed, the sender in this process.
  const listener = new SyslogListener(ingest, c.core.clock, c.core.log, { host: '127.0.0.1', tcpPort: 0, orgId, siteId: null });
  const port = (await listener.start()).tcp!.port;
  const body = Buffer.from(lines.join('\n') + '\n');
  const cpu = process.cpuUsage();
  const t = performance.now();
  await new Promise<void>((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      let off = 0;
      const pump = (): void => {
        while (off < body.length) {
          const chunk = body.subarray(off, off + 65_536);
          off += chunk.length;
          if (!sock.write(chunk)) return void sock.once('drain', pump);
        }
        sock.end();
      };
      pump();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve());
  });
  while (listener.stats.lines < lines.length) await new Promise((r) => setTimeout(r, 1));
  const receivedMs = performance.now() - t;
  await listener.stop(); // commits what is still waiting
  const ms = performance.now() - t;
  out.syslogLinesPerSecondReceived = rate(lines.length, receivedMs);
  out.syslogLinesPerSecond = rate(lines.length, ms);
  out.syslogCpuMicrosPerLine = Math.round((cpuMicros(cpu) / lines.length) * 10) / 10;
  out.syslogBatches = listener.stats.batches;
  out.syslogRejected = listener.stats.rejected;
  out.syslogSessions = listener.stats.sessions;
  return out;
}

export async function benchIngest(opts: { full: boolean }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-ingest-'));
  try {
    const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0, auditCheckpointIntervalMinutes: 0, host: '127.0.0.1', port: 0 } });
    const c = await buildApp(cfg);
    const w = await prepare(c);
    const normal = seededNormal(seededRandom(11));
    const t0 = Date.UTC(2026, 0, 5, 8);
    const ctx = systemCtx('test');
    const ingest = c.services.ingest;

    // Pipeline: parse (validate + normalise) and ingest, timed; generating the batch is not.
    const batches = opts.full ? 1000 : 150;
    let k = 0;
    let ms = 0;
    let cpu = 0;
    let fixes = 0;
    // One warm-up pass over every device (first pseudonyms, first rows), not timed.
    for (; k < DEVICES / BATCH; k++) {
      const b = batch(w, k, t0, normal);
      await ingest.ingest(ctx, w.orgId, { source: 'native', observations: parseNativeBatch(b), siteId: w.siteId });
    }
    for (let n = 0; n < batches; n++, k++) {
      const b = batch(w, k, t0, normal);
      const c0 = process.cpuUsage();
      const t = performance.now();
      const s = await ingest.ingest(ctx, w.orgId, { source: 'native', observations: parseNativeBatch(b), siteId: w.siteId });
      ms += performance.now() - t;
      cpu += cpuMicros(c0);
      fixes += s.fixes;
    }
    out.pipelineObservations = batches * BATCH;
    out.pipelineObservationsPerSecond = rate(batches * BATCH, ms);
    out.pipelineCpuMicrosPerObservation = Math.round((cpu / (batches * BATCH)) * 100) / 100;
    out.pipelineFixesStored = fixes;
    out.devices = DEVICES;
    out.sensorsPerObservation = 5;

    // The same without location services (R-LOC-4: zone counts only, no fixes, no device rows):
    // what the pipeline costs before the fixes are written.
    await ingest.settings.update(ctx, w.orgId, { locationServices: false });
    ms = 0;
    for (let n = 0; n < batches; n++, k++) {
      const b = batch(w, k, t0, normal);
      const t = performance.now();
      await ingest.ingest(ctx, w.orgId, { source: 'native', observations: parseNativeBatch(b), siteId: w.siteId });
      ms += performance.now() - t;
    }
    out.pipelineAggregateOnlyObservationsPerSecond = rate(batches * BATCH, ms);
    await ingest.settings.update(ctx, w.orgId, { locationServices: true });

    // HTTP: sensor token, 1 000-observation JSON batches over loopback, 4 requests in flight.
    const token = (await c.services.identity.createToken(ctx, w.orgId, { name: 'bench', role: 'sensor', siteId: w.siteId })).token;
    const address = await c.app.listen({ host: '127.0.0.1', port: 0 });
    const requests = opts.full ? 500 : 50;
    const bodies: string[] = [];
    for (let i = 0; i < requests; i++) bodies.push(JSON.stringify(batch(w, k++, t0, normal)));
    const post = async (body: string) => {
      const r = await fetch(`${address}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${(await r.text()).slice(0, 200)}`);
      await r.arrayBuffer();
    };
    await post(bodies[0]!);
    let next = 1;
    const httpCpu = process.cpuUsage();
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < requests) await post(bodies[next++]!);
      }),
    );
    const httpMs = performance.now() - t;
    out.httpBatches = requests - 1;
    out.httpObservationsPerSecond = rate((requests - 1) * BATCH, httpMs);
    out.httpCpuMicrosPerObservation = Math.round((cpuMicros(httpCpu) / ((requests - 1) * BATCH)) * 100) / 100;
    out.httpBatchesPerSecond = Math.round(((requests - 1) / (httpMs / 1000)) * 10) / 10;
    const db = await c.core.directory.storeOf(w.orgId);
    out.fixesInStore = await new LocationRepo(db).countFixes(w.orgId);
    Object.assign(out, await benchSyslog(c, opts.full));
    await c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  Object.assign(out, await benchIngestMemory(opts));
  return out;
}
