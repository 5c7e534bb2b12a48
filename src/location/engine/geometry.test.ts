/** Tests for floor-plan geometry: containment (including edges and holes), area, centroid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pointInPolygon, pointInRing, polygonArea, polygonBounds, polygonCentroid, polygonFromPoints } from './geometry.ts';
import { seededRandom } from '../../kernel/prng.ts';

const rect = (x0: number, y0: number, x1: number, y1: number) =>
  polygonFromPoints([{ x: x0, y: y0 }, { x: x1, y: y0 }, { x: x1, y: y1 }, { x: x0, y: y1 }]);

test('a point is inside a square and outside beyond it', () => {
  const sq = rect(0, 0, 10, 10);
  assert.equal(pointInPolygon(sq, 5, 5), true);
  assert.equal(pointInPolygon(sq, 10.01, 5), false);
  assert.equal(pointInPolygon(sq, -3, -3), false);
});

test('the notch of an L-shaped room is outside it', () => {
  const l = polygonFromPoints([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 4 }, { x: 4, y: 4 }, { x: 4, y: 10 }, { x: 0, y: 10 }]);
  assert.equal(pointInPolygon(l, 2, 8), true);
  assert.equal(pointInPolygon(l, 8, 2), true);
  assert.equal(pointInPolygon(l, 8, 8), false);
  assert.equal(polygonArea(l), 64);
});

test('a point in a hole (a stair well) is not in the polygon', () => {
  const floor = polygonFromPoints(
    [{ x: 0, y: 0 }, { x: 20, y: 0 }, { x: 20, y: 10 }, { x: 0, y: 10 }],
    [[{ x: 8, y: 3 }, { x: 12, y: 3 }, { x: 12, y: 7 }, { x: 8, y: 7 }]],
  );
  assert.equal(pointInPolygon(floor, 10, 5), false);
  assert.equal(pointInPolygon(floor, 2, 5), true);
  assert.equal(polygonArea(floor), 200 - 16);
});

test('winding order and starting vertex do not change containment, area or centroid', () => {
  const pts = [{ x: 0, y: 0 }, { x: 6, y: 0 }, { x: 6, y: 2 }, { x: 2, y: 2 }, { x: 2, y: 6 }, { x: 0, y: 6 }];
  const a = polygonFromPoints(pts);
  const b = polygonFromPoints([...pts].reverse());
  const c = polygonFromPoints([...pts.slice(3), ...pts.slice(0, 3)]);
  const rand = seededRandom(5);
  for (let i = 0; i < 500; i++) {
    const x = rand() * 8 - 1, y = rand() * 8 - 1;
    assert.equal(pointInPolygon(b, x, y), pointInPolygon(a, x, y));
    assert.equal(pointInPolygon(c, x, y), pointInPolygon(a, x, y));
  }
  assert.equal(polygonArea(b), polygonArea(a));
  const ca = polygonCentroid(a), cb = polygonCentroid(b);
  assert.ok(Math.abs(ca.x - cb.x) < 1e-12 && Math.abs(ca.y - cb.y) < 1e-12);
});

test('a point on an edge or vertex shared by tiling zones belongs to exactly one of them', () => {
  // A 3 × 3 fan of triangles and quads with slanted shared edges, each ring with a random
  // winding and starting vertex.
  const rand = seededRandom(17);
  const grid = (i: number, j: number) => ({ x: i * 3 + (j % 2) * 0.7, y: j * 2.5 + (i % 2) * 0.4 });
  const tiles: ReturnType<typeof polygonFromPoints>[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const p00 = grid(i, j), p10 = grid(i + 1, j), p11 = grid(i + 1, j + 1), p01 = grid(i, j + 1);
      const rings = (i + j) % 2 ? [[p00, p10, p11], [p00, p11, p01]] : [[p00, p10, p11, p01]];
      for (const r of rings) {
        let ring = rand() < 0.5 ? [...r].reverse() : [...r];
        const s = Math.floor(rand() * ring.length);
        ring = [...ring.slice(s), ...ring.slice(0, s)];
        tiles.push(polygonFromPoints(ring));
      }
    }
  }
  // Probe every vertex and points along every edge that are interior to the tiled area.
  const probes: { x: number; y: number }[] = [];
  for (const t of tiles) {
    const r = t.outer;
    const n = r.length / 2;
    for (let k = 0; k < n; k++) {
      const ax = r[2 * k]!, ay = r[2 * k + 1]!, bx = r[(2 * k + 2) % r.length]!, by = r[(2 * k + 3) % r.length]!;
      for (const f of [0, 0.25, 0.5, 0.8]) probes.push({ x: ax + f * (bx - ax), y: ay + f * (by - ay) });
    }
  }
  const owners = (x: number, y: number) => {
    let hits = 0;
    for (const t of tiles) if (pointInPolygon(t, x, y)) hits++;
    return hits;
  };
  let interior = 0;
  for (const p of probes) {
    const hits = owners(p.x, p.y);
    assert.ok(hits <= 1, `point (${p.x}, ${p.y}) is claimed by ${hits} zones`);
    // Interior to the tiled area when every nearby point is covered; then exactly one owner.
    const e = 1e-6;
    const covered = [[e, 0], [-e, 0], [0, e], [0, -e]].every(([dx, dy]) => owners(p.x + dx!, p.y + dy!) === 1);
    if (covered) {
      interior++;
      assert.equal(hits, 1, `interior point (${p.x}, ${p.y}) has no owner`);
    }
  }
  assert.ok(interior > probes.length / 2, `${interior} of ${probes.length} probes were interior`);
});

test('a point on the edge between two rooms belongs to the room on the +x / +y side', () => {
  const west = rect(0, 0, 10, 10), east = rect(10, 0, 20, 10);
  assert.equal(pointInPolygon(west, 10, 5), false);
  assert.equal(pointInPolygon(east, 10, 5), true);
  const south = rect(0, 0, 10, 5), north = rect(0, 5, 10, 10);
  assert.equal(pointInPolygon(south, 3, 5), false);
  assert.equal(pointInPolygon(north, 3, 5), true);
});

test('area and centroid of a rectangle with an off-centre hole', () => {
  const p = polygonFromPoints(
    [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 4 }, { x: 0, y: 4 }],
    [[{ x: 6, y: 1 }, { x: 8, y: 1 }, { x: 8, y: 3 }, { x: 6, y: 3 }]],
  );
  assert.equal(polygonArea(p), 36);
  const c = polygonCentroid(p);
  // (40·5 − 4·7) / 36 = 4.777…, y stays 2 by symmetry.
  assert.ok(Math.abs(c.x - 172 / 36) < 1e-12, String(c.x));
  assert.ok(Math.abs(c.y - 2) < 1e-12, String(c.y));
  assert.deepEqual(polygonBounds(p), { minX: 0, minY: 0, maxX: 10, maxY: 4 });
});

test('pointInRing accepts plain number arrays', () => {
  assert.equal(pointInRing([0, 0, 4, 0, 0, 4], 1, 1), true);
  assert.equal(pointInRing([0, 0, 4, 0, 0, 4], 3, 3), false);
});
