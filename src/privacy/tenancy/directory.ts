/**
 * Which store holds an org. The control store maps org id → region; each region's store holds
 * the org's data. Lookups are cached (orgs never move region without a migration).
 */
import { notFoundOrNoAccess } from '../../kernel/errors.ts';
import { controlRepo, type Database, type Stores } from '../../storage/index.ts';

/** EU and EEA member states (ISO 3166-1 alpha-2; Greece also as EL). */
export const EU_EEA = new Set(['AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'EL', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', 'IS', 'LI', 'NO']);

export class OrgDirectory {
  private cache = new Map<string, string>();
  constructor(readonly stores: Stores) {}

  /** The region of an org, or undefined when no such org exists. */
  async regionOf(orgId: string): Promise<string | undefined> {
    const hit = this.cache.get(orgId);
    if (hit) return hit;
    const row = await controlRepo(this.stores.control).regionOf(orgId);
    if (row) this.cache.set(orgId, row.region);
    return row?.region;
  }

  /** The org's store; an unknown org is "not found or no access". */
  async storeOf(orgId: string): Promise<Database> {
    const region = await this.regionOf(orgId);
    if (!region) throw notFoundOrNoAccess();
    return this.stores.region(region);
  }

  forget(orgId: string): void {
    this.cache.delete(orgId);
  }

  async list(): Promise<{ org_id: string; region: string; created_at: number }[]> {
    return controlRepo(this.stores.control).listDirectory();
  }
}

/**
 * R-PRIV-6: an org headquartered in the EU/EEA goes to `eu` when this server hosts it;
 * an explicit choice wins; otherwise the default region.
 * @example chooseRegion('NL', undefined, ['eu','us'], 'us') === 'eu'
 */
export function chooseRegion(country: string, requested: string | undefined, hosted: string[], defaultRegion: string): string {
  if (requested) return requested;
  if (EU_EEA.has(country.toUpperCase()) && hosted.includes('eu')) return 'eu';
  return defaultRegion;
}
