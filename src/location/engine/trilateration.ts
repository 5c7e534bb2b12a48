/**
 * RSSI multilateration: several sensors (APs, BLE readers) hear one device; turn their
 * readings into a position with an accuracy radius.
 *
 * Each reading becomes a range d̂ through the path-loss model, with uncertainty
 * σ_d = d̂ · σ·ln10/(10n) from log-normal shadowing. The position minimises
 * Σ (‖p − s_i‖ − d̂_i)² / σ_d,i² (weighted least squares), started from the 1/d̂²-weighted
 * centroid of the sensors. The iteration is Gauss–Newton plus the positive part of the range
 * circles' curvature (plain Gauss–Newton zig-zags around a close, heavily weighted sensor),
 * with step halving until the cost drops, and every step is projected onto the floor's
 * bounds. It usually converges in 3–4 steps. The accuracy is the DRMS radius of the
 * covariance (JᵀWJ)⁻¹, inflated by the a-posteriori variance factor χ²/(n−2) when the
 * residuals are larger than σ predicts. With fewer than three readings the problem is
 * under-determined and the solver returns the weighted centroid with a larger accuracy.
 *
 * Hot path: the solver owns typed arrays sized at construction and allocates nothing per fix
 * when given an `out` object; a 6-reading add-and-solve takes about 0.7–1 µs on one core
 * (bench/location.ts). One solver per worker; it is not re-entrant.
 */
import { CairnError } from '../../kernel/errors.ts';
import type { Bounds } from './geometry.ts';
import { type PositionFix, emptyFix } from './fix.ts';
import type { PathLossModel } from './pathloss.ts';

export interface RssiSolverOptions {
  /** Most readings one solve accepts; readings beyond it are ignored, so add the strongest first. Default 32. */
  capacity?: number;
  /** Shadowing σ in dB used for the range weights; default 4 (badge-level). */
  shadowingSigmaDb?: number;
  /** Iterations at most; default 12. */
  maxIterations?: number;
  /** Stop when a step is shorter than this (metres); default 0.05, far below any fix accuracy. */
  toleranceMeters?: number;
  /** Accuracy reported is never below this (metres); default 1. */
  minAccuracyMeters?: number;
  /** Ranges are clamped to [0.1, maxRangeMeters]; default 100. */
  maxRangeMeters?: number;
}

/**
 * Multilateration from RSSI readings. Usage per fix: `reset()`, `add()` each reading,
 * `solve(bounds, out)`.
 *
 * @example
 * const solver = new RssiPositionSolver({ shadowingSigmaDb: 4 });
 * solver.reset().add(0, 0, -71, model).add(20, 0, -78, model).add(10, 15, -75, model);
 * const fix = solver.solve({ minX: 0, minY: 0, maxX: 40, maxY: 30 }, reusableFix);
 */
export class RssiPositionSolver {
  private readonly sx: Float64Array;
  private readonly sy: Float64Array;
  private readonly range: Float64Array;
  private readonly weight: Float64Array;
  private readonly rangeSigma: Float64Array;
  private n = 0;
  private readonly sigmaDb: number;
  private readonly maxIterations: number;
  private readonly tol2: number;
  private readonly minAccuracy: number;
  private readonly maxRange: number;
  /** Iterations used by the last solve (for tests and benchmarks). */
  lastIterations = 0;
  // evaluate()'s point, and the cost, gradient and Newton matrix it leaves.
  private atX = 0;
  private atY = 0;
  private f = 0;
  private g1 = 0;
  private g2 = 0;
  private h11 = 0;
  private h12 = 0;
  private h22 = 0;

  constructor(options: RssiSolverOptions = {}) {
    const cap = options.capacity ?? 32;
    this.sx = new Float64Array(cap);
    this.sy = new Float64Array(cap);
    this.range = new Float64Array(cap);
    this.weight = new Float64Array(cap);
    this.rangeSigma = new Float64Array(cap);
    this.sigmaDb = options.shadowingSigmaDb ?? 4;
    this.maxIterations = options.maxIterations ?? 12;
    const tol = options.toleranceMeters ?? 0.05;
    this.tol2 = tol * tol;
    this.minAccuracy = options.minAccuracyMeters ?? 1;
    this.maxRange = options.maxRangeMeters ?? 100;
  }

