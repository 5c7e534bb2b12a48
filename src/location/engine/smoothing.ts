/**
 * Per-device smoothing of raw fixes: a constant-velocity Kalman filter per device, with
 * walking-speed gating against outliers.
 *
 * Raw RSSI fixes jump by metres from one reading set to the next; people do not. Each device
 * gets a 2-D constant-velocity filter (position and velocity per axis, white-acceleration
 * process noise). Fixes are isotropic (one accuracy radius), so both axes share one 2×2
 * covariance and the state is 9 numbers in a shared Float64Array slab; a Map gives the slot.
 *
 * Gating: a fix farther from the last smoothed position than a walker can go
 * (maxSpeed · Δt plus `gateSigmas` times the combined uncertainty) is rejected; after
 * `maxConsecutiveRejects` in a row the filter restarts there (the device did move, or the
 * filter had drifted). Velocity is capped at the maximum speed. A device not seen for
 * `resetAfterMs` starts afresh.
 *
 * Device keys are pseudonymous ids (R-LOC-5). The state is precise location (R-DATA-3) held
 * in memory only; call {@link DeviceSmoother.evictIdle} regularly so it stays real time only.
 */
import type { PositionFix } from './fix.ts';
import { emptyFix } from './fix.ts';

export interface SmootherOptions {
  /** Fastest plausible speed in m/s; default 2.5 (brisk walking with margin). */
  maxSpeedMetersPerSecond?: number;
  /** White-acceleration spectral density q in m²/s³; default 0.1 (people walk smoothly). */
  accelerationNoise?: number;
  /** Gate width in standard deviations; default 3. */
  gateSigmas?: number;
  /** Rejected fixes in a row before the filter restarts at the new fix; default 3. */
  maxConsecutiveRejects?: number;
  /** Silence (ms) after which a device's filter restarts; default 30 000. */
  resetAfterMs?: number;
}

// Slab layout per device.
const T = 0, X = 1, Y = 2, VX = 3, VY = 4, P00 = 5, P01 = 6, P11 = 7, REJ = 8;
const STRIDE = 9;

/**
 * Smooths each device's fixes over time.
 *
 * @example
 * const smoother = new DeviceSmoother({ maxSpeedMetersPerSecond: 2 });
 * smoother.update('dev-7f3a', atMs, rawFix, smoothedFix);
 */
export class DeviceSmoother {
  private slab: Float64Array;
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  private used = 0;
  private readonly maxSpeed: number;
  private readonly q: number;
  private readonly gate: number;
  private readonly maxRejects: number;
  private readonly resetAfterMs: number;
  /** Fixes rejected by the gate since construction (for metrics). */
  rejected = 0;

  constructor(options: SmootherOptions = {}) {
    this.slab = new Float64Array(STRIDE * 64);
    this.maxSpeed = options.maxSpeedMetersPerSecond ?? 2.5;
    this.q = options.accelerationNoise ?? 0.1;
    this.gate = options.gateSigmas ?? 3;
    this.maxRejects = options.maxConsecutiveRejects ?? 3;
    this.resetAfterMs = options.resetAfterMs ?? 30_000;
  }

  /** Devices currently tracked. */
  get size(): number {
    return this.slots.size;
  }

