/** MAC parsing in every notation, refusals, the locally-administered and group bits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../kernel/errors.ts';
import { prng } from './fuzz.ts';
import { isLocallyAdministered, isMulticastMac, isValidMac, normaliseMac, parseMac } from './mac.ts';

test('parses every common notation to lower-case colon form', () => {
  const want = 'aa:bb:cc:0d:ee:ff';
  for (const s of ['aa:bb:cc:0d:ee:ff', 'AA:BB:CC:0D:EE:FF', 'aa-bb-cc-0d-ee-ff', 'aabb.cc0d.eeff', 'AABB.CC0D.EEFF', 'aabbcc0deeff', 'aabb-cc0d-eeff', 'aabbcc-0deeff', 'aabbcc:0deeff', 'aa bb cc 0d ee ff', ' aa:bb:cc:0d:ee:ff ', 'aa:bb:cc:d:ee:ff']) {
    assert.equal(parseMac(s), want, s);
  }
  assert.equal(parseMac('0:1c:42:0:0:8'), '00:1c:42:00:00:08');
});

test('refuses what is not a MAC', () => {
  for (const s of ['', 'string', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb:cc:dd:ee:fg', 'aa:bb-cc:dd:ee:ff', 'aabb.ccdd.eef', 'aa.bb.cc.dd.ee.ff', 'aabbccddeef', 'aabbccddeeff0', 'aa::bb:cc:dd:ee', ':aa:bb:cc:dd:ee:ff', 'aabb ccdd eeff', '#4gSi3SqEV2c.2Z2tlIFTdE#', 'aaa:bb:cc:dd:ee:f']) {
    assert.equal(parseMac(s), undefined, s);
    assert.equal(isValidMac(s), false, s);
  }
  assert.equal(parseMac(42 as unknown as string), undefined);
  assert.throws(() => normaliseMac('nope', 'mist', 'events[0].mac'), (e: unknown) => e instanceof CairnError && e.details?.['reason'] === 'invalid_mac' && e.details?.['path'] === 'events[0].mac');
  assert.equal(normaliseMac('5684DAE9AC8B'), '56:84:da:e9:ac:8b');
});

test('the locally-administered bit marks randomised addresses; the group bit marks multicast', () => {
  assert.equal(isLocallyAdministered('02:00:5e:10:00:01'), true);
  assert.equal(isLocallyAdministered('da:a1:19:00:00:01'), true);
  assert.equal(isLocallyAdministered('00:39:a7:8f:4a:00'), false);
  assert.equal(isLocallyAdministered('5684dae9ac8b'), true);
  assert.equal(isLocallyAdministered('garbage'), false);
  assert.equal(isMulticastMac('01:00:5e:00:00:fb'), true);
  assert.equal(isMulticastMac('ff:ff:ff:ff:ff:ff'), true);
  assert.equal(isMulticastMac('00:39:a7:8f:4a:00'), false);
});

test('round trip: any 48-bit value in any notation parses back to itself', () => {
  const rnd = prng(5);
  for (let i = 0; i < 2000; i++) {
    const bytes = Array.from({ length: 6 }, () => Math.floor(rnd() * 256).toString(16).padStart(2, '0'));
    const colon = bytes.join(':');
    const hex = bytes.join('');
    for (const s of [colon, colon.toUpperCase(), bytes.join('-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`]) assert.equal(parseMac(s), colon);
  }
});
