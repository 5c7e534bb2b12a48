/**
 * Plane geometry for floor plans: point-in-polygon, area, centroid and bounding boxes.
 *
 * Every coordinate is floor-local, in metres, on one floor (x to the right, y along the
 * plan's other axis; the handedness does not matter here). Polygons are rings of vertices
 * without a repeated closing vertex; either winding order is accepted.
 *
 * Boundary rule: a point is inside a ring by the half-open crossing rule, evaluated on each
 * edge in a canonical orientation (lower endpoint first). For polygons that tile the floor
 * (zones sharing edges), every point on a shared edge or vertex therefore belongs to exactly
 * one of them, and the answer does not depend on each ring's winding or starting vertex.
 */

/** A point in floor-local metres. */
export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box in floor-local metres. */
export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/**
 * A polygon: an outer ring and optional holes (courtyards, stair wells). Rings are flat
 * arrays `[x0, y0, x1, y1, …]` in metres, at least 3 vertices, no repeated closing vertex.
 */
export interface Polygon {
  outer: Float64Array | readonly number[];
  holes?: ReadonlyArray<Float64Array | readonly number[]>;
}

/**
 * Builds a {@link Polygon} from vertex objects, which is how floor plans arrive from the API.
 *
 * @example polygonFromPoints([{x:0,y:0},{x:10,y:0},{x:10,y:8},{x:0,y:8}])
 */
export function polygonFromPoints(outer: readonly Point[], holes: readonly (readonly Point[])[] = []): Polygon {
  const flat = (ring: readonly Point[]): Float64Array => {
    const a = new Float64Array(ring.length * 2);
    ring.forEach((p, i) => {
      a[2 * i] = p.x;
      a[2 * i + 1] = p.y;
    });
    return a;
  };
  return holes.length ? { outer: flat(outer), holes: holes.map(flat) } : { outer: flat(outer) };
}

/**
 * True when (x, y) is inside the flat ring `[x0, y0, x1, y1, …]` under the half-open rule
 * described in the module comment. Allocation-free; O(vertices).
 *
 * @example pointInRing([0,0, 10,0, 10,10, 0,10], 5, 5) === true
 */
export function pointInRing(ring: Float64Array | readonly number[], x: number, y: number): boolean {
  const n = ring.length >> 1;
  let inside = false;
  let jx = ring[2 * n - 2] as number;
  let jy = ring[2 * n - 1] as number;
  for (let i = 0; i < n; i++) {
    const ix = ring[2 * i] as number;
    const iy = ring[2 * i + 1] as number;
    // Half-open in y: the edge counts when exactly one endpoint lies above the scan line.
    if (iy > y !== jy > y) {
      // Canonical orientation (a = lower endpoint) so that an edge shared by two rings gives
      // the bit-identical sign in both, whatever their winding.
      let ax = ix, ay = iy, bx = jx, by = jy;
      if (ay > by) {
        ax = jx; ay = jy; bx = ix; by = iy;
      }
      // The ray to +x crosses the edge when the point is strictly left of the upward edge.
      const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
      if (cross > 0) inside = !inside;
    }
    jx = ix;
    jy = iy;
  }
  return inside;
}

/**
 * True when the point (metres) is inside the polygon: inside its outer ring and not inside a
 * hole. Points on an edge follow the half-open rule, so adjacent zones never both claim one.
 *
 * @example pointInPolygon(polygonFromPoints(square), 2.5, 1) === true
 */
export function pointInPolygon(polygon: Polygon, x: number, y: number): boolean {
  if (!pointInRing(polygon.outer, x, y)) return false;
  const holes = polygon.holes;
  if (holes) for (const h of holes) if (pointInRing(h, x, y)) return false;
  return true;
}

/** Signed shoelace area of a flat ring in m² (positive when counter-clockwise in x-right/y-up). */
export function ringSignedArea(ring: Float64Array | readonly number[]): number {
  const n = ring.length >> 1;
  let s = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    s += (ring[2 * j] as number) * (ring[2 * i + 1] as number) - (ring[2 * i] as number) * (ring[2 * j + 1] as number);
  }
  return s / 2;
}

/**
 * Area in m² of a polygon minus its holes, whatever the rings' winding. Used to rank
 * overlapping zones (the smallest containing zone is the most specific).
 *
 * @example polygonArea(polygonFromPoints([{x:0,y:0},{x:4,y:0},{x:4,y:3},{x:0,y:3}])) === 12
 */
export function polygonArea(polygon: Polygon): number {
  let a = Math.abs(ringSignedArea(polygon.outer));
  if (polygon.holes) for (const h of polygon.holes) a -= Math.abs(ringSignedArea(h));
  return a;
}

/**
 * Area centroid (metres) of a polygon with holes; the label anchor for a zone on the map and
 * the position reported for "somewhere in this zone". Falls back to the vertex mean when the
 * area is zero (degenerate ring).
 *
 * @example polygonCentroid(polygonFromPoints([{x:0,y:0},{x:4,y:0},{x:4,y:2},{x:0,y:2}])) // {x:2,y:1}
 */
export function polygonCentroid(polygon: Polygon): Point {
  let area = 0;
  let cx = 0;
  let cy = 0;
  const add = (ring: Float64Array | readonly number[], sign: number): void => {
    const n = ring.length >> 1;
    const orient = ringSignedArea(ring) >= 0 ? 1 : -1;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xj = ring[2 * j] as number, yj = ring[2 * j + 1] as number;
      const xi = ring[2 * i] as number, yi = ring[2 * i + 1] as number;
      const f = (xj * yi - xi * yj) * orient * sign;
      area += f;
      cx += (xj + xi) * f;
      cy += (yj + yi) * f;
    }
  };
  add(polygon.outer, 1);
  if (polygon.holes) for (const h of polygon.holes) add(h, -1);
  if (Math.abs(area) < 1e-12) {
    const r = polygon.outer;
    const n = r.length >> 1;
    let sx = 0, sy = 0;
    for (let i = 0; i < n; i++) {
      sx += r[2 * i] as number;
      sy += r[2 * i + 1] as number;
    }
    return { x: sx / n, y: sy / n };
  }
  return { x: cx / (3 * area), y: cy / (3 * area) };
}

/** Axis-aligned bounding box (metres) of a polygon's outer ring. */
export function polygonBounds(polygon: Polygon): Bounds {
  const r = polygon.outer;
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < r.length; i += 2) {
    const x = r[i] as number, y = r[i + 1] as number;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

/** Clamps a coordinate pair into a box (metres); used to keep fixes on the floor plan. */
export function clampToBounds(p: Point, b: Bounds): Point {
  return { x: Math.min(b.maxX, Math.max(b.minX, p.x)), y: Math.min(b.maxY, Math.max(b.minY, p.y)) };
}
