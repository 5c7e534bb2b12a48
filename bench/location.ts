/**
 * Location engine benchmark: fixes per second for the RSSI solver alone and for the whole
 * per-observation pipeline (solve → smooth → zone), zone lookups per second, fingerprint
 * queries per second, the synthetic floor's median error, and fingerprinting errors on the
 * public datasets beside the literature's baseline. Prints JSON when run directly:
 *
 *   node --import tsx bench/location.ts [--full]
 *
 * Timings take the best of several rounds on one core. `full` runs longer timings and the
 * dataset evaluation over five seeds instead of one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DeviceSmoother,
  type PositionFix,
  RadioMap,
  RssiPositionSolver,
  UJI_MERCATOR_TO_GROUND,
  type ZoneShape,
  ZoneIndex,
  crossValidateFingerprinting,
  emptyFix,
  holdOutSplit,
  parseIBeaconLabeled,
  parseUjiIndoorLoc,
  polygonFromPoints,
  seededRandom,
  simulateFloor,
  type FingerprintReport,
  type Fingerprint,
  type KnnOptions,
  type RadioMapOptions,
} from '../src/location/engine/index.ts';

const DATA = fileURLToPath(new URL('../../shared/data/positioning/', import.meta.url));

/** Literature figures for UJIIndoorLoc, training set as radio map, validation set as queries. */
const PUBLISHED = {
  /** Torres-Sospedra et al., IPIN 2014 (the dataset paper): 1-NN, Euclidean, mean error ≈ 7.9 m. */
  uji_published_1nn_mean_m: 7.9,
  /**
   * Torres-Sospedra et al., Expert Systems with Applications 42(23), 2015: 13-NN with Sørensen
   * distance and the powed representation improves the mean error by 1.7 m over 1-NN
   * Euclidean on raw data (and halves the building/floor errors).
   */
  uji_published_sorensen_powed_gain_m: 1.7,
};

/** Best-of-rounds operations per second of `fn`, which performs `ops` operations per call. */
function rate(fn: () => void, ops: number, rounds: number): number {
  fn(); // warm-up (JIT)
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return ops / best;
}

/** The simulated floor flattened into typed arrays, so the timing measures the engine. */
function flattenFloor(seed: number, durationSeconds: number) {
  const floor = simulateFloor({ seed, devices: 40, durationSeconds, shadowingSigmaDb: 4 });
  const sets = floor.readings.filter((r) => r.rssiDbm.length >= 3);
  const start = new Uint32Array(sets.length + 1);
  let total = 0;
  sets.forEach((s, i) => {
    start[i] = total;
    total += s.rssiDbm.length;
  });
  start[sets.length] = total;
  const sx = new Float64Array(total), sy = new Float64Array(total), rssi = new Float64Array(total);
  sets.forEach((s, i) => {
    for (let j = 0; j < s.rssiDbm.length; j++) {
      const p = floor.sensors[s.sensorIndex[j]!]!;
      sx[start[i]! + j] = p.x;
      sy[start[i]! + j] = p.y;
      rssi[start[i]! + j] = s.rssiDbm[j]!;
    }
  });
  const keys = sets.map((s) => s.deviceKey);
  const atMs = Float64Array.from(sets, (s) => s.atMs);
  const truth = sets.map((s) => [s.truthX, s.truthY] as const);
  return { floor, count: sets.length, start, sx, sy, rssi, keys, atMs, truth, readings: total };
}

