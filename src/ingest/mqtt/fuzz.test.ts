/** Fuzz: MQTT sensor messages, fixed seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter } from '../fuzz.ts';
import { parseMqttMessage } from './mqtt.ts';

const TOPIC = 'cairn/acme/hq/s-17';
const SAMPLE = JSON.stringify({
  sensorId: 's-17',
  atMs: 1710072000000,
  reports: [
    { id: 'AABB.CCDD.EEFF', rssi: -67, band: '5' },
    { id: '02-00-5E-10-00-01', rssi: 72, band: 2.4, kind: 'wifi-connected' },
    { id: 'badge-0042', rssi: -71, kind: 'ble-badge' },
  ],
});

test('fuzz: mutated sensor messages give observations or a CairnError, quickly', () => {
  for (const strict of [false, true]) {
    const r = fuzzAdapter({ seed: strict ? 41 : 42, iterations: 3000, seeds: [SAMPLE], run: (payload) => parseMqttMessage(TOPIC, payload, { strict }) });
    assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
  }
});
