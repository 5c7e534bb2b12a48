/**
 * The storage contract: one suite of behaviours every engine must show. `sqlite.test.ts` and
 * `postgres.test.ts` run it, each with its own factory (as hono runs one router suite per router).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Stores } from './stores.ts';
import { controlRepo, reposFor } from './repos/index.ts';

export interface ContractOptions {
  name: string;
  /** Fresh, migrated stores for one test; `skip` is a reason to skip the whole suite. */
  open(): Promise<Stores>;
  dispose(s: Stores): Promise<void>;
  skip?: string | false;
}

const ORG = '01900000-0000-7000-8000-000000000001';
const ORG2 = '01900000-0000-7000-8000-000000000002';

export function runStorageContract(o: ContractOptions): void {
  const it = (title: string, fn: (s: Stores, t: TestContext) => Promise<void>) =>
    test(`[${o.name}] ${title}`, { skip: o.skip || false }, async (t) => {
      const s = await o.open();
      try {
        await fn(s, t);
      } finally {
        await o.dispose(s);
      }
    });

  async function seedOrg(s: Stores, id = ORG): Promise<void> {
    await reposFor(s.region('eu')).tenancy.insertOrg({ id, name: 'Org', country: 'NL', region: 'eu', settings: '{}', created_at: 1 });
  }

  it('migrations are idempotent and versioned', async (s) => {
    const again = await s.migrate();
    for (const v of Object.values(again)) assert.deepEqual(v, []);
  });

  it('round-trips the tenancy tree and scopes every read by org', async (s) => {
    await seedOrg(s);
    await seedOrg(s, ORG2);
    const r = reposFor(s.region('eu')).tenancy;
    await r.insertSite({ id: 's1', org_id: ORG, name: 'HQ', timezone: 'Europe/Amsterdam', created_at: 2 });
    await r.insertFloor({ id: 'f1', org_id: ORG, site_id: 's1', name: 'G', level: 0, width_m: 40.5, height_m: 30, plan_mime: null, created_at: 3 });
    await r.insertZone({ id: 'z1', org_id: ORG, site_id: 's1', floor_id: 'f1', name: 'Lobby', polygon: '[[0,0],[1,0],[1,1]]', occupancy_limit: 10, created_at: 4 });
    assert.equal((await r.getSite(ORG, 's1'))?.name, 'HQ');
    assert.equal(await r.getSite(ORG2, 's1'), undefined);
    assert.equal((await r.getFloor(ORG, 'f1'))?.width_m, 40.5);
    assert.equal((await r.listZones(ORG, 'f1'))[0]?.occupancy_limit, 10);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    await r.setFloorPlan(ORG, 'f1', 'image/png', png);
    assert.deepEqual(Buffer.from((await r.getFloorPlan(ORG, 'f1'))!.plan_image!), png);
    assert.equal(await r.deleteSite(ORG2, 's1'), 0);
    assert.equal(await r.deleteSite(ORG, 's1'), 1);
    assert.equal(await r.getZone(ORG, 'z1'), undefined, 'zones cascade with their site');
  });

  it('rolls back everything written in a failed transaction', async (s) => {
    await seedOrg(s);
    const db = s.region('eu');
    await assert.rejects(
      db.tx(async (x) => {
        await reposFor(x).tenancy.insertSite({ id: 's2', org_id: ORG, name: 'X', timezone: 'UTC', created_at: 1 });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(await reposFor(db).tenancy.getSite(ORG, 's2'), undefined);
  });

  it('keeps audit chains linear under concurrent transactions', async (s) => {
    await seedOrg(s);
    const db = s.region('eu');
    const append = (i: number) =>
      db.tx(async (x) => {
        const r = reposFor(x).audit;
        const head = await r.lockHead(ORG, 'g');
        const seq = head.seq + 1;
        await r.insertEvents([{ org_id: ORG, seq, at_ms: i, canon: `${seq}|${head.hash}`, hash: `h${seq}` }]);
        await r.setHead(ORG, seq, `h${seq}`);
      });
    await Promise.all(Array.from({ length: 20 }, (_, i) => append(i)));
    const page = await reposFor(db).audit.page(ORG, 0, 100);
    assert.deepEqual(page.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await reposFor(db).audit.head(ORG))?.seq, 20);
  });

  it('bulk-inserts many rows and pages and prunes them in order', async (s) => {
    await seedOrg(s);
    const db = s.region('eu');
    const rows = Array.from({ length: 2500 }, (_, i) => ({ org_id: ORG, seq: i + 1, at_ms: 1000 + i, canon: `c${i + 1}`, hash: 'h' + (i + 1) }));
    await db.tx((x) => reposFor(x).audit.insertEvents(rows));
    const r = reposFor(db).audit;
    assert.equal(await r.count(ORG), 2500);
    assert.equal((await r.page(ORG, 2000, 10))[0]?.seq, 2001);
    assert.deepEqual((await r.oldestBefore(ORG, 1010, 100)).map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(await r.deleteThrough(ORG, 10), 10);
    assert.equal(await r.count(ORG), 2490);
    assert.equal((await r.recent(ORG, Number.MAX_SAFE_INTEGER, 1))[0]?.seq, 2500);
    assert.deepEqual(await r.rangeBody(ORG, 10, 13), { count: 3, body: 'c11\x1ec12\x1ec13' }, 'a range is its canon texts in seq order, joined by U+001E');
    assert.deepEqual(await r.rangeBody(ORG, 5000, 5001), { count: 0, body: '' });
  });

  it('upserts devices keeping first and last seen, and purges in bounded batches', async (s) => {
    await seedOrg(s);
    const db = s.region('eu');
    const d = reposFor(db).devices;
    const base = { org_id: ORG, site_id: null, kind: 'wifi', randomized: 0, ip_enc: Buffer.from([1, 2, 3]), username_enc: null, hostname_enc: null };
    await d.upsert({ ...base, pseudonym: 'p1', first_seen: 100, last_seen: 100 });
    await d.upsert({ ...base, pseudonym: 'p1', first_seen: 50, last_seen: 80, ip_enc: null });
    const row = await d.get(ORG, 'p1');
    assert.equal(row?.first_seen, 50);
    assert.equal(row?.last_seen, 100);
    assert.deepEqual(Buffer.from(row!.ip_enc!), Buffer.from([1, 2, 3]), 'a report without an IP keeps the stored one');
    for (let i = 0; i < 25; i++) await d.upsert({ ...base, pseudonym: `q${i}`, first_seen: i, last_seen: i });
    assert.equal(await d.purgeBefore(ORG, 20, 10), 10);
    assert.equal(await d.purgeBefore(ORG, 20, 10), 10);
    assert.equal(await d.purgeBefore(ORG, 20, 10), 0);
    assert.deepEqual((await d.count(ORG, null, 0)).total, 6);
  });

  it('stores tokens, sessions and grants with their expiry', async (s) => {
    await seedOrg(s);
    const db = s.region('eu');
    const i = reposFor(db).identity;
    await i.insertToken({ id: 't1', org_id: ORG, name: 'sensor', role: 'sensor', site_id: null, secret_hash: 'abc', expires_at: 10, revoked_at: null, last_used_at: null, created_at: 1 });
    assert.equal(await i.revokeToken(ORG2, 't1', 5), 0);
    assert.equal(await i.revokeToken(ORG, 't1', 5), 1);
    assert.equal(await i.revokeToken(ORG, 't1', 6), 0, 'revoking twice changes nothing');
    await i.insertSession({ id_hash: 'h1', user_id: 'u1', org_id: ORG, expires_at: 10, created_at: 1 });
    await i.insertSession({ id_hash: 'h2', user_id: 'u1', org_id: ORG, expires_at: 99, created_at: 1 });
    assert.equal(await i.deleteExpiredSessions(50, 100), 1);
    await i.upsertGrant({ org_id: ORG, granted_at: 1, expires_at: 100, revoked_at: null, granted_by: 'x' });
    await i.upsertGrant({ org_id: ORG, granted_at: 2, expires_at: 200, revoked_at: null, granted_by: 'y' });
    assert.equal((await i.getGrant(ORG))?.expires_at, 200);
  });

  it('keeps the control directory apart from region stores', async (s) => {
    const c = controlRepo(s.control);
    await c.registerOrg(ORG, 'eu', 1);
    assert.equal((await c.regionOf(ORG))?.region, 'eu');
    await c.setSetting('k', 'v1');
    await c.setSetting('k', 'v2');
    assert.equal((await c.getSetting('k'))?.value, 'v2');
    assert.equal((await reposFor(s.region('us')).tenancy.listOrgs()).length, 0);
  });
}
