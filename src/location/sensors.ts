/**
 * The sensor and AP registry per org, site and floor, and each site's path-loss calibration.
 * A sensor's MAC identifies network equipment, not a person, so it is stored in clear (it is
 * never a client's MAC). Org and site admins place sensors; every change is audited and drops
 * the cached plan the pipeline locates with.
 */
import { CairnError, notFoundOrNoAccess } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import { toIso } from '../kernel/clock.ts';
import { normaliseMac, type Core, type Ctx } from '../privacy/index.ts';
import { LocationRepo, reposFor, type CalibrationRow, type SensorRow } from '../storage/index.ts';
import { fitPathLoss } from './engine/index.ts';
import { DEFAULT_SHADOWING_SIGMA_DB, DEFAULT_WIFI_MODEL, type PlanCache } from './plan.ts';

export type SensorKind = 'ap' | 'ble-sensor';

export interface Sensor {
  id: string;
  orgId: string;
  siteId: string;
  floorId: string;
  kind: SensorKind;
  name: string;
  /** Infrastructure MAC (`aa:bb:cc:dd:ee:ff`), not personal data. */
  mac: string | null;
  /** The vendor's id for it: Mist device id, the AP name controllers log in syslog. */
  vendorId: string | null;
  xM: number;
  yM: number;
  coverageRadiusM: number;
  txPowerDbm: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface SensorInput {
  floorId: string;
  kind: SensorKind;
  name: string;
  mac?: string | null;
  vendorId?: string | null;
  xM: number;
  yM: number;
  coverageRadiusM?: number;
  txPowerDbm?: number | null;
}

export interface Calibration {
  siteId: string;
  calibrated: boolean;
  /** RSSI at 1 m, dBm. */
  txPowerDbm: number;
  exponent: number;
  shadowingSigmaDb: number;
  samples: number;
  residualSigmaDb: number | null;
  updatedAt: string | null;
}

export interface CalibrationInput {
  txPowerDbm?: number;
  exponent?: number;
  shadowingSigmaDb?: number;
  /** Survey readings at known distances; with two or more, the model is fitted to them. */
  samples?: { distanceM: number; rssiDbm: number }[];
}

/** Default coverage radius of an AP (indoor, 10–15 m) and of a BLE sensor, metres. */
const DEFAULT_COVERAGE_M: Record<SensorKind, number> = { ap: 12, 'ble-sensor': 8 };

const out = (r: SensorRow): Sensor => ({
  id: r.id,
  orgId: r.org_id,
  siteId: r.site_id,
  floorId: r.floor_id,
  kind: r.kind,
  name: r.name,
  mac: r.mac,
  vendorId: r.vendor_id,
  xM: r.x_m,
  yM: r.y_m,
  coverageRadiusM: r.coverage_radius_m,
  txPowerDbm: r.tx_power_dbm,
  createdAt: toIso(r.created_at),
  updatedAt: toIso(r.updated_at),
});

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

/** `aa:bb:cc:dd:ee:ff` from any usual MAC notation, or a validation error. */
function infraMac(raw: string): string {
  const hex = normaliseMac(raw);
  if (!hex) throw bad('mac', 'mac is not a MAC address.');
  return hex.replace(/(..)(?!$)/g, '$1:');
}

export class SensorService {
  constructor(
    private readonly core: Core,
    private readonly plans: PlanCache,
  ) {}

  private async sensorSite(orgId: string, sensorId: string): Promise<string> {
    const db = await this.core.directory.storeOf(orgId);
    return (await new LocationRepo(db).getSensor(orgId, sensorId))?.site_id ?? '__none__';
  }

  async list(ctx: Ctx, orgId: string, siteId: string, floorId?: string): Promise<Sensor[]> {
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'read', { orgId, siteId });
    return (await new LocationRepo(db).listSensors(orgId, siteId, floorId ?? null)).map(out);
  }

