/** MQTT sensor format: topic segments, reports, spoofing and refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { parseMqttMessage, parseMqttTopic } from './mqtt.ts';

const TOPIC = 'cairn/acme/hq/s-17';
const AT = 1710072000000;
const SAMPLE = JSON.stringify({
  sensorId: 's-17',
  atMs: AT,
  reports: [
    { id: 'AABB.CCDD.EEFF', rssi: -67, band: '5' },
    { id: '02-00-5E-10-00-01', rssi: 72, band: 2.4, kind: 'wifi-connected' },
    { id: 'badge-0042', rssi: -71, kind: 'ble-badge' },
  ],
});

function rejects(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_INGEST_MALFORMED' && e.details?.['reason'] === why);
}

test('topic segments: cairn/<org>/<site>/<sensor>, no wildcards or extra levels', () => {
  assert.deepEqual(parseMqttTopic(TOPIC), { org: 'acme', site: 'hq', sensor: 's-17' });
  for (const bad of ['cairn/acme/hq', 'cairn/acme/hq/s/x', 'other/acme/hq/s', 'cairn/+/hq/s', 'cairn/acme/#/s', 'cairn//hq/s', `cairn/acme/hq/${'s'.repeat(65)}`, 'cairn/ac me/hq/s']) {
    rejects(() => parseMqttTopic(bad), 'bad_topic');
  }
});

test('one observation per report: MACs normalised, RSSI made negative, bands and kinds kept, badges by id', () => {
  const obs = parseMqttMessage(TOPIC, SAMPLE);
  assert.deepEqual(obs, [
    { source: 'mqtt', kind: 'wifi-unconnected', deviceId: 'aa:bb:cc:dd:ee:ff', idType: 'mac', randomized: true, atMs: AT, sensorId: 's-17', rssiDbm: -67, vendorSiteId: 'hq', band: '5' },
    { source: 'mqtt', kind: 'wifi-connected', deviceId: '02:00:5e:10:00:01', idType: 'mac', randomized: true, atMs: AT, sensorId: 's-17', rssiDbm: -72, vendorSiteId: 'hq', band: '2.4' },
    { source: 'mqtt', kind: 'ble-badge', deviceId: 'badge-0042', idType: 'badge', randomized: false, atMs: AT, sensorId: 's-17', rssiDbm: -71, vendorSiteId: 'hq' },
  ]);
  assert.deepEqual(parseMqttMessage(TOPIC, Buffer.from(JSON.stringify({ atMs: AT, reports: [] }))), []);
});

test('a payload may not claim another sensor or organisation', () => {
  rejects(() => parseMqttMessage('cairn/acme/hq/s-18', SAMPLE), 'sensor_mismatch');
  rejects(() => parseMqttMessage(TOPIC, SAMPLE, { expectOrg: 'other' }), 'bad_topic');
});

test('bad reports are skipped (or reject the message in strict mode); bad envelopes are refused', () => {
  const msg = JSON.stringify({ atMs: AT, reports: [{ id: 'badge-1', rssi: -60 }, { id: 'aa:bb:cc:dd:ee:ff', rssi: 0 }, { id: 'aa:bb:cc:dd:ee:ff', rssi: -60, band: '7' }, { id: 'aa:bb:cc:dd:ee:ff', rssi: -60, kind: 'sdk' }, { id: 'aa:bb:cc:dd:ee:ff', rssi: -60 }] });
  const skipped: string[] = [];
  assert.equal(parseMqttMessage(TOPIC, msg, { onSkip: (w) => skipped.push(w) }).length, 1);
  assert.deepEqual(skipped, ['invalid_mac', 'invalid_rssi', 'invalid_value', 'invalid_value']);
  rejects(() => parseMqttMessage(TOPIC, msg, { strict: true }), 'invalid_mac');
  rejects(() => parseMqttMessage(TOPIC, '{"atMs":1710072000000,"reports":[{"id":'), 'bad_json');
  rejects(() => parseMqttMessage(TOPIC, '{"reports":[]}'), 'missing_field');
  rejects(() => parseMqttMessage(TOPIC, '{"atMs":1710072000,"reports":{}}'), 'wrong_type');
  rejects(() => parseMqttMessage(TOPIC, '{"atMs":-5,"reports":[]}'), 'invalid_timestamp');
  rejects(() => parseMqttMessage(TOPIC, JSON.stringify({ atMs: AT, reports: new Array(1001).fill({ id: 'b', rssi: -1 }) })), 'too_many_items');
});
