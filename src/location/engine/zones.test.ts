/** Tests for zone assignment through the grid index. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { pointInPolygon, polygonFromPoints } from './geometry.ts';
import { seededRandom } from '../../kernel/prng.ts';
import { type ZoneShape, ZoneIndex } from './zones.ts';

const rect = (id: string, x0: number, y0: number, x1: number, y1: number): ZoneShape => ({
  id,
  polygon: polygonFromPoints([{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }]),
});

/** A 40 × 30 m floor: two wings, rooms inside them, a corridor, and an L-shaped lounge. */
function floorPlan(): ZoneShape[] {
  const zones: ZoneShape[] = [rect('wing-west', 0, 0, 20, 30), rect('wing-east', 20, 0, 40, 30), rect('corridor', 0, 13, 40, 17)];
  for (let i = 0; i < 8; i++) {
    zones.push(rect(`room-s${i}`, i * 5, 0, i * 5 + 5, 13));
    if (i < 6) zones.push(rect(`room-n${i}`, i * 5, 17, i * 5 + 5, 30));
  }
  zones.push({
    id: 'lounge',
    polygon: polygonFromPoints([{ x: 30, y: 17 }, { x: 40, y: 17 }, { x: 40, y: 30 }, { x: 35, y: 30 }, { x: 35, y: 22 }, { x: 30, y: 22 }]),
  });
  return zones;
}

test('zoneAt returns the most specific zone and zonesAt every containing zone', () => {
  const idx = new ZoneIndex(floorPlan());
  assert.equal(idx.zoneAt(7, 5), 'room-s1');
  assert.deepEqual(idx.zonesAt(7, 5), ['room-s1', 'wing-west']);
  assert.equal(idx.zoneAt(12, 15), 'corridor');
  assert.equal(idx.zoneAt(37, 25), 'lounge');
  // The lounge's notch is only the east wing.
  assert.equal(idx.zoneAt(32, 27), 'wing-east');
});

test('a point outside every zone has no zone', () => {
  const idx = new ZoneIndex(floorPlan());
  assert.equal(idx.zoneAt(-1, 5), undefined);
  assert.equal(idx.zoneAt(41, 31), undefined);
  assert.deepEqual(idx.zonesAt(100, 100), []);
  assert.equal(new ZoneIndex([]).zoneAt(1, 1), undefined);
});

test('the index agrees with a brute-force scan at random and at boundary points', () => {
  const zones = floorPlan();
  const idx = new ZoneIndex(zones, { cellMeters: 3 });
  const rand = seededRandom(99);
  const scratch: string[] = [];
  const check = (x: number, y: number) => {
    const expected = zones.filter((z) => pointInPolygon(z.polygon, x, y)).map((z) => z.id).sort();
    assert.deepEqual([...idx.zonesAt(x, y, scratch)].sort(), expected, `at (${x}, ${y})`);
  };
  for (let i = 0; i < 3000; i++) check(rand() * 44 - 2, rand() * 34 - 2);
  for (let x = 0; x <= 40; x += 2.5) for (let y = 0; y <= 30; y += 2.5) check(x, y);
});

test('on a wall between two rooms exactly one room owns the point', () => {
  const idx = new ZoneIndex(floorPlan());
  const rooms = (x: number, y: number) => idx.zonesAt(x, y).filter((id) => id.startsWith('room-'));
  assert.deepEqual(rooms(10, 6), ['room-s2']);
  assert.deepEqual(rooms(15, 13).length, 0); // room/corridor wall: the corridor (+y side) owns it
  assert.equal(idx.zoneAt(15, 13), 'corridor');
});

test('a zone with fewer than three vertices is rejected with a validation error', () => {
  assert.throws(
    () => new ZoneIndex([{ id: 'bad', polygon: { outer: [0, 0, 1, 1] } }]),
    (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_VALIDATION',
  );
});
