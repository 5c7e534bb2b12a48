/**
 * Zone assignment: which zone(s) of a floor contain a point. Every fix goes through this, so it
 * is built once per floor plan into a uniform grid: each cell lists the zones whose bounding
 * box overlaps it, smallest zone first. A lookup is one cell, a bounding-box test and a
 * point-in-polygon test on the few candidates; it allocates nothing.
 *
 * Zones may overlap (a "Meeting room" inside a "Wing B"); {@link ZoneIndex.zoneAt} returns the
 * most specific (smallest-area) containing zone, {@link ZoneIndex.zonesAt} all of them.
 * Edge rule: see `geometry.ts`; a point on an edge shared by two zones is in exactly one.
 */
import { CairnError } from '../../kernel/errors.ts';
import { type Bounds, type Polygon, pointInPolygon, polygonArea, polygonBounds } from './geometry.ts';

/** A zone on one floor: an id (the caller's) and its outline in floor-local metres. */
export interface ZoneShape {
  id: string;
  polygon: Polygon;
}

export interface ZoneIndexOptions {
  /** Grid cell edge in metres; default chosen so the grid has about 4 cells per zone (≥ 1 m). */
  cellMeters?: number;
}

/**
 * A read-only spatial index of the zones of one floor. Rebuild it when the plan changes.
 *
 * @example
 * const idx = new ZoneIndex([{ id: 'lobby', polygon: polygonFromPoints(lobbyOutline) }]);
 * idx.zoneAt(3.2, 7.5) // 'lobby' or undefined
 */
export class ZoneIndex {
  private readonly ids: string[];
  private readonly polygons: Polygon[];
  private readonly boxes: Float64Array; // minX, minY, maxX, maxY per zone
  private readonly originX: number;
  private readonly originY: number;
  private readonly cell: number;
  private readonly cols: number;
  private readonly rows: number;
  private readonly cellStart: Uint32Array; // CSR offsets, rows*cols + 1
  private readonly cellZones: Uint32Array; // zone indices, each cell sorted by area ascending

