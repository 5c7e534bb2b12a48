/** Tests for RSSI multilateration, including the seeded 40 × 30 m floor simulation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { emptyFix } from './fix.ts';
import { type PathLossModel, fitPathLoss, rssiAtDistance } from './pathloss.ts';
import { seededNormal, seededRandom } from '../../kernel/prng.ts';
import { DeviceSmoother } from './smoothing.ts';
import { type SyntheticFloor, simulateFloor } from './synthetic.ts';
import { RssiPositionSolver } from './trilateration.ts';

const model: PathLossModel = { txPowerDbm: -59, exponent: 2.2 };
const bounds = { minX: 0, minY: 0, maxX: 40, maxY: 30 };
const sensors = [
  { x: 5, y: 5 }, { x: 20, y: 5 }, { x: 35, y: 5 },
  { x: 5, y: 25 }, { x: 20, y: 25 }, { x: 35, y: 25 },
];

function solveExact(solver: RssiPositionSolver, x: number, y: number, use = sensors) {
  solver.reset();
  for (const s of use) solver.add(s.x, s.y, rssiAtDistance(model, Math.hypot(x - s.x, y - s.y)), model);
  return solver.solve(bounds);
}

test('noise-free readings from three or more sensors give the true position', () => {
  const solver = new RssiPositionSolver();
  for (const [x, y] of [[12, 9], [30, 20], [3, 28], [20, 15], [38.5, 1]] as const) {
    for (const use of [sensors, sensors.slice(0, 3).concat(sensors[4]!), [sensors[0]!, sensors[2]!, sensors[4]!]]) {
      const fix = solveExact(solver, x, y, use);
      assert.equal(fix.method, 'wls');
      assert.ok(Math.hypot(fix.xMeters - x, fix.yMeters - y) < 0.1, `(${x}, ${y}) solved to (${fix.xMeters}, ${fix.yMeters})`);
    }
  }
});

test('a solution pulled off the floor is clamped to the floor bounds', () => {
  const solver = new RssiPositionSolver();
  // Readings as if the device were 6 m beyond the west wall.
  const fix = solveExact(solver, -6, 12);
  assert.ok(fix.xMeters >= 0 && fix.xMeters < 1.5, String(fix.xMeters));
  assert.ok(Math.abs(fix.yMeters - 12) < 2, String(fix.yMeters));
});

test('one or two readings degrade to a weighted centroid with a larger accuracy', () => {
  const solver = new RssiPositionSolver();
  const full = solveExact(solver, 12, 8);
  const two = solveExact(solver, 12, 8, sensors.slice(0, 2));
  assert.equal(two.method, 'centroid');
  assert.equal(two.sensorCount, 2);
  assert.ok(two.xMeters > 5 && two.xMeters < 20 && Math.abs(two.yMeters - 5) < 1e-9, `(${two.xMeters}, ${two.yMeters})`);
  assert.ok(two.accuracyMeters > full.accuracyMeters * 1.5, `${two.accuracyMeters} vs ${full.accuracyMeters}`);
  assert.ok(two.accuracyMeters >= Math.hypot(two.xMeters - 12, two.yMeters - 8), 'the accuracy covers the actual error');
  const one = solveExact(solver, 12, 8, sensors.slice(0, 1));
  assert.deepEqual([one.xMeters, one.yMeters], [5, 5]);
  assert.ok(one.accuracyMeters >= Math.hypot(7, 3) * 0.9, String(one.accuracyMeters));
});

test('no readings cannot be located', () => {
  assert.throws(
    () => new RssiPositionSolver().reset().solve(bounds),
    (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_LOCATION_UNSOLVABLE',
  );
});

test('the solver reuses the out object and ignores readings beyond its capacity', () => {
  const solver = new RssiPositionSolver({ capacity: 4 });
  const out = emptyFix();
  solver.reset();
  for (const s of sensors) solver.add(s.x, s.y, rssiAtDistance(model, Math.hypot(10 - s.x, 10 - s.y)), model);
  assert.equal(solver.count, 4);
  assert.equal(solver.solve(bounds, out), out);
  assert.equal(out.sensorCount, 4);
  assert.ok(Math.hypot(out.xMeters - 10, out.yMeters - 10) < 0.1);
});

/** Runs the floor through solver and smoother; errors for sets heard by ≥ 3 sensors. */
function runFloor(floor: SyntheticFloor, solveModel: PathLossModel, sigmaDb: number) {
  const solver = new RssiPositionSolver({ shadowingSigmaDb: sigmaDb });
  const smoother = new DeviceSmoother();
  const raw: number[] = [];
  const smoothed: number[] = [];
  let covered = 0;
  const fix = emptyFix(), out = emptyFix();
  for (const r of floor.readings) {
    if (r.rssiDbm.length === 0) continue;
    solver.reset();
    for (let i = 0; i < r.rssiDbm.length; i++) {
      const s = floor.sensors[r.sensorIndex[i]!]!;
      solver.add(s.x, s.y, r.rssiDbm[i]!, solveModel);
    }
    solver.solve(floor.bounds, fix);
    smoother.update(r.deviceKey, r.atMs, fix, out);
    if (r.rssiDbm.length < 3) continue;
    const e = Math.hypot(fix.xMeters - r.truthX, fix.yMeters - r.truthY);
    raw.push(e);
    if (e <= fix.accuracyMeters) covered++;
    smoothed.push(Math.hypot(out.xMeters - r.truthX, out.yMeters - r.truthY));
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  return { n: raw.length, rawMedian: median(raw), smoothedMedian: median(smoothed), coverage: covered / raw.length };
}

for (const sigmaDb of [3, 4]) {
  test(`on a 40 × 30 m floor at σ = ${sigmaDb} dB, WLS + smoothing has a median error ≤ 3 m`, () => {
    const floor = simulateFloor({ seed: 2024 + sigmaDb, devices: 20, durationSeconds: 120, shadowingSigmaDb: sigmaDb });
    const r = runFloor(floor, floor.model, sigmaDb);
    assert.ok(r.n > 2000, `only ${r.n} sets with ≥ 3 sensors`);
    assert.ok(r.smoothedMedian <= 3, `smoothed median ${r.smoothedMedian.toFixed(2)} m`);
    assert.ok(r.smoothedMedian < r.rawMedian, `smoothing did not help: ${r.smoothedMedian} vs ${r.rawMedian}`);
    assert.ok(r.rawMedian <= 3.2, `raw median ${r.rawMedian.toFixed(2)} m`);
    // The accuracy radius is a DRMS: roughly two fixes in three fall inside it.
    assert.ok(r.coverage > 0.5 && r.coverage < 0.85, `coverage ${r.coverage.toFixed(2)}`);
  });
}

test('the floor simulation is deterministic and a calibrated model keeps the error budget', () => {
  const a = simulateFloor({ seed: 7, devices: 10, durationSeconds: 60, shadowingSigmaDb: 3.5 });
  const b = simulateFloor({ seed: 7, devices: 10, durationSeconds: 60, shadowingSigmaDb: 3.5 });
  assert.deepEqual(a.readings.slice(0, 50), b.readings.slice(0, 50));
  // Calibrate from a 100-sample survey at σ = 3.5 dB instead of using the true model.
  const rand = seededRandom(8);
  const gauss = seededNormal(rand);
  const survey = Array.from({ length: 100 }, () => {
    const d = 1 + rand() * 20;
    return { distanceMeters: d, rssiDbm: Math.round(rssiAtDistance(a.model, d) + 3.5 * gauss()) };
  });
  const fitted = fitPathLoss(survey).model;
  const r = runFloor(a, fitted, 3.5);
  assert.ok(r.smoothedMedian <= 3, `smoothed median with calibrated model ${r.smoothedMedian.toFixed(2)} m`);
});
