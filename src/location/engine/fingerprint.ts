/**
 * Fingerprinting: locate a device by comparing the RSSI vector it reports (one value per AP or
 * beacon) with a radio map of vectors surveyed at known positions, using weighted k-nearest
 * neighbours.
 *
 * What makes kNN work on RSSI (Torres-Sospedra et al., "Comprehensive analysis of distance and
 * similarity measures for Wi-Fi fingerprinting indoor positioning systems", Expert Systems with
 * Applications 42(23), 2015):
 * - the representation: "positive" (rssi − min, 0 when not heard), "exponential" and "powed"
 *   ((rssi − min)^e / (−min)^e), which shrinks the differences between weak, unreliable
 *   readings and keeps those between strong ones;
 * - the distance: Sørensen (Σ|a−b| / Σ(a+b)) with the powed representation did best there;
 * - multi-building sites: decide building, then floor, then the position among the
 *   neighbours on that floor, so a query is never averaged across floors.
 *
 * Fingerprints are sparse (a phone hears a few dozen of hundreds of APs), and with every
 * representation "not heard" is 0, so all three distances follow from per-fingerprint sums and
 * a sparse pass over the heard entries: the radio map is stored as CSR arrays and a query costs
 * O(heard entries of the map), not O(map × APs).
 */
import { CairnError } from '../../kernel/errors.ts';

/** How RSSI values are mapped to non-negative features (0 = not heard). */
export type RssRepresentation = 'positive' | 'exponential' | 'powed';
/** Dissimilarity between two feature vectors. */
export type FingerprintDistance = 'euclidean' | 'manhattan' | 'sorensen';

/** One surveyed (or query) fingerprint. */
export interface Fingerprint {
  /** RSSI per transmitter in dBm, indexed by transmitter; NaN means not heard. */
  rssiDbm: ArrayLike<number>;
  /** Position in metres (any planar frame shared by the whole map). */
  xMeters: number;
  yMeters: number;
  /** Floor number, if the site has several. */
  floor?: number;
  /** Building number, if the site has several. */
  building?: number;
}

export interface RadioMapOptions {
  /** Default 'powed'. */
  representation?: RssRepresentation;
  /**
   * The RSSI (dBm) treated as "just not heard"; default 1 dB below the weakest reading in the
   * map. Weaker query readings count as not heard.
   */
  minRssiDbm?: number;
}

export interface KnnOptions {
  /** Neighbours averaged for the position; default 3. */
  k?: number;
  /** Default 'sorensen'. */
  distance?: FingerprintDistance;
  /** 'inverse' weights neighbours by 1/distance, 'uniform' equally; default 'inverse'. */
  weighting?: 'inverse' | 'uniform';
  /**
   * Building, then floor, then position (default when the map has building or floor labels);
   * false averages the k nearest wherever they are.
   */
  hierarchical?: boolean;
  /** Neighbours that vote for building and floor; default max(k, 5). */
  classK?: number;
}

/** A fingerprint fix: position, accuracy and, where known, building and floor. */
export interface FingerprintEstimate {
  xMeters: number;
  yMeters: number;
  /** Weighted RMS spread of the neighbours around the estimate (metres), at least 1. */
  accuracyMeters: number;
  /** -1 when the map has no floor labels. */
  floor: number;
  /** -1 when the map has no building labels. */
  building: number;
  /** Distance to the nearest reference (in the chosen metric). */
  nearestDistance: number;
}

const POWED_BETA = Math.E;
const EXPONENTIAL_ALPHA = 24;
const MAX_K = 64;

/**
 * A radio map ready for queries. Build once per survey; `locate` is then allocation-free when
 * given an `out` object. Not re-entrant (it owns scratch buffers).
 *
 * @example
 * const map = new RadioMap(surveyed, { representation: 'powed' });
 * const est = map.locate(scanRssi, { k: 5, distance: 'sorensen' });
 */
export class RadioMap {
  /** Reference fingerprints. */
  readonly size: number;
  /** Length of every RSSI vector (APs or beacons). */
  readonly transmitterCount: number;
  readonly representation: RssRepresentation;
  readonly minRssiDbm: number;
  private readonly start: Uint32Array;
  private readonly tx: Uint32Array;
  private readonly val: Float64Array;
  private readonly sum: Float64Array;
  private readonly sum2: Float64Array;
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  private readonly floors: Int32Array;
  private readonly buildings: Int32Array;
  private readonly hasLabels: boolean;
  // Scratch.
  private readonly q: Float64Array;
  private readonly qIdx: Uint32Array;
  private readonly dist: Float64Array;
  private readonly kIdx = new Int32Array(MAX_K);
  private readonly kDist = new Float64Array(MAX_K);
  private readonly votes = new Map<number, number>();

