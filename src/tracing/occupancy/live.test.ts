import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellKey, countCells, identitiesIn, policyFigure, type PresenceView } from './live.ts';
import { applyOccupancyPatch, DEFAULT_OCCUPANCY_SETTINGS, parseOccupancySettings } from './settings.ts';

const dev = (zoneId: string, lastMs: number, randomized = false, eventDevice: string | null = null): PresenceView => ({ siteId: 's', floorId: 'f', zoneId, lastMs, randomized, eventDevice });

test('devices count in the cell they were last seen in, within the window', () => {
  const cells = countCells([dev('a', 100), dev('a', 90, true), dev('a', 10), dev('b', 95), dev('', 99)], 50);
  assert.deepEqual(cells.get(cellKey('f', 'a')), { siteId: 's', floorId: 'f', zoneId: 'a', devices: 2, randomized: 1 });
  assert.equal(cells.get(cellKey('f', 'b'))!.devices, 1);
  assert.equal(cells.get(cellKey('f', ''))!.devices, 1, 'on the floor outside every zone');
});

test('the randomised-address policy decides the figure alerts compare', () => {
  assert.equal(policyFigure({ devices: 10, randomized: 3 }, 'count'), 10);
  assert.equal(policyFigure({ devices: 10, randomized: 3 }, 'skip'), 7);
  assert.equal(policyFigure({ devices: 10, randomized: 3 }, 'separate'), 7);
});

test('identities are only the tracked devices\' pseudonyms in the zone', () => {
  const ids = identitiesIn([dev('a', 100, false, 'p2'), dev('a', 100, false, null), dev('a', 100, true, 'p3'), dev('b', 100, false, 'p4'), dev('a', 100, false, 'p1'), dev('a', 1, false, 'p0')], 'f', 'a', 50, 'skip');
  assert.deepEqual(ids, ['p1', 'p2']);
});

test('settings: defaults, and every bound checked', () => {
  assert.deepEqual(parseOccupancySettings(undefined), DEFAULT_OCCUPANCY_SETTINGS);
  assert.equal(parseOccupancySettings('{"alerts":{"holdMinutes":0}}').alerts.hysteresisPercent, 10, 'missing fields default');
  const s = applyOccupancyPatch(DEFAULT_OCCUPANCY_SETTINGS, { randomized: 'separate', alerts: { holdMinutes: 30 } }, 5);
  assert.equal(s.randomized, 'separate');
  assert.equal(s.alerts.holdMinutes, 30);
  assert.equal(DEFAULT_OCCUPANCY_SETTINGS.alerts.holdMinutes, 5, 'the defaults are not changed');
  assert.throws(() => applyOccupancyPatch(s, { alerts: { holdMinutes: 31 } }, 5), /holdMinutes must be 0-30/);
  assert.throws(() => applyOccupancyPatch(s, { windowMinutes: 0 }, 5), /windowMinutes/);
  assert.throws(() => applyOccupancyPatch(s, { alerts: { hysteresisPercent: 60 } }, 5), /hysteresisPercent/);
  assert.throws(() => applyOccupancyPatch(s, { randomized: 'maybe' as never }, 5), /randomized/);
});
