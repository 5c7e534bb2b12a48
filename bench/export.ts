/**
 * Org export figures (R-PRIV-3): an org whose `fixes` table holds N fixes (40 devices, one fix each
 * per second or so) is exported through the service into a receiver that discards the bytes, as a
 * fast client would. Reported: rows and archive bytes, seconds, rows/s, and the live heap (after a
 * full GC, once a second) above what the process held before the export: the export streams, so it
 * stays flat however large the org (`peakHeapAboveBaseMB` is the raw peak, uncollected garbage
 * included). Embedded SQLite, and PostgreSQL when one answers at CAIRN_TEST_PG_URL.
 *
 *   npm run bench -- --only export [--full]      (200 000 fixes; --full: 2 000 000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp, type CairnApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo, type FixRow } from '../src/storage/index.ts';

const PG_URL = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
setFlagsFromString('--expose-gc');
/** A full collection, to tell live memory from garbage not yet collected. */
const gc = runInNewContext('gc') as () => void;

async function measure(c: CairnApp, fixes: number): Promise<Record<string, number>> {
  const sys = systemCtx('test');
  const orgId = (await c.services.tenancy.createOrg(sys, { name: 'Export bench', country: 'NL' })).id;
  const siteId = (await c.services.tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await c.services.tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 200, heightM: 100 })).id;
  const db = await c.core.directory.storeOf(orgId);
  const t0 = Date.now() - 30 * 86_400_000;
  const fillFrom = performance.now();
  for (let i = 0; i < fixes; i += 10_000) {
    const rows: FixRow[] = [];
    for (let j = i; j < Math.min(fixes, i + 10_000); j++) rows.push({ org_id: orgId, at_ms: t0 + Math.floor(j / 40) * 1000, device: (j % 40).toString(16).padStart(32, '0'), source: 'native', kind: 'wifi-connected', floor_id: floorId, x_m: (j % 200) + 0.5, y_m: 50.25, accuracy_m: 5, method: 'wls', zone_id: null });
    await db.tx((x) => new LocationRepo(x).insertFixes(rows));
  }
  const fillSeconds = (performance.now() - fillFrom) / 1000;
  gc();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakLive = base.heapUsed;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
  const collector = setInterval(() => {
    gc();
    peakLive = Math.max(peakLive, process.memoryUsage().heapUsed);
  }, 1000);
  let bytes = 0;
  const discard = new Writable({
    write(chunk: Buffer, _e, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  const t = performance.now();
  const job = await c.services.portability.exports.open(sys, orgId);
  const manifest = await job.run(discard);
  const seconds = (performance.now() - t) / 1000;
  clearInterval(sampler);
  clearInterval(collector);
  const rows = manifest.files.reduce((n, f) => n + f.rows, 0);
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    fixes,
    fillSeconds: r1(fillSeconds),
    rows,
    archiveMB: r1(bytes / 1e6),
    jsonlMB: r1(manifest.files.reduce((n, f) => n + f.bytes, 0) / 1e6),
    seconds: r1(seconds),
    rowsPerSecond: Math.round(rows / seconds),
    peakLiveHeapAboveBaseMB: r1((peakLive - base.heapUsed) / 1e6),
    peakHeapAboveBaseMB: r1((peakHeap - base.heapUsed) / 1e6),
  };
}

async function pgReachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function benchExport(o: { full: boolean }): Promise<Record<string, unknown>> {
  const fixes = o.full ? 2_000_000 : 200_000;
  const out: Record<string, unknown> = {};
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-export-'));
  const base: Partial<Config> = { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0 };
  try {
    const c = await buildApp(loadConfig({ env: {}, overrides: base }), { http: false });
    try {
      out.sqlite = await measure(c, fixes);
    } finally {
      await c.close();
    }
    if (await pgReachable()) {
      const prefix = `b${randomBytes(4).toString('hex')}`;
      const p = await buildApp(loadConfig({ env: {}, overrides: { ...base, store: 'postgres', pgUrl: PG_URL, pgSchemaPrefix: prefix } }), { http: false });
      try {
        out.postgres = await measure(p, fixes);
      } finally {
        await p.close();
        const admin = new pg.Client({ connectionString: PG_URL });
        await admin.connect();
        const r = await admin.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${prefix}\\_%`]);
        for (const row of r.rows as { nspname: string }[]) await admin.query(`DROP SCHEMA IF EXISTS ${row.nspname} CASCADE`);
        await admin.end();
      }
    } else out.postgres = 'skipped: not reachable';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