/** A 40 × 30 m plan of 42 zones: 2 wings, a corridor, 14 rooms, 24 desks, an L-shaped lounge. */
function floorZones(): ZoneShape[] {
  const rect = (id: string, x0: number, y0: number, x1: number, y1: number): ZoneShape => ({
    id,
    polygon: polygonFromPoints([{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }]),
  });
  const zones = [rect('wing-w', 0, 0, 20, 30), rect('wing-e', 20, 0, 40, 30), rect('corridor', 0, 13, 40, 17)];
  for (let i = 0; i < 8; i++) zones.push(rect(`room-s${i}`, i * 5, 0, i * 5 + 5, 13));
  for (let i = 0; i < 6; i++) zones.push(rect(`room-n${i}`, i * 5, 17, i * 5 + 5, 30));
  for (let i = 0; i < 24; i++) zones.push(rect(`desk-${i}`, (i % 8) * 5 + 1, Math.floor(i / 8) * 4 + 1, (i % 8) * 5 + 4, Math.floor(i / 8) * 4 + 3.5));
  zones.push({
    id: 'lounge',
    polygon: polygonFromPoints([{ x: 30, y: 17 }, { x: 40, y: 17 }, { x: 40, y: 30 }, { x: 35, y: 30 }, { x: 35, y: 22 }, { x: 30, y: 22 }]),
  });
  return zones;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** Mean of the reports' figures over several seeds. */
function meanReport(samples: readonly Fingerprint[], seeds: number[], map: RadioMapOptions, knn: KnnOptions): FingerprintReport {
  const reports = seeds.map((seed) => crossValidateFingerprinting(samples, { seed, map, knn }));
  const avg = (f: (r: FingerprintReport) => number | null): number => reports.reduce((s, r) => s + (f(r) ?? NaN), 0) / reports.length;
  return {
    count: reports[0]!.count,
    meanError: avg((r) => r.meanError),
    medianError: avg((r) => r.medianError),
    p75Error: avg((r) => r.p75Error),
    p90Error: avg((r) => r.p90Error),
    buildingHitRate: reports[0]!.buildingHitRate === null ? null : avg((r) => r.buildingHitRate),
    floorHitRate: reports[0]!.floorHitRate === null ? null : avg((r) => r.floorHitRate),
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/**
 * Runs the location benchmarks and returns flat numeric results (rates per second, errors in
 * metres or, for the iBeacon grid, cells).
 *
 * @example const r = await benchLocation({ full: false }); r.wls_fixes_per_s
 */
export async function benchLocation(opts: { full: boolean }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rounds = opts.full ? 9 : 4;
  const sim = flattenFloor(31, opts.full ? 600 : 150);
  const { floor, count, start, sx, sy, rssi, keys, atMs, truth } = sim;
  const model = floor.model;
  const bounds = floor.bounds;
  const solver = new RssiPositionSolver({ shadowingSigmaDb: 4 });
  const fix: PositionFix = emptyFix();
  const smoothed: PositionFix = emptyFix();

  // 1. Solver alone.
  let iterations = 0;
  const solveAll = (): void => {
    iterations = 0;
    for (let i = 0; i < count; i++) {
      solver.reset();
      for (let j = start[i]!; j < start[i + 1]!; j++) solver.add(sx[j]!, sy[j]!, rssi[j]!, model);
      solver.solve(bounds, fix);
      iterations += solver.lastIterations;
    }
  };
  const wlsRate = rate(solveAll, count, rounds);
  out.wls_fixes_per_s = Math.round(wlsRate);
  out.wls_ns_per_fix = Math.round(1e9 / wlsRate);
  out.wls_readings_per_fix = r2(sim.readings / count);
  out.wls_iterations_per_fix = r2(iterations / count);

  // 2. Whole per-observation pipeline: solve, smooth per device, assign the zone.
  const zones = new ZoneIndex(floorZones());
  let zoneHits = 0;
  const pipeline = (): void => {
    const smoother = new DeviceSmoother();
    zoneHits = 0;
    for (let i = 0; i < count; i++) {
      solver.reset();
      for (let j = start[i]!; j < start[i + 1]!; j++) solver.add(sx[j]!, sy[j]!, rssi[j]!, model);
      solver.solve(bounds, fix);
      smoother.update(keys[i]!, atMs[i]!, fix, smoothed);
      if (zones.zoneIndexAt(smoothed.xMeters, smoothed.yMeters) >= 0) zoneHits++;
    }
  };
  const pipeRate = rate(pipeline, count, rounds);
  out.pipeline_observations_per_s = Math.round(pipeRate);
  out.pipeline_ns_per_observation = Math.round(1e9 / pipeRate);
  out.pipeline_zone_hit_share = r4(zoneHits / count);

  // 3. Synthetic accuracy (σ = 4 dB, ≥ 3 sensors), raw and smoothed.
  {
    const smoother = new DeviceSmoother();
    const raw: number[] = [], smooth: number[] = [];
    for (let i = 0; i < count; i++) {
      solver.reset();
      for (let j = start[i]!; j < start[i + 1]!; j++) solver.add(sx[j]!, sy[j]!, rssi[j]!, model);
      solver.solve(bounds, fix);
      smoother.update(keys[i]!, atMs[i]!, fix, smoothed);
      const [tx, ty] = truth[i]!;
      raw.push(Math.hypot(fix.xMeters - tx, fix.yMeters - ty));
      smooth.push(Math.hypot(smoothed.xMeters - tx, smoothed.yMeters - ty));
    }
    out.synthetic_sigma_db = 4;
    out.synthetic_wls_median_error_m = r2(median(raw));
    out.synthetic_smoothed_median_error_m = r2(median(smooth));
  }

  // 4. Zone lookups on random points around the floor (42 zones, nested in the wings).
  {
    const n = 1 << 16;
    const px = new Float64Array(n), py = new Float64Array(n);
    const rand = seededRandom(5);
    for (let i = 0; i < n; i++) {
      px[i] = rand() * 42 - 1;
      py[i] = rand() * 32 - 1;
    }
    let hits = 0;
    const lookups = (): void => {
      hits = 0;
      for (let rep = 0; rep < 8; rep++) for (let i = 0; i < n; i++) if (zones.zoneIndexAt(px[i]!, py[i]!) >= 0) hits++;
    };
    out.zone_lookups_per_s = Math.round(rate(lookups, 8 * n, rounds));
    out.zone_count = zones.size;
    out.zone_hit_share = r4(hits / (8 * n));
  }

  // 5. Datasets: the engine's default and the literature's 1-NN baseline on the same folds.
  const seeds = opts.full ? [1, 2, 3, 4, 5] : [1];
  const ours = { map: { representation: 'powed' } as RadioMapOptions, knn: { k: 3, distance: 'sorensen' } as KnnOptions };
  const baseline = {
    map: { representation: 'positive' } as RadioMapOptions,
    knn: { k: 1, distance: 'euclidean', hierarchical: false } as KnnOptions,
  };
  const compare = (samples: readonly Fingerprint[]) => ({
    a: meanReport(samples, seeds, ours.map, ours.knn),
    b: meanReport(samples, seeds, baseline.map, baseline.knn),
  });
  const ujiPath = `${DATA}UJIIndoorLoc_validationData.csv`;
  if (existsSync(ujiPath)) {
    const { samples } = parseUjiIndoorLoc(readFileSync(ujiPath, 'utf8'));
    const { a, b } = compare(samples);
    out.uji_mean_m = r2(a.meanError);
    out.uji_median_m = r2(a.medianError);
    out.uji_p75_m = r2(a.p75Error);
    out.uji_building_hit = r4(a.buildingHitRate!);
    out.uji_floor_hit = r4(a.floorHitRate!);
    out.uji_ground_mean_m = r2(a.meanError * UJI_MERCATOR_TO_GROUND);
    out.uji_ground_median_m = r2(a.medianError * UJI_MERCATOR_TO_GROUND);
    out.uji_1nn_mean_m = r2(b.meanError);
    out.uji_1nn_median_m = r2(b.medianError);
    out.uji_1nn_building_hit = r4(b.buildingHitRate!);
    out.uji_1nn_floor_hit = r4(b.floorHitRate!);
    out.uji_gain_over_1nn_m = r2(b.meanError - a.meanError);
    Object.assign(out, PUBLISHED);
    // Query speed against a 70 % radio map (≈ 780 references, 520 APs).
    const { map, test } = holdOutSplit(samples, 0.3, 1);
    const radio = new RadioMap(map, ours.map);
    const est = { xMeters: 0, yMeters: 0, accuracyMeters: 0, floor: -1, building: -1, nearestDistance: 0 };
    out.fingerprint_locates_per_s = Math.round(
      rate(() => {
        for (const q of test) radio.locate(q.rssiDbm, ours.knn, est);
      }, test.length, rounds),
    );
  }
  const beaconPath = `${DATA}iBeacon_RSSI_Labeled.csv`;
  if (existsSync(beaconPath)) {
    const { a, b } = compare(parseIBeaconLabeled(readFileSync(beaconPath, 'utf8')).samples);
    out.ibeacon_mean_cells = r2(a.meanError);
    out.ibeacon_median_cells = r2(a.medianError);
    out.ibeacon_1nn_mean_cells = r2(b.meanError);
    out.ibeacon_1nn_median_cells = r2(b.medianError);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const full = process.argv.includes('--full');
  console.log(JSON.stringify(await benchLocation({ full }), null, 2));
}
