/** The open hours in memory: fixes taken once, neighbours found per minute and floor, old minutes dropped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveTracks } from './live.ts';
import { DEFAULT_TRACK_PARAMS, type TraceFix } from './minutes.ts';

const fix = (atMs: number, x: number, y: number, floor = 1): TraceFix => ({ atMs, floor, zone: 0, xMeters: x, yMeters: y, accuracyMeters: 0.5, association: false });

test('near() gives the smoothed points of devices close to a position, on the same floor only', () => {
  const live = new LiveTracks(DEFAULT_TRACK_PARAMS);
  for (let t = 0; t < 10 * 60_000; t += 20_000) {
    live.add('a', fix(t, 10, 10));
    live.add('b', fix(t + 1000, 11, 10));
    live.add('c', fix(t + 2000, 30, 10));
    live.add('d', fix(t + 3000, 10.5, 10, 2));
  }
  const near = live.near(5, 1, 10, 10, 3).map((p) => p.device).sort();
  assert.deepEqual(near, ['a', 'b']);
  assert.equal(live.points('b').length, 10);
  assert.ok(Math.abs(live.points('b')[5]!.xMeters - 11) < 1e-9);
});

test('a fix seen twice counts once; dropped minutes are gone and ignored afterwards', () => {
  const live = new LiveTracks(DEFAULT_TRACK_PARAMS);
  live.add('a', fix(0, 0, 0));
  live.add('a', fix(500, 9, 9));
  assert.deepEqual([live.points('a')[0]!.xMeters, live.points('a')[0]!.yMeters], [0, 0]);
  live.add('a', fix(120_000, 5, 5));
  live.dropBefore(1);
  assert.deepEqual(live.points('a').map((p) => p.minute), [2]);
  live.add('a', fix(10_000, 1, 1));
  assert.deepEqual(live.points('a').map((p) => p.minute), [2], 'before the floor: ignored');
  assert.equal(live.near(0, 1, 0, 0, 5).length, 0);
});
