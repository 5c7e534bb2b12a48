/** Shared readers and normalisers: RSSI, bands, ISO times, the R-PRIV-1 filter, record loop, bodies, beacon ids. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../kernel/errors.ts';
import { eddystoneUidId, iBeaconId } from './ble.ts';
import { ingestReasonOf } from './errors.ts';
import { collectFlags, copyPersonal, eachRecord, isoToMs, normaliseBand, normaliseRssiDbm, parseJsonBody } from './read.ts';
import type { RawObservation } from './types.ts';

test('RSSI is always negative dBm; zero and beyond -130 dBm mean "not heard"', () => {
  assert.equal(normaliseRssiDbm(-67), -67);
  assert.equal(normaliseRssiDbm(67), -67);
  assert.equal(normaliseRssiDbm(-67.5), -67.5);
  for (const v of [0, -200, 200, 100 - 300, Number.NaN, Number.POSITIVE_INFINITY]) assert.equal(normaliseRssiDbm(v), undefined, String(v));
});

test('bands from the spellings vendors use', () => {
  assert.equal(normaliseBand('2.4'), '2.4');
  assert.equal(normaliseBand(2.4), '2.4');
  assert.equal(normaliseBand('2.4GHz'), '2.4');
  assert.equal(normaliseBand('IEEE_802_11_B'), '2.4');
  assert.equal(normaliseBand(5), '5');
  assert.equal(normaliseBand('5 GHz'), '5');
  assert.equal(normaliseBand('6E'), '6');
  assert.equal(normaliseBand('60'), undefined);
  assert.equal(normaliseBand(null), undefined);
});

test('ISO times need a date, a time and a zone', () => {
  assert.equal(isoToMs('2024-03-01T09:15:30Z', 'native', 'at'), Date.UTC(2024, 2, 1, 9, 15, 30));
  assert.equal(isoToMs('2024-03-01T10:15:30.5+01:00', 'native', 'at'), Date.UTC(2024, 2, 1, 9, 15, 30, 500));
  for (const s of ['2024-03-01', '2024-03-01T09:15:30', 'yesterday', '2024-13-01T09:15:30Z', '9999-03-01T09:15:30Z']) {
    assert.throws(() => isoToMs(s, 'native', 'at'), (e: unknown) => ingestReasonOf(e) === 'invalid_timestamp', s);
  }
});

test('personal fields are copied only when enabled, and empty values never', () => {
  const o = { source: 'native', deviceId: 'x' } as unknown as RawObservation;
  copyPersonal(o, collectFlags({ collect: ['ip', 'ssid'] }), { ip: '192.0.2.1', ssid: '', os: 'iOS' });
  assert.equal(o.ip, '192.0.2.1');
  assert.equal('ssid' in o, false);
  assert.equal('os' in o, false);
  assert.deepEqual(collectFlags(undefined), { ip: false, username: false, hostname: false, ssid: false, manufacturer: false, os: false });
});

test('eachRecord skips refused records, rolls back their partial output, and lets bugs through', () => {
  const skipped: [string, number][] = [];
  const out = eachRecord([1, 2, 3], { onSkip: (r, i) => skipped.push([r, i]) }, [] as number[], (item, _i, acc) => {
    acc.push(item as number);
    if (item === 2) throw new CairnError('CAIRN_ERR_INGEST_MALFORMED', 'x', { reason: 'wrong_type' });
  });
  assert.deepEqual(out, [1, 3]);
  assert.deepEqual(skipped, [['wrong_type', 1]]);
  assert.throws(() => eachRecord([1], {}, [], () => { throw new TypeError('bug'); }), TypeError);
  assert.equal(ingestReasonOf(new TypeError('bug')), 'internal');
});

test('bodies: size-capped before parsing, UTF-8 checked', () => {
  assert.deepEqual(parseJsonBody('{"a":1}', 'native'), { a: 1 });
  assert.throws(() => parseJsonBody('"' + 'é'.repeat(600) + '"', 'native', 1000), (e: unknown) => ingestReasonOf(e) === 'body_too_large');
  assert.throws(() => parseJsonBody(new Uint8Array(2000), 'native', 1000), (e: unknown) => ingestReasonOf(e) === 'body_too_large');
  assert.throws(() => parseJsonBody('   ', 'native'), (e: unknown) => ingestReasonOf(e) === 'empty_body');
});

test('beacon identities: iBeacon triples and Eddystone UIDs; factory-default 0/0 identifies nothing', () => {
  assert.equal(iBeaconId('F3F17139-704A-F03A-2786-0400279E37C3', 13, 138), 'ibeacon:f3f17139-704a-f03a-2786-0400279e37c3:13:138');
  assert.equal(iBeaconId('f3f17139704af03a27860400279e37c3', 1, 0), 'ibeacon:f3f17139-704a-f03a-2786-0400279e37c3:1:0');
  assert.equal(iBeaconId('f3f17139-704a-f03a-2786-0400279e37c3', 0, 0), undefined);
  assert.equal(iBeaconId('not-a-uuid', 1, 2), undefined);
  assert.equal(iBeaconId('f3f17139-704a-f03a-2786-0400279e37c3', 70000, 2), undefined);
  assert.equal(eddystoneUidId('2818e3868dec25629ede', '5c5b35000001'), 'eddystone:2818e3868dec25629ede:5c5b35000001');
  assert.equal(eddystoneUidId('string', 'string'), undefined);
});
