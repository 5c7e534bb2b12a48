/**
 * Location history figures: reading one device's fixes through the audited API service when
 * `fixes` has no device index (migration 101), for a 1-day and a 7-day window, first page and
 * every page; reading its association sessions; and the co-presence query contact tracing runs
 * on association sessions over 14 days. Devices are on site 8 hours a day with one fix per
 * minute (the issue-4 load), written in arrival order as ingest writes them; sessions are 4 a
 * day per device at one of 50 APs. Embedded SQLite, and PostgreSQL when one answers at
 * CAIRN_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test), same data.
 *
 *   npm run bench -- --only history [--full]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp, type CairnApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/kernel/clock.ts';
import { newId } from '../src/kernel/ids.ts';
import { seededRandom } from '../src/kernel/prng.ts';
import { AssociationSessionRepo, LocationRepo, type AssociationSessionRow, type FixRow } from '../src/storage/index.ts';

const APS = 50;
const T0 = Date.UTC(2026, 0, 5);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100;
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

/** Fill an org: `devices` devices, `days` days of fixes (8 h a day, 1 a minute) and 14 days of sessions. */
async function fill(c: CairnApp, devices: number, fixDays: number): Promise<{ orgId: string; device: (i: number) => string; fixes: number; sessions: number }> {
  const sys = systemCtx('test');
  const { tenancy, sensors } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name: 'History bench', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 200, heightM: 100 })).id;
  const aps: string[] = [];
  for (let i = 0; i < APS; i++) aps.push((await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: `AP${i}`, vendorId: `ap-${i}`, xM: (i % 10) * 20 + 10, yM: Math.floor(i / 10) * 20 + 10 })).id);
  const device = (i: number) => i.toString(16).padStart(32, '0');
  const db = await c.core.directory.storeOf(orgId);
  const rnd = seededRandom(3);
  let fixes = 0;
  for (let day = 0; day < fixDays; day++) {
    for (let hour = 0; hour < 8; hour++) {
      const rows: FixRow[] = [];
      for (let m = 0; m < 60; m++) {
        const atMs = T0 + day * DAY_MS + (9 + hour) * HOUR_MS + m * MINUTE_MS;
        for (let d = 0; d < devices; d++) rows.push({ org_id: orgId, at_ms: atMs, device: device(d), source: 'native', kind: 'ble-badge', floor_id: floorId, x_m: rnd() * 200, y_m: rnd() * 100, accuracy_m: 3, method: 'wls', zone_id: null });
      }
      await db.tx((x) => new LocationRepo(x).insertFixes(rows));
      fixes += rows.length;
    }
  }
  let sessions = 0;
  let longest = 0;
  for (let day = 0; day < 14; day++) {
    const rows: AssociationSessionRow[] = [];
    for (let d = 0; d < devices; d++) {
      let t = T0 + day * DAY_MS + 9 * HOUR_MS;
      for (let k = 0; k < 4; k++) {
        const len = (30 + rnd() * 90) * MINUTE_MS;
        const ap = aps[Math.floor(rnd() * APS)]!;
        rows.push({ id: newId(), org_id: orgId, device: device(d), site_id: siteId, ap, ap_key: ap, sensor_id: ap, ap_mac: null, start_ms: Math.round(t), end_ms: Math.round(t + len), end_reason: 'disassociation', event_count: 2, randomized: 0, source: 'syslog', feed: 'listener' });
        longest = Math.max(longest, Math.round(len));
        t += len + rnd() * 30 * MINUTE_MS;
      }
    }
    await db.tx(async (x) => {
      await new AssociationSessionRepo(x).upsert(rows);
      await new AssociationSessionRepo(x).widenBound(orgId, longest);
    });
    sessions += rows.length;
  }
  return { orgId, device, fixes, sessions };
}

