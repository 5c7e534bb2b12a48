/**
 * Tenancy: orgs (with headquarters country and region, R-PRIV-6), sites, floors (maps in metres
 * with an optional plan image) and zones (polygons in metres on a floor, with an occupancy
 * limit). Every call checks access first and writes its audit event in the same transaction.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { DAY_MS, toIso } from '../../kernel/clock.ts';
import { controlRepo, reposFor, type Database, type FloorRow, type OrgRow, type SiteRow, type TenancyRepo, type ZoneRow } from '../../storage/index.ts';
import { AccessService } from '../access/index.ts';
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { chooseRegion } from './directory.ts';

export interface Org {
  id: string;
  name: string;
  country: string;
  region: string;
  createdAt: string;
}
export interface Site {
  id: string;
  orgId: string;
  name: string;
  timezone: string;
  createdAt: string;
}
export interface Floor {
  id: string;
  orgId: string;
  siteId: string;
  name: string;
  level: number;
  widthM: number;
  heightM: number;
  hasPlan: boolean;
  createdAt: string;
}
export type Point = [number, number];
export interface Zone {
  id: string;
  orgId: string;
  siteId: string;
  floorId: string;
  name: string;
  /** Vertices in metres from the floor's top-left corner. */
  polygon: Point[];
  occupancyLimit: number | null;
  /** The vendor's own zone id (Mist `zone_id`) whose enter/exit events count as this zone's; unique per org. */
  vendorZoneId: string | null;
  createdAt: string;
}

const orgOut = (r: OrgRow): Org => ({ id: r.id, name: r.name, country: r.country, region: r.region, createdAt: toIso(r.created_at) });
const siteOut = (r: SiteRow): Site => ({ id: r.id, orgId: r.org_id, name: r.name, timezone: r.timezone, createdAt: toIso(r.created_at) });
const floorOut = (r: FloorRow): Floor => ({ id: r.id, orgId: r.org_id, siteId: r.site_id, name: r.name, level: r.level, widthM: r.width_m, heightM: r.height_m, hasPlan: r.plan_mime !== null, createdAt: toIso(r.created_at) });
const zoneOut = (r: ZoneRow): Zone => ({ id: r.id, orgId: r.org_id, siteId: r.site_id, floorId: r.floor_id, name: r.name, polygon: JSON.parse(r.polygon) as Point[], occupancyLimit: r.occupancy_limit, vendorZoneId: r.vendor_zone_id ?? null, createdAt: toIso(r.created_at) });

function segmentsCross(a: Point, b: Point, c: Point, d: Point): boolean {
  const o = (p: Point, q: Point, r: Point) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return o(a, b, c) * o(a, b, d) < 0 && o(c, d, a) * o(c, d, b) < 0;
}

/** A zone polygon must have 3–500 vertices inside the floor and must not cross itself. */
export function validatePolygon(poly: Point[], widthM: number, heightM: number): void {
  if (poly.length < 3 || poly.length > 500) throw new CairnError('CAIRN_ERR_VALIDATION', 'A zone polygon needs between 3 and 500 points.', { field: 'polygon' });
  for (const [x, y] of poly) {
    if (!Number.isFinite(x) || !Number.isFinite(y) || x < 0 || y < 0 || x > widthM || y > heightM) {
      throw new CairnError('CAIRN_ERR_VALIDATION', `Every zone point must lie on the floor (0..${widthM} × 0..${heightM} m).`, { field: 'polygon' });
    }
  }
  const n = poly.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue;
      if (segmentsCross(poly[i]!, poly[(i + 1) % n]!, poly[j]!, poly[(j + 1) % n]!)) throw new CairnError('CAIRN_ERR_VALIDATION', 'The zone polygon crosses itself.', { field: 'polygon' });
    }
  }
}

/** A vendor zone id is trimmed, 1-128 characters, and names at most one zone of the org. */
async function checkVendorZoneId(r: TenancyRepo, orgId: string, zoneId: string, raw: string | null): Promise<string | null> {
  if (raw === null) return null;
  const id = raw.trim();
  if (!id || id.length > 128) throw new CairnError('CAIRN_ERR_VALIDATION', 'vendorZoneId must be 1-128 characters.', { field: 'vendorZoneId' });
  const other = await r.getZoneByVendorId(orgId, id);
  if (other && other.id !== zoneId) throw new CairnError('CAIRN_ERR_CONFLICT', 'Another zone of this org already stands for that vendor zone.', { field: 'vendorZoneId' });
  return id;
}

