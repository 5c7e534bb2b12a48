/**
 * The MQTT source end to end, against a private Mosquitto started from the files Cairn generated
 * (`cairn mqtt broker-config`), on SQLite and PostgreSQL: admins issue, rotate and revoke
 * per-sensor credentials through the API (password shown once, stored as a `$7$` hash); the broker
 * accepts a sensor's password and refuses a wrong or revoked one; a sensor's publishes land as
 * fixes; a sensor publishing on another sensor's topic is refused by the ACL and nothing is
 * ingested; malformed payloads and topics naming no registered sensor are refused with a code and
 * counted while ingestion goes on; messages published while the subscriber is stopped arrive once
 * it is back; messages committed but not acknowledged before a crash are re-delivered and stored
 * exactly once. Logs and stores never hold the payloads' identifiers.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt, { type MqttClient } from 'mqtt';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { mosquittoSkip, startMosquitto, type Broker } from './mosquitto.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { LocationRepo, MqttCredentialRepo } from '../src/storage/index.ts';
import { MqttSubscriber, mqttSubscriberFromConfig, verifyMosquittoPassword } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const SUBSCRIBER_PASSWORD = 'subscriber-Pw-7f3a9c';
const MAC = '3c:22:fb:9a:41:07';

/** Poll until `cond` holds; hang guard 15 s (no timing is asserted). */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A sensor report with one BLE badge per id (and a Wi-Fi MAC when asked). */
function report(ids: string[], atMs: number, withMac = false): string {
  const reports: Record<string, unknown>[] = ids.map((id, i) => ({ id, rssi: -60 - i, kind: 'ble-badge' }));
  if (withMac) reports.push({ id: MAC, rssi: -70, kind: 'wifi-connected', band: '5' });
  return JSON.stringify({ atMs, reports });
}

