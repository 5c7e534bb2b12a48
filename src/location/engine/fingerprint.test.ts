/** Tests for the kNN fingerprinting engine on small hand-made radio maps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { type Fingerprint, type FingerprintDistance, RadioMap, type RssRepresentation } from './fingerprint.ts';
import { seededRandom } from '../../kernel/prng.ts';

const N = NaN;
const fp = (rssiDbm: number[], x: number, y: number, floor?: number, building?: number): Fingerprint => ({
  rssiDbm,
  xMeters: x,
  yMeters: y,
  ...(floor === undefined ? {} : { floor }),
  ...(building === undefined ? {} : { building }),
});

test('a scan identical to a reference fingerprint is located at that reference', () => {
  const map = new RadioMap([fp([-40, -70, N, N], 0, 0), fp([N, -45, -60, N], 10, 0), fp([N, N, -50, -42], 10, 10)]);
  const est = map.locate([N, -45, -60, N], { k: 1 });
  assert.deepEqual([est.xMeters, est.yMeters], [10, 0]);
  assert.equal(est.nearestDistance, 0);
  assert.equal(est.floor, -1);
  assert.equal(est.building, -1);
});

test('representations map "not heard" and anything at or below the floor to 0 and grow with RSSI', () => {
  for (const representation of ['positive', 'exponential', 'powed'] as RssRepresentation[]) {
    const map = new RadioMap([fp([-30, -100], 0, 0)], { representation, minRssiDbm: -101 });
    assert.equal(map.feature(NaN), 0);
    assert.equal(map.feature(-101), 0);
    assert.equal(map.feature(-120), 0);
    assert.ok(map.feature(-90) > 0 && map.feature(-60) > map.feature(-90) && map.feature(-30) > map.feature(-60));
  }
  const powed = new RadioMap([fp([-30], 0, 0)], { representation: 'powed', minRssiDbm: -100 });
  assert.ok(Math.abs(powed.feature(0) - 1) < 1e-12, 'powed is 1 at 0 dBm');
  // Powed compresses weak readings: 10 dB near the floor weighs far less than 10 dB near the top.
  assert.ok(powed.feature(-20) - powed.feature(-30) > 10 * (powed.feature(-80) - powed.feature(-90)));
  assert.equal(new RadioMap([fp([-70, N], 0, 0)]).minRssiDbm, -71);
});

test('the sparse distances equal the dense textbook formulas', () => {
  const rand = seededRandom(12);
  const aps = 30;
  const vec = () => Array.from({ length: aps }, () => (rand() < 0.3 ? -95 + Math.round(rand() * 60) : NaN));
  const refs = Array.from({ length: 40 }, (_, i) => fp(vec(), i, 0));
  const query = vec();
  for (const representation of ['positive', 'powed'] as RssRepresentation[]) {
    const map = new RadioMap(refs, { representation, minRssiDbm: -100 });
    const qf = query.map((v) => map.feature(v));
    for (const distance of ['euclidean', 'manhattan', 'sorensen'] as FingerprintDistance[]) {
      const dense = refs.map((r) => {
        const rf = Array.from(r.rssiDbm, (v) => map.feature(v));
        let l1 = 0, l2 = 0, s = 0;
        for (let j = 0; j < aps; j++) {
          l1 += Math.abs(qf[j]! - rf[j]!);
          l2 += (qf[j]! - rf[j]!) ** 2;
          s += qf[j]! + rf[j]!;
        }
        return distance === 'euclidean' ? Math.sqrt(l2) : distance === 'manhattan' ? l1 : l1 / s;
      });
      const best = dense.indexOf(Math.min(...dense));
      const est = map.locate(query, { k: 1, distance, hierarchical: false });
      assert.ok(Math.abs(est.xMeters - best) < 1e-9, `${representation}/${distance}: nearest ${est.xMeters}, expected ${best}`);
      assert.ok(Math.abs(est.nearestDistance - dense[best]!) < 1e-9 * Math.max(1, dense[best]!), `${representation}/${distance}`);
    }
  }
});

test('weighted kNN averages the k nearest and weights the nearer more', () => {
  const map = new RadioMap([fp([-40, -80], 0, 0), fp([-60, -60], 10, 0), fp([-80, -40], 20, 0)], { representation: 'positive' });
  const est = map.locate([-45, -75], { k: 2, distance: 'euclidean' });
  assert.ok(est.xMeters > 0 && est.xMeters < 5, String(est.xMeters));
  const uniform = map.locate([-45, -75], { k: 2, distance: 'euclidean', weighting: 'uniform' });
  assert.equal(uniform.xMeters, 5);
  assert.ok(uniform.accuracyMeters >= 5 - 1e-9);
});

test('hierarchical search picks building and floor first and never averages across floors', () => {
  // Floor 1 hears AP 0 strongly, floor 2 (rooms further east) hears AP 1 strongly.
  const refs = [
    fp([-45, -85, N], 0, 0, 1, 0), fp([-48, -88, N], 2, 0, 1, 0), fp([-50, -84, N], 4, 0, 1, 0),
    fp([-80, -47, N], 100, 0, 2, 0), fp([-82, -44, N], 130, 0, 2, 0), fp([-85, -50, N], 160, 0, 2, 0),
    fp([N, N, -40], 500, 500, 1, 1),
  ];
  const map = new RadioMap(refs);
  const est = map.locate([-47, -83, N], { k: 5 });
  assert.equal(est.building, 0);
  assert.equal(est.floor, 1);
  assert.ok(est.xMeters <= 4, `averaged across floors: x = ${est.xMeters}`);
  // A flat search with k = 5 has to borrow neighbours from floor 2 and is pulled away.
  const flat = map.locate([-47, -83, N], { k: 5, hierarchical: false });
  assert.ok(flat.xMeters > 4, `flat x = ${flat.xMeters}`);
  const other = map.locate([N, N, -45], { k: 3 });
  assert.deepEqual([other.building, other.floor, other.xMeters], [1, 1, 500]);
});

test('a scan that hears nothing known cannot be located, and a wrong-length scan is a dataset error', () => {
  const map = new RadioMap([fp([-50, N], 0, 0)]);
  assert.throws(() => map.locate([N, -60]), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_LOCATION_UNSOLVABLE');
  assert.throws(() => map.locate([-50]), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_DATASET');
  assert.throws(() => new RadioMap([]), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_DATASET');
  assert.throws(
    () => new RadioMap([fp([-50, N], 0, 0), fp([-50], 1, 1)]),
    (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_DATASET',
  );
});