const PLAN_TYPES: [string, (b: Buffer) => boolean][] = [
  ['image/png', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/webp', (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP'],
];

export class TenancyService {
  constructor(private readonly core: Core) {}

  // ---- orgs ---------------------------------------------------------------------------

  /**
   * Create an org with its keys, its default support grant (R-SEC-4) and its first audit event.
   * Operator-only (CLI, bootstrap): tenants do not create each other.
   */
  async createOrg(ctx: Ctx, input: { name: string; country: string; region?: string }): Promise<Org> {
    if (ctx.actor.kind !== 'system') throw notFoundOrNoAccess();
    const { cfg, clock, stores, keys, audit } = this.core;
    const country = input.country.trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw new CairnError('CAIRN_ERR_VALIDATION', 'country must be an ISO 3166-1 alpha-2 code such as NL or US.', { field: 'country' });
    const name = input.name.trim();
    if (!name || name.length > 200) throw new CairnError('CAIRN_ERR_VALIDATION', 'name must be 1-200 characters.', { field: 'name' });
    const region = chooseRegion(country, input.region, stores.regions, cfg.defaultRegion);
    const db = stores.region(region);
    const now = clock.nowMs();
    const row: OrgRow = { id: newId(now), name, country, region, settings: '{}', created_at: now };
    await db.tx(async (x) => {
      const r = reposFor(x);
      await r.tenancy.insertOrg(row);
      await keys.createOrgKeys(x, row.id);
      if (cfg.supportGrantDays > 0) await r.identity.upsertGrant({ org_id: row.id, granted_at: now, expires_at: now + cfg.supportGrantDays * DAY_MS, revoked_at: null, granted_by: 'system:org-creation' });
      await audit.record(x, ctx, row.id, 'org.create', `org:${row.id}`, { region, country, supportGrantDays: cfg.supportGrantDays });
    });
    try {
      await controlRepo(stores.control).registerOrg(row.id, region, now);
    } catch (e) {
      await db.tx((x) => reposFor(x).tenancy.deleteOrg(row.id));
      throw e;
    }
    this.core.bus.emit('org.created', { orgId: row.id, region });
    return orgOut(row);
  }

  /**
   * Off-board a tenant (operator only): its keys are destroyed first (crypto-shredding: whatever
   * copy of its ciphertext survives, in a backup or a replica, stays unreadable), then its rows are
   * deleted and it leaves the directory. Returns what was removed.
   */
  async deleteOrg(ctx: Ctx, orgId: string): Promise<{ orgId: string; keysDestroyed: number; auditEventsDeleted: number }> {
    if (ctx.actor.kind !== 'system') throw notFoundOrNoAccess();
    const db = await this.core.directory.storeOf(orgId);
    const keysDestroyed = await db.tx((x) => this.core.keys.destroyOrgKeys(x, orgId));
    const auditEventsDeleted = await db.tx(async (x) => {
      const r = reposFor(x);
      const n = await r.audit.deleteAllOfOrg(orgId);
      await r.tenancy.deleteOrg(orgId);
      return n;
    });
    await controlRepo(this.core.stores.control).unregisterOrg(orgId);
    this.core.directory.forget(orgId);
    this.core.bus.emit('org.deleted', { orgId });
    return { orgId, keysDestroyed, auditEventsDeleted };
  }

  /** Orgs the caller can see (operator/system: all; users: their own). */
  async listOrgs(ctx: Ctx): Promise<Org[]> {
    const { directory } = this.core;
    const ids = ctx.actor.kind === 'system' || ctx.operatorRole ? (await directory.list()).map((d) => d.org_id) : [...new Set(ctx.bindings.map((b) => b.orgId))];
    const out: Org[] = [];
    for (const id of ids) {
      try {
        out.push(await this.getOrg(ctx, id, false));
      } catch (e) {
        if (!(e instanceof CairnError && e.code === 'CAIRN_ERR_NOT_FOUND')) throw e;
      }
    }
    return out;
  }

