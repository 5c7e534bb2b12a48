/** The contact rule, interval unions and the ranking of contacts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSOCIATION, type MinutePoint } from './minutes.ts';
import { contactDistance, measure, mergeEvidence, unionOf, type ContactEvidence, type ContactRule } from './query.ts';

const rule: ContactRule = { radiusMeters: 2, accuracyWidening: 0.5, maxWideningMeters: 1, coPresence: true, encounters: true, encounterMinRssiDbm: null };
const at = (x: number, y: number, acc = 0.1, flags = 0): MinutePoint => ({ minute: 0, floor: 1, zone: 0, xMeters: x, yMeters: y, accuracyMeters: acc, flags });

test('within the radius, widened by the accuracies up to the cap', () => {
  assert.equal(contactDistance(at(0, 0), 2, 0, 0.1, 0, rule), 2);
  assert.equal(contactDistance(at(0, 0), 2.2, 0, 0.1, 0, rule), undefined, 'widening 0.07 m is not enough');
  assert.equal(contactDistance(at(0, 0, 1), 2.6, 0, 1, 0, rule), 2.6, 'widening 0.71 m');
  assert.equal(contactDistance(at(0, 0, 10), 3.1, 0, 10, 0, rule), undefined, 'the cap is 1 m');
});

test('AP-only points meet only at the same AP, and only with co-presence on', () => {
  assert.ok(Number.isNaN(contactDistance(at(40, 20, 12, ASSOCIATION), 40, 20, 12, ASSOCIATION, rule)!));
  assert.equal(contactDistance(at(40, 20, 12, ASSOCIATION), 40, 21, 12, ASSOCIATION, rule), undefined);
  assert.equal(contactDistance(at(40, 20, 12, ASSOCIATION), 40, 20, 0.5, 0, rule), undefined, 'a position next to an AP is not co-presence');
  assert.equal(contactDistance(at(40, 20, 12, ASSOCIATION), 40, 20, 12, ASSOCIATION, { ...rule, coPresence: false }), undefined);
});

test('overlapping evidence counts once, clipped to the window', () => {
  assert.deepEqual(unionOf([[0, 10], [5, 20], [30, 40], [40, 45]], 0, 100), { totalMs: 35, firstMs: 0, lastMs: 45 });
  assert.deepEqual(unionOf([[0, 10], [90, 200]], 5, 100), { totalMs: 15, firstMs: 5, lastMs: 100 });
});

test('contacts reach the cumulative threshold from minutes and encounters together, longest first', () => {
  const ev = (minutes: number[], intervals: [number, number][] = []): ContactEvidence => ({ minutes: new Map(minutes.map((m) => [m, { distanceMeters: 1 + m / 100, zone: 3 }])), intervals, kinds: new Set(['proximity']) });
  const all = new Map([
    ['a', ev([0, 1, 2, 3, 4])],
    ['b', ev([10, 11], [[0, 5 * 60_000]])],
    ['c', ev([20])],
  ]);
  const m = measure(all, 0, 3_600_000, 5 * 60_000);
  assert.deepEqual(m.map((x) => [x.device, x.totalMs]), [['b', 7 * 60_000], ['a', 5 * 60_000]]);
  assert.equal(m[1]!.closestMeters, 1);
  assert.deepEqual([...m[1]!.zoneMinutes], [[3, 5]]);
  const merged = mergeEvidence([all, new Map([['a', ev([5, 6])], ['me', ev([1])]])], new Set(['me']));
  assert.equal(merged.get('a')!.minutes.size, 7);
  assert.ok(!merged.has('me'));
});
