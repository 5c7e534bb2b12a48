/**
 * Data-subject request figures (R-PRIV-4): how long fulfilling an access request and a deletion
 * takes for one device in an org whose `fixes` table holds many devices' history (fixes have no
 * device index, so both read the org's fixes by time), and how long the one transaction that
 * deletes the device's fixes holds the store. Devices are on site 8 hours a day with one fix per
 * minute. Embedded SQLite, and PostgreSQL when one answers at CAIRN_TEST_PG_URL.
 *
 *   npm run bench -- --only dsar [--full]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp, type CairnApp } from '../src/app.ts';
import { systemCtx, type Ctx } from '../src/privacy/index.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/kernel/clock.ts';
import { LocationRepo, SubjectDataRepo, type FixRow } from '../src/storage/index.ts';

const PG_URL = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAC = '3c:22:fb:9a:41:07';
const T0 = Date.now() - 20 * DAY_MS;

async function measure(c: CairnApp, devices: number, days: number): Promise<Record<string, number>> {
  const sys = systemCtx('test');
  const orgId = (await c.services.tenancy.createOrg(sys, { name: 'DSAR bench', country: 'NL' })).id;
  const siteId = (await c.services.tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await c.services.tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 200, heightM: 100 })).id;
  const db = await c.core.directory.storeOf(orgId);
  const subject = await c.core.keys.pseudonym(db, orgId, 'mac', MAC);
  const device = (i: number) => (i === 0 ? subject : i.toString(16).padStart(32, '0'));
  let fixes = 0;
  const t0 = performance.now();
  for (let day = 0; day < days; day++) {
    for (let hour = 0; hour < 8; hour++) {
      const rows: FixRow[] = [];
      for (let m = 0; m < 60; m++) {
        const atMs = T0 + day * DAY_MS + (9 + hour) * HOUR_MS + m * MINUTE_MS;
        for (let d = 0; d < devices; d++) rows.push({ org_id: orgId, at_ms: atMs, device: device(d), source: 'native', kind: 'wifi-connected', floor_id: floorId, x_m: (d % 200) + 0.5, y_m: 50, accuracy_m: 5, method: 'wls', zone_id: null });
      }
      await db.tx((x) => new LocationRepo(x).insertFixes(rows));
      fixes += rows.length;
    }
  }
  const fillSeconds = Math.round((performance.now() - t0) / 100) / 10;
  const po: Ctx = { actor: { kind: 'user', id: 'bench' }, bindings: [{ role: 'privacy_officer', orgId, siteId: null }], requestId: 'bench' };
  const rights = c.services.rights;
  const run = async (kind: 'access' | 'deletion') => {
    const r = await rights.intake(po, orgId, { kind, identifier: { kind: 'mac', value: MAC } });
    await rights.approve(po, orgId, r.id);
    const t = performance.now();
    const out = await rights.fulfil(po, orgId, r.id);
    return { ms: performance.now() - t, out };
  };
  const access = await run('access');
  // The largest single transaction of a deletion: the device's fixes (measured on a copy of the work).
  const scanFrom = performance.now();
  const found = (await new SubjectDataRepo(db).fixes(orgId, [subject], 0)).length;
  const scanMs = performance.now() - scanFrom;
  const deletion = await run('deletion');
  return {
    devices,
    days,
    fixesInStore: fixes,
    subjectFixes: found,
    fillSeconds,
    accessFulfilMs: Math.round(access.ms),
    archiveBytes: access.out.archiveBytes ?? 0,
    deviceFixScanMs: Math.round(scanMs),
    deletionFulfilMs: Math.round(deletion.ms),
    deletedFixes: deletion.out.records['location.fixes'] ?? 0,
    fixesScannedPerSecond: Math.round(fixes / (scanMs / 1000)),
  };
}

async function withApp(cfg: Config, fn: (c: CairnApp) => Promise<Record<string, number>>): Promise<Record<string, number>> {
  const c = await buildApp(cfg, { http: false });
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/** @example await benchDsar({ full: false }) */
export async function benchDsar(o: { full: boolean }): Promise<Record<string, unknown>> {
  const [devices, days] = o.full ? [500, 30] : [100, 7];
  const masterKey = randomBytes(32).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-dsar-'));
  const out: Record<string, unknown> = {};
  try {
    out.sqlite = await withApp(loadConfig({ env: {}, overrides: { dataDir: dir, masterKey, logLevel: 'silent', retentionIntervalMinutes: 0 } }), (c) => measure(c, devices, days));
    const probe = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
    let pgUp = true;
    await probe.connect().catch(() => (pgUp = false));
    if (pgUp) {
      const prefix = `b${randomBytes(4).toString('hex')}`;
      try {
        out.postgres = await withApp(loadConfig({ env: {}, overrides: { store: 'postgres', pgUrl: PG_URL, pgSchemaPrefix: prefix, dataDir: dir, masterKey, logLevel: 'silent', retentionIntervalMinutes: 0 } }), (c) => measure(c, devices, days));
      } finally {
        for (const r of (await probe.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${prefix}\\_%`])).rows as { nspname: string }[]) await probe.query(`DROP SCHEMA IF EXISTS ${r.nspname} CASCADE`);
        await probe.end();
      }
    } else out.postgres = 'not reachable';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
