/**
 * The syslog listeners: hostapd association events sent over UDP and over TCP (octet-counted and
 * newline-framed, split across packets) become association fixes at the logging AP's position;
 * garbage lines are refused by reason and counted in /metrics while reception goes on; stopping
 * commits what was received. Off unless a port is configured.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo } from '../src/storage/index.ts';
import { SyslogListener, syslogListenerFromConfig } from '../src/ingest/index.ts';

const setup = sqliteSetup();
after(() => setup.cleanup());

test('UDP and TCP syslog association events become fixes; garbage is counted, not fatal', async () => {
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  const { tenancy, sensors, ingest } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name: 'Syslog org', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 40, heightM: 40 })).id;
  const lobby = (await tenancy.createZone(sys, orgId, floorId, { name: 'Lobby', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] })).id;
  await sensors.create(sys, orgId, siteId, { floorId, kind: 'ap', name: 'Lobby AP', xM: 10, yM: 10, vendorId: 'ap-lobby' });
  await ingest.settings.update(sys, orgId, { locationServices: true });

  assert.equal(syslogListenerFromConfig({ ...c.core.cfg, syslogUdpPort: -1, syslogTcpPort: -1 }, ingest, c.core.clock, c.core.log), null, 'off by default');
  assert.throws(() => syslogListenerFromConfig({ ...c.core.cfg, syslogUdpPort: 0, syslogTcpPort: -1 }, ingest, c.core.clock, c.core.log), /CAIRN_SYSLOG_ORG/);

  const listener = new SyslogListener(ingest, c.core.clock, c.core.log, { host: '127.0.0.1', udpPort: 0, tcpPort: 0, orgId, siteId, flushMs: 20 });
  const at = await listener.start();
  const line = (mac: string, sec: number) => `<30>Mar  1 09:15:${String(sec).padStart(2, '0')} ap-lobby hostapd: wlan0: AP-STA-CONNECTED ${mac}`;

  const udp = createSocket('udp4');
  for (const msg of [line('3c:22:fb:9a:41:01', 1), line('3c:22:fb:9a:41:02', 2), 'complete garbage', '<999>nonsense']) {
    await new Promise<void>((r) => udp.send(msg, at.udp!.port, '127.0.0.1', () => r()));
  }
  udp.close();

  const framed = [line('3c:22:fb:9a:41:03', 3), line('3c:22:fb:9a:41:04', 4)];
  const payload = Buffer.from(`${Buffer.byteLength(framed[0]!)} ${framed[0]}${framed[1]}\n`);
  await new Promise<void>((resolve, reject) => {
    const s = connect(at.tcp!.port, '127.0.0.1', () => {
      s.write(payload.subarray(0, 17));
      setTimeout(() => s.end(payload.subarray(17)), 20);
    });
    s.on('close', () => resolve());
    s.on('error', reject);
  });
  for (let i = 0; i < 100 && listener.stats.lines < 6; i++) await new Promise((r) => setTimeout(r, 20));
  await listener.stop();

  assert.equal(listener.stats.observations, 4);
  assert.ok(listener.stats.rejected >= 2);
  const db = await c.core.directory.storeOf(orgId);
  const fixes = await new LocationRepo(db).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 100);
  assert.equal(fixes.length, 4);
  for (const f of fixes) {
    assert.equal(f.zone_id, lobby);
    assert.equal(f.method, 'association');
    assert.match(f.device, /^[0-9a-f]{32}$/);
  }
  const metrics = await c.metrics.registry.metrics();
  assert.match(metrics, /cairn_ingest_rejected_total\{source="syslog",reason="[a-z_]+"\} [1-9]/);
  await c.close();
});
