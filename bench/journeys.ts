/**
 * Journey figures (issue 4, R-CT-2) on the embedded store: the simulator's campus registered as
 * sites, floors and zones; its people's days (schedules, walks, meetings, lunch) sampled once a
 * minute into zone visits for every device with a stable id, for days on end, stored as ingest
 * stores them; then journeys of random devices through the service (access check, visits, live
 * overlay, names, dwell bands, audit write), timed one by one. The org has had one ingest batch,
 * as a live server has, so open visits come from memory. Prints JSON when run directly:
 *
 *   node --import tsx bench/journeys.ts [--full]
 *
 * Quick: 1 000 people over 5 days. Full: 3 400 people (about 10 000 devices) over 14 days.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';
import { JourneysRepo, type VisitRow } from '../src/storage/index.ts';
import { campusPlan, positionAt, Simulation, zoneAt } from '../src/simulator/index.ts';
import { seededRandom } from '../src/kernel/prng.ts';

const MIN = 60_000;
const DAY = 86_400_000;

function pct(sorted: readonly number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

/**
 * Runs the journey benchmark and returns flat figures.
 *
 * @example const r = await benchJourneys({ full: false }); r.query1dP95Ms
 */
export async function benchJourneys(opts: { full: boolean }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const people = opts.full ? 3_400 : 1_000;
  const days = opts.full ? 14 : 5;
  const queries = opts.full ? 2_000 : 600;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-journeys-'));
  try {
    const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0, auditCheckpointIntervalMinutes: 0 } });
    const c = await buildApp(cfg, { http: true });
    const ctx = systemCtx('test');
    const { tenancy } = c.services;
    const sim = new Simulation({ seed: 5, people, days });
    const orgId = (await tenancy.createOrg(ctx, { name: 'Bench journeys', country: 'NL' })).id;
    const db = await c.core.directory.storeOf(orgId);

    // The campus as sites, floors and zones.
    const floorOf: { siteId: string; floorId: string }[] = [];
    const zoneOf = new Map<string, string>();
    for (const s of campusPlan(sim.campus).sites) {
      const siteId = (await tenancy.createSite(ctx, orgId, { name: s.name })).id;
      for (const f of s.floors) {
        const floorId = (await tenancy.createFloor(ctx, orgId, siteId, { name: f.name, level: f.level, widthM: f.widthM, heightM: f.heightM })).id;
        floorOf[sim.campus.floors.findIndex((cf) => cf.key === f.key)] = { siteId, floorId };
        for (const z of f.zones) zoneOf.set(`${f.key}|${z.key}`, (await tenancy.createZone(ctx, orgId, floorId, { name: z.name, polygon: z.polygon as [number, number][] })).id);
      }
    }
    await c.services.ingest.settings.update(ctx, orgId, { locationServices: true });

    // Every device with a stable id follows its person; visits from one-minute samples (a visit
    // ends at the first sample elsewhere, or at the last one of the day).
    const pseudo = await c.core.keys.pseudonymiser(db, orgId);
    const devicesOf = new Map<number, string[]>();
    for (const d of sim.devices) if (d.stableId !== undefined) devicesOf.set(d.person, [...(devicesOf.get(d.person) ?? []), pseudo('asset', `bench:${d.index}`)]);
    const allDevices = [...devicesOf.values()].flat();
    let pending: VisitRow[] = [];
    let visits = 0;
    const flush = async () => {
      if (pending.length === 0) return;
      const rows = pending;
      pending = [];
      await db.tx((x) => new JourneysRepo(x).upsertVisits(rows));
    };
    const t0 = performance.now();
    for (let day = 0; day < days; day++) {
      const plan = sim.plan(day);
      for (const [person, pd] of plan.days.entries()) {
        const devices = devicesOf.get(person);
        if (!pd || !devices) continue;
        let cur: { key: string; zoneId: string; floor: number; enterMs: number; lastMs: number } | undefined;
        const close = (exitMs: number) => {
          if (!cur) return;
          const f = floorOf[cur.floor]!;
          for (const device of devices) pending.push({ org_id: orgId, device, enter_ms: cur.enterMs, site_id: f.siteId, floor_id: f.floorId, zone_id: cur.zoneId, last_ms: exitMs, exit_ms: exitMs });
          visits += devices.length;
          cur = undefined;
        };
        for (let t = pd.arriveMs; t <= pd.leaveMs; t += MIN) {
          const p = positionAt(pd, t);
          if (!p) continue;
          const floor = sim.campus.floors[p.floor]!;
          const z = zoneAt(floor, p.x, p.y);
          const key = z ? `${floor.key}|${z.id}` : '';
          if (cur && cur.key === key) {
            cur.lastMs = t;
            continue;
          }
          close(t);
          if (z) cur = { key, zoneId: zoneOf.get(key)!, floor: p.floor, enterMs: t, lastMs: t };
        }
        if (cur) close(cur.lastMs);
        if (pending.length >= 20_000) await flush();
      }
    }
    await flush();
    out.people = people;
    out.devices = allDevices.length;
    out.days = days;
    out.visitsStored = visits;
    out.visitsPerDevicePerDay = Math.round((visits / allDevices.length / days) * 10) / 10;
    out.loadSeconds = Math.round((performance.now() - t0) / 100) / 10;

    // One ingest batch, as a live server has had: the recorder holds the org's open visits.
    const floor0 = floorOf[0]!;
    await c.services.ingest.ingest(ctx, orgId, { source: 'native', observations: parseNativeBatch({ observations: [{ kind: 'wifi-connected', deviceId: '02:00:5e:00:00:01', atMs: sim.options.startMs + days * DAY, x: 1, y: 1, floorId: floor0.floorId }] }) });

    const token = (await c.services.identity.createToken(ctx, orgId, { name: 'bench', role: 'org_admin' })).token;
    const rnd = seededRandom(17);
    const start = sim.options.startMs;
    const time = async (windowDays: number, n: number, http = false): Promise<{ sorted: number[]; visits: number }> => {
      const ms: number[] = [];
      let got = 0;
      for (let i = 0; i < n; i++) {
        const device = allDevices[Math.floor(rnd() * allDevices.length)]!;
        const fromMs = start + Math.floor(rnd() * (days - windowDays + 1)) * DAY;
        const toMs = fromMs + windowDays * DAY;
        const t = performance.now();
        if (http) {
          const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/devices/${device}/journey?from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`, headers: { authorization: `Bearer ${token}` } });
          if (r.statusCode !== 200) throw new Error(`journey answered ${r.statusCode}`);
          got += (r.json() as { visits: unknown[] }).visits.length;
        } else {
          got += (await c.services.journeys.query(ctx, orgId, { device, fromMs, toMs })).visits.length;
        }
        ms.push(performance.now() - t);
      }
      return { sorted: ms.sort((a, b) => a - b), visits: got / n };
    };
    await time(1, 50); // warm-up
    const d1 = await time(1, queries);
    out.query1dP50Ms = pct(d1.sorted, 50);
    out.query1dP95Ms = pct(d1.sorted, 95);
    out.query1dP99Ms = pct(d1.sorted, 99);
    out.visitsPerAnswer1d = Math.round(d1.visits * 10) / 10;
    const wide = Math.min(days, 7);
    const d7 = await time(wide, Math.round(queries / 2));
    out.queryWindowDays = wide;
    out.queryWideP50Ms = pct(d7.sorted, 50);
    out.queryWideP95Ms = pct(d7.sorted, 95);
    out.visitsPerAnswerWide = Math.round(d7.visits * 10) / 10;
    const h = await time(1, Math.round(queries / 2), true);
    out.http1dP50Ms = pct(h.sorted, 50);
    out.http1dP95Ms = pct(h.sorted, 95);
    await c.close();
    const bytes = readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
    out.storeMegabytes = Math.round(bytes / 1_048_576);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchJourneys({ full: process.argv.includes('--full') });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
