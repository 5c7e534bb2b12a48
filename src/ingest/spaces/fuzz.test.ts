/** Fuzz: Spaces firehose lines, fixed seed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter } from '../fuzz.ts';
import { readFormat } from '../testdata.ts';
import { parseSpacesLine } from './firehose.ts';

const SEEDS = [
  JSON.stringify(JSON.parse(readFormat('cisco-spaces-device_location_update.json'))),
  JSON.stringify(JSON.parse(readFormat('cisco-spaces-keep_alive.json'))),
  JSON.stringify({ recordUid: 'event-c1', recordTimestamp: 1641977170000, eventType: 'DEVICE_COUNT', deviceCount: { location: { locationId: 'l' }, associatedCount: 3 } }),
];

test('fuzz: mutated firehose lines give a record or a CairnError, quickly', () => {
  const r = fuzzAdapter({ seed: 21, iterations: 4000, seeds: SEEDS, run: (line) => parseSpacesLine(line, { collect: ['ip', 'ssid', 'os', 'manufacturer', 'username'] }) });
  assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
});
