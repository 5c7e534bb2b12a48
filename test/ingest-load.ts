/**
 * Load fixtures for the ingest durability and back-pressure tests: an org with location services
 * on, one floor with a zone, a sensor token, and native batches whose every observation can be
 * told apart in the store. Observation `g` (a global index) is seen at `LOAD_T0_MS + g`, so a
 * stored fix's `at_ms` names it; each also carries `sourceRecordId` `o<g>`.
 */
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo, type Database } from '../src/storage/index.ts';
import type { CairnApp } from '../src/app.ts';

/** Time of observation 0 (2026-01-05 08:00 UTC). */
export const LOAD_T0_MS = Date.UTC(2026, 0, 5, 8);
const FLOOR_W = 100;
const FLOOR_H = 50;

export interface LoadOrg {
  orgId: string;
  siteId: string;
  floorId: string;
  /** A sensor token of the org (bearer). */
  token: string;
}

/** Create the org, its floor and zone, turn location services on and issue a sensor token. */
export async function setupLoadOrg(c: CairnApp, opts: { mistSecret?: string; merakiSecret?: string } = {}): Promise<LoadOrg> {
  const sys = systemCtx('test');
  const { tenancy, identity, ingest } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name: 'Load campus', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: FLOOR_W, heightM: FLOOR_H })).id;
  await tenancy.createZone(sys, orgId, floorId, { name: 'West', polygon: [[0, 0], [50, 0], [50, 50], [0, 50]] });
  await ingest.settings.update(sys, orgId, { locationServices: true, ...(opts.mistSecret ? { mistSecret: opts.mistSecret } : {}), ...(opts.merakiSecret ? { merakiSecret: opts.merakiSecret, merakiValidator: 'validator-0123456789' } : {}) });
  const token = (await identity.createToken(sys, orgId, { name: 'load', role: 'sensor' })).token;
  return { orgId, siteId, floorId, token };
}

/** A device MAC (globally administered) for device number `n`. */
export function loadMac(n: number): string {
  return ['00', '1b', '63', (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((v) => (typeof v === 'number' ? v.toString(16).padStart(2, '0') : v)).join(':');
}

/**
 * A native batch body of the observations with global indexes `ids`: connected Wi-Fi clients
 * with a vendor position on the floor, one fix each. Device of observation g: g mod `devices`.
 */
export function loadBatch(floorId: string, ids: readonly number[], devices = 64): string {
  return JSON.stringify({
    observations: ids.map((g) => ({
      kind: 'wifi-connected',
      deviceId: loadMac(g % devices),
      atMs: LOAD_T0_MS + g,
      x: ((g * 7) % (FLOOR_W * 10)) / 10,
      y: ((g * 13) % (FLOOR_H * 10)) / 10,
      floorId,
      sourceRecordId: `o${g}`,
    })),
  });
}

/** How many fixes each observation index has in the store (indexes with none are absent). */
export async function storedCounts(db: Database, orgId: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  const rows = await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 10_000_000);
  for (const r of rows) {
    const g = Number(r.at_ms) - LOAD_T0_MS;
    counts.set(g, (counts.get(g) ?? 0) + 1);
  }
  return counts;
}

/** A Prometheus sample's value from a /metrics text (0 when absent). */
export function metricValue(text: string, name: string, labels = ''): number {
  const esc = (name + (labels ? `{${labels}}` : '')).replace(/[{}()[\].*+?^$|\\]/g, '\\$&');
  const m = new RegExp(`^${esc} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
