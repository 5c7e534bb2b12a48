/** Encounter formats: the SocioPatterns WS16 file read whole and streamed, tij line rules, and the JSON upload. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { SHARED_DATA_DIR, readContacts } from '../testdata.ts';
import { parseEncounterBatch } from './encounters.ts';
import { parseSocioPatternsContacts, readSocioPatternsContacts } from './sociopatterns.ts';

function rejects(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_INGEST_MALFORMED' && e.details?.['reason'] === why);
}

test('WS16: one encounter per line and 20-second slot, pairs in one order, as the readme describes', () => {
  const text = readContacts('tij_WS16.dat');
  const enc = parseSocioPatternsContacts(text);
  assert.equal(enc.length, 153_371);
  assert.deepEqual(enc[0], { a: '125', b: '130', atMs: 1480486100_000, durationMs: 20_000 });
  assert.deepEqual(enc[1], { a: '7', b: '130', atMs: 1480486100_000, durationMs: 20_000 });
  assert.equal(enc.at(-1)?.atMs, 1480606820_000);
  const pairs = new Set(enc.map((e) => `${e.a}-${e.b}`));
  assert.equal(pairs.size, 7_497);
  const badges = new Set(enc.flatMap((e) => [e.a, e.b]));
  assert.equal(badges.size, 138);
  assert.equal(new Set(enc.map((e) => e.atMs)).size, 3_635);
  assert.ok(enc.every((e) => Number(e.a) < Number(e.b)));
});

test('WS16 streamed from disk gives the same encounters', async () => {
  let n = 0;
  let last = 0;
  for await (const e of readSocioPatternsContacts(createReadStream(`${SHARED_DATA_DIR}contacts/tij_WS16.dat`, { highWaterMark: 4096 }), { idPrefix: 'ws16:' })) {
    n++;
    last = e.atMs;
    if (n === 1) assert.deepEqual(e, { a: 'ws16:125', b: 'ws16:130', atMs: 1480486100_000, durationMs: 20_000 });
  }
  assert.equal(n, 153_371);
  assert.equal(last, 1480606820_000);
});

test('tij lines: a pair repeated in one slot (either order) counts once; bad lines are refused with their number', () => {
  assert.deepEqual(parseSocioPatternsContacts('20\t1\t2\r\n20\t2\t1\n\n40 2 1\n'), [
    { a: '1', b: '2', atMs: 20_000, durationMs: 20_000 },
    { a: '1', b: '2', atMs: 40_000, durationMs: 20_000 },
  ]);
  rejects(() => parseSocioPatternsContacts('20\t1\t2\n20\t1\n'), 'bad_line');
  rejects(() => parseSocioPatternsContacts('20\t1\tx\n'), 'bad_line');
  rejects(() => parseSocioPatternsContacts('-20\t1\t2\n'), 'bad_line');
  rejects(() => parseSocioPatternsContacts('21\t1\t2\n'), 'invalid_timestamp');
  rejects(() => parseSocioPatternsContacts('20\t3\t3\n'), 'self_encounter');
  rejects(() => parseSocioPatternsContacts('99999999999999999999\t3\t4\n'), 'bad_line');
  assert.throws(() => parseSocioPatternsContacts('20\t1\t2\n20\t1\n'), (e: unknown) => e instanceof CairnError && e.details?.['reason'] === 'bad_line' && e.message.startsWith('Line 2:'));
});

test('JSON encounters: {a, b, rssi, atMs}, in an array or under "encounters"', () => {
  assert.deepEqual(parseEncounterBatch('[{"a":"b-2","b":"b-1","rssi":58,"atMs":1710072000000},{"a":12,"b":7,"atMs":1710072000000,"durationMs":20000}]'), [
    { a: 'b-1', b: 'b-2', atMs: 1710072000000, rssiDbm: -58 },
    { a: '7', b: '12', atMs: 1710072000000, durationMs: 20000 },
  ]);
  assert.equal(parseEncounterBatch('{"encounters":[{"a":"x","b":"y","atMs":1}]}').length, 1);
  const skipped: string[] = [];
  assert.equal(parseEncounterBatch('[{"a":"x","b":"x","atMs":1},{"a":"x y","b":"z","atMs":1},{"a":"x","b":"z","atMs":1,"rssi":0},{"a":"x","b":"z"}]', { onSkip: (w) => skipped.push(w) }).length, 0);
  assert.deepEqual(skipped, ['self_encounter', 'invalid_id', 'invalid_rssi', 'missing_field']);
  rejects(() => parseEncounterBatch('[{"a":"x","b":"x","atMs":1}]', { strict: true }), 'self_encounter');
  rejects(() => parseEncounterBatch('{"a":1}'), 'missing_field');
  rejects(() => parseEncounterBatch('[{"a":'), 'bad_json');
  rejects(() => parseEncounterBatch(JSON.stringify(new Array(10_001).fill({ a: 'x', b: 'y', atMs: 1 }))), 'too_many_items');
});
