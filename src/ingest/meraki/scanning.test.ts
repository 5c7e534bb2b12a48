/** Meraki Scanning API v3 on the constructed WiFi and BLE samples: validator, secret, fixes, BLE identity. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { readFormat } from '../testdata.ts';
import { merakiValidatorResponse, parseMerakiScanning } from './scanning.ts';

const WIFI = readFormat('meraki-scanning-v3-wifi.constructed.json');
const BLE = readFormat('meraki-scanning-v3-ble.constructed.json');
const secret = 'supersecret-test';

function rejects(fn: () => unknown, code: string, why: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CairnError && e.code === code && e.details?.['reason'] === why);
}

test('the validator GET is answered with the validator string as plain text', () => {
  assert.deepEqual(merakiValidatorResponse('da6a17c407bb11dfeec7392a5042be0a4cc034b6'), {
    status: 200,
    contentType: 'text/plain',
    body: 'da6a17c407bb11dfeec7392a5042be0a4cc034b6',
  });
});

test('WiFi: one observation per location fix, with multi-AP readings, variance as accuracy and the strongest AP', () => {
  const obs = parseMerakiScanning(WIFI, { secret });
  assert.equal(obs.length, 3);
  assert.deepEqual(obs[0], {
    source: 'meraki',
    kind: 'wifi-connected',
    deviceId: '02:00:5e:10:00:01',
    idType: 'mac',
    randomized: true,
    atMs: Date.parse('2024-03-01T09:15:21Z'),
    vendorSiteId: 'L_000000000000000001',
    vendorX: 7.97,
    vendorY: 10.58,
    lat: 52.52001,
    lng: 13.40495,
    vendorAccuracyM: 1.69,
    vendorFloorId: 'g_000000000000000001',
    readings: [
      { sensorId: '02:00:5e:aa:00:01', rssiDbm: -52 },
      { sensorId: '02:00:5e:aa:00:02', rssiDbm: -61 },
      { sensorId: '02:00:5e:aa:00:03', rssiDbm: -67 },
    ],
    sensorId: '02:00:5e:aa:00:01',
    apMac: '02:00:5e:aa:00:01',
    rssiDbm: -52,
  });
  assert.equal(obs[1]?.atMs, Date.parse('2024-03-01T09:15:46Z'));
  // The second client has no fixes: its latest record gives time, nearest AP and RSSI.
  assert.deepEqual(obs[2], {
    source: 'meraki',
    kind: 'wifi-unconnected',
    deviceId: '02:00:5e:10:00:02',
    idType: 'mac',
    randomized: true,
    atMs: Date.parse('2024-03-01T09:14:02Z'),
    vendorSiteId: 'L_000000000000000001',
    apMac: '02:00:5e:aa:00:03',
    sensorId: '02:00:5e:aa:00:03',
    rssiDbm: -88,
  });
});

test('personal fields are copied only when the tenant collects them (R-PRIV-1)', () => {
  const none = parseMerakiScanning(WIFI, { secret });
  for (const k of ['ip', 'ssid', 'os', 'manufacturer', 'username']) assert.equal((none[0] as unknown as Record<string, unknown>)[k], undefined, k);
  const some = parseMerakiScanning(WIFI, { secret, collect: ['ip', 'ssid', 'manufacturer'] });
  assert.equal(some[0]?.ip, '192.0.2.25');
  assert.equal(some[0]?.ssid, 'example-corp');
  assert.equal(some[0]?.manufacturer, 'Apple');
  assert.equal(some[0]?.username, undefined);
  assert.equal(some[2]?.manufacturer, 'Intel');
});

test('BLE: beacons are identified by their iBeacon triple, also when only raw advertising data is sent', () => {
  const obs = parseMerakiScanning(BLE, { secret, bleKind: 'ble-badge' });
  assert.equal(obs.length, 2);
  assert.equal(obs[0]?.kind, 'ble-badge');
  assert.equal(obs[0]?.idType, 'badge');
  assert.equal(obs[0]?.deviceId, 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:17');
  assert.equal(obs[0]?.readings?.length, 3);
  // The second client's rawData encodes the same UUID, major 100 and minor 17: the same tag under another address.
  assert.equal(obs[1]?.deviceId, 'ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:100:17');
  assert.equal(obs[1]?.rssiDbm, -90);
});

test('tolerates "Bluetooth" as the BLE type, numbers as strings and positive RSSI', () => {
  const doc = JSON.parse(BLE) as { type: string; data: { observations: Record<string, unknown>[] } };
  doc.type = 'Bluetooth';
  const o = doc.data.observations[1]!;
  o['latestRecord'] = { time: '2024-03-01T09:14:58Z', nearestApMac: '02:00:5e:aa:00:04', nearestApRssi: '90' };
  const loc = (doc.data.observations[0]!['locations'] as Record<string, unknown>[])[0]!;
  loc['x'] = '12.4';
  loc['lat'] = '52.52003';
  const obs = parseMerakiScanning(JSON.stringify(doc), { secret });
  assert.equal(obs[0]?.kind, 'ble-asset');
  assert.equal(obs[0]?.vendorX, 12.4);
  assert.equal(obs[0]?.lat, 52.52003);
  assert.equal(obs[1]?.rssiDbm, -90);
});

test('rejects a POST whose shared secret does not match, and other versions or types', () => {
  rejects(() => parseMerakiScanning(WIFI, { secret: 'other' }), 'CAIRN_ERR_SIGNATURE', 'bad_secret');
  rejects(() => parseMerakiScanning(WIFI.replace('"supersecret-test"', '42'), { secret }), 'CAIRN_ERR_SIGNATURE', 'bad_secret');
  rejects(() => parseMerakiScanning(WIFI.replace('"3.0"', '"2.0"'), { secret }), 'CAIRN_ERR_INGEST_UNSUPPORTED', 'unsupported_version');
  rejects(() => parseMerakiScanning(WIFI.replace('"WiFi"', '"DevicesSeen"'), { secret }), 'CAIRN_ERR_INGEST_UNSUPPORTED', 'unsupported_type');
});

test('malformed bodies and clients are refused with reasons; strict mode rejects the POST', () => {
  rejects(() => parseMerakiScanning(WIFI.slice(0, 200), { secret }), 'CAIRN_ERR_INGEST_MALFORMED', 'bad_json');
  rejects(() => parseMerakiScanning(JSON.stringify({ version: '3.0', secret, type: 'WiFi' }), { secret }), 'CAIRN_ERR_INGEST_MALFORMED', 'missing_field');
  const doc = JSON.parse(WIFI) as { data: { observations: Record<string, unknown>[] } };
  doc.data.observations[0]!['clientMac'] = 'not-a-mac';
  const skipped: string[] = [];
  assert.equal(parseMerakiScanning(JSON.stringify(doc), { secret, onSkip: (w) => skipped.push(w) }).length, 1);
  assert.deepEqual(skipped, ['invalid_mac']);
  rejects(() => parseMerakiScanning(JSON.stringify(doc), { secret, strict: true }), 'CAIRN_ERR_INGEST_MALFORMED', 'invalid_mac');
  const bad = JSON.parse(WIFI) as { data: { observations: Record<string, unknown>[] } };
  (bad.data.observations[0]!['locations'] as Record<string, unknown>[])[1]!['time'] = '2024-03-01 09:15';
  rejects(() => parseMerakiScanning(JSON.stringify(bad), { secret, strict: true }), 'CAIRN_ERR_INGEST_MALFORMED', 'invalid_timestamp');
  // A client skipped half-way leaves none of its fixes behind.
  assert.equal(parseMerakiScanning(JSON.stringify(bad), { secret }).length, 1);
});