async function measure(c: CairnApp, devices: number, fixDays: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const sys = systemCtx('test');
  const [fillMs, w] = await time(() => fill(c, devices, fixDays));
  out.devices = devices;
  out.fixesInStore = w.fixes;
  out.sessionsInStore = w.sessions;
  out.fillSeconds = Math.round(fillMs / 100) / 10;
  const history = c.services.history;
  const probes = [1, Math.floor(devices / 3), Math.floor(devices / 2), devices - 2, devices - 1];

  // Fixes: the API reads the org's fixes in the window in time order and keeps the device's.
  const weekFrom = T0;
  const weekTo = T0 + 7 * DAY_MS;
  const firstPage: number[] = [];
  const allPages: number[] = [];
  const dayWindow: number[] = [];
  let deviceFixes = 0;
  for (const i of probes) {
    const id = w.device(i);
    const [first] = await time(() => history.fixes(sys, w.orgId, { id }, { fromMs: weekFrom, toMs: weekTo, limit: 1000 }));
    firstPage.push(first);
    const [all, n] = await time(async () => {
      let cursor: string | null = null;
      let count = 0;
      do {
        const page: Awaited<ReturnType<typeof history.fixes>> = await history.fixes(sys, w.orgId, { id }, { fromMs: weekFrom, toMs: weekTo, limit: 1000, ...(cursor ? { cursor } : {}) });
        count += page.items.length;
        cursor = page.next;
      } while (cursor);
      return count;
    });
    allPages.push(all);
    deviceFixes = n;
    const [day] = await time(() => history.fixes(sys, w.orgId, { id }, { fromMs: T0 + 2 * DAY_MS, toMs: T0 + 3 * DAY_MS, limit: 1000 }));
    dayWindow.push(day);
  }
  const inWeek = Math.min(w.fixes, devices * 8 * 60 * Math.min(7, fixDays));
  out.fixesOfOrgInWeekWindow = inWeek;
  out.fixesOfDeviceInWeekWindow = deviceFixes;
  out.fixesWeekFirstPageMsP50 = pct(firstPage, 0.5);
  out.fixesWeekAllPagesMsP50 = pct(allPages, 0.5);
  out.fixesWeekAllPagesMsMax = pct(allPages, 1);
  out.fixesDayWindowMsP50 = pct(dayWindow, 0.5);
  out.fixesScannedPerSecond = Math.round(inWeek / (pct(allPages, 0.5) / 1000));

  // Sessions: indexed by device.
  const sessionReads: number[] = [];
  for (const i of probes) sessionReads.push((await time(() => history.sessions(sys, w.orgId, { id: w.device(i) }, { fromMs: T0, toMs: T0 + 14 * DAY_MS, limit: 1000 })))[0]);
  out.sessions14DaysReadMsP50 = pct(sessionReads, 0.5);

  // Co-presence over 14 days (the repository query contact tracing runs).
  const db = await c.core.directory.storeOf(w.orgId);
  const repo = new AssociationSessionRepo(db);
  const co: number[] = [];
  let rows = 0;
  const rnd = seededRandom(5);
  for (let k = 0; k < 30; k++) {
    const d = w.device(Math.floor(rnd() * devices));
    const [ms, r] = await time(() => repo.coPresence(w.orgId, d, T0, T0 + 14 * DAY_MS));
    co.push(ms);
    rows += r.length;
  }
  out.coPresence14DaysMsP50 = pct(co, 0.5);
  out.coPresence14DaysMsP95 = pct(co, 0.95);
  out.coPresenceRowsPerQuery = Math.round(rows / 30);
  return out;
}

async function onEngine(cfg: Config, devices: number, fixDays: number): Promise<Record<string, number>> {
  const c = await buildApp(cfg);
  try {
    return await measure(c, devices, fixDays);
  } finally {
    await c.close();
  }
}

export async function benchHistory(opts: { full: boolean }): Promise<Record<string, unknown>> {
  const devices = opts.full ? 3000 : 200;
  const fixDays = 7;
  const out: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-history-'));
  const base = { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent' as const, retentionIntervalMinutes: 0, auditCheckpointIntervalMinutes: 0 };
  try {
    out.sqlite = await onEngine(loadConfig({ env: {}, overrides: base }), devices, fixDays);
    const pgUrl = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const prefix = `bh${randomBytes(4).toString('hex')}`;
    const pgCfg = loadConfig({ env: {}, overrides: { ...base, store: 'postgres', pgUrl, pgSchemaPrefix: prefix } });
    try {
      out.postgres = await onEngine(pgCfg, devices, fixDays);
    } catch (e) {
      out.postgres = { skipped: (e as Error).message.slice(0, 200) };
    } finally {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: pgUrl, connectionTimeoutMillis: 2000 });
      try {
        await client.connect();
        const r = await client.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${prefix}\\_%`]);
        for (const row of r.rows as { nspname: string }[]) await client.query(`DROP SCHEMA IF EXISTS ${row.nspname} CASCADE`);
      } catch {
        // no PostgreSQL here: nothing to clean
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
