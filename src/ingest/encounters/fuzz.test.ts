/** Fuzz: encounter uploads and SocioPatterns excerpts, fixed seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter } from '../fuzz.ts';
import { readContacts } from '../testdata.ts';
import { parseEncounterBatch } from './encounters.ts';
import { parseSocioPatternsContacts } from './sociopatterns.ts';

test('fuzz: mutated encounter uploads give encounters or a CairnError, quickly', () => {
  const seed = JSON.stringify([{ a: 'b-2', b: 'b-1', rssi: -58, atMs: 1710072000000 }, { a: 12, b: 7, atMs: 1710072000000, durationMs: 20000 }]);
  for (const strict of [false, true]) {
    const r = fuzzAdapter({ seed: strict ? 61 : 62, iterations: 3000, seeds: [seed, JSON.stringify({ encounters: JSON.parse(seed) })], run: (b) => parseEncounterBatch(b, { strict }) });
    assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
  }
});

test('fuzz: mutated SocioPatterns excerpts give encounters or a CairnError, quickly', () => {
  const excerpt = readContacts('tij_WS16.dat').slice(0, 2000);
  const r = fuzzAdapter({ seed: 63, iterations: 3000, seeds: [excerpt.slice(0, excerpt.lastIndexOf('\n') + 1)], json: false, run: (t) => parseSocioPatternsContacts(t) });
  assert.ok(r.accepted > 50 && r.rejected > 100, JSON.stringify(r));
});
