import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HourOfWeek, learnLimits, limitFor, percentileWithZeros } from './baseline.ts';

const H = 3_600_000;
const MONDAY = Date.UTC(2026, 0, 5); // a Monday

test('hour of week follows the site\'s time zone, Monday 00:00 first', () => {
  assert.equal(new HourOfWeek('UTC').at(MONDAY + 9 * H), 9);
  assert.equal(new HourOfWeek('Europe/Amsterdam').at(MONDAY + 8 * H), 9, 'CET is UTC+1 in January');
  assert.equal(new HourOfWeek('America/New_York').at(MONDAY + 2 * H), 6 * 24 + 21, 'still Sunday evening in New York');
  assert.equal(new HourOfWeek('Asia/Kolkata').at(MONDAY + 30 * 60_000), 6, 'half-hour offsets');
  assert.equal(new HourOfWeek('Not/AZone').at(MONDAY + H), 1, 'an unknown zone falls back to UTC');
});

test('percentiles count the empty minutes as zeros (nearest rank)', () => {
  assert.equal(percentileWithZeros([5, 1, 3], 10, 90), 3);
  assert.equal(percentileWithZeros([5, 1, 3], 10, 100), 5);
  assert.equal(percentileWithZeros([5, 1, 3], 10, 50), 0);
  assert.equal(percentileWithZeros([], 0, 95), 0);
});

test('learned limits per hour of week: the percentile of that hour, at least 1, nothing without history', () => {
  const how = new HourOfWeek('UTC');
  const samples = [];
  for (const week of [0, 1]) for (let m = 0; m < 60; m++) samples.push({ bucketMs: MONDAY + week * 7 * 24 * H + 9 * H + m * 60_000, value: m + 1 });
  const learned = learnLimits(samples, MONDAY, MONDAY + 14 * 24 * H, how, 90);
  assert.equal(learned.minutes, 14 * 24 * 60);
  assert.equal(learned.limits[9], 54);
  assert.equal(learned.limits[10], 1);
  assert.ok(learned.limits.every((l) => l !== null && l >= 1));
  const thin = learnLimits([], MONDAY, MONDAY + 20 * 60_000, how, 95);
  assert.ok(thin.limits.every((l) => l === null), 'under 30 minutes of history: no limit at all');
});

test('the limit in force: a fixed baseline, a learned hour, the zone\'s own limit, or none', () => {
  const learned = Array.from({ length: 168 }, (_, h) => (h === 9 ? 40 : null));
  assert.deepEqual(limitFor({ mode: 'fixed', fixedLimit: 20, learned: null }, 5, 9), { limit: 20, source: 'fixed' });
  assert.deepEqual(limitFor({ mode: 'learned', fixedLimit: null, learned }, 5, 9), { limit: 40, source: 'learned' });
  assert.equal(limitFor({ mode: 'learned', fixedLimit: null, learned }, 5, 10), null);
  assert.deepEqual(limitFor(undefined, 5, 9), { limit: 5, source: 'zone' });
  assert.equal(limitFor(undefined, null, 9), null);
  assert.equal(limitFor({ mode: 'off', fixedLimit: null, learned: null }, 5, 9), null, 'off silences the zone\'s own limit too');
});
