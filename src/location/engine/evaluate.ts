/**
 * Evaluating a fingerprinting configuration on labelled data: positioning error (mean,
 * median, 75th and 90th percentile) and building/floor hit rates, the figures the indoor
 * positioning literature reports, plus seeded hold-out and k-fold splits so the numbers are
 * reproducible.
 *
 * Errors are horizontal distances in the dataset's own coordinate units (metres for
 * UJIIndoorLoc's Web-Mercator metres, cells for the iBeacon grid); scale them afterwards if
 * the units need converting (errors scale linearly, so do all the statistics).
 */
import { type Fingerprint, type FingerprintEstimate, type KnnOptions, RadioMap, type RadioMapOptions } from './fingerprint.ts';
import { seededRandom, shuffledIndices } from '../../kernel/prng.ts';

/** Summary of one evaluation. */
export interface FingerprintReport {
  /** Queries evaluated. */
  count: number;
  meanError: number;
  medianError: number;
  p75Error: number;
  p90Error: number;
  /** Share of queries with the right building, or null when unlabelled. */
  buildingHitRate: number | null;
  /** Share with the right building and floor, or null when unlabelled. */
  floorHitRate: number | null;
}

/** Percentile (0–100) of a sorted array, by linear interpolation. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Builds a report from per-query errors and hit counts. */
function summarise(errors: Float64Array, buildingHits: number, floorHits: number, labelled: number): FingerprintReport {
  const sorted = Float64Array.from(errors).sort();
  let sum = 0;
  for (const e of sorted) sum += e;
  const n = sorted.length;
  return {
    count: n,
    meanError: n ? sum / n : NaN,
    medianError: percentile(sorted, 50),
    p75Error: percentile(sorted, 75),
    p90Error: percentile(sorted, 90),
    buildingHitRate: labelled ? buildingHits / labelled : null,
    floorHitRate: labelled ? floorHits / labelled : null,
  };
}

/** Per-query outcome, accumulated across folds. */
interface Tally {
  errors: number[];
  buildingHits: number;
  floorHits: number;
  labelled: number;
}

function locateAll(map: RadioMap, queries: readonly Fingerprint[], knn: KnnOptions, tally: Tally): void {
  const est: FingerprintEstimate = { xMeters: 0, yMeters: 0, accuracyMeters: 0, floor: -1, building: -1, nearestDistance: 0 };
  for (const q of queries) {
    let located = true;
    try {
      map.locate(q.rssiDbm, knn, est);
    } catch {
      located = false; // hears nothing the map knows: an infinite error, a building/floor miss
      est.building = est.floor = -2;
    }
    tally.errors.push(located ? Math.hypot(est.xMeters - q.xMeters, est.yMeters - q.yMeters) : Infinity);
    if (q.building !== undefined || q.floor !== undefined) {
      tally.labelled++;
      const b = (q.building ?? -1) === est.building;
      if (b) tally.buildingHits++;
      if (b && (q.floor ?? -1) === est.floor) tally.floorHits++;
    }
  }
}

/**
 * Locates every query against `map` and summarises the errors. A query that hears nothing the
 * map knows counts with an infinite error (it raises the mean, as it should).
 *
 * @example evaluateFingerprinting(new RadioMap(train), test, { k: 3 }).medianError
 */
export function evaluateFingerprinting(map: RadioMap, queries: readonly Fingerprint[], knn: KnnOptions = {}): FingerprintReport {
  const tally: Tally = { errors: [], buildingHits: 0, floorHits: 0, labelled: 0 };
  locateAll(map, queries, knn, tally);
  return summarise(Float64Array.from(tally.errors), tally.buildingHits, tally.floorHits, tally.labelled);
}

/**
 * A seeded hold-out split: `testShare` of the samples (shuffled) become queries, the rest the
 * radio map.
 *
 * @example const { map, test } = holdOutSplit(samples, 0.3, 42);
 */
export function holdOutSplit<T>(samples: readonly T[], testShare: number, seed: number): { map: T[]; test: T[] } {
  const order = shuffledIndices(samples.length, seededRandom(seed));
  const nTest = Math.round(samples.length * testShare);
  const test: T[] = [];
  const map: T[] = [];
  order.forEach((idx, pos) => (pos < nTest ? test : map).push(samples[idx]!));
  return { map, test };
}

export interface CrossValidationOptions {
  /** Folds; default 5. Each sample is a query exactly once, against a map of the others. */
  folds?: number;
  seed: number;
  map?: RadioMapOptions;
  knn?: KnnOptions;
  /** Evaluate only the first `maxFolds` folds (to bound test time); default all. */
  maxFolds?: number;
}

/**
 * Seeded k-fold cross-validation of a fingerprinting configuration; errors are pooled over the
 * folds. Use it when the data has no separate survey and test sets.
 *
 * @example crossValidateFingerprinting(samples, { seed: 1, knn: { k: 3, distance: 'sorensen' } })
 */
export function crossValidateFingerprinting(samples: readonly Fingerprint[], options: CrossValidationOptions): FingerprintReport {
  const folds = options.folds ?? 5;
  const order = shuffledIndices(samples.length, seededRandom(options.seed));
  const tally: Tally = { errors: [], buildingHits: 0, floorHits: 0, labelled: 0 };
  const maxFolds = Math.min(folds, options.maxFolds ?? folds);
  for (let f = 0; f < maxFolds; f++) {
    const map: Fingerprint[] = [];
    const test: Fingerprint[] = [];
    order.forEach((idx, pos) => (pos % folds === f ? test : map).push(samples[idx]!));
    locateAll(new RadioMap(map, options.map), test, options.knn ?? {}, tally);
  }
  return summarise(Float64Array.from(tally.errors), tally.buildingHits, tally.floorHits, tally.labelled);
}
