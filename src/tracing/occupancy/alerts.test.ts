import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearLevel, newAlertState, step } from './alerts.ts';

const MIN = 60_000;
const rule = { holdMs: 5 * MIN, hysteresisPercent: 10 };

test('a violation is raised only after the zone stays over its limit for the hold time', () => {
  const s = newAlertState();
  assert.equal(step(s, 11, 10, 0, rule), null);
  assert.equal(s.phase, 'over');
  assert.equal(step(s, 12, 10, 4 * MIN, rule), null);
  assert.equal(step(s, 12, 10, 5 * MIN, rule), 'violation');
  assert.equal(step(s, 12, 10, 6 * MIN, rule), null, 'raised once');
  assert.equal(s.limit, 10);
});

test('dipping to the limit before the hold time ends starts over', () => {
  const s = newAlertState();
  step(s, 11, 10, 0, rule);
  assert.equal(step(s, 10, 10, 3 * MIN, rule), null, 'at the limit is not over it');
  assert.equal(s.phase, 'ok');
  step(s, 11, 10, 4 * MIN, rule);
  assert.equal(step(s, 11, 10, 8 * MIN, rule), null, 'the hold restarted at 4 min');
  assert.equal(step(s, 11, 10, 9 * MIN, rule), 'violation');
});

test('recovery needs the figure at or under the clear level (hysteresis) for the hold time', () => {
  assert.equal(clearLevel(10, 10), 9);
  assert.equal(clearLevel(40, 0), 40);
  const s = newAlertState();
  step(s, 20, 10, 0, { holdMs: 0, hysteresisPercent: 10 });
  assert.equal(s.phase, 'violation');
  assert.equal(step(s, 10, 10, MIN, rule), null, 'at the limit, above the clear level: still a violation');
  assert.equal(s.phase, 'violation');
  assert.equal(step(s, 9, 10, 2 * MIN, rule), null);
  assert.equal(s.phase, 'clearing');
  assert.equal(step(s, 10, 10, 3 * MIN, rule), null, 'back above the clear level: no event');
  assert.equal(s.phase, 'violation');
  step(s, 8, 10, 4 * MIN, rule);
  assert.equal(step(s, 8, 10, 9 * MIN, rule), 'ok');
  assert.equal(s.phase, 'ok');
});

test('with a hold time of 0 both events fire on the crossing evaluation; a zone that loses its limit clears', () => {
  const r0 = { holdMs: 0, hysteresisPercent: 10 };
  const s = newAlertState();
  assert.equal(step(s, 3, 2, 0, r0), 'violation');
  assert.equal(step(s, 1, 2, 1, r0), 'ok');
  assert.equal(step(s, 3, 2, 2, r0), 'violation');
  assert.equal(step(s, 3, null, 3, r0), 'ok', 'baseline removed mid-episode');
  assert.equal(step(s, 30, null, 4, r0), null, 'no limit, no alert');
});