  constructor(zones: readonly ZoneShape[], options: ZoneIndexOptions = {}) {
    for (const z of zones) {
      const r = z.polygon.outer;
      if (r.length < 6 || r.length % 2 !== 0) {
        throw new CairnError('CAIRN_ERR_VALIDATION', `Zone ${z.id} needs a ring of at least 3 vertices.`);
      }
    }
    // Smallest first, so the first hit in a cell is the most specific zone; ties by id.
    const order = zones
      .map((z, i) => ({ i, area: polygonArea(z.polygon) }))
      .sort((a, b) => a.area - b.area || (zones[a.i]!.id < zones[b.i]!.id ? -1 : 1));
    this.ids = order.map((o) => zones[o.i]!.id);
    this.polygons = order.map((o) => zones[o.i]!.polygon);
    const n = this.ids.length;
    this.boxes = new Float64Array(n * 4);
    const all: Bounds = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
    let sumArea = 0;
    this.polygons.forEach((p, k) => {
      const b = polygonBounds(p);
      this.boxes.set([b.minX, b.minY, b.maxX, b.maxY], 4 * k);
      all.minX = Math.min(all.minX, b.minX);
      all.minY = Math.min(all.minY, b.minY);
      all.maxX = Math.max(all.maxX, b.maxX);
      all.maxY = Math.max(all.maxY, b.maxY);
      sumArea += (b.maxX - b.minX) * (b.maxY - b.minY);
    });
    if (n === 0) {
      this.originX = this.originY = 0;
      this.cell = 1;
      this.cols = this.rows = 1;
      this.cellStart = new Uint32Array(2);
      this.cellZones = new Uint32Array(0);
      return;
    }
    const width = Math.max(all.maxX - all.minX, 1e-9);
    const height = Math.max(all.maxY - all.minY, 1e-9);
    // About 4 cells per zone's bounding box, at most 512 × 512 cells.
    const auto = Math.sqrt(sumArea / n / 4);
    let cell = options.cellMeters ?? Math.max(1, auto);
    cell = Math.max(cell, width / 512, height / 512);
    this.cell = cell;
    this.originX = all.minX;
    this.originY = all.minY;
    this.cols = Math.max(1, Math.ceil(width / cell));
    this.rows = Math.max(1, Math.ceil(height / cell));
    const cells = this.cols * this.rows;
    const lists: number[][] = Array.from({ length: cells }, () => []);
    for (let k = 0; k < n; k++) {
      const c0 = this.colOf(this.boxes[4 * k]!), c1 = this.colOf(this.boxes[4 * k + 2]!);
      const r0 = this.rowOf(this.boxes[4 * k + 1]!), r1 = this.rowOf(this.boxes[4 * k + 3]!);
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) lists[r * this.cols + c]!.push(k);
    }
    this.cellStart = new Uint32Array(cells + 1);
    let total = 0;
    for (let i = 0; i < cells; i++) {
      this.cellStart[i] = total;
      total += lists[i]!.length;
    }
    this.cellStart[cells] = total;
    this.cellZones = new Uint32Array(total);
    for (let i = 0; i < cells; i++) this.cellZones.set(lists[i]!, this.cellStart[i]!);
  }

  /** Number of zones indexed. */
  get size(): number {
    return this.ids.length;
  }

  private colOf(x: number): number {
    const c = Math.floor((x - this.originX) / this.cell);
    return c < 0 ? 0 : c >= this.cols ? this.cols - 1 : c;
  }

  private rowOf(y: number): number {
    const r = Math.floor((y - this.originY) / this.cell);
    return r < 0 ? 0 : r >= this.rows ? this.rows - 1 : r;
  }

  /** Grid cell of a point, or -1 when the point is outside every zone's bounding box. */
  private cellOf(x: number, y: number): number {
    const fx = (x - this.originX) / this.cell;
    const fy = (y - this.originY) / this.cell;
    if (!(fx >= 0 && fy >= 0 && fx <= this.cols && fy <= this.rows)) return -1;
    const c = fx >= this.cols ? this.cols - 1 : Math.floor(fx);
    const r = fy >= this.rows ? this.rows - 1 : Math.floor(fy);
    return r * this.cols + c;
  }

  /**
   * The most specific (smallest) zone containing the point (metres), or undefined. The hot-path
   * lookup for every fix.
   *
   * @example idx.zoneAt(12.5, 4) // 'kitchen'
   */
  zoneAt(x: number, y: number): string | undefined {
    const k = this.zoneIndexAt(x, y);
    return k < 0 ? undefined : this.ids[k];
  }

  /** Like {@link zoneAt} but returns the zone's position in {@link zoneIds} (-1 if none). */
  zoneIndexAt(x: number, y: number): number {
    const cell = this.cellOf(x, y);
    if (cell < 0) return -1;
    const end = this.cellStart[cell + 1]!;
    const b = this.boxes;
    for (let i = this.cellStart[cell]!; i < end; i++) {
      const k = this.cellZones[i]!;
      if (x < b[4 * k]! || x > b[4 * k + 2]! || y < b[4 * k + 1]! || y > b[4 * k + 3]!) continue;
      if (pointInPolygon(this.polygons[k]!, x, y)) return k;
    }
    return -1;
  }

  /**
   * Every zone containing the point, smallest first, appended to `out` (cleared first) so a
   * caller can reuse one array.
   *
   * @example idx.zonesAt(3, 3, scratch) // ['room-101', 'wing-b']
   */
  zonesAt(x: number, y: number, out: string[] = []): string[] {
    out.length = 0;
    const cell = this.cellOf(x, y);
    if (cell < 0) return out;
    const end = this.cellStart[cell + 1]!;
    const b = this.boxes;
    for (let i = this.cellStart[cell]!; i < end; i++) {
      const k = this.cellZones[i]!;
      if (x < b[4 * k]! || x > b[4 * k + 2]! || y < b[4 * k + 1]! || y > b[4 * k + 3]!) continue;
      if (pointInPolygon(this.polygons[k]!, x, y)) out.push(this.ids[k]!);
    }
    return out;
  }

  /** Zone ids in index order (smallest area first); {@link zoneIndexAt} indexes into this. */
  get zoneIds(): readonly string[] {
    return this.ids;
  }
}
