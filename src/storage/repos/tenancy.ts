/** Orgs, sites, floors and zones: the tenancy tree inside one region store. */
import type { Executor } from '../db.ts';

export interface OrgRow {
  id: string;
  name: string;
  country: string;
  region: string;
  settings: string;
  created_at: number;
}
export interface SiteRow {
  id: string;
  org_id: string;
  name: string;
  timezone: string;
  created_at: number;
}
export interface FloorRow {
  id: string;
  org_id: string;
  site_id: string;
  name: string;
  level: number;
  width_m: number;
  height_m: number;
  plan_mime: string | null;
  created_at: number;
}
export interface ZoneRow {
  id: string;
  org_id: string;
  site_id: string;
  floor_id: string;
  name: string;
  polygon: string;
  occupancy_limit: number | null;
  created_at: number;
  /** The vendor's own zone id (Mist `zone_id`) this zone stands for; unique per org. */
  vendor_zone_id?: string | null;
}

const FLOOR_COLS = 'id, org_id, site_id, name, level, width_m, height_m, plan_mime, created_at';

export class TenancyRepo {
  constructor(private readonly x: Executor) {}

  async insertOrg(o: OrgRow): Promise<void> {
    await this.x.run('INSERT INTO orgs (id, name, country, region, settings, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [o.id, o.name, o.country, o.region, o.settings, o.created_at]);
  }
  getOrg(id: string): Promise<OrgRow | undefined> {
    return this.x.get<OrgRow>('SELECT * FROM orgs WHERE id = $1', [id]);
  }
  listOrgs(): Promise<OrgRow[]> {
    return this.x.all<OrgRow>('SELECT * FROM orgs ORDER BY created_at, id');
  }
  async updateOrg(id: string, name: string, settings: string): Promise<void> {
    await this.x.run('UPDATE orgs SET name = $2, settings = $3 WHERE id = $1', [id, name, settings]);
  }
  async deleteOrg(id: string): Promise<number> {
    return (await this.x.run('DELETE FROM orgs WHERE id = $1', [id])).changes;
  }

  async insertSite(s: SiteRow): Promise<void> {
    await this.x.run('INSERT INTO sites (id, org_id, name, timezone, created_at) VALUES ($1, $2, $3, $4, $5)', [s.id, s.org_id, s.name, s.timezone, s.created_at]);
  }
  getSite(orgId: string, id: string): Promise<SiteRow | undefined> {
    return this.x.get<SiteRow>('SELECT * FROM sites WHERE org_id = $1 AND id = $2', [orgId, id]);
  }
  listSites(orgId: string): Promise<SiteRow[]> {
    return this.x.all<SiteRow>('SELECT * FROM sites WHERE org_id = $1 ORDER BY name, id', [orgId]);
  }
  async updateSite(orgId: string, id: string, name: string, timezone: string): Promise<void> {
    await this.x.run('UPDATE sites SET name = $3, timezone = $4 WHERE org_id = $1 AND id = $2', [orgId, id, name, timezone]);
  }
  async deleteSite(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM sites WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  async insertFloor(f: FloorRow): Promise<void> {
    await this.x.run(`INSERT INTO floors (${FLOOR_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [f.id, f.org_id, f.site_id, f.name, f.level, f.width_m, f.height_m, f.plan_mime, f.created_at]);
  }
  getFloor(orgId: string, id: string): Promise<FloorRow | undefined> {
    return this.x.get<FloorRow>(`SELECT ${FLOOR_COLS} FROM floors WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  listFloors(orgId: string, siteId: string): Promise<FloorRow[]> {
    return this.x.all<FloorRow>(`SELECT ${FLOOR_COLS} FROM floors WHERE org_id = $1 AND site_id = $2 ORDER BY level, name`, [orgId, siteId]);
  }
  async updateFloor(f: FloorRow): Promise<void> {
    await this.x.run('UPDATE floors SET name = $3, level = $4, width_m = $5, height_m = $6 WHERE org_id = $1 AND id = $2', [f.org_id, f.id, f.name, f.level, f.width_m, f.height_m]);
  }
  async setFloorPlan(orgId: string, id: string, mime: string, image: Buffer): Promise<void> {
    await this.x.run('UPDATE floors SET plan_mime = $3, plan_image = $4 WHERE org_id = $1 AND id = $2', [orgId, id, mime, image]);
  }
  getFloorPlan(orgId: string, id: string): Promise<{ plan_mime: string | null; plan_image: Buffer | null } | undefined> {
    return this.x.get('SELECT plan_mime, plan_image FROM floors WHERE org_id = $1 AND id = $2', [orgId, id]);
  }
  async deleteFloor(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM floors WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  async insertZone(z: ZoneRow): Promise<void> {
    await this.x.run('INSERT INTO zones (id, org_id, site_id, floor_id, name, polygon, occupancy_limit, created_at, vendor_zone_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [z.id, z.org_id, z.site_id, z.floor_id, z.name, z.polygon, z.occupancy_limit, z.created_at, z.vendor_zone_id ?? null]);
  }
  getZone(orgId: string, id: string): Promise<ZoneRow | undefined> {
    return this.x.get<ZoneRow>('SELECT * FROM zones WHERE org_id = $1 AND id = $2', [orgId, id]);
  }
  listZones(orgId: string, floorId: string): Promise<ZoneRow[]> {
    return this.x.all<ZoneRow>('SELECT * FROM zones WHERE org_id = $1 AND floor_id = $2 ORDER BY name, id', [orgId, floorId]);
  }
  async updateZone(z: ZoneRow): Promise<void> {
    await this.x.run('UPDATE zones SET name = $3, polygon = $4, occupancy_limit = $5, vendor_zone_id = $6 WHERE org_id = $1 AND id = $2', [z.org_id, z.id, z.name, z.polygon, z.occupancy_limit, z.vendor_zone_id ?? null]);
  }
  /** The zone of the org that stands for the vendor's zone `vendorZoneId`, if any. */
  getZoneByVendorId(orgId: string, vendorZoneId: string): Promise<ZoneRow | undefined> {
    return this.x.get<ZoneRow>('SELECT * FROM zones WHERE org_id = $1 AND vendor_zone_id = $2', [orgId, vendorZoneId]);
  }
  async deleteZone(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM zones WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
}
