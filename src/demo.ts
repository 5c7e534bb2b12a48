/**
 * The demo org that `npm start` creates on first start: a Dutch campus (so it lives in the `eu`
 * region), one site with a floor and three zones, and an org admin whose password is printed
 * once and never stored in clear.
 */
import { randomBytes } from 'node:crypto';
import { controlRepo } from './storage/index.ts';
import { systemCtx } from './privacy/index.ts';
import type { CairnApp } from './app.ts';

export interface DemoCredentials {
  orgId: string;
  email: string;
  password: string;
}

/** Create the demo org unless it (or any org) exists. Returns credentials only when created. */
export async function ensureDemo(c: CairnApp): Promise<DemoCredentials | null> {
  const control = controlRepo(c.core.stores.control);
  if (await control.getSetting('demo.created')) return null;
  if ((await c.core.directory.list()).length > 0) return null;
  const ctx = systemCtx('bootstrap');
  const { tenancy, identity, devices } = c.services;
  const org = await tenancy.createOrg(ctx, { name: 'Cairn Demo Campus', country: 'NL' });
  const site = await tenancy.createSite(ctx, org.id, { name: 'Main campus', timezone: 'Europe/Amsterdam' });
  const floor = await tenancy.createFloor(ctx, org.id, site.id, { name: 'Ground floor', level: 0, widthM: 60, heightM: 40 });
  await tenancy.createZone(ctx, org.id, floor.id, { name: 'Lobby', polygon: [[0, 0], [20, 0], [20, 15], [0, 15]], occupancyLimit: 40 });
  await tenancy.createZone(ctx, org.id, floor.id, { name: 'Cafeteria', polygon: [[20, 0], [45, 0], [45, 20], [20, 20]], occupancyLimit: 80 });
  await tenancy.createZone(ctx, org.id, floor.id, { name: 'Meeting rooms', polygon: [[45, 0], [60, 0], [60, 40], [45, 40]], occupancyLimit: 30 });
  const password = randomBytes(12).toString('base64url');
  const email = 'admin@demo.cairn.local';
  await identity.createUser(ctx, org.id, { email, name: 'Demo Admin', password, roles: [{ role: 'org_admin' }] });
  const now = c.core.clock.nowMs();
  const reports = Array.from({ length: 25 }, (_, i) => ({
    mac: randomBytes(6).toString('hex').replace(/(..)(?!$)/g, '$1:'),
    kind: (i % 5 === 0 ? 'ble' : 'wifi') as 'ble' | 'wifi',
    siteId: site.id,
    seenAtMs: now - i * 30_000,
  }));
  await devices.report(ctx, org.id, reports);
  await control.setSetting('demo.created', org.id);
  return { orgId: org.id, email, password };
}
