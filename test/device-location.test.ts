/**
 * The audited location API of one device, on both storage engines: its fixes and association
 * sessions by pseudonym (GET) or by MAC in a POST body (pseudonymised server-side; the MAC is in
 * no log line, audit event or answer). Pages walk the window exactly once even when fixes share
 * a time; the window is bounded; a site admin sees only its own sites; observers, sensors and
 * other orgs get "not found"; every read is an audit event naming the device's pseudonym.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { ingestFile, type RawObservation } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const MAC = '3c:22:fb:9a:41:07';
const OTHER_MAC = 'a4:83:e7:12:6b:c9';
const T0 = Date.UTC(2026, 10, 30, 9);
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const macForms = (mac: string) => {
  const hex = mac.replace(/:/g, '');
  return [mac, mac.replace(/:/g, '-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`].flatMap((f) => [f, f.toUpperCase()]);
};

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`device location API (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let orgId = '';
    let site1 = '';
    let site2 = '';
    let floor1 = '';
    let device = '';
    const h: Record<string, Record<string, string>> = {};
    const logs: string[] = [];
    const sys = systemCtx('test');

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      c = await makeApp(setup, { logLevel: 'debug' }, { logDestination: dest as never });
      const { tenancy, sensors, ingest, identity } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Location API org', country: 'NL' })).id;
      site1 = (await tenancy.createSite(sys, orgId, { name: 'North' })).id;
      site2 = (await tenancy.createSite(sys, orgId, { name: 'South' })).id;
      floor1 = (await tenancy.createFloor(sys, orgId, site1, { name: 'N0', widthM: 50, heightM: 50 })).id;
      const floor2 = (await tenancy.createFloor(sys, orgId, site2, { name: 'S0', widthM: 50, heightM: 50 })).id;
      await sensors.create(sys, orgId, site1, { floorId: floor1, kind: 'ap', name: 'N-AP', xM: 10, yM: 10, mac: '02:00:5e:aa:00:01', vendorId: 'ap-north' });
      await sensors.create(sys, orgId, site2, { floorId: floor2, kind: 'ap', name: 'S-AP', xM: 20, yM: 20, mac: '02:00:5e:aa:00:02', vendorId: 'ap-south' });
      await ingest.settings.update(sys, orgId, { locationServices: true });
      const obs = (mac: string, atMs: number, apMac: string): RawObservation => ({ source: 'native', kind: 'wifi-connected', deviceId: mac, idType: 'mac', randomized: false, atMs, apMac });
      await ingest.ingest(sys, orgId, {
        source: 'native',
        observations: [
          obs(MAC, T0, '02:00:5e:aa:00:01'),
          obs(OTHER_MAC, T0 + 30_000, '02:00:5e:aa:00:01'),
          obs(MAC, T0 + MIN, '02:00:5e:aa:00:01'),
          obs(MAC, T0 + 2 * MIN, '02:00:5e:aa:00:01'),
          obs(MAC, T0 + 2 * MIN, '02:00:5e:aa:00:02'),
          obs(MAC, T0 + 3 * MIN, '02:00:5e:aa:00:02'),
        ],
      });
      const syslog = [
        `<30>Nov 30 09:00:00 ap-north hostapd: wlan0: AP-STA-CONNECTED ${MAC}`,
        `<30>Nov 30 09:30:00 ap-south hostapd: wlan0: AP-STA-CONNECTED ${MAC}`,
        `<30>Nov 30 09:40:00 ap-south hostapd: wlan0: AP-STA-DISCONNECTED ${MAC}`,
      ].join('\n');
      await ingestFile(ingest, sys, orgId, syslog, { format: 'syslog', siteId: null, referenceMs: T0 });
      device = await c.core.keys.pseudonym(await c.core.directory.storeOf(orgId), orgId, 'mac', MAC);
      for (const [role, siteId] of [['org_admin', null], ['site_admin', site1], ['privacy_officer', null], ['observer', null]] as const) {
        await identity.createUser(sys, orgId, { email: `${role}@loc.example`, password: 'a-long-password-1', roles: [{ role, siteId }] });
        h[role] = { cookie: await login(c, `${role}@loc.example`, 'a-long-password-1') };
      }
      h.sensor = { authorization: `Bearer ${(await identity.createToken(sys, orgId, { name: 's', role: 'sensor' })).token}` };
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    const window = `from=${iso(T0 - 60 * MIN)}&to=${iso(T0 + 120 * MIN)}`;
    const get = (role: string, path: string) => c.app.inject({ method: 'GET', url: `/api/v1/orgs/${orgId}/devices/${device}/${path}`, headers: h[role] });

    test('an admin reads the device\'s fixes page by page, each once, even when two share a time', { skip }, async () => {
      const all = await get('org_admin', `fixes?${window}`);
      assert.equal(all.statusCode, 200, all.body);
      const body = all.json();
      assert.equal(body.deviceId, device);
      // Native sightings, plus the association fixes the syslog events gave (09:00 and 09:30); not the other device's.
      assert.deepEqual(body.items.map((f: { at: string }) => f.at), [T0, T0, T0 + MIN, T0 + 2 * MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 30 * MIN].map(iso));
      assert.equal(body.next, null);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const r = await get('org_admin', `fixes?${window}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(r.statusCode, 200, r.body);
        for (const f of r.json().items as { at: string; floorId: string }[]) seen.push(`${f.at} ${f.floorId}`);
        cursor = r.json().next;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(seen, body.items.map((f: { at: string; floorId: string }) => `${f.at} ${f.floorId}`));
    });

    test('sessions: by start, open or closed, at the AP\'s site', { skip }, async () => {
      const r = await get('privacy_officer', `sessions?${window}`);
      assert.equal(r.statusCode, 200, r.body);
      const s = r.json().items as { start: string; end: string; endReason: string; open: boolean; siteId: string; apKey: string }[];
      assert.deepEqual(s.map((x) => [x.apKey, x.start, x.end, x.endReason, x.open, x.siteId]), [
        ['ap-north', iso(T0), iso(T0 + 30 * MIN), 'roam', false, site1],
        ['ap-south', iso(T0 + 30 * MIN), iso(T0 + 40 * MIN), 'disassociation', false, site2],
      ]);
    });

    test('a site admin sees its own site only; observers, sensors and other orgs get "not found"', { skip }, async () => {
      const fixes = (await get('site_admin', `fixes?${window}`)).json().items as { floorId: string }[];
      assert.equal(fixes.length, 4);
      assert.ok(fixes.every((f) => f.floorId === floor1));
      const sessions = (await get('site_admin', `sessions?${window}`)).json().items as { siteId: string }[];
      assert.deepEqual(sessions.map((x) => x.siteId), [site1]);
      assert.equal((await get('site_admin', `fixes?${window}&siteId=${site2}`)).statusCode, 404);
      for (const role of ['observer', 'sensor']) {
        for (const path of ['fixes', 'sessions']) {
          const r = await get(role, `${path}?${window}`);
          assert.equal(r.statusCode, 404, `${role} ${path}`);
          assert.equal(r.json().error.message, 'Not found or no access.');
        }
      }
      const foreign = (await c.services.tenancy.createOrg(sys, { name: 'Elsewhere', country: 'NL' })).id;
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${foreign}/devices/${device}/fixes?${window}`, headers: h.org_admin });
      assert.equal(r.statusCode, 404);
    });

    test('the window is bounded: 7 days for fixes, 31 for sessions; bad cursors are refused', { skip }, async () => {
      const eight = `from=${iso(T0 - 8 * 24 * 60 * MIN)}&to=${iso(T0)}`;
      const r = await get('org_admin', `fixes?${eight}`);
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().error.code, 'CAIRN_ERR_VALIDATION');
      assert.equal((await get('org_admin', `sessions?${eight}`)).statusCode, 200);
      assert.equal((await get('org_admin', `fixes?from=${iso(T0)}&to=${iso(T0 - 1)}`)).statusCode, 400);
      assert.equal((await get('org_admin', `fixes?${window}&cursor=nonsense`)).statusCode, 400);
    });

    test('by MAC in a POST body: same answer, and the MAC is in no log, audit event or answer', { skip }, async () => {
      const byId = (await get('org_admin', `fixes?${window}`)).json();
      const post = (path: string, payload: Record<string, unknown>) => c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/devices/${path}/search`, headers: h.org_admin, payload });
      const byMac = await post('fixes', { mac: MAC.toUpperCase().replace(/:/g, '-'), from: iso(T0 - 60 * MIN), to: iso(T0 + 120 * MIN) });
      assert.equal(byMac.statusCode, 200, byMac.body);
      assert.deepEqual(byMac.json(), byId);
      const sessions = await post('sessions', { mac: MAC, from: iso(T0 - 60 * MIN), to: iso(T0 + 120 * MIN) });
      assert.equal(sessions.json().items.length, 2);
      const bad = await post('fixes', { mac: 'not-a-mac-3c22fb9a41' });
      assert.equal(bad.statusCode, 400);
      assert.ok(!bad.body.includes('not-a-mac'), 'the input is not echoed');
      const refused = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${orgId}/devices/fixes/search`, headers: h.observer, payload: { mac: MAC } });
      assert.equal(refused.statusCode, 404);

      const audit = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
      const reads = audit.filter((e) => e.action === 'device.fixes.read' || e.action === 'device.sessions.read');
      assert.ok(reads.length >= 10, 'every page read is audited');
      assert.ok(reads.every((e) => e.target === `device:${device}`));
      assert.ok(reads.some((e) => e.details.by === 'mac'));
      assert.ok(reads.some((e) => Array.isArray(e.details.sites)), 'a site admin\'s reads name the sites they covered');
      assert.ok(audit.some((e) => e.action === 'deviceLocation.read' && e.outcome === 'denied'), 'refusals are audited');
      const texts = [logs.join(''), JSON.stringify(audit), byMac.body, sessions.body].join('\n').toLowerCase();
      assert.ok(logs.length > 10, 'logs were captured');
      for (const form of macForms(MAC)) assert.ok(!texts.includes(form.toLowerCase()), `${form} leaked`);
    });
  });
}