  /** Readings added since the last reset. */
  get count(): number {
    return this.n;
  }

  /** Forgets the readings of the previous fix. */
  reset(): this {
    this.n = 0;
    return this;
  }

  /**
   * Adds one reading: the sensor's floor position (metres), the RSSI it measured (dBm) and the
   * path-loss model calibrated for it. Non-finite readings are ignored, as are readings beyond
   * the capacity.
   */
  add(sensorXMeters: number, sensorYMeters: number, rssiDbm: number, model: PathLossModel): this {
    if (this.n >= this.sx.length || !Number.isFinite(rssiDbm)) return this;
    const d0 = model.refDistanceMeters ?? 1;
    // 10^(Δ/10n) as exp(Δ·ln10/10n): Math.exp is several times cheaper than Math.pow.
    let d = d0 * Math.exp(((model.txPowerDbm - rssiDbm) * Math.LN10) / (10 * model.exponent));
    if (d < 0.1) d = 0.1;
    else if (d > this.maxRange) d = this.maxRange;
    const sd = (d * this.sigmaDb * Math.LN10) / (10 * model.exponent);
    const i = this.n++;
    this.sx[i] = sensorXMeters;
    this.sy[i] = sensorYMeters;
    this.range[i] = d;
    this.rangeSigma[i] = sd;
    this.weight[i] = 1 / (sd * sd);
    return this;
  }

  /**
   * Solves the readings added since `reset()` into `out` (metres, floor-local), keeping the
   * position inside `bounds`. Three or more readings give a `wls` fix, one or two a
   * `centroid` fix. Throws `CAIRN_ERR_LOCATION_UNSOLVABLE` with no readings.
   */
  solve(bounds: Bounds, out: PositionFix = emptyFix()): PositionFix {
    const n = this.n;
    if (n === 0) throw new CairnError('CAIRN_ERR_LOCATION_UNSOLVABLE', 'No readings to locate the device from.');
    const sx = this.sx, sy = this.sy, range = this.range, weight = this.weight;
    const { minX, minY, maxX, maxY } = bounds;

    // Initial guess: sensors weighted by 1/d̂² (the nearest sensor dominates).
    let sw = 0, cx = 0, cy = 0;
    for (let i = 0; i < n; i++) {
      const d = range[i]!;
      const w = 1 / (d * d);
      sw += w;
      cx += w * sx[i]!;
      cy += w * sy[i]!;
    }
    cx /= sw;
    cy /= sw;
    cx = cx < minX ? minX : cx > maxX ? maxX : cx;
    cy = cy < minY ? minY : cy > maxY ? maxY : cy;
    out.sensorCount = n;

    if (n < 3) {
      // Under-determined: report the centroid; the device is about d̂ from each sensor.
      let acc2 = 0;
      for (let i = 0; i < n; i++) {
        const d = range[i]!, s = this.rangeSigma[i]!;
        const w = 1 / (d * d);
        acc2 += w * (d * d + s * s);
      }
      out.xMeters = cx;
      out.yMeters = cy;
      out.accuracyMeters = Math.max(Math.sqrt(acc2 / sw), 2 * this.minAccuracy);
      out.method = 'centroid';
      this.lastIterations = 0;
      return out;
    }

    // Damped Newton: the step solves H δ = −g, where H is the Gauss–Newton matrix plus the
    // positive part of the range curvature (see evaluate()); a step that does not lower the
    // cost is halved up to five times before the solver calls the point converged.
    let px = cx, py = cy;
    this.atX = px;
    this.atY = py;
    this.evaluate();
    let cost = this.f;
    let a11 = this.h11, a12 = this.h12, a22 = this.h22, b1 = this.g1, b2 = this.g2;
    let it = 0;
    while (it < this.maxIterations) {
      it++;
      const m11 = a11 + 1e-9, m22 = a22 + 1e-9;
      const det = m11 * m22 - a12 * a12;
      if (!(det > 0)) break;
      const stepX = -(m22 * b1 - a12 * b2) / det;
      const stepY = -(m11 * b2 - a12 * b1) / det;
      let t = 1;
      let accepted = false;
      let nx = px, ny = py;
      for (let halvings = 0; halvings < 6; halvings++, t *= 0.5) {
        nx = px + t * stepX;
        ny = py + t * stepY;
        nx = nx < minX ? minX : nx > maxX ? maxX : nx;
        ny = ny < minY ? minY : ny > maxY ? maxY : ny;
        this.atX = nx;
        this.atY = ny;
        this.evaluate();
        if (this.f < cost) {
          accepted = true;
          cost = this.f;
          break;
        }
      }
      if (!accepted) break;
      const mx = nx - px, my = ny - py;
      px = nx;
      py = ny;
      a11 = this.h11; a12 = this.h12; a22 = this.h22; b1 = this.g1; b2 = this.g2;
      if (mx * mx + my * my < this.tol2) break;
    }
    const finalCost = cost;
    this.lastIterations = it;
    // Fisher information JᵀWJ at the solution (the plain Gauss–Newton matrix).
    let A11 = 0, A12 = 0, A22 = 0;
    for (let i = 0; i < n; i++) {
      const dx = px - sx[i]!, dy = py - sy[i]!;
      const rho2 = dx * dx + dy * dy;
      if (rho2 < 1e-12) continue;
      const w = weight[i]! / rho2;
      A11 += w * dx * dx;
      A12 += w * dx * dy;
      A22 += w * dy * dy;
    }

    // Covariance (JᵀWJ)⁻¹ scaled by the variance factor χ²/(n−2) when that exceeds 1.
    const dof = n - 2;
    const factor = dof > 0 ? Math.max(1, finalCost / dof) : 1;
    const det = A11 * A22 - A12 * A12;
    const spanX = maxX - minX, spanY = maxY - minY;
    const diag = Math.sqrt(spanX * spanX + spanY * spanY); // not Math.hypot: it allocates
    let acc = det > 1e-18 ? Math.sqrt(((A11 + A22) / det) * factor) : diag;
    if (!(acc < diag)) acc = diag;
    out.xMeters = px;
    out.yMeters = py;
    out.accuracyMeters = acc < this.minAccuracy ? this.minAccuracy : acc;
    out.method = 'wls';
    return out;
  }