  async get(ctx: Ctx, orgId: string, sensorId: string): Promise<Sensor> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'read', { orgId, siteId }, `sensor:${sensorId}`);
    const row = await new LocationRepo(db).getSensor(orgId, sensorId);
    if (!row) throw notFoundOrNoAccess();
    return out(row);
  }

  /** Place a sensor or AP on a floor of the site. @example await sensors.create(ctx, orgId, siteId, { floorId, kind: 'ap', name: 'AP-3', mac: '02:00:5e:aa:00:01', xM: 12, yM: 4 }) */
  async create(ctx: Ctx, orgId: string, siteId: string, input: SensorInput): Promise<Sensor> {
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'create', { orgId, siteId });
    const now = this.core.clock.nowMs();
    const row: SensorRow = {
      id: newId(now),
      org_id: orgId,
      site_id: siteId,
      floor_id: input.floorId,
      kind: input.kind,
      name: input.name.trim(),
      mac: input.mac ? infraMac(input.mac) : null,
      vendor_id: input.vendorId ? input.vendorId.trim().toLowerCase() : null,
      x_m: input.xM,
      y_m: input.yM,
      coverage_radius_m: input.coverageRadiusM ?? DEFAULT_COVERAGE_M[input.kind],
      tx_power_dbm: input.txPowerDbm ?? null,
      created_at: now,
      updated_at: now,
    };
    const s = await db.tx(async (x) => {
      await this.check(x, row);
      await new LocationRepo(x).insertSensor(row);
      await this.core.audit.record(x, ctx, orgId, 'sensor.create', `sensor:${row.id}`, { siteId, floorId: row.floor_id, kind: row.kind });
      return out(row);
    });
    this.plans.invalidate(orgId);
    return s;
  }

  async update(ctx: Ctx, orgId: string, sensorId: string, patch: Partial<SensorInput>): Promise<Sensor> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'update', { orgId, siteId }, `sensor:${sensorId}`);
    const s = await db.tx(async (x) => {
      const repo = new LocationRepo(x);
      const row = await repo.getSensor(orgId, sensorId);
      if (!row) throw notFoundOrNoAccess();
      if (patch.floorId !== undefined) row.floor_id = patch.floorId;
      if (patch.kind !== undefined) row.kind = patch.kind;
      if (patch.name !== undefined) row.name = patch.name.trim();
      if (patch.mac !== undefined) row.mac = patch.mac ? infraMac(patch.mac) : null;
      if (patch.vendorId !== undefined) row.vendor_id = patch.vendorId ? patch.vendorId.trim().toLowerCase() : null;
      if (patch.xM !== undefined) row.x_m = patch.xM;
      if (patch.yM !== undefined) row.y_m = patch.yM;
      if (patch.coverageRadiusM !== undefined) row.coverage_radius_m = patch.coverageRadiusM;
      if (patch.txPowerDbm !== undefined) row.tx_power_dbm = patch.txPowerDbm;
      row.updated_at = this.core.clock.nowMs();
      await this.check(x, row);
      await repo.updateSensor(row);
      await this.core.audit.record(x, ctx, orgId, 'sensor.update', `sensor:${sensorId}`, { fields: Object.keys(patch) });
      return out(row);
    });
    this.plans.invalidate(orgId);
    return s;
  }

  async remove(ctx: Ctx, orgId: string, sensorId: string): Promise<void> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'delete', { orgId, siteId }, `sensor:${sensorId}`);
    await db.tx(async (x) => {
      if ((await new LocationRepo(x).deleteSensor(orgId, sensorId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'sensor.delete', `sensor:${sensorId}`);
    });
    this.plans.invalidate(orgId);
  }

  /** The floor is the site's, the position on it, the name and identifiers sane and unique in the org. */
  private async check(x: Parameters<typeof reposFor>[0], row: SensorRow): Promise<void> {
    const floor = await reposFor(x).tenancy.getFloor(row.org_id, row.floor_id);
    if (!floor || floor.site_id !== row.site_id) throw bad('floorId', 'floorId is not a floor of this site.');
    if (!row.name || row.name.length > 200) throw bad('name', 'name must be 1-200 characters.');
    if (!(row.x_m >= 0 && row.x_m <= floor.width_m && row.y_m >= 0 && row.y_m <= floor.height_m)) {
      throw bad('xM', `The sensor must lie on the floor (0..${floor.width_m} × 0..${floor.height_m} m).`);
    }
    if (!(row.coverage_radius_m > 0 && row.coverage_radius_m <= 1000)) throw bad('coverageRadiusM', 'coverageRadiusM must be between 0 and 1000 metres.');
    if (row.tx_power_dbm !== null && !(row.tx_power_dbm >= -120 && row.tx_power_dbm <= 30)) throw bad('txPowerDbm', 'txPowerDbm must be between -120 and 30 dBm.');
    if (row.vendor_id !== null && (row.vendor_id.length === 0 || row.vendor_id.length > 128)) throw bad('vendorId', 'vendorId must be 1-128 characters.');
    if (await new LocationRepo(x).findClash(row.org_id, row.mac, row.vendor_id, row.id)) {
      throw new CairnError('CAIRN_ERR_CONFLICT', 'Another sensor of this org has the same MAC or vendor id.', { field: row.mac ? 'mac' : 'vendorId' });
    }
  }

  // ---- calibration --------------------------------------------------------------------

  async calibration(ctx: Ctx, orgId: string, siteId: string): Promise<Calibration> {
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'read', { orgId, siteId });
    if (!(await reposFor(db).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
    return calibrationOut(siteId, await new LocationRepo(db).getCalibration(orgId, siteId));
  }

  /**
   * Set a site's path-loss model: from survey samples (fitted, σ from the residuals unless given)
   * or given outright.
   *
   * @example await sensors.calibrate(ctx, orgId, siteId, { samples: [{ distanceM: 1, rssiDbm: -60 }, { distanceM: 10, rssiDbm: -82 }] })
   */
  async calibrate(ctx: Ctx, orgId: string, siteId: string, input: CalibrationInput): Promise<Calibration> {
    const { db } = await this.core.access.enforce(ctx, 'sensor', 'calibrate', { orgId, siteId });
    let row: CalibrationRow;
    const now = this.core.clock.nowMs();
    if (input.samples && input.samples.length > 0) {
      let fit;
      try {
        fit = fitPathLoss(input.samples.map((s) => ({ distanceMeters: s.distanceM, rssiDbm: s.rssiDbm })));
      } catch (e) {
        throw bad('samples', (e as Error).message);
      }
      row = { site_id: siteId, org_id: orgId, tx_power_dbm: fit.model.txPowerDbm, exponent: fit.model.exponent, shadowing_sigma_db: input.shadowingSigmaDb ?? Math.max(1, fit.residualSigmaDb), samples: fit.count, residual_sigma_db: fit.residualSigmaDb, updated_at: now };
    } else {
      if (input.txPowerDbm === undefined || input.exponent === undefined) throw bad('txPowerDbm', 'Give txPowerDbm and exponent, or survey samples.');
      row = { site_id: siteId, org_id: orgId, tx_power_dbm: input.txPowerDbm, exponent: input.exponent, shadowing_sigma_db: input.shadowingSigmaDb ?? DEFAULT_SHADOWING_SIGMA_DB, samples: 0, residual_sigma_db: null, updated_at: now };
    }
    const c = await db.tx(async (x) => {
      if (!(await reposFor(x).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
      await new LocationRepo(x).setCalibration(row);
      await this.core.audit.record(x, ctx, orgId, 'site.calibrate', `site:${siteId}`, { samples: row.samples });
      return calibrationOut(siteId, row);
    });
    this.plans.invalidate(orgId);
    return c;
  }
}

function calibrationOut(siteId: string, r: CalibrationRow | undefined): Calibration {
  if (!r) {
    // Uncalibrated: the engine uses per-kind defaults (BLE −59 dBm / 2.2); report the Wi-Fi one and say so.
    return { siteId, calibrated: false, txPowerDbm: DEFAULT_WIFI_MODEL.txPowerDbm, exponent: DEFAULT_WIFI_MODEL.exponent, shadowingSigmaDb: DEFAULT_SHADOWING_SIGMA_DB, samples: 0, residualSigmaDb: null, updatedAt: null };
  }
  return { siteId, calibrated: true, txPowerDbm: r.tx_power_dbm, exponent: r.exponent, shadowingSigmaDb: r.shadowing_sigma_db, samples: r.samples, residualSigmaDb: r.residual_sigma_db, updatedAt: toIso(r.updated_at) };
}
