/**
 * An org's floor plan as the location engine needs it on the hot path: floors with their bounds
 * and a `ZoneIndex` built from the tenancy zones, the registered sensors and APs with their
 * path-loss models (site calibration, per-sensor overrides), looked up by MAC, vendor id or id,
 * and the zones that stand for a vendor's own zones (Mist `zone_id`).
 * Cached per org and dropped when zones, floors, sensors or calibrations change, so a batch
 * pays one map lookup, not a query.
 */
import type { EventBus } from '../kernel/events.ts';
import { DEFAULT_BLE_MODEL, ZoneIndex, type Bounds, type PathLossModel } from './engine/index.ts';
import { LocationRepo, reposFor, type CalibrationRow, type Executor, type SensorRow } from '../storage/index.ts';

/** A floor, ready for solving (bounds) and zone lookup. */
export interface FloorPlan {
  id: string;
  siteId: string;
  widthM: number;
  heightM: number;
  bounds: Bounds;
  zones: ZoneIndex;
  /** `zones.zoneIds`, for the index `zones.zoneIndexAt` returns. */
  zoneIds: readonly string[];
  /** `floorId|zoneId` per zone index + 1 (0: on the floor, in no zone): presence keys made once. */
  cellKeys: readonly string[];
}

/** A sensor or AP where the engine uses it. */
export interface PlacedSensor {
  id: string;
  siteId: string;
  floorId: string;
  kind: 'ap' | 'ble-sensor';
  xMeters: number;
  yMeters: number;
  coverageRadiusMeters: number;
  /** Path-loss model for Wi-Fi devices heard by this sensor (site calibration, else the Wi-Fi default; tx power overridden per sensor). */
  wifiModel: PathLossModel;
  /** The same for BLE devices (site calibration, else the BLE default). */
  bleModel: PathLossModel;
  /** Shadowing σ (dB) of the sensor's site, for the solver's weights. */
  shadowingSigmaDb: number;
}

/** The uncalibrated Wi-Fi model: a client heard about −40 dBm at 1 m, indoor exponent 3. */
export const DEFAULT_WIFI_MODEL: Readonly<PathLossModel> = Object.freeze({ txPowerDbm: -40, exponent: 3 });
/** Shadowing σ (dB) assumed until a site is calibrated. */
export const DEFAULT_SHADOWING_SIGMA_DB = 4;

/** Where a vendor's own zone (Mist `zone_id`) is in Cairn: the zone standing for it, by index on its floor. */
export interface VendorZone {
  floor: FloorPlan;
  /** Index into `floor.zoneIds` (what `floor.zones.zoneIndexAt` would return inside it). */
  zoneIdx: number;
}

/** An org's plan: floors by id, sensors by every key readings may name them with, zones by vendor zone id. */
export class OrgPlan {
  constructor(
    readonly orgId: string,
    readonly floors: ReadonlyMap<string, FloorPlan>,
    private readonly sensors: ReadonlyMap<string, PlacedSensor>,
    readonly sensorCount: number,
    private readonly vendorZones: ReadonlyMap<string, VendorZone> = new Map(),
  ) {}

  /** The Cairn zone that stands for the vendor's zone id (set on the zone as `vendorZoneId`), if any. */
  vendorZone(vendorZoneId: string): VendorZone | undefined {
    return this.vendorZones.get(vendorZoneId);
  }

  /** The sensor a reading names: by MAC (`aa:bb:…`), vendor id or Cairn id, case-insensitive. */
  sensor(key: string): PlacedSensor | undefined {
    return this.sensors.get(key) ?? this.sensors.get(key.toLowerCase());
  }
}

/** The site's calibrated model, else the default for the radio; a sensor's own tx power wins. */
function modelFor(row: SensorRow, cal: CalibrationRow | undefined, radioDefault: PathLossModel): PathLossModel {
  const base = cal ? { txPowerDbm: cal.tx_power_dbm, exponent: cal.exponent } : radioDefault;
  return { txPowerDbm: row.tx_power_dbm ?? base.txPowerDbm, exponent: base.exponent };
}

/** Build an org's plan from its stored floors, zones, sensors and calibrations. */
export async function loadOrgPlan(x: Executor, orgId: string): Promise<OrgPlan> {
  const t = reposFor(x).tenancy;
  const repo = new LocationRepo(x);
  const floors = new Map<string, FloorPlan>();
  const vendorZones = new Map<string, VendorZone>();
  for (const site of await t.listSites(orgId)) {
    for (const f of await t.listFloors(orgId, site.id)) {
      const rows = await t.listZones(orgId, f.id);
      const zones = rows.map((z) => ({ id: z.id, polygon: { outer: (JSON.parse(z.polygon) as [number, number][]).flat() } }));
      const index = new ZoneIndex(zones);
      const cellKeys = [`${f.id}|`, ...index.zoneIds.map((z) => `${f.id}|${z}`)];
      const floor: FloorPlan = { id: f.id, siteId: f.site_id, widthM: f.width_m, heightM: f.height_m, bounds: { minX: 0, minY: 0, maxX: f.width_m, maxY: f.height_m }, zones: index, zoneIds: index.zoneIds, cellKeys };
      floors.set(f.id, floor);
      for (const z of rows) {
        const zoneIdx = z.vendor_zone_id ? index.zoneIds.indexOf(z.id) : -1;
        if (zoneIdx >= 0) vendorZones.set(z.vendor_zone_id!, { floor, zoneIdx });
      }
    }
  }
  const cals = new Map((await repo.listCalibrations(orgId)).map((c) => [c.site_id, c]));
  const sensors = new Map<string, PlacedSensor>();
  const rows = await repo.listOrgSensors(orgId);
  for (const r of rows) {
    const cal = cals.get(r.site_id);
    const s: PlacedSensor = {
      id: r.id,
      siteId: r.site_id,
      floorId: r.floor_id,
      kind: r.kind,
      xMeters: r.x_m,
      yMeters: r.y_m,
      coverageRadiusMeters: r.coverage_radius_m,
      wifiModel: modelFor(r, cal, DEFAULT_WIFI_MODEL),
      bleModel: modelFor(r, cal, DEFAULT_BLE_MODEL),
      shadowingSigmaDb: cal?.shadowing_sigma_db ?? DEFAULT_SHADOWING_SIGMA_DB,
    };
    sensors.set(r.id, s);
    if (r.mac) sensors.set(r.mac, s);
    if (r.vendor_id) sensors.set(r.vendor_id.toLowerCase(), s);
  }
  return new OrgPlan(orgId, floors, sensors, rows.length, vendorZones);
}

/**
 * Plans by org, loaded on first use and dropped on `tenancy.plan.changed` (zones, floors) or by
 * {@link PlanCache.invalidate} (sensors, calibration). Concurrent first uses share one load.
 */
export class PlanCache {
  private readonly plans = new Map<string, Promise<OrgPlan>>();

  constructor(bus: EventBus) {
    bus.on('tenancy.plan.changed', ({ orgId }) => this.invalidate(orgId));
    bus.on('org.deleted', ({ orgId }) => this.invalidate(orgId));
  }

  /** The org's plan (cached). @example const plan = await plans.get(db, orgId) */
  get(x: Executor, orgId: string): Promise<OrgPlan> {
    let p = this.plans.get(orgId);
    if (!p) {
      p = loadOrgPlan(x, orgId);
      this.plans.set(orgId, p);
      p.catch(() => this.plans.delete(orgId));
    }
    return p;
  }

  invalidate(orgId: string): void {
    this.plans.delete(orgId);
  }
}
