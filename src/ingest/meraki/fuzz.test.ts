/** Fuzz: Meraki Scanning API v3 posts built from the constructed samples, fixed seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter } from '../fuzz.ts';
import { readFormat } from '../testdata.ts';
import { parseMerakiScanning } from './scanning.ts';

const WIFI = readFormat('meraki-scanning-v3-wifi.constructed.json');
const BLE = readFormat('meraki-scanning-v3-ble.constructed.json');
const secret = 'supersecret-test';

test('fuzz: mutated Scanning API posts give observations or a CairnError, quickly', () => {
  for (const strict of [false, true]) {
    const r = fuzzAdapter({ seed: strict ? 11 : 12, iterations: 3000, seeds: [WIFI, BLE], run: (input) => parseMerakiScanning(input, { secret, strict, collect: ['ip', 'ssid', 'os', 'manufacturer', 'username'] }) });
    assert.ok(r.accepted > 100 && r.rejected > 100, JSON.stringify(r));
  }
});
