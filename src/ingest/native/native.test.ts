/** Native batch format: conversion, the 1 000 cap, all-or-nothing refusals with paths. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { parseNativeBatch } from './native.ts';

const OBS = {
  kind: 'wifi-connected',
  deviceId: 'AA-BB-CC-DD-EE-FF',
  at: '2024-03-01T09:15:30Z',
  sensorId: '02:00:5E:AA:00:01',
  apMac: '02005eaa0001',
  rssiDbm: -60,
  band: '5',
  readings: [{ sensorId: 'scanner-3', rssiDbm: -70 }],
  x: 1.5,
  y: 2.5,
  floorId: 'f1',
  siteId: 'hq',
  accuracyM: 4,
  sourceRecordId: 'rec-1',
  ip: '192.0.2.7',
  ssid: 'corp',
};

function rejects(input: unknown, why: string, path?: string): CairnError {
  let caught: unknown;
  try {
    parseNativeBatch(input as object);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CairnError, `expected a CairnError for ${why}`);
  assert.equal(caught.code, 'CAIRN_ERR_INGEST_MALFORMED');
  assert.equal(caught.details?.['reason'], why);
  if (path !== undefined) assert.equal(caught.details?.['path'], path);
  return caught;
}

test('a batch converts to observations; MACs normalised; personal fields only when collected', () => {
  const [o] = parseNativeBatch(JSON.stringify({ observations: [OBS] }));
  assert.deepEqual(o, {
    source: 'native',
    kind: 'wifi-connected',
    deviceId: 'aa:bb:cc:dd:ee:ff',
    idType: 'mac',
    randomized: true,
    atMs: Date.parse('2024-03-01T09:15:30Z'),
    sensorId: '02:00:5e:aa:00:01',
    apMac: '02:00:5e:aa:00:01',
    rssiDbm: -60,
    band: '5',
    readings: [{ sensorId: 'scanner-3', rssiDbm: -70 }],
    vendorX: 1.5,
    vendorY: 2.5,
    vendorFloorId: 'f1',
    vendorSiteId: 'hq',
    vendorAccuracyM: 4,
    sourceRecordId: 'rec-1',
  });
  const [c] = parseNativeBatch({ observations: [OBS] }, { collect: ['ip'] });
  assert.equal(c?.ip, '192.0.2.7');
  assert.equal(c?.ssid, undefined);
  const [b] = parseNativeBatch({ observations: [{ kind: 'ble-badge', deviceId: 'badge-7', idType: 'badge', atMs: 1709284530000 }] });
  assert.deepEqual(b, { source: 'native', kind: 'ble-badge', deviceId: 'badge-7', idType: 'badge', randomized: false, atMs: 1709284530000 });
});

test('up to 1 000 observations per batch', () => {
  const one = { kind: 'wifi-unconnected', deviceId: '00:11:22:33:44:55', atMs: 1 };
  assert.equal(parseNativeBatch({ observations: new Array(1000).fill(one) }).length, 1000);
  rejects({ observations: new Array(1001).fill(one) }, 'too_many_items', 'observations');
  rejects({ observations: [] }, 'invalid_value', 'observations');
});

test('the whole batch is refused on the first invalid observation, with its path and never its value', () => {
  const ok = { kind: 'wifi-connected', deviceId: '00:11:22:33:44:55', atMs: 1 };
  rejects({ observations: [ok, { ...ok, deviceId: 'not-a-mac' }] }, 'invalid_mac', 'observations[1].deviceId');
  const e = rejects({ observations: [{ ...ok, username: 'x'.repeat(300) }] }, 'string_too_long', 'observations[0].username');
  assert.ok(!e.message.includes('xxxx'));
  const unknown = rejects({ observations: [{ ...ok, 'aa:bb:cc:dd:ee:01': -60 }] }, 'invalid_value', 'observations[0]');
  assert.ok(!unknown.message.includes('aa:bb'));
  rejects({ observations: [{ ...ok, rssiDbm: 60 }] }, 'invalid_value', 'observations[0].rssiDbm');
  rejects({ observations: [{ ...ok, rssiDbm: '-60' }] }, 'wrong_type', 'observations[0].rssiDbm');
  rejects({ observations: [{ ...ok, kind: 'gps' }] }, 'invalid_value', 'observations[0].kind');
  rejects({ observations: [{ kind: 'wifi-connected', atMs: 1 }] }, 'missing_field', 'observations[0].deviceId');
  rejects({ observations: [{ kind: 'wifi-connected', deviceId: '00:11:22:33:44:55' }] }, 'missing_field', 'observations[0].at');
  rejects({ observations: [{ ...ok, at: '2024-03-01T09:15:30Z' }] }, 'invalid_value', 'observations[0].at');
  rejects({ observations: [{ kind: 'wifi-connected', deviceId: '00:11:22:33:44:55', at: '2024-03-01 09:15:30 local' }] }, 'invalid_timestamp', 'observations[0].at');
  rejects({ observations: [{ ...ok, x: 1 }] }, 'invalid_value', 'observations[0].x');
  rejects({ observations: [{ ...ok, apMac: 'zz' }] }, 'invalid_mac', 'observations[0].apMac');
  rejects({ observations: [ok], extra: true }, 'invalid_value');
  rejects('{"observations":[', 'bad_json');
  rejects([], 'not_object');
});
