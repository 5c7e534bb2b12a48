/** Tests for association-only and vendor pass-through fixes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { associationFix, emptyFix, vendorFix } from './fix.ts';

test('an association-only fix sits on the AP with its coverage radius as accuracy', () => {
  const fix = associationFix({ xMeters: 12, yMeters: 5, coverageRadiusMeters: 12 });
  assert.deepEqual(fix, { xMeters: 12, yMeters: 5, accuracyMeters: 12, method: 'association', sensorCount: 1 });
});

test('an AP without a usable coverage radius cannot locate a client', () => {
  assert.throws(
    () => associationFix({ xMeters: 1, yMeters: 1, coverageRadiusMeters: 0 }),
    (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_LOCATION_UNSOLVABLE',
  );
});

test('a vendor position passes through with the vendor accuracy, or the default when absent', () => {
  const out = emptyFix();
  assert.equal(vendorFix(23.5, 11.2, 4, 8, out), out);
  assert.deepEqual(out, { xMeters: 23.5, yMeters: 11.2, accuracyMeters: 4, method: 'vendor', sensorCount: 0 });
  assert.equal(vendorFix(1, 2, undefined, 8).accuracyMeters, 8);
  assert.equal(vendorFix(1, 2, 0, 8).accuracyMeters, 8);
});

test('a vendor position without finite coordinates is refused', () => {
  assert.throws(() => vendorFix(NaN, 2, 3, 8), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_LOCATION_UNSOLVABLE');
});
