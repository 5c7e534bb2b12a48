/**
 * Device records (R-DATA-1/2). Raw identifiers stop here: a MAC becomes the org's pseudonym and
 * IP, username and hostname are encrypted under the org's data key before anything is stored.
 * Personal reads are audited; observers get counts only.
 */
import { CairnError } from '../kernel/errors.ts';
import { toIso, MINUTE_MS } from '../kernel/clock.ts';
import { reposFor, type DeviceRow } from '../storage/index.ts';
import { normaliseMac, type Core, type Ctx } from '../privacy/index.ts';
import { deviceSubjectHandler } from './subject-data.ts';
import { deviceExporters } from './governance.ts';

export interface DeviceReport {
  /** R-DATA-1 personal: raw MAC, pseudonymised at once and never stored. */
  mac: string;
  kind: 'wifi' | 'wired' | 'ble';
  siteId?: string | null;
  seenAtMs: number;
  /** R-DATA-1 personal, encrypted at rest. */
  ip?: string;
  username?: string;
  hostname?: string;
}

export interface Device {
  id: string;
  siteId: string | null;
  kind: string;
  randomized: boolean;
  firstSeen: string;
  lastSeen: string;
  ip: string | null;
  username: string | null;
  hostname: string | null;
}

/** A MAC whose locally-administered bit is set is (almost always) a randomised address. */
export function isRandomizedMac(mac12: string): boolean {
  return (parseInt(mac12.slice(0, 2), 16) & 0x02) !== 0;
}

export class DeviceService {
  constructor(private readonly core: Core) {
    core.subjects.register(deviceSubjectHandler(core));
    for (const e of deviceExporters()) core.exporters.register(e);
  }

  /** Record devices seen by a sensor (or admin). Returns their pseudonyms, in order. */
  async report(ctx: Ctx, orgId: string, reports: DeviceReport[]): Promise<string[]> {
    const siteIds = [...new Set(reports.map((r) => r.siteId ?? null))];
    let db;
    for (const siteId of siteIds) db = (await this.core.access.enforce(ctx, 'device', 'report', { orgId, siteId })).db;
    if (!db) return [];
    const { keys, audit } = this.core;
    return db.tx(async (x) => {
      const r = reposFor(x);
      const pseudo = await keys.pseudonymiser(x, orgId);
      const out: string[] = [];
      const knownSites = new Set<string>();
      for (const [i, d] of reports.entries()) {
        const mac = normaliseMac(d.mac);
        if (!mac) throw new CairnError('CAIRN_ERR_VALIDATION', `devices[${i}].mac is not a MAC address.`, { field: `devices[${i}].mac` });
        if (d.siteId && !knownSites.has(d.siteId)) {
          if (!(await r.tenancy.getSite(orgId, d.siteId))) throw new CairnError('CAIRN_ERR_VALIDATION', `devices[${i}].siteId is not a site of this org.`, { field: `devices[${i}].siteId` });
          knownSites.add(d.siteId);
        }
        const row: DeviceRow = {
          org_id: orgId,
          pseudonym: pseudo('mac', mac),
          site_id: d.siteId ?? null,
          kind: d.kind,
          randomized: isRandomizedMac(mac) ? 1 : 0,
          first_seen: d.seenAtMs,
          last_seen: d.seenAtMs,
          ip_enc: await keys.encryptOptional(x, orgId, 'devices.ip', d.ip),
          username_enc: await keys.encryptOptional(x, orgId, 'devices.username', d.username),
          hostname_enc: await keys.encryptOptional(x, orgId, 'devices.hostname', d.hostname),
        };
        await r.devices.upsert(row);
        out.push(row.pseudonym);
      }
      await audit.record(x, ctx, orgId, 'device.report', `org:${orgId}`, { count: reports.length });
      return out;
    });
  }

  /** Devices with decrypted personal fields: a personal-data read, audited. */
  async list(ctx: Ctx, orgId: string, opts: { siteId?: string | null; limit?: number; after?: string }): Promise<Device[]> {
    const { db } = await this.core.access.enforce(ctx, 'device', 'readPersonal', { orgId, siteId: opts.siteId ?? null });
    const rows = await reposFor(db).devices.list(orgId, opts.siteId ?? null, Math.min(opts.limit ?? 100, 1000), opts.after ?? '');
    const out = await Promise.all(rows.map((r) => this.out(db, r)));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'device.read', opts.siteId ? `site:${opts.siteId}` : `org:${orgId}`, { count: out.length }));
    return out;
  }

  /** Look up one device by raw MAC or by pseudonym (audited personal read). */
  async get(ctx: Ctx, orgId: string, macOrId: string): Promise<Device> {
    const { db } = await this.core.access.enforce(ctx, 'device', 'readPersonal', { orgId });
    const mac = normaliseMac(macOrId);
    const id = mac ? await this.core.keys.pseudonym(db, orgId, 'mac', mac) : macOrId;
    const row = await reposFor(db).devices.get(orgId, id);
    if (!row) throw new CairnError('CAIRN_ERR_NOT_FOUND');
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'device.read', `device:${id}`));
    return this.out(db, row);
  }

  /** Aggregate only: how many devices were seen in the last `windowMinutes` (no ids). */
  async count(ctx: Ctx, orgId: string, opts: { siteId?: string | null; windowMinutes?: number }): Promise<{ total: number; randomized: number; windowMinutes: number }> {
    const { db } = await this.core.access.enforce(ctx, 'device', 'count', { orgId, siteId: opts.siteId ?? null });
    const windowMinutes = opts.windowMinutes ?? 15;
    const c = await reposFor(db).devices.count(orgId, opts.siteId ?? null, this.core.clock.nowMs() - windowMinutes * MINUTE_MS);
    return { ...c, windowMinutes };
  }

  private async out(db: Parameters<Core['keys']['decrypt']>[0], r: DeviceRow): Promise<Device> {
    const k = this.core.keys;
    return {
      id: r.pseudonym,
      siteId: r.site_id,
      kind: r.kind,
      randomized: r.randomized === 1,
      firstSeen: toIso(r.first_seen),
      lastSeen: toIso(r.last_seen),
      ip: await k.decryptOptional(db, r.org_id, 'devices.ip', r.ip_enc),
      username: await k.decryptOptional(db, r.org_id, 'devices.username', r.username_enc),
      hostname: await k.decryptOptional(db, r.org_id, 'devices.hostname', r.hostname_enc),
    };
  }
}
