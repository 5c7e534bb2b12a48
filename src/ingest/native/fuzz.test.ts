/** Fuzz: native observation batches, fixed seed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter } from '../fuzz.ts';
import { parseNativeBatch } from './native.ts';

const SEED = JSON.stringify({
  observations: [
    { kind: 'wifi-connected', deviceId: 'AA-BB-CC-DD-EE-FF', at: '2024-03-01T09:15:30Z', sensorId: 's1', rssiDbm: -60, band: '5', readings: [{ sensorId: 's2', rssiDbm: -70 }], x: 1, y: 2, floorId: 'f', sourceRecordId: 'r1', ip: '192.0.2.7' },
    { kind: 'ble-badge', deviceId: 'badge-7', idType: 'badge', atMs: 1709284530000, lat: 52.5, lng: 13.4 },
  ],
});

test('fuzz: mutated native batches give observations or a CairnError, quickly', () => {
  const r = fuzzAdapter({ seed: 51, iterations: 4000, seeds: [SEED], run: (body) => parseNativeBatch(body, { collect: ['ip', 'username', 'hostname', 'ssid', 'manufacturer', 'os'] }) });
  assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
});
