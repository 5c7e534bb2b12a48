/**
 * The position fix every estimator produces, and the two estimators that need no solving:
 * association-only (a device connected to an AP is somewhere in that AP's cell) and vendor
 * positions (Mist, Meraki, Cisco Spaces already computed x/y) passed through.
 *
 * A fix is floor-local metres plus an accuracy radius, the number R-LOC-2 asks us to report
 * with each fix. Fixes are plain mutable objects so the hot path can reuse one per worker.
 */
import { CairnError } from '../../kernel/errors.ts';

/** How a fix was obtained, from most to least specific. */
export type FixMethod = 'vendor' | 'wls' | 'fingerprint' | 'centroid' | 'association';

/**
 * A position on one floor. Personal data when tied to a device: precise location history,
 * R-DATA-3 (30 days with contact tracing on, otherwise real time only). The engine keeps none.
 */
export interface PositionFix {
  /** Floor-local x in metres. */
  xMeters: number;
  /** Floor-local y in metres. */
  yMeters: number;
  /**
   * Accuracy radius in metres: the DRMS radius, sqrt(σx² + σy²), within which roughly two
   * fixes in three fall. For association fixes it is the AP's coverage radius.
   */
  accuracyMeters: number;
  method: FixMethod;
  /** Readings (sensors or APs) that contributed; 0 for vendor fixes. */
  sensorCount: number;
}

/** A fresh fix object to reuse as the `out` argument of the solvers. */
export function emptyFix(): PositionFix {
  return { xMeters: 0, yMeters: 0, accuracyMeters: 0, method: 'centroid', sensorCount: 0 };
}

/** An access point as placed on the floor plan. */
export interface PlacedAccessPoint {
  xMeters: number;
  yMeters: number;
  /** Radius (metres) within which its clients usually are; 10–15 m for indoor APs. */
  coverageRadiusMeters: number;
}

/**
 * Association-only location: the device is placed on its AP, with the AP's coverage radius as
 * accuracy. This is the coarse "connected to AP-3" location that needs no RSSI at all.
 *
 * @example associationFix({ xMeters: 12, yMeters: 5, coverageRadiusMeters: 12 }) // accuracy 12 m
 */
export function associationFix(ap: PlacedAccessPoint, out: PositionFix = emptyFix()): PositionFix {
  if (!Number.isFinite(ap.xMeters) || !Number.isFinite(ap.yMeters) || !(ap.coverageRadiusMeters > 0)) {
    throw new CairnError('CAIRN_ERR_LOCATION_UNSOLVABLE', 'The access point needs a position and a positive coverage radius.');
  }
  out.xMeters = ap.xMeters;
  out.yMeters = ap.yMeters;
  out.accuracyMeters = ap.coverageRadiusMeters;
  out.method = 'association';
  out.sensorCount = 1;
  return out;
}

/**
 * A position computed by the vendor's own engine, passed through unchanged with the vendor's
 * accuracy (or `defaultAccuracyMeters` when the vendor gives none, e.g. R-LOC-2's 5–10 m for
 * connected Wi-Fi). Non-finite coordinates are rejected rather than stored.
 *
 * @example vendorFix(23.5, 11.2, undefined, 8) // { xMeters: 23.5, yMeters: 11.2, accuracyMeters: 8, method: 'vendor' }
 */
export function vendorFix(
  xMeters: number,
  yMeters: number,
  accuracyMeters: number | undefined,
  defaultAccuracyMeters: number,
  out: PositionFix = emptyFix(),
): PositionFix {
  if (!Number.isFinite(xMeters) || !Number.isFinite(yMeters)) {
    throw new CairnError('CAIRN_ERR_LOCATION_UNSOLVABLE', 'The vendor position has no finite x/y.');
  }
  out.xMeters = xMeters;
  out.yMeters = yMeters;
  out.accuracyMeters = accuracyMeters !== undefined && accuracyMeters > 0 ? accuracyMeters : defaultAccuracyMeters;
  out.method = 'vendor';
  out.sensorCount = 0;
  return out;
}
