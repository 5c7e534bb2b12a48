import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addBusinessDays, addCalendarMonths, deadlines, extendedDue, lookBackStart } from './deadlines.ts';

const D = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h);

test('a GDPR month ends on the same day of the next month, or on its last day', () => {
  assert.equal(addCalendarMonths(D(2025, 3, 14, 9), 1), D(2025, 4, 14, 9));
  assert.equal(addCalendarMonths(D(2025, 1, 31), 1), D(2025, 2, 28));
  assert.equal(addCalendarMonths(D(2024, 1, 31), 1), D(2024, 2, 29));
  assert.equal(addCalendarMonths(D(2025, 12, 15), 1), D(2026, 1, 15));
  assert.equal(addCalendarMonths(D(2025, 3, 31), -1), D(2025, 2, 28));
});

test('GDPR: one month, extendable to three; no receipt deadline', () => {
  const d = deadlines('gdpr', D(2025, 1, 31, 12));
  assert.equal(d.dueMs, D(2025, 2, 28, 12));
  assert.equal(d.receiptDueMs, null);
  assert.equal(extendedDue('gdpr', D(2025, 1, 31, 12)), D(2025, 4, 30, 12));
});

test('CCPA: 45 days, extendable to 90; receipt within 10 business days', () => {
  const received = D(2025, 1, 3, 10); // a Friday
  const d = deadlines('ccpa', received);
  assert.equal(d.dueMs, D(2025, 2, 17, 10));
  assert.equal(d.receiptDueMs, D(2025, 1, 17, 10));
  assert.equal(extendedDue('ccpa', received), D(2025, 4, 3, 10));
});

test('business days skip weekends, also when counting starts on one', () => {
  assert.equal(addBusinessDays(D(2025, 1, 4), 1), D(2025, 1, 6)); // Saturday → Monday
  assert.equal(addBusinessDays(D(2025, 1, 6), 5), D(2025, 1, 13));
});

test('CCPA access looks back 12 months; GDPR covers everything held', () => {
  assert.equal(lookBackStart('ccpa', D(2025, 6, 1)), D(2024, 6, 1));
  assert.equal(lookBackStart('gdpr', D(2025, 6, 1)), 0);
});
