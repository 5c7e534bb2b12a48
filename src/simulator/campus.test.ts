import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../kernel/prng.ts';
import { isLocallyAdministered, isMulticastMac } from '../ingest/index.ts';
import { rssiAtDistance } from '../location/engine/index.ts';
import { buildCampus, campusPlan, zoneAt } from './campus.ts';

test('zones tile every floor: each point is in exactly one zone and the areas add up', () => {
  const campus = buildCampus({ seed: 3, people: 400 });
  const rand = seededRandom(1);
  for (const f of campus.floors) {
    const area = f.zones.reduce((s, z) => s + (z.maxX - z.minX) * (z.maxY - z.minY), 0);
    assert.ok(Math.abs(area - f.widthM * f.heightM) < 1e-6, `${f.key}: zones cover ${area} of ${f.widthM * f.heightM} m²`);
    for (let i = 0; i < 300; i++) {
      const x = rand() * f.widthM, y = rand() * f.heightM;
      const inside = f.zones.filter((z) => x >= z.minX && x < z.maxX && y >= z.minY && y < z.maxY);
      assert.equal(inside.length, 1, `${f.key} (${x.toFixed(2)}, ${y.toFixed(2)})`);
      assert.equal(zoneAt(f, x, y)?.id, inside[0]!.id);
    }
    const kinds = new Set(f.zones.map((z) => z.kind));
    assert.ok(kinds.has('corridor') && kinds.has('office') && kinds.has('meeting'), f.key);
    if (f.level === 0) assert.ok(kinds.has('lobby') && kinds.has('cafeteria') && f.entrance, f.key);
    for (const z of f.zones) for (const s of z.seats) assert.ok(s.x > z.minX && s.x < z.maxX && s.y > z.minY && s.y < z.maxY, `seat outside ${z.id}`);
  }
});

test('at least three BLE sensors and three APs hear every point of a floor well above their sensitivity', () => {
  const campus = buildCampus({ seed: 11, people: 300 });
  const rand = seededRandom(2);
  let apShort = 0;
  let points = 0;
  for (const f of campus.floors) {
    for (let i = 0; i < 200; i++) {
      const x = rand() * f.widthM, y = rand() * f.heightM;
      const heard = (ids: number[], model: 'ble' | 'wifi', floorDbm: number) =>
        ids.filter((si) => {
          const s = campus.sensors[si]!;
          return rssiAtDistance(model === 'ble' ? campus.bleModel : campus.wifiModel, Math.hypot(s.xM - x, s.yM - y)) >= floorDbm;
        }).length;
      points++;
      assert.ok(heard(f.bleSensors, 'ble', -85) >= 3, `${f.key} (${x.toFixed(1)}, ${y.toFixed(1)}): fewer than 3 BLE sensors at −85 dBm`);
      if (heard(f.aps, 'wifi', -80) < 3) apShort++;
    }
  }
  assert.ok(apShort / points <= 0.05, `${apShort} of ${points} points hear fewer than 3 APs at −80 dBm`);
});

test('the campus seats everyone: buildings are added, or floors widened when the count of buildings is fixed', () => {
  const small = buildCampus({ seed: 5, people: 50 });
  const big = buildCampus({ seed: 5, people: 2000 });
  assert.equal(small.buildings.length, 1);
  assert.ok(big.buildings.length > 1 && big.deskCount >= 2000);
  const fixed = buildCampus({ seed: 5, people: 2000, buildings: 2, floorsPerBuilding: 4 });
  assert.equal(fixed.buildings.length, 2);
  assert.equal(fixed.floors.length, 8);
  assert.ok(fixed.deskCount >= 2000);
  assert.throws(() => buildCampus({ seed: 5, people: 100_000, buildings: 1, floorsPerBuilding: 1 }), { code: 'CAIRN_ERR_VALIDATION' });
});

test('infrastructure ids are unique, MACs universally administered, and the campus is the same for the same seed', () => {
  const a = buildCampus({ seed: 21, people: 900 });
  const macs = new Set<string>();
  const ids = new Set<string>();
  for (const s of a.sensors) {
    for (const m of [s.mac, s.bssid24, s.bssid5]) {
      if (m === undefined) continue;
      assert.ok(!macs.has(m), `duplicate MAC ${m}`);
      macs.add(m);
      assert.ok(!isLocallyAdministered(m) && !isMulticastMac(m), m);
    }
    assert.ok(!ids.has(s.id));
    ids.add(s.id);
  }
  const b = buildCampus({ seed: 21, people: 900 });
  assert.equal(JSON.stringify(campusPlan(a)), JSON.stringify(campusPlan(b)));
  assert.notEqual(JSON.stringify(campusPlan(a)), JSON.stringify(campusPlan(buildCampus({ seed: 22, people: 900 }))));
});
