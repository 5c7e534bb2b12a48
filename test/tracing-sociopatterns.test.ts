/**
 * Correctness on real contact data (issue 4): the SocioPatterns GESIS Winter Symposium 2016
 * face-to-face file (153 371 lines, 138 badges, 7 497 pairs) replayed as badge encounters through
 * `cairn ingest --format encounters`'s path, then every badge traced over the whole conference:
 * the cumulative contact time Cairn reports for every pair equals the one computed directly
 * from the file (20 seconds per distinct slot the pair appears in).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { systemCtx } from '../src/privacy/index.ts';
import { ingestFile } from '../src/ingest/index.ts';
import { makeApp, sqliteSetup } from './helpers.ts';

const FILE = new URL('../../shared/data/contacts/tij_WS16.dat', import.meta.url);
const setup = sqliteSetup();
after(() => setup.cleanup());

test('pairwise contact durations from the replayed SocioPatterns file equal those computed from the file', async () => {
  const text = readFileSync(FILE, 'utf8');
  // Straight from the file: seconds per unordered pair (each line is one 20 s slot).
  const expected = new Map<string, number>();
  const badges = new Set<number>();
  let first = Infinity, last = -Infinity;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3) continue;
    const [t, i, j] = f.map(Number) as [number, number, number];
    const key = i < j ? `${i}|${j}` : `${j}|${i}`;
    expected.set(key, (expected.get(key) ?? 0) + 20);
    badges.add(i).add(j);
    first = Math.min(first, t);
    last = Math.max(last, t);
  }
  assert.equal(expected.size, 7497);
  assert.equal(badges.size, 138);

  const c = await makeApp(setup);
  try {
    const sys = systemCtx('test');
    const orgId = (await c.services.tenancy.createOrg(sys, { name: 'WS16', country: 'DE' })).id;
    const loaded = await ingestFile(c.services.ingest, sys, orgId, text, { format: 'encounters', siteId: null, referenceMs: Date.now() });
    assert.equal(loaded.encounters, 153_371);
    const db = c.core.stores.region('eu');
    const pseudo = await c.core.keys.pseudonymiser(db, orgId);
    const badgeOf = new Map([...badges].map((b) => [pseudo('badge', String(b)), b]));

    const found = new Map<string, number>();
    for (const b of badges) {
      const r = await c.services.proximity.trace(sys, orgId, { badge: String(b), fromMs: first * 1000, toMs: (last + 20) * 1000, purpose: 'Replay of the WS16 contact data', minMinutes: 0 });
      for (const x of r.contacts) {
        const o = badgeOf.get(x.device);
        assert.ok(o !== undefined, 'every contact is one of the badges');
        assert.deepEqual(x.evidence, ['encounter']);
        const key = b < o ? `${b}|${o}` : `${o}|${b}`;
        const prev = found.get(key);
        if (prev !== undefined) assert.equal(x.cumulativeSeconds, prev, `${key} is the same seen from either badge`);
        found.set(key, x.cumulativeSeconds);
      }
    }
    const mismatches = [...expected].filter(([k, v]) => found.get(k) !== v).map(([k, v]) => `${k}: file ${v} s, Cairn ${found.get(k)} s`);
    assert.deepEqual(mismatches.slice(0, 10), []);
    assert.equal(found.size, expected.size, 'no pair Cairn found is missing from the file');
  } finally {
    await c.close();
  }
});