  /**
   * Evaluates the cost Σ w·r² at (atX, atY) into `f`, with the gradient (g1, g2) and the Newton
   * matrix (h11, h12, h22), so an accepted point needs no second pass. Point and results travel
   * in fields, not arguments and a return value: doubles crossing a call that is not inlined
   * are boxed, which would allocate on every iteration.
   */
  private evaluate(): void {
    const px = this.atX, py = this.atY;
    const sx = this.sx, sy = this.sy, range = this.range, weight = this.weight;
    let a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0, cost = 0;
    for (let i = 0; i < this.n; i++) {
      const dx = px - sx[i]!, dy = py - sy[i]!;
      let rho = Math.sqrt(dx * dx + dy * dy);
      let jx: number, jy: number;
      if (rho < 1e-6) {
        // On top of a sensor the gradient is undefined; any unit direction will do.
        rho = 1e-6;
        jx = 0.7071067811865476;
        jy = 0.7071067811865476;
      } else {
        const inv = 1 / rho;
        jx = dx * inv;
        jy = dy * inv;
      }
      const w = weight[i]!;
      const r = rho - range[i]!;
      // Gauss–Newton term j·jᵀ plus the curvature of ‖p − s‖ where the point is outside the
      // range circle (r > 0): (r/ρ)(I − j·jᵀ). Without it the iteration zig-zags around a
      // close sensor; keeping only r > 0 keeps the matrix positive semi-definite.
      const c = r > 0 ? r / rho : 0;
      const cc = 1 - c;
      a11 += w * (jx * jx * cc + c);
      a12 += w * jx * jy * cc;
      a22 += w * (jy * jy * cc + c);
      b1 += w * jx * r;
      b2 += w * jy * r;
      cost += w * r * r;
    }
    this.h11 = a11; this.h12 = a12; this.h22 = a22; this.g1 = b1; this.g2 = b2;
    this.f = cost;
  }
}
