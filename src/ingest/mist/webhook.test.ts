/** Mist webhooks on the mist_openapi samples: signature vector, every topic, refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { readFormat } from '../testdata.ts';
import { mistSignature, verifyMistSignature } from './signature.ts';
import { parseMistWebhook, receiveMistWebhook } from './webhook.ts';

const vector = JSON.parse(readFormat('mist-signature-test-vector.json')) as Record<string, string>;

function reason(e: unknown): unknown {
  return e instanceof CairnError ? e.details?.['reason'] : e;
}

function rejects(fn: () => unknown, code: string, why: string): CairnError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CairnError, `expected a CairnError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.equal(reason(caught), why);
  return caught;
}

test('signature: the constructed vector verifies in hex and in base64', () => {
  const body = vector['body']!;
  assert.equal(mistSignature(body, vector['secret']!), vector['X-Mist-Signature-v2_hmac_sha256_hex']);
  verifyMistSignature(body, vector['X-Mist-Signature-v2_hmac_sha256_hex'], vector['secret']!);
  verifyMistSignature(Buffer.from(body), vector['X-Mist-Signature-v2_hmac_sha256_hex']!.toUpperCase(), vector['secret']!);
  verifyMistSignature(body, vector['hmac_sha256_base64'], vector['secret']!);
});

test('signature: rejects a webhook whose signature does not match', () => {
  const body = vector['body']!;
  const sig = vector['X-Mist-Signature-v2_hmac_sha256_hex']!;
  rejects(() => verifyMistSignature(body, sig, 'another-secret'), 'CAIRN_ERR_SIGNATURE', 'bad_signature');
  rejects(() => verifyMistSignature(body.replace('13.5', '13.6'), sig, vector['secret']!), 'CAIRN_ERR_SIGNATURE', 'bad_signature');
  rejects(() => verifyMistSignature(body, vector['X-Mist-Signature_hmac_sha1_hex'], vector['secret']!), 'CAIRN_ERR_SIGNATURE', 'bad_signature');
  rejects(() => verifyMistSignature(body, 'zz' + sig.slice(2), vector['secret']!), 'CAIRN_ERR_SIGNATURE', 'bad_signature');
  rejects(() => verifyMistSignature(body, undefined, vector['secret']!), 'CAIRN_ERR_SIGNATURE', 'missing_signature');
  rejects(() => verifyMistSignature(body, '  ', vector['secret']!), 'CAIRN_ERR_SIGNATURE', 'missing_signature');
});

test('receiveMistWebhook verifies then parses, with headers in any case', () => {
  const body = vector['body']!;
  const r = receiveMistWebhook(body, { 'X-Mist-Signature-v2': vector['X-Mist-Signature-v2_hmac_sha256_hex'] }, { secret: vector['secret']! });
  assert.equal(r.topic, 'location_asset');
  assert.equal(r.observations.length, 1);
  rejects(() => receiveMistWebhook(body, {}, { secret: vector['secret']! }), 'CAIRN_ERR_SIGNATURE', 'missing_signature');
});

test('location_client: a connected Wi-Fi client at x/y metres on a map', () => {
  const r = parseMistWebhook(readFormat('mist-location_client.json'));
  assert.equal(r.topic, 'location_client');
  assert.deepEqual(r.observations, [
    {
      source: 'mist',
      kind: 'wifi-connected',
      deviceId: '56:84:da:e9:ac:8b',
      idType: 'mac',
      randomized: true,
      atMs: 1461220784000,
      vendorFloorId: '845a23bf-bed9-e43c-4c86-6fa474be7ae5',
      vendorSiteId: '4ac1dcf4-9d8b-7211-65c4-057819f0862b',
      vendorX: 13.5,
      vendorY: 3.2,
    },
  ]);
});

test('location_unclient: the same shape, as an unconnected client', () => {
  const [o] = parseMistWebhook(readFormat('mist-location_unclient.json')).observations;
  assert.equal(o?.kind, 'wifi-unconnected');
  assert.equal(o?.deviceId, '56:84:da:e9:ac:8b');
});

test('location_asset: a BLE tag is identified by its iBeacon triple, not its random address', () => {
  const [o] = parseMistWebhook(readFormat('mist-location_asset.json')).observations;
  assert.equal(o?.kind, 'ble-asset');
  assert.equal(o?.idType, 'badge');
  assert.equal(o?.deviceId, 'ibeacon:f3f17139-704a-f03a-2786-0400279e37c3:13:138');
  assert.equal(o?.randomized, false);
  const [b] = parseMistWebhook(readFormat('mist-location_asset.json'), { bleKind: 'ble-badge' }).observations;
  assert.equal(b?.kind, 'ble-badge');
});

test('location_sdk: the app id is the device; its name is copied only when the tenant collects hostnames', () => {
  const [o] = parseMistWebhook(readFormat('mist-location_sdk.json')).observations;
  assert.equal(o?.kind, 'sdk');
  assert.equal(o?.idType, 'app');
  assert.equal(o?.deviceId, 'de87bf9d-183f-e383-cc68-6ba43947d403');
  assert.equal(o?.hostname, undefined);
  const [c] = parseMistWebhook(readFormat('mist-location_sdk.json'), { collect: ['hostname'] }).observations;
  assert.equal(c?.hostname, 'optional');
});

test('location (generic placeholder sample): an unknown client type is skipped and reported', () => {
  const skipped: string[] = [];
  const r = parseMistWebhook(readFormat('mist-location.json'), { onSkip: (why) => skipped.push(why) });
  assert.equal(r.observations.length, 0);
  assert.deepEqual(skipped, ['unsupported_type']);
});

test('zone: enter/exit transitions, keyed by the named asset id', () => {
  const r = parseMistWebhook(readFormat('mist-zone.json'));
  assert.deepEqual(r.zoneTransitions, [
    {
      source: 'mist',
      kind: 'ble-asset',
      deviceId: 'b4695157-0d1d-4da0-8f9e-5c53149389e4',
      idType: 'asset',
      randomized: false,
      trigger: 'enter',
      vendorZoneId: '4495020a-236f-46e0-9453-e3f9cc6476f4',
      atMs: 0,
      vendorFloorId: '09d2b626-2e4e-45ef-a3c4-e6aeb6c83db1',
      vendorSiteId: '72771e6a-6f5e-4de4-a5b9-1266c4197811',
    },
  ]);
});

test('discovered-raw-rssi: the sample carries topic "string" and placeholders; with real values it is one AP reading', () => {
  const sample = readFormat('mist-discovered-raw-rssi.json');
  rejects(() => parseMistWebhook(sample), 'CAIRN_ERR_INGEST_UNSUPPORTED', 'unsupported_topic');
  const doc = JSON.parse(sample) as { topic: string; events: Record<string, unknown>[] };
  doc.topic = 'discovered-raw-rssi';
  const skipped: string[] = [];
  assert.equal(parseMistWebhook(JSON.stringify(doc), { onSkip: (w) => skipped.push(w) }).observations.length, 0);
  assert.deepEqual(skipped, ['invalid_mac']);
  Object.assign(doc.events[0]!, { mac: 'c2ffee000001', rssi: -71, timestamp: 1700000000.25 });
  const [o] = parseMistWebhook(JSON.stringify(doc)).observations;
  assert.equal(o?.deviceId, 'c2:ff:ee:00:00:01');
  assert.equal(o?.randomized, true);
  assert.equal(o?.atMs, 1700000000250);
  assert.equal(o?.sensorId, '3bafab7b-4400-4bcf-8e6e-09f954699940');
  assert.deepEqual(o?.readings, [{ sensorId: '3bafab7b-4400-4bcf-8e6e-09f954699940', rssiDbm: -71 }]);
});

test('sdkclient_scan_data: the phone’s own scan becomes multi-AP readings with bands', () => {
  const [o] = parseMistWebhook(readFormat('mist-sdkclient_scan_data.json')).observations;
  assert.equal(o?.kind, 'sdk');
  assert.equal(o?.deviceId, '70:ef:00:71:53:5f');
  assert.equal(o?.atMs, 1592333828000);
  assert.equal(o?.apMac, '5c:5b:35:2f:58:7e');
  assert.equal(o?.rssiDbm, -87);
  assert.equal(o?.band, '2.4');
  assert.deepEqual(o?.readings, [
    { sensorId: '5c:5b:35:2f:58:7e', rssiDbm: -87, band: '2.4' },
    { sensorId: '5c:5b:35:2f:58:7e', rssiDbm: -75, band: '5' },
  ]);
});

test('ping is acknowledged and carries nothing; other topics are refused as unsupported', () => {
  const r = parseMistWebhook(readFormat('mist-ping.json'));
  assert.equal(r.ping, true);
  assert.equal(r.observations.length, 0);
  rejects(() => parseMistWebhook(readFormat('mist-occupancy-alerts.json')), 'CAIRN_ERR_INGEST_UNSUPPORTED', 'unsupported_topic');
});

test('malformed bodies are refused with a reason label', () => {
  const good = readFormat('mist-location_client.json');
  rejects(() => parseMistWebhook(good.slice(0, 100)), 'CAIRN_ERR_INGEST_MALFORMED', 'bad_json');
  rejects(() => parseMistWebhook(''), 'CAIRN_ERR_INGEST_MALFORMED', 'empty_body');
  rejects(() => parseMistWebhook('[]'), 'CAIRN_ERR_INGEST_MALFORMED', 'not_object');
  rejects(() => parseMistWebhook('{"topic":"location_client","events":{}}'), 'CAIRN_ERR_INGEST_MALFORMED', 'wrong_type');
  rejects(() => parseMistWebhook('{"topic":"location_client"}'), 'CAIRN_ERR_INGEST_MALFORMED', 'missing_field');
  rejects(() => parseMistWebhook(JSON.stringify({ topic: 'location_client', events: new Array(5001).fill({}) })), 'CAIRN_ERR_INGEST_MALFORMED', 'too_many_items');
  rejects(() => parseMistWebhook(good, { maxBodyBytes: 100 }), 'CAIRN_ERR_INGEST_MALFORMED', 'body_too_large');
  rejects(() => parseMistWebhook(new Uint8Array([0x7b, 0xff, 0x7d])), 'CAIRN_ERR_INGEST_MALFORMED', 'bad_json');
  rejects(() => parseMistWebhook(JSON.stringify({ topic: 'x'.repeat(1000), events: [] })), 'CAIRN_ERR_INGEST_MALFORMED', 'string_too_long');
});

test('a bad event is skipped, or rejects the delivery in strict mode, without quoting the MAC', () => {
  const doc = JSON.parse(readFormat('mist-location_client.json')) as { events: Record<string, unknown>[] };
  const good = doc.events[0]!;
  doc.events = [{ ...good, x: 'left' }, { ...good, mac: '5684dae9ac8bZZ' }, good];
  const skipped: [string, number][] = [];
  const r = parseMistWebhook(JSON.stringify(doc), { onSkip: (w, i) => skipped.push([w, i]) });
  assert.equal(r.observations.length, 1);
  assert.deepEqual(skipped, [['wrong_type', 0], ['invalid_mac', 1]]);
  const e = rejects(() => parseMistWebhook(JSON.stringify(doc), { strict: true }), 'CAIRN_ERR_INGEST_MALFORMED', 'wrong_type');
  assert.equal(e.details?.['path'], 'events[0].x');
  doc.events = [{ ...good, mac: '5684dae9ac8bZZ' }];
  const e2 = rejects(() => parseMistWebhook(JSON.stringify(doc), { strict: true }), 'CAIRN_ERR_INGEST_MALFORMED', 'invalid_mac');
  assert.ok(!(e2.message + JSON.stringify(e2.details)).toLowerCase().includes('5684dae9ac8b'));
});
