/**
 * R-PRIV-6: an org headquartered in the EU/EEA lives in the `eu` store; none of its rows, and
 * none of its identifiers, reach another region's store, on either engine.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx, chooseRegion } from '../src/privacy/index.ts';
import type { Database } from '../src/storage/index.ts';

test('EU/EEA headquarters choose eu; others the default; an explicit choice wins', () => {
  assert.equal(chooseRegion('NL', undefined, ['eu', 'us'], 'us'), 'eu');
  assert.equal(chooseRegion('no', undefined, ['eu', 'us'], 'us'), 'eu');
  assert.equal(chooseRegion('US', undefined, ['eu', 'us'], 'us'), 'us');
  assert.equal(chooseRegion('US', 'eu', ['eu', 'us'], 'us'), 'eu');
  assert.equal(chooseRegion('DE', undefined, ['us'], 'us'), 'us');
});

/** Every text value of every table of a store, as one string. */
async function dumpStore(db: Database): Promise<string> {
  const tables = db.engine === 'sqlite'
    ? (await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")).map((t) => t.name)
    : (await db.all<{ name: string }>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()')).map((t) => t.name);
  let out = '';
  for (const t of tables) out += JSON.stringify(await db.all(`SELECT * FROM ${t}`), (_k, v) => (v && v.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v));
  return out;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`residency on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    after(async () => setup?.cleanup());
    test("an EU org's rows never reach another region's store", { skip }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const c = await makeApp(setup);
      const sys = systemCtx('test');
      const eu = await c.services.tenancy.createOrg(sys, { name: 'Ziekenhuis Utrecht', country: 'NL' });
      const us = await c.services.tenancy.createOrg(sys, { name: 'Boston Clinic', country: 'US' });
      assert.equal(eu.region, 'eu');
      assert.equal(us.region, 'us');
      const site = await c.services.tenancy.createSite(sys, eu.id, { name: 'Utrecht campus' });
      const floor = await c.services.tenancy.createFloor(sys, eu.id, site.id, { name: 'G', widthM: 30, heightM: 30 });
      await c.services.tenancy.createZone(sys, eu.id, floor.id, { name: 'Ward', polygon: [[0, 0], [5, 0], [5, 5]] });
      await c.services.identity.createUser(sys, eu.id, { email: 'arts@zh-utrecht.example', password: 'eu-password-1234', roles: [{ role: 'org_admin' }] });
      await c.services.devices.report(sys, eu.id, [{ mac: '3c:22:fb:00:00:01', kind: 'wifi', siteId: site.id, seenAtMs: Date.now(), ip: '10.1.1.1' }]);
      await c.services.tenancy.createSite(sys, us.id, { name: 'Boston' });
      const usDump = await dumpStore(c.core.stores.region('us'));
      const euDump = await dumpStore(c.core.stores.region('eu'));
      const controlDump = await dumpStore(c.core.stores.control);
      for (const needle of [eu.id, site.id, floor.id, 'Ziekenhuis', 'Utrecht campus', 'Ward']) {
        assert.ok(euDump.includes(needle), `${needle} is in the eu store`);
        assert.ok(!usDump.includes(needle), `${needle} leaked into the us store`);
      }
      assert.ok(usDump.includes(us.id) && !euDump.includes(us.id), 'the US org stays in us');
      assert.ok(!controlDump.includes('Ziekenhuis') && !controlDump.includes(site.id), 'the control store holds only the org id and its region');
      await c.close();
    });
  });
}
