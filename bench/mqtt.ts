/**
 * MQTT ingest figures: a private Mosquitto on loopback with Cairn-generated password and ACL files,
 * 8 BLE sensors each publishing with its own credentials (QoS 1, up to 200 unacknowledged per
 * sensor) messages of 20 badge reports; Cairn's subscriber batches them through the pipeline
 * (location services on, every fix stored) and acknowledges after each commit. Reports messages
 * and observations per second from the first publish to the last commit, and the mean batch.
 * Embedded SQLite; publishers, subscriber and pipeline share one process, the broker is another.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { MqttSubscriber, aclFileText, brokerSnippet, mosquittoPasswordHash, passwordFileText, type BrokerSensorEntry } from '../src/ingest/index.ts';
import { mosquittoPath, startMosquitto } from '../test/mosquitto.ts';

const SENSORS = 8;
const REPORTS = 20;
const BADGES = 5_000;
const WINDOW = 200;

export async function benchMqtt(o: { full: boolean }): Promise<Record<string, unknown>> {
  if (!mosquittoPath()) return { skipped: 'mosquitto is not installed' };
  const perSensor = o.full ? 2_500 : 500;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-mqtt-'));
  const files = join(dir, 'broker');
  const c = await buildApp(loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: Buffer.alloc(32, 9).toString('base64'), logLevel: 'warn', retentionIntervalMinutes: 0 } }), { http: false });
  const clients: MqttClient[] = [];
  let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  let sub: MqttSubscriber | undefined;
  try {
    const sys = systemCtx('test');
    const { tenancy, sensors, ingest, mqtt: creds } = c.services;
    const orgId = (await tenancy.createOrg(sys, { name: 'Bench MQTT', country: 'NL' })).id;
    const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
    const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 80, heightM: 40 })).id;
    await tenancy.createZone(sys, orgId, floorId, { name: 'All', polygon: [[0, 0], [80, 0], [80, 40], [0, 40]] });
    await ingest.settings.update(sys, orgId, { locationServices: true });
    const issued: { username: string; password: string; topic: string }[] = [];
    for (let i = 0; i < SENSORS; i++) {
      const id = (await sensors.create(sys, orgId, siteId, { floorId, kind: 'ble-sensor', name: `S${i}`, xM: 5 + i * 10, yM: 20 })).id;
      issued.push(await creds.issue(sys, orgId, id));
    }
    const entries: BrokerSensorEntry[] = await creds.entries(sys, orgId);
    const subscriber = { username: 'cairn', passwordHash: mosquittoPasswordHash('bench-subscriber') };
    mkdirSync(files);
    writeFileSync(join(files, 'password_file'), passwordFileText(entries, subscriber));
    writeFileSync(join(files, 'acl_file'), aclFileText(entries, subscriber));
    writeFileSync(join(files, 'cairn-mosquitto.conf'), brokerSnippet(files));
    broker = await startMosquitto(files);
    sub = new MqttSubscriber(ingest, c.core.log, { url: broker.url, username: 'cairn', password: 'bench-subscriber', clientId: 'cairn-bench' });
    await sub.start();
    for (const s of issued) clients.push(await mqtt.connectAsync(broker.url, { username: s.username, password: s.password, protocolVersion: 5, reconnectPeriod: 0 }));

    // Payloads prepared beforehand.
    const t0 = Date.now() - 3_600_000;
    const payloads = issued.map((_, si) =>
      Array.from({ length: perSensor }, (_, m) => JSON.stringify({ atMs: t0 + m * 1000, reports: Array.from({ length: REPORTS }, (_, r) => ({ id: `badge-${(si * 7919 + m * 31 + r * 613) % BADGES}`, rssi: -55 - ((m + r) % 30), kind: 'ble-badge' })) })),
    );
    const total = SENSORS * perSensor * REPORTS;
    const started = performance.now();
    await Promise.all(
      clients.map(async (cl, si) => {
        const list = payloads[si]!;
        let next = 0;
        const lane = async () => {
          while (next < list.length) await cl.publishAsync(issued[si]!.topic, list[next++]!, { qos: 1 });
        };
        await Promise.all(Array.from({ length: WINDOW }, lane));
      }),
    );
    const published = performance.now();
    for (let i = 0; sub.stats.observations + sub.stats.duplicates < total; i++) {
      if (i > 60_000) throw new Error(`stalled at ${sub.stats.observations} of ${total} observations`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      sensors: SENSORS,
      messages: SENSORS * perSensor,
      reportsPerMessage: REPORTS,
      observations: sub.stats.observations,
      messagesPerSecond: Math.round((SENSORS * perSensor) / seconds),
      observationsPerSecond: Math.round(total / seconds),
      publishSeconds: Math.round((published - started) / 10) / 100,
      transactions: sub.stats.batches,
      meanObservationsPerTransaction: Math.round(sub.stats.observations / Math.max(1, sub.stats.batches)),
      rejected: sub.stats.rejected,
    };
  } finally {
    for (const cl of clients) await cl.endAsync(true).catch(() => undefined);
    await sub?.stop().catch(() => undefined);
    await broker?.stop();
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
