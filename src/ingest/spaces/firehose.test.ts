/** Spaces firehose lines on the Beam_Template samples: location update, keep-alive, counts, refusals; the LRU. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { readFormat } from '../testdata.ts';
import { parseSpacesLine } from './firehose.ts';
import { LruSet } from './lru.ts';

/** The samples are pretty-printed; on the wire each record is one line. */
const DLU = JSON.stringify(JSON.parse(readFormat('cisco-spaces-device_location_update.json')));
const KEEP_ALIVE = JSON.stringify(JSON.parse(readFormat('cisco-spaces-keep_alive.json')));

function rejects(fn: () => unknown, why: string): void {
  assert.throws(fn, (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_INGEST_MALFORMED' && e.details?.['reason'] === why);
}

test('DEVICE_LOCATION_UPDATE: one observation, feet converted to metres, -999 lat/lng dropped, recordUid as source id', () => {
  const r = parseSpacesLine(DLU);
  assert.equal(r.recordUid, 'event-f3e19217');
  assert.equal(r.recordTimestamp, 1641977166586);
  assert.equal(r.eventType, 'DEVICE_LOCATION_UPDATE');
  assert.equal(r.tenantId, 'spaces-tenant-549be59d');
  assert.equal(r.keepAlive, false);
  assert.equal(r.observations.length, 1);
  const o = r.observations[0]!;
  assert.deepEqual(
    { ...o, vendorX: Math.round(o.vendorX! * 1000) / 1000, vendorY: Math.round(o.vendorY! * 1000) / 1000 },
    {
      source: 'spaces',
      kind: 'wifi-connected',
      deviceId: '00:39:a7:8f:4a:00',
      idType: 'mac',
      randomized: false,
      atMs: 1641975908000,
      sourceRecordId: 'event-f3e19217',
      vendorX: 113.628,
      vendorY: 64.228,
      vendorFloorId: 'location-ad0a997',
      vendorSiteId: 'location-59c7afa3',
      rssiDbm: -89,
    },
  );
  const m = parseSpacesLine(DLU, { coordinateUnit: 'm', collect: ['ip', 'ssid', 'os'] }).observations[0]!;
  assert.equal(m.vendorX, 372.79483);
  assert.equal(m.ip, '192.168.36.244');
  assert.equal(m.ssid, '#XXXeMXXlWXXi');
  assert.equal(m.os, 'Android');
  assert.equal(m.username, undefined);
});

test('KEEP_ALIVE: a record with nothing in it, still carrying uid and timestamp for resume', () => {
  const r = parseSpacesLine(KEEP_ALIVE);
  assert.deepEqual(r, { recordUid: 'event-67d17b11', recordTimestamp: 1641977171551, eventType: 'KEEP_ALIVE', keepAlive: true, observations: [], counts: [] });
});

test('DEVICE_COUNT: numeric payload fields become an area count for the location', () => {
  const line = JSON.stringify({
    recordUid: 'event-c1',
    recordTimestamp: 1641977170000,
    spacesTenantId: 't',
    eventType: 'DEVICE_COUNT',
    deviceCount: { location: { locationId: 'location-ad0a997' }, associatedCount: 12, estimatedProbingCount: 30, note: 'x', bad: -1 },
  });
  assert.deepEqual(parseSpacesLine(line).counts, [
    { source: 'spaces', eventType: 'DEVICE_COUNT', vendorLocationId: 'location-ad0a997', atMs: 1641977170000, counts: { associatedCount: 12, estimatedProbingCount: 30 } },
  ]);
});

test('other event types are returned empty, so the consumer still advances past them', () => {
  const r = parseSpacesLine(JSON.stringify({ recordUid: 'e', recordTimestamp: 1, eventType: 'PROFILE_UPDATE', profileUpdate: {} }));
  assert.equal(r.observations.length + r.counts.length, 0);
});

test('malformed lines are refused with a reason', () => {
  rejects(() => parseSpacesLine(DLU.slice(0, 300)), 'bad_json');
  rejects(() => parseSpacesLine('{"recordUid":"a","eventType":"KEEP_ALIVE"}'), 'missing_field');
  rejects(() => parseSpacesLine('{"recordUid":"a","recordTimestamp":"soon","eventType":"KEEP_ALIVE"}'), 'wrong_type');
  rejects(() => parseSpacesLine('{"recordUid":"a","recordTimestamp":1,"eventType":"keep alive"}'), 'invalid_value');
  rejects(() => parseSpacesLine(DLU.replace('"00:39:a7:8f:4a:00"', '"00:39"')), 'invalid_mac');
  rejects(() => parseSpacesLine(DLU, { maxLineBytes: 100 }), 'line_too_long');
  rejects(() => parseSpacesLine('{"recordUid":"a","recordTimestamp":1,"eventType":"DEVICE_LOCATION_UPDATE"}'), 'missing_field');
});

test('LruSet forgets the least recently used key beyond its capacity', () => {
  const s = new LruSet(2);
  assert.equal(s.add('a'), true);
  assert.equal(s.add('b'), true);
  assert.equal(s.add('a'), false); // refreshes a
  assert.equal(s.add('c'), true); // evicts b
  assert.equal(s.has('b'), false);
  assert.equal(s.has('a'), true);
  assert.equal(s.size, 2);
});
