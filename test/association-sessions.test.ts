/**
 * Association sessions stored, on both storage engines: `cairn ingest --format syslog`'s loader
 * and the live syslog listener turn hostapd association events into WiFiTrace sessions (start at
 * association, end at disassociation or roam at the same AP) kept under device pseudonyms; the
 * AP is the registered sensor when there is one; loading a file again stores nothing twice; the
 * listener's open sessions survive a restart of the server and are closed by the next event;
 * without location services nothing per device is kept; the co-presence query finds every other
 * device at the same AP during the index device's visits, including sessions that began before
 * the window; the `location` retention purges them.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { AssociationSessionRepo, type AssociationSessionRow, type Database } from '../src/storage/index.ts';
import { SyslogListener, ingestFile } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const REF = Date.UTC(2020, 5, 1);
const MACS = { d1: '3c:22:fb:9a:41:01', d2: '3c:22:fb:9a:41:02', d3: '3c:22:fb:9a:41:03', d4: '3c:22:fb:9a:41:04', d5: '3c:22:fb:9a:41:05', d6: '3c:22:fb:9a:41:06' };
const at = (hms: string) => Date.UTC(2020, 2, 1, ...(hms.split(':').map(Number) as [number, number, number]));
const line = (hms: string, ap: string, event: 'CONNECTED' | 'DISCONNECTED', mac: string) => `<30>Mar  1 ${hms} ${ap} hostapd: wlan0: AP-STA-${event} ${mac}`;

/** A morning at two registered APs and one unregistered one. */
const FILE = [
  line('08:00:00', 'ap-lobby', 'CONNECTED', MACS.d6),
  line('08:50:00', 'ap-lobby', 'CONNECTED', MACS.d6),
  line('09:00:00', 'ap-lobby', 'CONNECTED', MACS.d1),
  line('09:00:10', 'ap-lobby', 'CONNECTED', MACS.d2),
  line('09:05:00', 'ap-cafe', 'CONNECTED', MACS.d3),
  line('09:10:00', 'ap-cafe', 'CONNECTED', MACS.d1), // roam: lobby closes at 09:10
  line('09:15:00', 'ap-cafe', 'CONNECTED', MACS.d5),
  line('09:20:00', 'ap-lobby', 'DISCONNECTED', MACS.d2),
  line('09:30:00', 'ap-cafe', 'DISCONNECTED', MACS.d1),
  line('09:40:00', 'ap-lobby', 'CONNECTED', MACS.d6),
  line('09:40:00', 'ap-attic', 'CONNECTED', MACS.d4),
  line('09:45:00', 'ap-cafe', 'DISCONNECTED', MACS.d5),
  'garbage that is not syslog',
].join('\n');

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`association sessions (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let db: Database;
    let orgId = '';
    let siteId = '';
    let lobby = '';
    let cafe = '';
    const sys = systemCtx('test');
    const pseudo = (mac: string) => c.core.keys.pseudonym(db, orgId, 'mac', mac);
    const rows = async (): Promise<AssociationSessionRow[]> => (await db.all<AssociationSessionRow>('SELECT * FROM association_sessions WHERE org_id = $1 ORDER BY start_ms, device', [orgId])).map((r) => ({ ...r, start_ms: Number(r.start_ms), end_ms: Number(r.end_ms) }));

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup);
      const { tenancy, sensors, ingest } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Sessions campus', country: 'NL' })).id;
      db = await c.core.directory.storeOf(orgId);
      siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
      const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 60, heightM: 40 })).id;
      lobby = (await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'Lobby', xM: 10, yM: 10, vendorId: 'ap-lobby' })).id;
      cafe = (await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'Cafe', xM: 40, yM: 10, vendorId: 'ap-cafe', mac: '02:00:5e:aa:00:01' })).id;
      await ingest.settings.update(sys, orgId, { locationServices: true });
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('a syslog file becomes WiFiTrace sessions under pseudonyms; loading it again stores nothing twice', { skip }, async () => {
      const first = await ingestFile(c.services.ingest, sys, orgId, FILE, { format: 'syslog', siteId, referenceMs: REF });
      assert.equal(first.sessions, 7, JSON.stringify(first));
      const [d1, d2, d3, d4, d5, d6] = (await Promise.all([MACS.d1, MACS.d2, MACS.d3, MACS.d4, MACS.d5, MACS.d6].map(pseudo))) as [string, string, string, string, string, string];
      const brief = (r: AssociationSessionRow) => [r.device, r.ap, r.start_ms, r.end_ms, r.end_reason];
      assert.deepEqual((await rows()).map(brief), [
        [d6, lobby, at('08:00:00'), at('09:40:00'), 'flush'],
        [d1, lobby, at('09:00:00'), at('09:10:00'), 'roam'],
        [d2, lobby, at('09:00:10'), at('09:20:00'), 'disassociation'],
        [d3, cafe, at('09:05:00'), at('09:05:00'), 'flush'],
        [d1, cafe, at('09:10:00'), at('09:30:00'), 'disassociation'],
        [d5, cafe, at('09:15:00'), at('09:45:00'), 'disassociation'],
        [d4, 'ap-attic', at('09:40:00'), at('09:40:00'), 'flush'],
      ]);
      for (const r of await rows()) {
        assert.match(r.device, /^[0-9a-f]{32}$/);
        assert.equal(r.site_id, siteId, 'the registered AP\'s site, else the file\'s');
        assert.equal(r.feed.startsWith('file:'), true);
      }
      const attic = (await rows()).find((r) => r.ap === 'ap-attic')!;
      assert.equal(attic.sensor_id, null, 'an AP nobody placed keeps the controller\'s name');
      const again = await ingestFile(c.services.ingest, sys, orgId, FILE, { format: 'syslog', siteId, referenceMs: REF });
      assert.equal(again.sessions, 0);
      assert.equal((await rows()).length, 7);
      const audit = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
      assert.ok(audit.some((e) => e.action === 'ingest.sessions'), 'stored sessions are audited');
    });

    test('co-presence: everyone at the same AP during the index device\'s visits, clipped to the window', { skip }, async () => {
      const repo = new AssociationSessionRepo(db);
      const [d1, d2, d5, d6] = (await Promise.all([MACS.d1, MACS.d2, MACS.d5, MACS.d6].map(pseudo))) as [string, string, string, string];
      const contacts = async (from: string, to: string) => (await repo.coPresence(orgId, d1, at(from), at(to))).map((r) => `${r.device === d2 ? 'd2' : r.device === d5 ? 'd5' : r.device === d6 ? 'd6' : r.device}@${r.ap === lobby ? 'lobby' : 'cafe'}`);
      // d6's session began at 08:00, long before the window: the longest-session bound still reaches it.
      assert.deepEqual(await contacts('09:00:00', '10:00:00'), ['d6@lobby', 'd2@lobby', 'd5@cafe']);
      assert.deepEqual(await contacts('09:12:00', '10:00:00'), ['d5@cafe'], 'visits outside the window do not count');
      assert.deepEqual(await contacts('10:00:00', '11:00:00'), []);
      assert.equal(await repo.maxDurationMs(orgId), at('09:40:00') - at('08:00:00'));
    });

    test('without location services no per-device session is kept', { skip }, async () => {
      const other = (await c.services.tenancy.createOrg(sys, { name: 'Quiet sessions', country: 'NL' })).id;
      const s = await ingestFile(c.services.ingest, sys, other, FILE, { format: 'syslog', siteId: null, referenceMs: REF });
      assert.equal(s.sessions, 0);
      assert.equal(await new AssociationSessionRepo(await c.core.directory.storeOf(other)).countOfOrg(other), 0);
    });

    test('the live listener stores open sessions; after a restart the next event closes them', { skip }, async () => {
      const send = async (l: SyslogListener, port: number, text: string) => {
        const before = l.stats.lines;
        const udp = createSocket('udp4');
        await new Promise<void>((r) => udp.send(text, port, '127.0.0.1', () => r()));
        udp.close();
        for (let i = 0; i < 250 && l.stats.lines === before; i++) await new Promise((r) => setTimeout(r, 20));
      };
      const live = (await rows()).filter((r) => r.feed === 'listener');
      assert.equal(live.length, 0);
      let l = new SyslogListener(c.services.ingest, c.core.clock, c.core.log, { host: '127.0.0.1', udpPort: 0, orgId, siteId, flushMs: 10 });
      let port = (await l.start()).udp!.port;
      await send(l, port, line('10:00:00', 'ap-lobby', 'CONNECTED', MACS.d1));
      await send(l, port, line('10:05:00', 'ap-lobby', 'CONNECTED', MACS.d1));
      await l.stop();
      assert.equal(l.stats.sessions, 1);
      const open = (await rows()).filter((r) => r.feed === 'listener');
      assert.equal(open.length, 1);
      assert.equal(open[0]!.end_reason, null, 'stored while open');
      assert.equal(open[0]!.event_count, 2);
      assert.equal(open[0]!.ap, lobby);

      // A new server process on the same store: the open session is resumed, not started again.
      await c.close();
      c = await makeApp(setup);
      db = await c.core.directory.storeOf(orgId);
      l = new SyslogListener(c.services.ingest, c.core.clock, c.core.log, { host: '127.0.0.1', udpPort: 0, orgId, siteId, flushMs: 10 });
      port = (await l.start()).udp!.port;
      await send(l, port, line('10:30:00', 'ap-lobby', 'DISCONNECTED', MACS.d1));
      await l.stop();
      const after = (await rows()).filter((r) => r.feed === 'listener');
      assert.equal(after.length, 1, 'one session, resumed');
      assert.equal(after[0]!.id, open[0]!.id);
      assert.equal(after[0]!.end_reason, 'disassociation');
      assert.equal(after[0]!.end_ms - after[0]!.start_ms, 30 * 60_000);
      assert.equal(after[0]!.event_count, 3);
    });

    test('the location retention purges sessions', { skip }, async () => {
      assert.ok((await rows()).some((r) => r.feed.startsWith('file:')));
      await c.services.retention.runAll(sys);
      const left = await rows();
      assert.equal(left.filter((r) => r.feed.startsWith('file:')).length, 0, 'sessions from 2020 are past the 30 days of location data');
      assert.equal(left.filter((r) => r.feed === 'listener').length, 1, 'recent ones stay');
    });
  });
}
