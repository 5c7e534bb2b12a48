/**
 * The demo org that `npm start` creates on first start: a Dutch campus (so it lives in the `eu`
 * region) laid out by the simulator (buildings, floors, zones, BLE sensors and APs at their
 * positions), location services on, and an org admin whose password is printed once and never
 * stored in clear. While the server runs, `startDemoFeed` plays the simulated office day against
 * the wall clock through the real ingest pipeline, so the dashboard and the API show live data.
 */
import { randomBytes } from 'node:crypto';
import { controlRepo } from './storage/index.ts';
import { systemCtx } from './privacy/index.ts';
import { buildCampus, campusPlan, liveStream, SIM_WIFI_MODEL } from './simulator/index.ts';
import { parseNativeBatch } from './ingest/index.ts';
import type { CairnApp } from './app.ts';

export interface DemoCredentials {
  orgId: string;
  email: string;
  password: string;
}

/** The simulated campus of the demo: one building, two floors, 60 people and their devices. */
const DEMO_SIM = { seed: 7, people: 60, buildings: 1, floorsPerBuilding: 2 } as const;

interface DemoMapping {
  orgId: string;
  sites: Record<string, string>;
  floors: Record<string, string>;
}

/** Create the demo org unless it (or any org) exists. Returns credentials only when created. */
export async function ensureDemo(c: CairnApp): Promise<DemoCredentials | null> {
  const control = controlRepo(c.core.stores.control);
  if (await control.getSetting('demo.created')) return null;
  if ((await c.core.directory.list()).length > 0) return null;
  const ctx = systemCtx('bootstrap');
  const { tenancy, identity, sensors, ingest } = c.services;
  const org = await tenancy.createOrg(ctx, { name: 'Cairn Demo Campus', country: 'NL' });
  const plan = campusPlan(buildCampus({ ...DEMO_SIM, wifiModel: SIM_WIFI_MODEL }));
  const mapping: DemoMapping = { orgId: org.id, sites: {}, floors: {} };
  for (const s of plan.sites) {
    const site = await tenancy.createSite(ctx, org.id, { name: s.name, timezone: 'Europe/Amsterdam' });
    mapping.sites[s.key] = site.id;
    for (const f of s.floors) {
      const floor = await tenancy.createFloor(ctx, org.id, site.id, { name: f.name, level: f.level, widthM: f.widthM, heightM: f.heightM });
      mapping.floors[f.key] = floor.id;
      for (const z of f.zones) await tenancy.createZone(ctx, org.id, floor.id, { name: z.name, polygon: z.polygon as [number, number][], occupancyLimit: Math.max(4, z.seats) });
      for (const sn of f.sensors) {
        await sensors.create(ctx, org.id, site.id, { floorId: floor.id, kind: sn.kind, name: sn.name, mac: sn.mac, vendorId: sn.vendorId ?? null, xM: sn.xM, yM: sn.yM, coverageRadiusM: sn.coverageRadiusM, txPowerDbm: sn.txPowerDbm });
      }
    }
  }
  await ingest.settings.update(ctx, org.id, { locationServices: true });
  const password = randomBytes(12).toString('base64url');
  const email = 'admin@demo.cairn.local';
  await identity.createUser(ctx, org.id, { email, name: 'Demo Admin', password, roles: [{ role: 'org_admin' }] });
  await control.setSetting('demo.sim', JSON.stringify(mapping));
  await control.setSetting('demo.created', org.id);
  return { orgId: org.id, email, password };
}

/**
 * Play the demo campus's office day (starting at 10:00 simulated time) against the wall clock
 * through the ingest pipeline, until the returned stop function is called. Does nothing when
 * the demo org does not exist (or was deleted).
 */
export async function startDemoFeed(c: CairnApp): Promise<() => void> {
  const row = await controlRepo(c.core.stores.control).getSetting('demo.sim');
  if (!row) return () => undefined;
  const mapping = JSON.parse(row.value) as DemoMapping;
  if (!(await c.core.directory.regionOf(mapping.orgId))) return () => undefined;
  const abort = new AbortController();
  const ctx = systemCtx('bootstrap');
  void (async () => {
    try {
      for await (const b of liveStream({ ...DEMO_SIM, startHour: 10, signal: abort.signal, siteIdOf: (s) => mapping.sites[s.key]!, floorIdOf: (f) => mapping.floors[f.key]! })) {
        const observations = parseNativeBatch({ observations: b.observations });
        await c.services.ingest.ingest(ctx, mapping.orgId, { source: 'native', observations });
      }
    } catch (e) {
      if (!abort.signal.aborted) c.core.log.warn({ err: e }, 'demo feed stopped');
    }
  })();
  return () => abort.abort();
}
