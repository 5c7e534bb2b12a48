/** Fuzz: native observation batches, fixed seed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CairnError } from '../../kernel/errors.ts';
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

test('fuzz: the hot path and the exact schema path give the same observations or the same refusal', () => {
  const collect = ['ip', 'ssid'] as const;
  const outcome = (body: string, exactOnly: boolean): unknown => {
    try {
      return { ok: parseNativeBatch(body, { collect: [...collect], exactOnly }) };
    } catch (e) {
      return { code: (e as CairnError).code, details: (e as CairnError).details, message: (e as Error).message };
    }
  };
  let compared = 0;
  fuzzAdapter({
    seed: 52,
    iterations: 4000,
    seeds: [SEED, JSON.stringify({ observations: [{ kind: 'ble-badge', deviceId: '0a:11:22:33:44:55', atMs: 5, readings: [{ sensorId: 'ble-1', rssiDbm: -61.5 }, { sensorId: 'AA-BB-CC-00-11-22', rssiDbm: -70, band: '2.4' }] }] })],
    run: (body) => {
      assert.deepEqual(outcome(body, false), outcome(body, true), body);
      compared++;
      return parseNativeBatch(body);
    },
  });
  assert.equal(compared, 4000);
});

test('objects handed in (undefined fields, shared readings) convert the same on both paths', () => {
  const ok = { kind: 'ble-badge', deviceId: '02:11:22:33:44:55', atMs: 7 };
  const cases: unknown[] = [
    { observations: [{ ...ok, band: undefined, readings: [{ sensorId: 'ble-1', rssiDbm: -60, band: undefined }] }] },
    { observations: [{ ...ok, readings: [{ sensorId: 'ble-1', rssiDbm: -60 }, { sensorId: '00-11-22-33-44-55', rssiDbm: -70 }] }] },
    { observations: [{ ...ok, readings: [] }] },
    { observations: [{ ...ok, unknown: undefined }] },
    { observations: [{ ...ok, ip: '', ssid: 'corp' }] },
    { observations: [{ ...ok, deviceId: undefined }] },
  ];
  for (const c of cases) {
    const run = (exactOnly: boolean): unknown => {
      try {
        return parseNativeBatch(c as object, { collect: ['ip', 'ssid'], exactOnly });
      } catch (e) {
        return (e as CairnError).details;
      }
    };
    assert.deepEqual(run(false), run(true), JSON.stringify(c));
  }
});
