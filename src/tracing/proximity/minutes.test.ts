/** Minute tracks: combining fixes per minute, smoothing over a stay, bridging gaps, AP-only data. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ASSOCIATION, BRIDGED, DEFAULT_TRACK_PARAMS, MinuteAccumulator, smoothTrack, type MinutePoint, type TraceFix } from './minutes.ts';

const fix = (atMs: number, x: number, y: number, acc = 1, extra: Partial<TraceFix> = {}): TraceFix => ({ atMs, floor: 1, zone: 0, xMeters: x, yMeters: y, accuracyMeters: acc, association: false, ...extra });

test('a minute is the inverse-variance mean of its fixes, with the accuracy that mean has', () => {
  const a = new MinuteAccumulator();
  a.add('d', fix(0, 0, 0, 1));
  a.add('d', fix(10_000, 2, 0, 1));
  a.add('d', fix(20_000, 10, 0, 2)); // a quarter of the weight
  const [p] = a.points('d');
  assert.equal(p!.minute, 0);
  assert.ok(Math.abs(p!.xMeters - (0 + 2 + 10 / 4) / 2.25) < 1e-9);
  assert.ok(Math.abs(p!.accuracyMeters - 1 / Math.sqrt(2.25)) < 1e-9);
});

test('a fix seen twice (same device and second) counts once, and one floor is kept per minute', () => {
  const a = new MinuteAccumulator();
  assert.equal(a.add('d', fix(5_000, 0, 0)), true);
  assert.equal(a.add('d', fix(5_400, 9, 9)), false);
  assert.equal(a.add('d', fix(6_000, 2, 0, 1, { floor: 2 })), false, 'another floor in the same minute');
  assert.equal(a.points('d')[0]!.xMeters, 0);
});

test('an AP-only fix gives way to a position; positions are never mixed with an AP', () => {
  const a = new MinuteAccumulator();
  a.add('d', fix(0, 40, 20, 12, { association: true }));
  a.add('d', fix(30_000, 10, 10, 1));
  a.add('d', fix(40_000, 40, 20, 12, { association: true }));
  const [p] = a.points('d');
  assert.equal(p!.flags & ASSOCIATION, 0);
  assert.deepEqual([p!.xMeters, p!.yMeters], [10, 10]);
});

test('smoothing averages a stay but not the walk into it, and bridges short gaps', () => {
  const raw: MinutePoint[] = [];
  // A stay at (10, 10) with ±0.5 m noise for 20 minutes, then a jump to (30, 10).
  for (let m = 0; m < 20; m++) raw.push({ minute: m, floor: 1, zone: 0, xMeters: 10 + (m % 2 ? 0.5 : -0.5), yMeters: 10, accuracyMeters: 0.7, flags: 0 });
  for (let m = 20; m < 25; m++) raw.push({ minute: m, floor: 1, zone: 0, xMeters: 30, yMeters: 10, accuracyMeters: 0.7, flags: 0 });
  raw.push({ minute: 27, floor: 1, zone: 0, xMeters: 30, yMeters: 10, accuracyMeters: 0.7, flags: 0 });
  const s = smoothTrack(raw, DEFAULT_TRACK_PARAMS);
  assert.ok(Math.abs(s[10]!.xMeters - 10) < 0.1, 'the stay averages out');
  assert.ok(s[10]!.accuracyMeters < 0.2, 'and is more precise');
  assert.ok(Math.abs(s[21]!.xMeters - 30) < 1e-9, 'the other place is not pulled towards the stay');
  const bridged = s.filter((p) => p.flags & BRIDGED).map((p) => p.minute);
  assert.deepEqual(bridged, [25, 26]);
});
