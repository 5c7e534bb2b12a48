/** The locator picks the estimator the data allows and always reports an accuracy (R-LOC-2). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BLE_MODEL, ZoneIndex, emptyFix, rssiAtDistance } from './engine/index.ts';
import { Locator } from './locator.ts';
import { OrgPlan, type FloorPlan, type PlacedSensor } from './plan.ts';

function plan(): OrgPlan {
  const zones = new ZoneIndex([]);
  const f = (id: string, siteId: string): FloorPlan => ({ id, siteId, widthM: 50, heightM: 50, bounds: { minX: 0, minY: 0, maxX: 50, maxY: 50 }, zones, zoneIds: [], cellKeys: [`${id}|`] });
  const s = (id: string, floorId: string, siteId: string, x: number, y: number): PlacedSensor => ({ id, siteId, floorId, kind: 'ble-sensor', xMeters: x, yMeters: y, coverageRadiusMeters: 8, wifiModel: { txPowerDbm: -40, exponent: 3 }, bleModel: DEFAULT_BLE_MODEL, shadowingSigmaDb: 4 });
  const sensors = new Map<string, PlacedSensor>();
  for (const x of [s('a', 'f1', 's1', 10, 10), s('b', 'f1', 's1', 40, 10), s('c', 'f1', 's1', 25, 40), s('z', 'f2', 's2', 5, 5)]) sensors.set(x.id, x);
  sensors.set('02:00:5e:aa:00:01', sensors.get('a')!);
  return new OrgPlan('o1', new Map([['f1', f('f1', 's1')], ['f2', f('f2', 's2')]]), sensors, 4);
}

const rssi = (x: number, y: number, sx: number, sy: number) => rssiAtDistance(DEFAULT_BLE_MODEL, Math.hypot(x - sx, y - sy));

test('three sensors: weighted least squares near the truth, on the sensors\' floor', () => {
  const out = emptyFix();
  const where = new Locator().locate(plan(), { kind: 'ble-badge', atMs: 1, readings: [{ sensorId: 'a', rssiDbm: rssi(22, 20, 10, 10) }, { sensorId: 'b', rssiDbm: rssi(22, 20, 40, 10) }, { sensorId: 'c', rssiDbm: rssi(22, 20, 25, 40) }] }, 'dev', null, {}, out);
  assert.equal(typeof where === 'string' ? where : where.id, 'f1');
  assert.equal(out.method, 'wls');
  assert.ok(Math.hypot(out.xMeters - 22, out.yMeters - 20) < 0.5, `${out.xMeters}, ${out.yMeters}`);
  assert.ok(out.accuracyMeters > 0);
});

test('vendor positions pass through with the vendor\'s or the expected accuracy; unknown maps are unlocated', () => {
  const out = emptyFix();
  const l = new Locator();
  assert.notEqual(typeof l.locate(plan(), { kind: 'sdk', atMs: 1, vendorX: 3, vendorY: 4, vendorFloorId: 'map-9' }, 'd', null, { 'map-9': 'f2' }, out), 'string');
  assert.deepEqual([out.xMeters, out.yMeters, out.accuracyMeters, out.method], [3, 4, 2, 'vendor']);
  l.locate(plan(), { kind: 'wifi-connected', atMs: 1, vendorX: 3, vendorY: 4, vendorFloorId: 'f1', vendorAccuracyM: 1.5 }, 'd', null, {}, out);
  assert.equal(out.accuracyMeters, 1.5);
  assert.equal(l.locate(plan(), { kind: 'sdk', atMs: 1, vendorX: 3, vendorY: 4, vendorFloorId: 'elsewhere' }, 'd', null, {}, out), 'unknown_floor');
});

test('one AP: the AP\'s position with its coverage radius; other sites and unknown sensors refused', () => {
  const out = emptyFix();
  const l = new Locator();
  l.locate(plan(), { kind: 'wifi-connected', atMs: 1, apMac: '02:00:5E:AA:00:01' }, 'd', null, {}, out);
  assert.deepEqual([out.xMeters, out.yMeters, out.accuracyMeters, out.method], [10, 10, 8, 'association']);
  l.locate(plan(), { kind: 'ble-badge', atMs: 1, sensorId: 'a', rssiDbm: -70 }, 'd', null, {}, out);
  assert.equal(out.method, 'association', 'one sensor\'s RSSI cannot place a device better than near it');
  assert.equal(l.locate(plan(), { kind: 'wifi-connected', atMs: 1, apMac: '02:00:5e:aa:00:01' }, 'd', 's2', {}, out), 'other_site');
  assert.equal(l.locate(plan(), { kind: 'wifi-connected', atMs: 1, apMac: '02:00:5e:ff:ff:ff' }, 'd', null, {}, out), 'unknown_sensor');
  assert.equal(l.locate(plan(), { kind: 'wired', atMs: 1 }, 'd', null, {}, out), 'no_position');
});