  private allocate(key: string): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.used++;
      if (STRIDE * this.used > this.slab.length) {
        const grown = new Float64Array(this.slab.length * 2);
        grown.set(this.slab);
        this.slab = grown;
      }
    }
    this.slots.set(key, slot);
    return slot;
  }

  private start(o: number, atMs: number, fix: PositionFix): void {
    const s = this.slab;
    const r = (fix.accuracyMeters * fix.accuracyMeters) / 2; // per-axis variance of a DRMS radius
    s[o + T] = atMs;
    s[o + X] = fix.xMeters;
    s[o + Y] = fix.yMeters;
    s[o + VX] = 0;
    s[o + VY] = 0;
    s[o + P00] = r;
    s[o + P01] = 0;
    s[o + P11] = this.maxSpeed * this.maxSpeed / 4; // unknown velocity: about half the max speed
    s[o + REJ] = 0;
  }

  /**
   * Feeds one raw fix (metres, taken at `atMs` epoch ms) for a device and writes the smoothed
   * fix into `out`. The first fix of a device is passed through. A late fix (older than the
   * last one) updates without moving time backwards.
   */
  update(deviceKey: string, atMs: number, fix: PositionFix, out: PositionFix = emptyFix()): PositionFix {
    let slot = this.slots.get(deviceKey);
    out.method = fix.method;
    out.sensorCount = fix.sensorCount;
    if (slot === undefined) {
      slot = this.allocate(deviceKey);
      this.start(STRIDE * slot, atMs, fix);
      return this.emit(STRIDE * slot, out);
    }
    const o = STRIDE * slot;
    const sl = this.slab; // after any growth in allocate()
    let dt = (atMs - sl[o + T]!) / 1000;
    if (dt * 1000 > this.resetAfterMs) {
      this.start(o, atMs, fix);
      return this.emit(o, out);
    }
    if (dt < 0) dt = 0;
    const x0 = sl[o + X]!, y0 = sl[o + Y]!;
    let p00 = sl[o + P00]!, p01 = sl[o + P01]!, p11 = sl[o + P11]!;
    // Predict: x += v·dt; P = F P Fᵀ + Q (white acceleration).
    let x = x0 + sl[o + VX]! * dt;
    let y = y0 + sl[o + VY]! * dt;
    let vx = sl[o + VX]!, vy = sl[o + VY]!;
    const dt2 = dt * dt;
    const q = this.q;
    p00 = p00 + 2 * dt * p01 + dt2 * p11 + (q * dt2 * dt) / 3;
    p01 = p01 + dt * p11 + (q * dt2) / 2;
    p11 = p11 + q * dt;
    sl[o + T] = Math.max(sl[o + T]!, atMs);

    const r = (fix.accuracyMeters * fix.accuracyMeters) / 2;
    // Gate: how far could the device have got from its last smoothed position?
    const gx = fix.xMeters - x0, gy = fix.yMeters - y0;
    const reach = this.maxSpeed * dt + this.gate * Math.sqrt(2 * (sl[o + P00]! + r));
    if (gx * gx + gy * gy > reach * reach) {
      this.rejected++;
      const rej = sl[o + REJ]! + 1;
      if (rej >= this.maxRejects) {
        this.start(o, atMs, fix);
        return this.emit(o, out);
      }
      // Keep the prediction (its covariance has grown, widening the next gate).
      sl[o + X] = x; sl[o + Y] = y;
      sl[o + P00] = p00; sl[o + P01] = p01; sl[o + P11] = p11;
      sl[o + REJ] = rej;
      return this.emit(o, out);
    }
    // Update with the fix as a position measurement (same gain on both axes).
    const S = p00 + r;
    const k0 = p00 / S, k1 = p01 / S;
    const ex = fix.xMeters - x, ey = fix.yMeters - y;
    x += k0 * ex;
    y += k0 * ey;
    vx += k1 * ex;
    vy += k1 * ey;
    const v2 = vx * vx + vy * vy;
    if (v2 > this.maxSpeed * this.maxSpeed) {
      const f = this.maxSpeed / Math.sqrt(v2);
      vx *= f;
      vy *= f;
    }
    const n00 = (1 - k0) * p00;
    const n01 = (1 - k0) * p01;
    const n11 = p11 - k1 * p01;
    sl[o + X] = x; sl[o + Y] = y; sl[o + VX] = vx; sl[o + VY] = vy;
    sl[o + P00] = n00; sl[o + P01] = n01; sl[o + P11] = n11;
    sl[o + REJ] = 0;
    return this.emit(o, out);
  }

  private emit(o: number, out: PositionFix): PositionFix {
    const s = this.slab;
    out.xMeters = s[o + X]!;
    out.yMeters = s[o + Y]!;
    out.accuracyMeters = Math.sqrt(2 * s[o + P00]!);
    return out;
  }

  /** Drops a device's state (e.g. on a floor change or an erasure request). */
  forget(deviceKey: string): boolean {
    const slot = this.slots.get(deviceKey);
    if (slot === undefined) return false;
    this.slots.delete(deviceKey);
    this.free.push(slot);
    return true;
  }

  /**
   * Forgets every device last updated before `cutoffMs` (epoch ms); returns how many. Call it
   * on a timer so state stays bounded and real time only.
   *
   * @example smoother.evictIdle(clock.nowMs() - 60_000)
   */
  evictIdle(cutoffMs: number): number {
    let n = 0;
    // forEach, not for…of: no [key, slot] array per device (10 000 devices, every sweep).
    this.slots.forEach((slot, key) => {
      if (this.slab[STRIDE * slot + T]! < cutoffMs) {
        this.slots.delete(key);
        this.free.push(slot);
        n++;
      }
    });
    return n;
  }
}
