/**
 * Vendor zone transitions (Mist `zone` webhooks: a device entered or left one of Mist's own zones)
 * mapped onto Cairn zones. A Cairn zone that carries the vendor's zone id (`vendorZoneId`) stands
 * for it; a mapped transition moves the device in the presence tracker exactly as Cairn's own
 * zone assignment does (enter/exit events on the bus after the commit, zone-minute counts in the
 * batch's transaction), the device pseudonymised and minimised like any observation: devices the
 * org does not track individually appear in counts and in events without a pseudonym (R-LOC-3,
 * R-LOC-4); SDK phones without a current opt-in are dropped (rejected `sdk_without_opt_in`,
 * R-PRIV-5). No fix is stored: a transition carries no position. Unmapped transitions are counted
 * as `unmapped_vendor_zone`.
 */
import type { IdKind } from '../privacy/index.ts';
import type { OrgPlan, PresenceBatch } from '../location/index.ts';
import type { ObservationKind, ZoneTransition } from './types.ts';
import type { EffectiveSettings } from './settings.ts';
import type { IngestSummary } from './service.ts';

/** What the pipeline's batch lends the mapping (inside its transaction, after re-delivery was checked). */
export interface VendorZoneBatch {
  /** Confine to this site (a site-bound caller); transitions into other sites' zones count as `other_site`. */
  siteId: string | null;
  plan: OrgPlan;
  pseudo: (kind: IdKind, raw: string) => string;
  eff: EffectiveSettings;
  presence: PresenceBatch;
  summary: IngestSummary;
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

/**
 * Why only aggregates may be kept for a device (R-LOC-3, R-LOC-4), or undefined when the org
 * tracks it individually: the pipeline's minimisation rules.
 *
 * @example aggregateOnlyReason('wifi-unconnected', pseudonym, eff) // 'unconnected' unless trackUnconnected is on
 */
export function aggregateOnlyReason(kind: ObservationKind, device: string, eff: EffectiveSettings): string | undefined {
  const s = eff.settings;
  if (!s.locationServices) return 'location_services_off';
  if (kind === 'wifi-unconnected' && !s.trackUnconnected) return 'unconnected';
  if (kind === 'ble-asset' && !s.trackAssets) return 'asset';
  if (kind === 'sdk' && !eff.optIns.has(device)) return 'sdk_without_opt_in';
  return undefined;
}

/**
 * Apply a batch's vendor zone transitions, in time order, to its presence overlay; counts go to
 * `summary` (accepted, aggregate-only and unlocated reasons). An exit moves the device out only
 * when it is in that zone (or not followed yet): an exit from a zone it already left is a no-op.
 * Returns the latest transition time (ms), -Infinity for none.
 *
 * @example maxAt = Math.max(maxAt, applyVendorZones(batch.zoneTransitions, { siteId, plan, pseudo, eff, presence, summary }))
 */
export function applyVendorZones(transitions: readonly ZoneTransition[], b: VendorZoneBatch): number {
  let maxAt = -Infinity;
  const sorted = [...transitions].sort((p, q) => p.atMs - q.atMs);
  for (const t of sorted) {
    const device = b.pseudo(t.idType, t.idType === 'app' ? t.deviceId.toLowerCase() : t.deviceId);
    if (t.kind === 'sdk' && !b.eff.optIns.has(device)) {
      bump(b.summary.rejected, 'sdk_without_opt_in');
      continue;
    }
    const why = aggregateOnlyReason(t.kind, device, b.eff);
    b.summary.accepted++;
    if (why !== undefined) bump(b.summary.aggregateOnly, why);
    const where = b.plan.vendorZone(t.vendorZoneId);
    if (!where) {
      bump(b.summary.unlocated, 'unmapped_vendor_zone');
      continue;
    }
    if (b.siteId !== null && where.floor.siteId !== b.siteId) {
      bump(b.summary.unlocated, 'other_site');
      continue;
    }
    if (t.atMs > maxAt) maxAt = t.atMs;
    if (t.trigger === 'enter') {
      b.presence.observe(device, why === undefined, t.randomized, where.floor, where.zoneIdx, t.atMs);
    } else {
      const cell = b.presence.cellOf(device);
      if (cell === undefined || cell === where.floor.cellKeys[where.zoneIdx + 1]) b.presence.observe(device, why === undefined, t.randomized, where.floor, -1, t.atMs);
    }
  }
  return maxAt;
}
