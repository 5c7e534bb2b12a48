/** Fuzz: Mist webhook deliveries from every sample and mutated signature headers, fixed seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter, mutateText, prng } from '../fuzz.ts';
import { readFormat } from '../testdata.ts';
import { verifyMistSignature } from './signature.ts';
import { parseMistWebhook } from './webhook.ts';

const SAMPLES = [
  'mist-location.json',
  'mist-location_client.json',
  'mist-location_unclient.json',
  'mist-location_asset.json',
  'mist-location_sdk.json',
  'mist-zone.json',
  'mist-discovered-raw-rssi.json',
  'mist-sdkclient_scan_data.json',
  'mist-ping.json',
].map((f) => readFormat(f).replace('"topic": "string"', '"topic": "discovered-raw-rssi"'));

test('fuzz: mutated Mist deliveries give a result or a CairnError, quickly', () => {
  for (const strict of [false, true]) {
    const r = fuzzAdapter({ seed: strict ? 7 : 1, iterations: 3000, seeds: SAMPLES, run: (input) => parseMistWebhook(input, { strict, collect: ['hostname'] }) });
    assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
  }
});

test('fuzz: mutated signature headers are refused with CAIRN_ERR_SIGNATURE', () => {
  const v = JSON.parse(readFormat('mist-signature-test-vector.json')) as Record<string, string>;
  const rnd = prng(99);
  for (let i = 0; i < 2000; i++) {
    const header = mutateText(v['X-Mist-Signature-v2_hmac_sha256_hex']!, rnd);
    if (header.toLowerCase() === v['X-Mist-Signature-v2_hmac_sha256_hex']) continue;
    assert.throws(() => verifyMistSignature(v['body']!, header, v['secret']!), (e: unknown) => (e as { code?: string }).code === 'CAIRN_ERR_SIGNATURE');
  }
});