  constructor(samples: readonly Fingerprint[], options: RadioMapOptions = {}) {
    if (samples.length === 0) throw new CairnError('CAIRN_ERR_DATASET', 'A radio map needs at least one fingerprint.');
    const m = samples[0]!.rssiDbm.length;
    let weakest = Infinity;
    let nnz = 0;
    for (const s of samples) {
      if (s.rssiDbm.length !== m) {
        throw new CairnError('CAIRN_ERR_DATASET', `Every fingerprint needs ${m} RSSI values; one has ${s.rssiDbm.length}.`);
      }
      if (!Number.isFinite(s.xMeters) || !Number.isFinite(s.yMeters)) {
        throw new CairnError('CAIRN_ERR_DATASET', 'Every reference fingerprint needs a finite position.');
      }
      for (let j = 0; j < m; j++) {
        const v = s.rssiDbm[j]!;
        if (Number.isFinite(v)) {
          nnz++;
          if (v < weakest) weakest = v;
        }
      }
    }
    this.size = samples.length;
    this.transmitterCount = m;
    this.representation = options.representation ?? 'powed';
    this.minRssiDbm = options.minRssiDbm ?? (Number.isFinite(weakest) ? weakest - 1 : -100);
    this.start = new Uint32Array(this.size + 1);
    this.tx = new Uint32Array(nnz);
    this.val = new Float64Array(nnz);
    this.sum = new Float64Array(this.size);
    this.sum2 = new Float64Array(this.size);
    this.xs = new Float64Array(this.size);
    this.ys = new Float64Array(this.size);
    this.floors = new Int32Array(this.size);
    this.buildings = new Int32Array(this.size);
    let labels = false;
    let e = 0;
    samples.forEach((s, i) => {
      this.start[i] = e;
      let s1 = 0, s2 = 0;
      for (let j = 0; j < m; j++) {
        const f = this.feature(s.rssiDbm[j]!);
        if (f > 0) {
          this.tx[e] = j;
          this.val[e] = f;
          e++;
          s1 += f;
          s2 += f * f;
        }
      }
      this.sum[i] = s1;
      this.sum2[i] = s2;
      this.xs[i] = s.xMeters;
      this.ys[i] = s.yMeters;
      this.floors[i] = s.floor ?? -1;
      this.buildings[i] = s.building ?? -1;
      if (s.floor !== undefined || s.building !== undefined) labels = true;
    });
    this.start[this.size] = e;
    this.hasLabels = labels;
    this.q = new Float64Array(m);
    this.qIdx = new Uint32Array(m);
    this.dist = new Float64Array(this.size);
  }

  /** The non-negative feature of one RSSI value under the map's representation (0 = not heard). */
  feature(rssiDbm: number): number {
    if (!(rssiDbm > this.minRssiDbm)) return 0; // also NaN
    const p = rssiDbm - this.minRssiDbm;
    switch (this.representation) {
      case 'positive':
        return p;
      case 'exponential':
        return Math.exp(p / EXPONENTIAL_ALPHA) / Math.exp(-this.minRssiDbm / EXPONENTIAL_ALPHA);
      case 'powed':
        return Math.pow(p, POWED_BETA) / Math.pow(-this.minRssiDbm, POWED_BETA);
    }
  }

