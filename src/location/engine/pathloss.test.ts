/** Tests for the log-distance path-loss model and its per-site calibration. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { distanceFromRssi, fitPathLoss, rangeRelativeSigma, rssiAtDistance } from './pathloss.ts';
import { seededNormal, seededRandom } from '../../kernel/prng.ts';

const isDatasetError = (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_DATASET';

test('RSSI falls by 10·n dB per decade of distance and the inverse gives the distance back', () => {
  const m = { txPowerDbm: -59, exponent: 2 };
  assert.equal(rssiAtDistance(m, 1), -59);
  assert.equal(rssiAtDistance(m, 10), -79);
  for (const d of [0.5, 1, 3.7, 12, 40]) assert.ok(Math.abs(distanceFromRssi(m, rssiAtDistance(m, d)) - d) < 1e-9);
  assert.ok(Math.abs(distanceFromRssi({ ...m, refDistanceMeters: 2 }, -59) - 2) < 1e-12);
});

test('range uncertainty grows with shadowing and shrinks with the exponent', () => {
  assert.ok(Math.abs(rangeRelativeSigma(4, 2.2) - (4 * Math.LN10) / 22) < 1e-12);
  assert.ok(rangeRelativeSigma(6, 2) > rangeRelativeSigma(3, 2));
  assert.ok(rangeRelativeSigma(4, 3) < rangeRelativeSigma(4, 2));
});

test('calibration recovers txPower and n from noisy survey samples', () => {
  const truth = { txPowerDbm: -62, exponent: 2.7 };
  const rand = seededRandom(3);
  const gauss = seededNormal(rand);
  const samples = Array.from({ length: 400 }, () => {
    const d = 0.5 + rand() * 25;
    return { distanceMeters: d, rssiDbm: rssiAtDistance(truth, d) + 3.5 * gauss() };
  });
  const fit = fitPathLoss(samples);
  assert.ok(Math.abs(fit.model.exponent - 2.7) < 0.15, `n = ${fit.model.exponent}`);
  assert.ok(Math.abs(fit.model.txPowerDbm + 62) < 1.5, `txPower = ${fit.model.txPowerDbm}`);
  assert.ok(Math.abs(fit.residualSigmaDb - 3.5) < 0.4, `sigma = ${fit.residualSigmaDb}`);
  assert.equal(fit.count, 400);
});

test('calibration fits exactly on noise-free samples and honours a fixed exponent', () => {
  const fit = fitPathLoss([{ distanceMeters: 1, rssiDbm: -60 }, { distanceMeters: 10, rssiDbm: -82 }]);
  assert.ok(Math.abs(fit.model.exponent - 2.2) < 1e-9);
  assert.ok(Math.abs(fit.model.txPowerDbm + 60) < 1e-9);
  const fixed = fitPathLoss([{ distanceMeters: 5, rssiDbm: -75 }], { fixedExponent: 2 });
  assert.ok(Math.abs(fixed.model.txPowerDbm - (-75 + 20 * Math.log10(5))) < 1e-9);
});

test('an unphysical fitted exponent is clamped into range', () => {
  // RSSI rising with distance would give n < 0.
  const fit = fitPathLoss([{ distanceMeters: 1, rssiDbm: -80 }, { distanceMeters: 10, rssiDbm: -70 }]);
  assert.equal(fit.model.exponent, 1.2);
});

test('calibration rejects too few samples, a single distance and non-positive distances', () => {
  assert.throws(() => fitPathLoss([{ distanceMeters: 2, rssiDbm: -70 }]), isDatasetError);
  assert.throws(() => fitPathLoss([{ distanceMeters: 2, rssiDbm: -70 }, { distanceMeters: 2, rssiDbm: -72 }]), isDatasetError);
  assert.throws(() => fitPathLoss([{ distanceMeters: 0, rssiDbm: -70 }, { distanceMeters: 2, rssiDbm: -72 }]), isDatasetError);
});