  async getOrg(ctx: Ctx, orgId: string, auditDenied = true): Promise<Org> {
    let db: Database;
    if (auditDenied) db = (await this.core.access.enforce(ctx, 'org', 'read', { orgId })).db;
    else {
      const c = await this.core.access.check(ctx, 'org', 'read', { orgId });
      if (!c.allowed) throw notFoundOrNoAccess();
      db = c.db;
    }
    const row = await reposFor(db).tenancy.getOrg(orgId);
    if (!row) throw notFoundOrNoAccess();
    return orgOut(row);
  }

  async updateOrg(ctx: Ctx, orgId: string, patch: { name?: string }): Promise<Org> {
    const { db } = await this.core.access.enforce(ctx, 'org', 'update', { orgId });
    return db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const row = await r.getOrg(orgId);
      if (!row) throw notFoundOrNoAccess();
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        if (!name || name.length > 200) throw new CairnError('CAIRN_ERR_VALIDATION', 'name must be 1-200 characters.', { field: 'name' });
        row.name = name;
      }
      await r.updateOrg(orgId, row.name, row.settings);
      await this.core.audit.record(x, ctx, orgId, 'org.update', `org:${orgId}`, { fields: Object.keys(patch) });
      return orgOut(row);
    });
  }

  // ---- sites --------------------------------------------------------------------------

  async listSites(ctx: Ctx, orgId: string): Promise<Site[]> {
    const { db, view } = await this.core.access.enforce(ctx, 'site', 'list', { orgId });
    const rows = await reposFor(db).tenancy.listSites(orgId);
    return rows.filter((s) => ctx.actor.kind === 'system' || AccessService.allows(view, 'site', 'read', { orgId, siteId: s.id })).map(siteOut);
  }

  async getSite(ctx: Ctx, orgId: string, siteId: string): Promise<Site> {
    const { db } = await this.core.access.enforce(ctx, 'site', 'read', { orgId, siteId });
    const row = await reposFor(db).tenancy.getSite(orgId, siteId);
    if (!row) throw notFoundOrNoAccess();
    return siteOut(row);
  }

  async createSite(ctx: Ctx, orgId: string, input: { name: string; timezone?: string }): Promise<Site> {
    const { db } = await this.core.access.enforce(ctx, 'site', 'create', { orgId });
    const timezone = input.timezone ?? 'UTC';
    validateTimezone(timezone);
    const now = this.core.clock.nowMs();
    const row: SiteRow = { id: newId(now), org_id: orgId, name: input.name.trim(), timezone, created_at: now };
    if (!row.name) throw new CairnError('CAIRN_ERR_VALIDATION', 'name must not be empty.', { field: 'name' });
    await db.tx(async (x) => {
      await reposFor(x).tenancy.insertSite(row);
      await this.core.audit.record(x, ctx, orgId, 'site.create', `site:${row.id}`);
    });
    return siteOut(row);
  }

  async updateSite(ctx: Ctx, orgId: string, siteId: string, patch: { name?: string; timezone?: string }): Promise<Site> {
    const { db } = await this.core.access.enforce(ctx, 'site', 'update', { orgId, siteId });
    if (patch.timezone !== undefined) validateTimezone(patch.timezone);
    return db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const row = await r.getSite(orgId, siteId);
      if (!row) throw notFoundOrNoAccess();
      if (patch.name !== undefined) row.name = patch.name.trim();
      if (patch.timezone !== undefined) row.timezone = patch.timezone;
      await r.updateSite(orgId, siteId, row.name, row.timezone);
      await this.core.audit.record(x, ctx, orgId, 'site.update', `site:${siteId}`, { fields: Object.keys(patch) });
      return siteOut(row);
    });
  }

  async deleteSite(ctx: Ctx, orgId: string, siteId: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'site', 'delete', { orgId, siteId });
    await db.tx(async (x) => {
      if ((await reposFor(x).tenancy.deleteSite(orgId, siteId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'site.delete', `site:${siteId}`);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId: null });
  }

  // ---- floors -------------------------------------------------------------------------

  /** The floor's site, for access checks on floor-level calls (unknown floor → not found). */
  private async floorSite(orgId: string, floorId: string): Promise<string> {
    const db = await this.core.directory.storeOf(orgId);
    const f = await reposFor(db).tenancy.getFloor(orgId, floorId);
    return f?.site_id ?? '__none__';
  }

  async listFloors(ctx: Ctx, orgId: string, siteId: string): Promise<Floor[]> {
    const { db } = await this.core.access.enforce(ctx, 'floor', 'read', { orgId, siteId });
    return (await reposFor(db).tenancy.listFloors(orgId, siteId)).map(floorOut);
  }

  async getFloor(ctx: Ctx, orgId: string, floorId: string): Promise<Floor> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'floor', 'read', { orgId, siteId }, `floor:${floorId}`);
    const row = await reposFor(db).tenancy.getFloor(orgId, floorId);
    if (!row) throw notFoundOrNoAccess();
    return floorOut(row);
  }

  async createFloor(ctx: Ctx, orgId: string, siteId: string, input: { name: string; level?: number; widthM: number; heightM: number }): Promise<Floor> {
    const { db } = await this.core.access.enforce(ctx, 'floor', 'create', { orgId, siteId });
    validateDims(input.widthM, input.heightM);
    const now = this.core.clock.nowMs();
    const row: FloorRow = { id: newId(now), org_id: orgId, site_id: siteId, name: input.name.trim(), level: input.level ?? 0, width_m: input.widthM, height_m: input.heightM, plan_mime: null, created_at: now };
    await db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      if (!(await r.getSite(orgId, siteId))) throw notFoundOrNoAccess();
      await r.insertFloor(row);
      await this.core.audit.record(x, ctx, orgId, 'floor.create', `floor:${row.id}`, { siteId });
    });
    return floorOut(row);
  }

  async updateFloor(ctx: Ctx, orgId: string, floorId: string, patch: { name?: string; level?: number; widthM?: number; heightM?: number }): Promise<Floor> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'floor', 'update', { orgId, siteId }, `floor:${floorId}`);
    const out = await db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const row = await r.getFloor(orgId, floorId);
      if (!row) throw notFoundOrNoAccess();
      if (patch.name !== undefined) row.name = patch.name.trim();
      if (patch.level !== undefined) row.level = patch.level;
      if (patch.widthM !== undefined) row.width_m = patch.widthM;
      if (patch.heightM !== undefined) row.height_m = patch.heightM;
      validateDims(row.width_m, row.height_m);
      for (const z of await r.listZones(orgId, floorId)) validatePolygon(JSON.parse(z.polygon) as Point[], row.width_m, row.height_m);
      await r.updateFloor(row);
      await this.core.audit.record(x, ctx, orgId, 'floor.update', `floor:${floorId}`, { fields: Object.keys(patch) });
      return floorOut(row);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId });
    return out;
  }

  async setFloorPlan(ctx: Ctx, orgId: string, floorId: string, image: Buffer): Promise<Floor> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'floor', 'update', { orgId, siteId }, `floor:${floorId}`);
    const type = PLAN_TYPES.find(([, test]) => test(image))?.[0];
    if (!type) throw new CairnError('CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE', 'A floor plan must be a PNG, JPEG or WebP image.');
    return db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const row = await r.getFloor(orgId, floorId);
      if (!row) throw notFoundOrNoAccess();
      await r.setFloorPlan(orgId, floorId, type, image);
      await this.core.audit.record(x, ctx, orgId, 'floor.plan.set', `floor:${floorId}`, { bytes: image.length, type });
      return floorOut({ ...row, plan_mime: type });
    });
  }

  async getFloorPlan(ctx: Ctx, orgId: string, floorId: string): Promise<{ mime: string; image: Buffer }> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'floor', 'read', { orgId, siteId }, `floor:${floorId}`);
    const p = await reposFor(db).tenancy.getFloorPlan(orgId, floorId);
    if (!p?.plan_mime || !p.plan_image) throw notFoundOrNoAccess();
    return { mime: p.plan_mime, image: Buffer.from(p.plan_image) };
  }

  async deleteFloor(ctx: Ctx, orgId: string, floorId: string): Promise<void> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'floor', 'delete', { orgId, siteId }, `floor:${floorId}`);
    await db.tx(async (x) => {
      if ((await reposFor(x).tenancy.deleteFloor(orgId, floorId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'floor.delete', `floor:${floorId}`);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId });
  }

  // ---- zones --------------------------------------------------------------------------

  async listZones(ctx: Ctx, orgId: string, floorId: string): Promise<Zone[]> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'zone', 'read', { orgId, siteId }, `floor:${floorId}`);
    return (await reposFor(db).tenancy.listZones(orgId, floorId)).map(zoneOut);
  }

  private async zoneSite(orgId: string, zoneId: string): Promise<string> {
    const db = await this.core.directory.storeOf(orgId);
    return (await reposFor(db).tenancy.getZone(orgId, zoneId))?.site_id ?? '__none__';
  }

  async getZone(ctx: Ctx, orgId: string, zoneId: string): Promise<Zone> {
    const siteId = await this.zoneSite(orgId, zoneId);
    const { db } = await this.core.access.enforce(ctx, 'zone', 'read', { orgId, siteId }, `zone:${zoneId}`);
    const row = await reposFor(db).tenancy.getZone(orgId, zoneId);
    if (!row) throw notFoundOrNoAccess();
    return zoneOut(row);
  }

  async createZone(ctx: Ctx, orgId: string, floorId: string, input: { name: string; polygon: Point[]; occupancyLimit?: number | null; vendorZoneId?: string | null }): Promise<Zone> {
    const siteId = await this.floorSite(orgId, floorId);
    const { db } = await this.core.access.enforce(ctx, 'zone', 'create', { orgId, siteId }, `floor:${floorId}`);
    const now = this.core.clock.nowMs();
    const zone = await db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const floor = await r.getFloor(orgId, floorId);
      if (!floor) throw notFoundOrNoAccess();
      validatePolygon(input.polygon, floor.width_m, floor.height_m);
      const row: ZoneRow = { id: newId(now), org_id: orgId, site_id: floor.site_id, floor_id: floorId, name: input.name.trim(), polygon: JSON.stringify(input.polygon), occupancy_limit: input.occupancyLimit ?? null, created_at: now };
      row.vendor_zone_id = await checkVendorZoneId(r, orgId, row.id, input.vendorZoneId ?? null);
      await r.insertZone(row);
      await this.core.audit.record(x, ctx, orgId, 'zone.create', `zone:${row.id}`, { floorId });
      return zoneOut(row);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId });
    return zone;
  }

  async updateZone(ctx: Ctx, orgId: string, zoneId: string, patch: { name?: string; polygon?: Point[]; occupancyLimit?: number | null; vendorZoneId?: string | null }): Promise<Zone> {
    const siteId = await this.zoneSite(orgId, zoneId);
    const { db } = await this.core.access.enforce(ctx, 'zone', 'update', { orgId, siteId }, `zone:${zoneId}`);
    const zone = await db.tx(async (x) => {
      const r = reposFor(x).tenancy;
      const row = await r.getZone(orgId, zoneId);
      if (!row) throw notFoundOrNoAccess();
      if (patch.polygon !== undefined) {
        const floor = await r.getFloor(orgId, row.floor_id);
        validatePolygon(patch.polygon, floor!.width_m, floor!.height_m);
        row.polygon = JSON.stringify(patch.polygon);
      }
      if (patch.name !== undefined) row.name = patch.name.trim();
      if (patch.occupancyLimit !== undefined) row.occupancy_limit = patch.occupancyLimit;
      if (patch.vendorZoneId !== undefined) row.vendor_zone_id = await checkVendorZoneId(r, orgId, zoneId, patch.vendorZoneId);
      await r.updateZone(row);
      await this.core.audit.record(x, ctx, orgId, 'zone.update', `zone:${zoneId}`, { fields: Object.keys(patch) });
      return zoneOut(row);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId: zone.floorId });
    return zone;
  }

  async deleteZone(ctx: Ctx, orgId: string, zoneId: string): Promise<void> {
    const siteId = await this.zoneSite(orgId, zoneId);
    const { db } = await this.core.access.enforce(ctx, 'zone', 'delete', { orgId, siteId }, `zone:${zoneId}`);
    await db.tx(async (x) => {
      if ((await reposFor(x).tenancy.deleteZone(orgId, zoneId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'zone.delete', `zone:${zoneId}`);
    });
    this.core.bus.emit('tenancy.plan.changed', { orgId, floorId: null });
  }
}

function validateTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new CairnError('CAIRN_ERR_VALIDATION', `Unknown time zone "${tz.slice(0, 64)}"; use an IANA name such as Europe/Amsterdam.`, { field: 'timezone' });
  }
}

function validateDims(w: number, h: number): void {
  if (!(w > 0 && w <= 10_000 && h > 0 && h <= 10_000)) throw new CairnError('CAIRN_ERR_VALIDATION', 'widthM and heightM must be between 0 and 10000 metres.', { field: 'widthM' });
}