  /**
   * Locates one scan (RSSI per transmitter in dBm, NaN = not heard) against the map. A scan
   * that hears nothing the map knows throws `CAIRN_ERR_LOCATION_UNSOLVABLE`.
   */
  locate(rssiDbm: ArrayLike<number>, options: KnnOptions = {}, out?: FingerprintEstimate): FingerprintEstimate {
    if (rssiDbm.length !== this.transmitterCount) {
      throw new CairnError('CAIRN_ERR_DATASET', `A scan needs ${this.transmitterCount} RSSI values; got ${rssiDbm.length}.`);
    }
    const k = Math.min(MAX_K, Math.max(1, options.k ?? 3), this.size);
    const classK = Math.min(MAX_K, Math.max(k, options.classK ?? 5), this.size);
    const metric = options.distance ?? 'sorensen';
    const uniform = options.weighting === 'uniform';
    const hierarchical = options.hierarchical ?? this.hasLabels;
    const res = out ?? { xMeters: 0, yMeters: 0, accuracyMeters: 0, floor: -1, building: -1, nearestDistance: 0 };

    // Dense scratch copy of the query's features plus the list of touched indices.
    const q = this.q, qIdx = this.qIdx;
    let qn = 0, sq = 0, sq2 = 0;
    for (let j = 0; j < this.transmitterCount; j++) {
      const f = this.feature(rssiDbm[j]!);
      if (f > 0) {
        q[j] = f;
        qIdx[qn++] = j;
        sq += f;
        sq2 += f * f;
      }
    }
    if (qn === 0) throw new CairnError('CAIRN_ERR_LOCATION_UNSOLVABLE', 'The scan hears none of the transmitters in the radio map.');

    const dist = this.dist, start = this.start, tx = this.tx, val = this.val;
    for (let i = 0; i < this.size; i++) {
      let mn = 0, dot = 0;
      const end = start[i + 1]!;
      for (let e = start[i]!; e < end; e++) {
        const a = q[tx[e]!]!;
        if (a > 0) {
          const b = val[e]!;
          mn += a < b ? a : b;
          dot += a * b;
        }
      }
      const sr = this.sum[i]!;
      if (metric === 'sorensen') {
        const den = sq + sr;
        dist[i] = den > 0 ? (den - 2 * mn) / den : 1;
      } else if (metric === 'manhattan') {
        dist[i] = sq + sr - 2 * mn;
      } else {
        const d2 = sq2 + this.sum2[i]! - 2 * dot;
        dist[i] = d2 > 0 ? Math.sqrt(d2) : 0;
      }
    }
    for (let t = 0; t < qn; t++) q[qIdx[t]!] = 0;

    let building = -1, floor = -1;
    if (hierarchical) {
      let n = this.nearest(classK, -2, -2);
      building = this.vote(n, this.buildings, uniform);
      n = this.nearest(classK, building, -2);
      floor = this.vote(n, this.floors, uniform);
      n = this.nearest(k, building, floor);
      this.average(n, uniform, res);
    } else {
      const n = this.nearest(k, -2, -2);
      this.average(n, uniform, res);
      building = this.hasLabels ? this.vote(n, this.buildings, uniform) : -1;
      floor = this.hasLabels ? this.vote(n, this.floors, uniform) : -1;
    }
    res.building = building;
    res.floor = floor;
    return res;
  }

  /** Fills kIdx/kDist with the k nearest references on (building, floor); -2 = any. */
  private nearest(k: number, building: number, floor: number): number {
    const kIdx = this.kIdx, kDist = this.kDist, dist = this.dist;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (building !== -2 && this.buildings[i] !== building) continue;
      if (floor !== -2 && this.floors[i] !== floor) continue;
      const d = dist[i]!;
      if (n === k && d >= kDist[k - 1]!) continue;
      let p = n < k ? n++ : k - 1;
      while (p > 0 && kDist[p - 1]! > d) {
        kDist[p] = kDist[p - 1]!;
        kIdx[p] = kIdx[p - 1]!;
        p--;
      }
      kDist[p] = d;
      kIdx[p] = i;
    }
    return n;
  }

  private weightOf(p: number, uniform: boolean): number {
    return uniform ? 1 : 1 / (this.kDist[p]! + 1e-9);
  }

  /** Weighted majority label among the first n neighbours (ties: the nearer neighbour's label). */
  private vote(n: number, labels: Int32Array, uniform: boolean): number {
    if (n === 0) return -1;
    const votes = this.votes;
    votes.clear();
    let best = labels[this.kIdx[0]!]!;
    let bestW = -1;
    for (let p = 0; p < n; p++) {
      const l = labels[this.kIdx[p]!]!;
      const w = (votes.get(l) ?? 0) + this.weightOf(p, uniform);
      votes.set(l, w);
      if (w > bestW) {
        bestW = w;
        best = l;
      }
    }
    return best;
  }

  private average(n: number, uniform: boolean, res: FingerprintEstimate): void {
    let sw = 0, x = 0, y = 0;
    for (let p = 0; p < n; p++) {
      const i = this.kIdx[p]!;
      const w = this.weightOf(p, uniform);
      sw += w;
      x += w * this.xs[i]!;
      y += w * this.ys[i]!;
    }
    x /= sw;
    y /= sw;
    let spread = 0;
    for (let p = 0; p < n; p++) {
      const i = this.kIdx[p]!;
      const dx = this.xs[i]! - x, dy = this.ys[i]! - y;
      spread += this.weightOf(p, uniform) * (dx * dx + dy * dy);
    }
    res.xMeters = x;
    res.yMeters = y;
    res.accuracyMeters = Math.max(1, Math.sqrt(spread / sw));
    res.nearestDistance = n > 0 ? this.kDist[0]! : Infinity;
  }
}
