import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mistOccupancyPayload, occupancyEmail, type HotZoneAlert } from './mist.ts';

const alert: HotZoneAlert = {
  id: '01900000-0000-7000-8000-000000000001',
  episodeId: '01900000-0000-7000-8000-000000000001',
  type: 'COMPLIANCE-VIOLATION',
  orgId: 'org-1',
  siteId: 'site-1',
  siteName: 'HQ',
  floorId: 'floor-1',
  floorName: 'Ground',
  zoneId: 'zone-1',
  zoneName: 'Canteen',
  atMs: 1_767_603_600_500,
  occupancy: 42,
  randomized: 3,
  limit: 40,
  baseline: 'fixed',
  windowMinutes: 5,
  randomizedPolicy: 'count',
  holdMinutes: 5,
};

test('the payload has every field Mist\'s occupancy-alerts topic requires, with Mist\'s names and units', () => {
  const p = mistOccupancyPayload(alert);
  assert.equal(p.topic, 'occupancy-alerts');
  assert.deepEqual(Object.keys(p.events[0]!).sort(), ['alert_events', 'site_id', 'site_name']);
  const e = p.events[0]!.alert_events[0]!;
  for (const k of ['current_occupancy', 'map_id', 'occupancy_limit', 'org_id', 'timestamp', 'type', 'zone_id', 'zone_name']) assert.ok(k in e, k);
  assert.equal(e.timestamp, 1_767_603_600.5, 'epoch seconds');
  assert.equal(e.type, 'COMPLIANCE-VIOLATION');
  assert.equal(e.map_id, 'floor-1');
  assert.equal('cairn_devices' in e, false);
  assert.deepEqual((mistOccupancyPayload({ ...alert, devices: ['p1'] }).events[0]!.alert_events[0] as { cairn_devices?: string[] }).cairn_devices, ['p1']);
});

test('the e-mail says where, how many, the limit and how it was counted', () => {
  const m = occupancyEmail(alert);
  assert.equal(m.subject, '[Cairn] Canteen: 42 present, limit 40');
  assert.match(m.text, /Canteen \(Ground, HQ\) has been over its limit for 5 min/);
  assert.match(m.text, /randomised addresses counted/);
  assert.match(occupancyEmail({ ...alert, type: 'COMPLIANCE-OK', occupancy: 30 }).subject, /back within its limit \(30\/40\)/);
});
