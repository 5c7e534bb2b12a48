/**
 * Log-distance path-loss model: how received signal strength falls with distance indoors.
 *
 *   rssi(d) = txPower − 10 · n · log10(d / d0) + X,   X ~ N(0, σ²)  (log-normal shadowing)
 *
 * `txPowerDbm` is the RSSI measured at the reference distance d0 (1 m unless said otherwise),
 * `exponent` n is about 2 in free space and 2–4 indoors, σ (dB) is the shadowing spread.
 * Each site calibrates (txPower, n) from a few (distance, RSSI) samples with
 * {@link fitPathLoss}; the solver then turns each reading into a range and a range
 * uncertainty.
 */
import { CairnError } from '../../kernel/errors.ts';

/** Path-loss parameters of one sensor or one site. */
export interface PathLossModel {
  /** RSSI in dBm at the reference distance. */
  txPowerDbm: number;
  /** Path-loss exponent n (dimensionless). */
  exponent: number;
  /** Reference distance d0 in metres; default 1. */
  refDistanceMeters?: number;
}

/** A typical BLE badge indoors: −59 dBm at 1 m, n = 2.2. A starting point until calibrated. */
export const DEFAULT_BLE_MODEL: Readonly<PathLossModel> = Object.freeze({ txPowerDbm: -59, exponent: 2.2 });

/**
 * Expected RSSI (dBm) at a distance (metres) under the model, without shadowing. Distances
 * below 1 cm are treated as 1 cm.
 *
 * @example rssiAtDistance({ txPowerDbm: -59, exponent: 2 }, 10) === -79
 */
export function rssiAtDistance(model: PathLossModel, distanceMeters: number): number {
  const d0 = model.refDistanceMeters ?? 1;
  return model.txPowerDbm - 10 * model.exponent * Math.log10(Math.max(distanceMeters, 0.01) / d0);
}

/**
 * Inverse of the model: the distance (metres) at which the mean RSSI equals `rssiDbm`. This is
 * the median (not the mean) of the distance given the reading under log-normal shadowing.
 *
 * @example distanceFromRssi({ txPowerDbm: -59, exponent: 2 }, -79) === 10
 */
export function distanceFromRssi(model: PathLossModel, rssiDbm: number): number {
  const d0 = model.refDistanceMeters ?? 1;
  return d0 * Math.pow(10, (model.txPowerDbm - rssiDbm) / (10 * model.exponent));
}

/**
 * Relative range uncertainty implied by shadowing σ (dB): σ_d / d ≈ σ · ln 10 / (10 n).
 * With σ = 4 dB and n = 2.2 a range is good to about ±42 %; weights in the solver are 1/σ_d².
 *
 * @example rangeRelativeSigma(4, 2.2) // ≈ 0.419
 */
export function rangeRelativeSigma(shadowingSigmaDb: number, exponent: number): number {
  return (shadowingSigmaDb * Math.LN10) / (10 * exponent);
}

/** One calibration sample: a reading taken at a surveyed distance from the sensor. */
export interface PathLossSample {
  distanceMeters: number;
  rssiDbm: number;
}

/** The outcome of a calibration: the model and how well it fits. */
export interface PathLossFit {
  model: PathLossModel;
  /** Root-mean-square residual in dB: an estimate of the site's shadowing σ. */
  residualSigmaDb: number;
  /** Samples used. */
  count: number;
}

export interface PathLossFitOptions {
  /** Reference distance d0 in metres; default 1. */
  refDistanceMeters?: number;
  /** Fix n to this value and fit only txPower (useful with samples at one distance). */
  fixedExponent?: number;
  /** Keep n inside this range (physically 1.5–6); default [1.2, 6]. */
  exponentRange?: readonly [number, number];
}

/**
 * Per-site calibration: fits txPower and n by ordinary least squares on
 * rssi = txPower + n · (−10 log10(d/d0)), which is linear in both unknowns. If the fitted n
 * leaves `exponentRange` it is clamped and txPower refitted with n fixed, so a sloppy survey
 * cannot produce an unphysical model.
 *
 * Throws `CAIRN_ERR_DATASET` when there are fewer than two samples, a non-positive distance,
 * or (without `fixedExponent`) all samples at the same distance.
 *
 * @example fitPathLoss([{ distanceMeters: 1, rssiDbm: -60 }, { distanceMeters: 10, rssiDbm: -82 }])
 *   // model ≈ { txPowerDbm: -60, exponent: 2.2 }
 */
export function fitPathLoss(samples: readonly PathLossSample[], options: PathLossFitOptions = {}): PathLossFit {
  const d0 = options.refDistanceMeters ?? 1;
  const [nMin, nMax] = options.exponentRange ?? [1.2, 6];
  const need = options.fixedExponent === undefined ? 2 : 1;
  if (samples.length < need) {
    throw new CairnError('CAIRN_ERR_DATASET', `Path-loss calibration needs at least ${need} samples; got ${samples.length}.`);
  }
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const s of samples) {
    if (!(s.distanceMeters > 0) || !Number.isFinite(s.rssiDbm)) {
      throw new CairnError('CAIRN_ERR_DATASET', 'Calibration samples need a positive distance and a finite RSSI.');
    }
    const x = -10 * Math.log10(s.distanceMeters / d0);
    sx += x;
    sy += s.rssiDbm;
    sxx += x * x;
    sxy += x * s.rssiDbm;
  }
  const m = samples.length;
  const fitTx = (n: number): number => (sy - n * sx) / m;
  let n: number;
  if (options.fixedExponent !== undefined) {
    n = options.fixedExponent;
  } else {
    const varX = sxx - (sx * sx) / m;
    if (varX < 1e-9 * m) {
      throw new CairnError('CAIRN_ERR_DATASET', 'Calibration samples must span at least two distances to fit the exponent.');
    }
    n = (sxy - (sx * sy) / m) / varX;
    n = Math.min(nMax, Math.max(nMin, n));
  }
  const txPowerDbm = fitTx(n);
  const model: PathLossModel = { txPowerDbm, exponent: n, refDistanceMeters: d0 };
  let sse = 0;
  for (const s of samples) {
    const r = s.rssiDbm - rssiAtDistance(model, s.distanceMeters);
    sse += r * r;
  }
  const dof = Math.max(1, m - (options.fixedExponent === undefined ? 2 : 1));
  return { model, residualSigmaDb: Math.sqrt(sse / dof), count: m };
}