class NoAckSubscriber extends MqttSubscriber {
  /** Commits but never acknowledges: a crash between commit and PUBACK. */
  protected override ack(): void {}
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`MQTT source with per-sensor credentials (${engine})`, async () => {
    const skip = mosquittoSkip() || (engine === 'postgres' ? await pgSkip() : false);
    let setup: EngineSetup | undefined;
    let broker: Broker | undefined;
    const clients: MqttClient[] = [];
    const subs: MqttSubscriber[] = [];
    let c: CairnApp | undefined;
    const filesDir = mkdtempSync(join(tmpdir(), 'cairn-mqtt-files-'));
    after(async () => {
      for (const s of subs) await s.abort().catch(() => undefined);
      for (const cl of clients) await cl.endAsync(true).catch(() => undefined);
      await c?.close().catch(() => undefined);
      await broker?.stop();
      await setup?.cleanup();
      rmSync(filesDir, { recursive: true, force: true });
    });

    test('credentials, broker files, ACLs, refusals, restarts and crash re-delivery', { skip }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const logs: string[] = [];
      const dest = new Writable({
        write(chunk, _e, cb) {
          logs.push(String(chunk));
          cb();
        },
      });
      const open = () => makeApp(setup!, { logLevel: 'debug' }, { logDestination: dest as never });
      c = await open();
      const sys = systemCtx('test');
      const { tenancy, sensors, identity, ingest } = c.services;
      const orgId = (await tenancy.createOrg(sys, { name: 'MQTT org', country: 'NL' })).id;
      const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
      const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 40, heightM: 40 })).id;
      await tenancy.createZone(sys, orgId, floorId, { name: 'All', polygon: [[0, 0], [40, 0], [40, 40], [0, 40]] });
      const place = async (name: string, xM: number) => (await sensors.create(sys, orgId, siteId, { floorId, kind: 'ble-sensor', name, xM, yM: 10 })).id;
      const s1 = await place('S1', 5);
      const s2 = await place('S2', 20);
      const s3 = await place('S3', 35);
      await ingest.settings.update(sys, orgId, { locationServices: true });
      await identity.createUser(sys, orgId, { email: 'mqtt-admin@example.org', password: 'mqtt-admin-pass-123', roles: [{ role: 'org_admin' }] });
      const cookie = await login(c, 'mqtt-admin@example.org', 'mqtt-admin-pass-123');
      const api = async (method: 'GET' | 'POST' | 'DELETE', url: string) => {
        const r = await c!.app.inject({ method, url: `/api/v1/orgs/${orgId}${url}`, headers: { cookie } });
        return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as Record<string, string>) : {} };
      };

      // Issue, refuse a second issue, read (no password), rotate, revoke.
      const cred1 = await api('POST', `/sensors/${s1}/mqtt-credentials`);
      assert.equal(cred1.status, 201);
      assert.equal(cred1.body.topic, `cairn/${orgId}/${siteId}/${s1}`);
      assert.equal(cred1.body.username, `sensor-${s1}`);
      assert.ok(cred1.body.password!.length >= 32);
      assert.equal((await api('POST', `/sensors/${s1}/mqtt-credentials`)).status, 409);
      const shown = await api('GET', `/sensors/${s1}/mqtt-credentials`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.password, undefined);
      const first2 = await api('POST', `/sensors/${s2}/mqtt-credentials`);
      const cred2 = await api('POST', `/sensors/${s2}/mqtt-credentials/rotate`);
      assert.equal(cred2.status, 200);
      assert.notEqual(cred2.body.password, first2.body.password);
      const cred3 = await api('POST', `/sensors/${s3}/mqtt-credentials`);
      assert.equal((await api('DELETE', `/sensors/${s3}/mqtt-credentials`)).status, 204);
      assert.equal((await api('GET', `/sensors/${s3}/mqtt-credentials`)).status, 404);
      const db = await c.core.directory.storeOf(orgId);
      const stored = (await new MqttCredentialRepo(db).get(orgId, s2))!;
      assert.match(stored.password_hash, /^\$7\$101\$/);
      assert.ok(verifyMosquittoPassword(cred2.body.password!, stored.password_hash), 'the rotated password is the stored one');
      assert.ok(!verifyMosquittoPassword(first2.body.password!, stored.password_hash));

      // The org endpoint: the org's sensor accounts and ACLs, no subscriber password line.
      const orgFiles = await api('GET', '/mqtt/broker-config');
      assert.equal(orgFiles.status, 200);
      assert.deepEqual(orgFiles.body.passwordFile!.trim().split('\n').map((l) => l.split(':')[0]).sort(), [`sensor-${s1}`, `sensor-${s2}`].sort());
      assert.match(orgFiles.body.aclFile!, /^user cairn\ntopic read cairn\/#$/m);
      assert.match(orgFiles.body.aclFile!, new RegExp(`^user sensor-${s1}\\ntopic write cairn/${orgId}/${siteId}/${s1}$`, 'm'));
      await c.close();
      c = undefined;

      // The operator writes the broker files with the CLI and starts Mosquitto on them.
      const cfg = setup.config();
      const env: Record<string, string> = { CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent', CAIRN_MQTT_PASSWORD: SUBSCRIBER_PASSWORD };
      if (engine === 'postgres') Object.assign(env, { CAIRN_STORE: 'postgres', CAIRN_PG_URL: cfg.pgUrl, CAIRN_PG_SCHEMA_PREFIX: cfg.pgSchemaPrefix });
      const cli = spawnSync(process.execPath, ['dist/main.js', 'mqtt', 'broker-config', '--out', filesDir, '--json'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(cli.status, 0, cli.stderr);
      const summary = JSON.parse(cli.stdout) as { sensors: number; subscriberPassword: boolean };
      assert.equal(summary.sensors, 2);
      assert.equal(summary.subscriberPassword, true);
      const pwLines = readFileSync(join(filesDir, 'password_file'), 'utf8').trim().split('\n');
      assert.deepEqual(pwLines.map((l) => l.split(':')[0]), ['cairn', ...[`sensor-${s1}`, `sensor-${s2}`].sort()]);
      assert.ok(verifyMosquittoPassword(SUBSCRIBER_PASSWORD, pwLines[0]!.split(':')[1]!));
      assert.equal(readFileSync(join(filesDir, 'acl_file'), 'utf8'), orgFiles.body.aclFile, 'the CLI writes what the org endpoint returns');
      broker = await startMosquitto(filesDir);

      c = await open();
      assert.equal(mqttSubscriberFromConfig(c.core.cfg, c.services.ingest, c.core.log), null, 'off by default');
      assert.throws(() => loadConfig({ env: { CAIRN_MQTT_URL: 'http://127.0.0.1:1883' } }), /CAIRN_MQTT_URL/);
      assert.throws(() => loadConfig({ env: { CAIRN_MQTT_URL: broker!.url, CAIRN_MQTT_PASSWORD: 'a', CAIRN_MQTT_PASSWORD_FILE: '/nonexistent' } }), /CAIRN_MQTT_PASSWORD_FILE/);
      assert.throws(() => mqttSubscriberFromConfig({ ...c!.core.cfg, mqttUrl: broker!.url, mqttPasswordFile: join(filesDir, 'missing.pw') }, c!.services.ingest, c!.core.log), /CAIRN_ERR_CONFIG|mqttPasswordFile/);
      const clientId = `cairn-test-${engine}-${Date.now()}`;
      const subscriber = (cls: typeof MqttSubscriber = MqttSubscriber) => {
        const s = new cls(c!.services.ingest, c!.core.log, { url: broker!.url, username: 'cairn', password: SUBSCRIBER_PASSWORD, clientId, flushMs: 20 });
        subs.push(s);
        return s;
      };
      const fixes = async () => (await new LocationRepo(await c!.core.directory.storeOf(orgId)).fixesBetween(orgId, 0, Number.MAX_SAFE_INTEGER, 100_000)).length;
      const sensorClient = async (cred: Record<string, string>) => {
        const cl = await mqtt.connectAsync(broker!.url, { username: cred.username!, password: cred.password!, protocolVersion: 5, reconnectPeriod: 0, clientId: `${cred.username}-${Date.now()}` });
        clients.push(cl);
        return cl;
      };
      const topic1 = cred1.body.topic!;
      const topic2 = cred2.body.topic!;
      const t0 = Date.now() - 600_000;

      // A sensor with its credentials publishes; the observations land as fixes.
      let sub = mqttSubscriberFromConfig({ ...c.core.cfg, mqttUrl: broker.url, mqttPassword: SUBSCRIBER_PASSWORD, mqttClientId: clientId }, c.services.ingest, c.core.log)!;
      subs.push(sub);
      assert.deepEqual(await sub.start(), { url: broker.url, connected: true });
      const pub1 = await sensorClient(cred1.body);
      for (let i = 0; i < 3; i++) await pub1.publishAsync(topic1, report([`badge-a${i}x`, `badge-a${i}y`], t0 + i * 1000, i === 0), { qos: 1 });
      await waitFor('the first 3 messages', () => sub.stats.observations === 7);
      assert.equal(await fixes(), 7);

      // A wrong password, and a revoked account, are refused by the broker.
      for (const [username, password] of [[cred1.body.username!, 'not-the-password'], [cred3.body.username!, cred3.body.password!]] as const) {
        await assert.rejects(mqtt.connectAsync(broker.url, { username, password, protocolVersion: 5, reconnectPeriod: 0 }), (e: Error & { code?: number }) => e.code === 135);
      }

      // Another sensor's topic: refused by the ACL, nothing ingested.
      await assert.rejects(pub1.publishAsync(topic2, report(['badge-stolen'], t0 + 5000), { qos: 1 }), (e: Error & { code?: number }) => e.code === 135);
      const pub2 = await sensorClient(cred2.body);
      await pub2.publishAsync(topic2, report(['badge-b1'], t0 + 6000), { qos: 1 });
      await waitFor('the second sensor\'s message', () => sub.stats.observations === 8);
      assert.equal(sub.stats.messages, 4, 'the refused publish never reached Cairn');
      assert.equal(await fixes(), 8);

      // Malformed payloads: refused with a code, counted, ingestion goes on.
      const bad = ['not json at all', '{"atMs": 1710072000000, "reports": [', '{"atMs": "yesterday", "reports": []}', JSON.stringify({ sensorId: s2, atMs: t0, reports: [] }), JSON.stringify({ atMs: t0, reports: [{ id: 'x'.repeat(300_000), rssi: -50 }] })];
      for (const p of bad) await pub1.publishAsync(topic1, p, { qos: 1 });
      await pub1.publishAsync(topic1, report(['badge-c1', 'badge-c2'], t0 + 7000), { qos: 1 });
      await waitFor('the message after the bad ones', () => sub.stats.observations === 10);
      assert.ok(sub.stats.rejected >= 5);
      const metrics = await c.metrics.registry.metrics();
      for (const reason of ['bad_json', 'wrong_type', 'sensor_mismatch', 'body_too_large']) assert.match(metrics, new RegExp(`cairn_ingest_rejected_total\\{source="mqtt",reason="${reason}"\\} [1-9]`), reason);

      // A sensor removed from Cairn while the broker still knows it: refused as an unknown sensor.
      await c.services.sensors.remove(sys, orgId, s2);
      assert.equal((await api('GET', `/sensors/${s2}/mqtt-credentials`)).status, 404, 'the credential went with the sensor');
      await pub2.publishAsync(topic2, report(['badge-orphan'], t0 + 8000), { qos: 1 });
      await waitFor('the unknown-sensor refusal', async () => /reason="unknown_sensor"\} 1/.test(await c!.metrics.registry.metrics()));
      assert.ok(logs.some((l) => l.includes('CAIRN_ERR_MQTT_UNKNOWN_SENSOR')));
      assert.ok(logs.some((l) => l.includes('CAIRN_ERR_INGEST_MALFORMED')));
      assert.equal(await fixes(), 10);

      // Published while Cairn's subscriber is stopped: delivered once it is back (password from a file).
      await sub.stop();
      for (let i = 0; i < 4; i++) await pub1.publishAsync(topic1, report([`badge-d${i}x`, `badge-d${i}y`], t0 + 10_000 + i * 1000), { qos: 1 });
      const pwFile = join(filesDir, 'subscriber.pw');
      writeFileSync(pwFile, `${SUBSCRIBER_PASSWORD}\n`, { mode: 0o600 });
      sub = mqttSubscriberFromConfig({ ...c.core.cfg, mqttUrl: broker.url, mqttPasswordFile: pwFile, mqttClientId: clientId }, c.services.ingest, c.core.log)!;
      subs.push(sub);
      assert.equal((await sub.start()).connected, true);
      await waitFor('the messages queued while stopped', () => sub.stats.observations === 8);
      assert.equal(sub.stats.duplicates, 0);
      assert.equal(await fixes(), 18);
      await sub.stop();

      // A crash after the commit, before the PUBACKs: re-delivered, stored once; new messages mixed in are stored too.
      const noAck = subscriber(NoAckSubscriber);
      await noAck.start();
      for (let i = 0; i < 3; i++) await pub1.publishAsync(topic1, report([`badge-e${i}x`, `badge-e${i}y`], t0 + 20_000 + i * 1000), { qos: 1 });
      await waitFor('the unacknowledged batch to commit', () => noAck.stats.observations === 6);
      assert.equal(await fixes(), 24);
      await noAck.abort();
      for (let i = 0; i < 2; i++) await pub1.publishAsync(topic1, report([`badge-f${i}x`, `badge-f${i}y`], t0 + 30_000 + i * 1000), { qos: 1 });
      sub = subscriber();
      await sub.start();
      await waitFor('the re-delivery and the new messages', () => sub.stats.duplicates === 6 && sub.stats.observations === 4);
      await waitFor('every message acknowledged', () => sub.stats.acked === 5);
      assert.equal(await fixes(), 28, 'each observation exactly once');
      await sub.stop();

      // Audit intact; payload identifiers in no log line and (SQLite) in no stored byte.
      assert.equal((await c.services.auditQueries.verify(sys, orgId)).ok, true);
      assert.ok(!logs.some((l) => l.includes('CAIRN_ERR_MQTT_BROKER')), 'deferred PUBACKs raise no client error');
      const text = logs.join('');
      for (const needle of ['badge-a0x', 'badge-stolen', 'badge-e1y', MAC, MAC.replace(/:/g, ''), 'not json at all', cred1.body.password!]) assert.ok(!text.includes(needle), `logs hold ${needle}`);
      if (engine === 'sqlite') {
        const dir = cfg.dataDir;
        for (const f of readdirSync(dir)) {
          if (!/\.sqlite(-wal)?$/.test(f)) continue;
          const bytes = readFileSync(join(dir, f)).toString('latin1');
          for (const needle of ['badge-a0x', 'badge-d2y', MAC, cred1.body.password!, cred2.body.password!]) assert.ok(!bytes.includes(needle), `${f} holds ${needle}`);
        }
      }
    });
  });
}
