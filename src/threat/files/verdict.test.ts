/** Tests for score combination and verdict states, including the never-clean-when-incomplete rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineScores, decide, UNKNOWN_FLOOR } from './verdict.ts';
import type { Reason } from './types.ts';

const r = (code: string, score: number, extra: Partial<Reason> = {}): Reason => ({ analyzer: 'pe', code, score, message: code, ...extra });

test('the strongest reason counts fully, the rest with halving weight, capped at 10', () => {
  assert.equal(combineScores([]), 0);
  assert.equal(combineScores([r('A', 6), r('B', 4)]), 8);
  assert.equal(combineScores([r('A', 2), r('B', 2), r('C', 2)]), 3.5);
  assert.equal(combineScores([r('A', 9), r('B', 9), r('C', 9)]), 10);
});

test('the same code from two analysers counts once', () => {
  const fromYara: Reason = { ...r('PE_PACKER', 3), analyzer: 'yara' };
  assert.equal(combineScores([r('PE_PACKER', 3), fromYara]), 3);
});

test('a certain reason settles the score at 10', () => {
  assert.equal(combineScores([r('EICAR', 1, { certain: true })]), 10);
});

test('states: clean below 4, suspicious from 4, malicious and block from 7', () => {
  assert.deepEqual(decide([r('A', 3.9)]), { score: 3.9, state: 'clean', recommendedAction: 'allow', complete: true });
  assert.equal(decide([r('A', 4)]).state, 'suspicious');
  assert.deepEqual(decide([r('A', 7)]).recommendedAction, 'block');
  assert.equal(decide([r('A', 7)]).state, 'malicious');
});

test('an incomplete analysis is never clean: unknown with a score floor', () => {
  const v = decide([r('TOO_LARGE', 0, { incomplete: true })]);
  assert.deepEqual(v, { score: UNKNOWN_FLOOR, state: 'unknown', recommendedAction: 'allow', complete: false });
  assert.equal(decide([r('ARCHIVE_ENCRYPTED', 2, { incomplete: true }), r('X', 5)]).state, 'suspicious');
});
