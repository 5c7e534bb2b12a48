/** The tracing index's binary rows round-trip at their resolution (decimetres, centimetres). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CELL_METERS, CellReader, cellOf, decodeTrack, encodeCell, encodeTrack } from './codec.ts';
import { ASSOCIATION } from './minutes.ts';

test('a track row gives back its points to the decimetre', () => {
  const hourMinute = 28_000_000;
  const pts = [
    { minute: hourMinute, floor: 3, zone: 7, xMeters: 12.34, yMeters: 0.06, accuracyMeters: 0.234, flags: 0 },
    { minute: hourMinute + 59, floor: 4, zone: 0, xMeters: 6553.5, yMeters: 9999, accuracyMeters: 12, flags: ASSOCIATION },
  ];
  const back = decodeTrack(encodeTrack(pts, hourMinute), hourMinute);
  assert.deepEqual(back, [
    { minute: hourMinute, floor: 3, zone: 7, xMeters: 12.3, yMeters: 0.1, accuracyMeters: 0.23, flags: 0 },
    { minute: hourMinute + 59, floor: 4, zone: 0, xMeters: 6553.5, yMeters: 6553.5, accuracyMeters: 12, flags: ASSOCIATION },
  ]);
});

test('a cell row finds each minute\'s records through its header', () => {
  const cell = encodeCell([
    { device: 9, minuteOfHour: 59, flags: 0, xMeters: 1, yMeters: 2, accuracyMeters: 0.5 },
    { device: 4_000_000_000, minuteOfHour: 3, flags: 0, xMeters: 3, yMeters: 4, accuracyMeters: 0.5 },
    { device: 2, minuteOfHour: 3, flags: ASSOCIATION, xMeters: 5, yMeters: 6, accuracyMeters: 10 },
  ]);
  const r = new CellReader(cell);
  assert.equal(r.count, 3);
  assert.deepEqual([r.start(3), r.end(3)], [0, 2]);
  assert.deepEqual([r.start(4), r.end(4)], [2, 2]);
  assert.deepEqual([r.start(59), r.end(59)], [2, 3]);
  assert.deepEqual([r.device(0), r.device(1), r.device(2)], [2, 4_000_000_000, 9]);
  assert.equal(r.flags(0), ASSOCIATION);
  assert.deepEqual([r.x(2), r.y(2), r.accuracy(2)], [1, 2, 0.5]);
});

test('cells are squares of CELL_METERS keyed by column and row', () => {
  assert.equal(cellOf(0, 0), 0);
  assert.equal(cellOf(CELL_METERS * 2 + 0.1, CELL_METERS - 0.1), 2 * 4096);
  assert.equal(cellOf(-3, -3), 0);
});
