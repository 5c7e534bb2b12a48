/**
 * The binary rows of the tracing index (R-DATA-3, derived from fixes and purged with them).
 *
 *  - A track holds one device's minute points of one hour, 12 bytes each, in minute order:
 *    minute of the hour (u8), flags (u8), floor number (u16), zone number (u16), x and y in
 *    decimetres (u16), accuracy in centimetres (u16). A device's 14 days are some 100-300 rows.
 *  - A cell holds every device's points inside one square of the floor (`CELL_METERS`) during one
 *    hour: a header of 61 u32 record offsets (record index where minute m starts; the 61st is the
 *    count), then 12-byte records in minute order: device number (u32), minute (u8), flags (u8),
 *    x and y in decimetres (u16), accuracy in centimetres (u16). A trace decodes only the minutes
 *    the index device spent near the cell.
 *
 * Coordinates are floor metres clamped to 0 … 6 553.5 m; little-endian throughout.
 */
import type { MinutePoint } from './minutes.ts';

/** Side of a spatial cell, metres. Small enough that a trace reads little beyond its radius. */
export const CELL_METERS = 8;
/** Bytes per record in tracks and cells. */
export const RECORD_BYTES = 12;
const HEADER_WORDS = 61;
/** Bytes of a cell's minute header. */
export const CELL_HEADER_BYTES = HEADER_WORDS * 4;
const MAX_DM = 65_535;

function dm(v: number): number {
  const q = Math.round(v * 10);
  return q < 0 ? 0 : q > MAX_DM ? MAX_DM : q;
}
function cm(v: number): number {
  const q = Math.round(v * 100);
  return q < 1 ? 1 : q > MAX_DM ? MAX_DM : q;
}

/** Cell key of a position: `cx * 4096 + cy` with cx, cy the cell column and row. */
export function cellOf(xMeters: number, yMeters: number): number {
  return cellKey(Math.floor(Math.max(0, xMeters) / CELL_METERS), Math.floor(Math.max(0, yMeters) / CELL_METERS));
}

/** `cx * 4096 + cy`; rows beyond 4 095 (32 km) fold into the last. */
export function cellKey(cx: number, cy: number): number {
  return Math.min(cx, 65_535) * 4096 + Math.min(cy, 4095);
}

/**
 * Encode a device's points of one hour (minutes `hourMinute` … `hourMinute + 59`, in order).
 *
 * @example encodeTrack(points, Math.floor(hourMs / 60_000))
 */
export function encodeTrack(points: readonly MinutePoint[], hourMinute: number): Buffer {
  const b = Buffer.allocUnsafe(points.length * RECORD_BYTES);
  let o = 0;
  for (const p of points) {
    b.writeUInt8(p.minute - hourMinute, o);
    b.writeUInt8(p.flags, o + 1);
    b.writeUInt16LE(p.floor, o + 2);
    b.writeUInt16LE(p.zone, o + 4);
    b.writeUInt16LE(dm(p.xMeters), o + 6);
    b.writeUInt16LE(dm(p.yMeters), o + 8);
    b.writeUInt16LE(cm(p.accuracyMeters), o + 10);
    o += RECORD_BYTES;
  }
  return b;
}

/** Decode a track row into points (appended to `out`). */
export function decodeTrack(data: Uint8Array, hourMinute: number, out: MinutePoint[] = []): MinutePoint[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let o = 0; o + RECORD_BYTES <= data.byteLength; o += RECORD_BYTES) {
    out.push({
      minute: hourMinute + v.getUint8(o),
      flags: v.getUint8(o + 1),
      floor: v.getUint16(o + 2, true),
      zone: v.getUint16(o + 4, true),
      xMeters: v.getUint16(o + 6, true) / 10,
      yMeters: v.getUint16(o + 8, true) / 10,
      accuracyMeters: v.getUint16(o + 10, true) / 100,
    });
  }
  return out;
}

/** A point of some device, for a cell. */
export interface CellPoint {
  device: number;
  /** Minute of the hour, 0-59. */
  minuteOfHour: number;
  flags: number;
  xMeters: number;
  yMeters: number;
  accuracyMeters: number;
}

/**
 * Encode one cell-hour. `points` need not be sorted.
 *
 * @example encodeCell([{ device: 7, minuteOfHour: 3, flags: 0, xMeters: 10.2, yMeters: 4, accuracyMeters: 0.8 }])
 */
export function encodeCell(points: CellPoint[]): Buffer {
  points.sort((a, b) => a.minuteOfHour - b.minuteOfHour || a.device - b.device);
  const b = Buffer.allocUnsafe(CELL_HEADER_BYTES + points.length * RECORD_BYTES);
  let k = 0;
  for (let m = 0; m < HEADER_WORDS; m++) {
    while (k < points.length && points[k]!.minuteOfHour < m) k++;
    b.writeUInt32LE(k, m * 4);
  }
  b.writeUInt32LE(points.length, (HEADER_WORDS - 1) * 4);
  let o = CELL_HEADER_BYTES;
  for (const p of points) {
    b.writeUInt32LE(p.device, o);
    b.writeUInt8(p.minuteOfHour, o + 4);
    b.writeUInt8(p.flags, o + 5);
    b.writeUInt16LE(dm(p.xMeters), o + 6);
    b.writeUInt16LE(dm(p.yMeters), o + 8);
    b.writeUInt16LE(cm(p.accuracyMeters), o + 10);
    o += RECORD_BYTES;
  }
  return b;
}

/**
 * Read access to an encoded cell without decoding it whole: `start(m)`/`end(m)` bound minute m's
 * records, the getters read record i.
 */
export class CellReader {
  private readonly v: DataView;
  constructor(data: Uint8Array) {
    this.v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }
  /** First record of minute `m` (0-59). */
  start(m: number): number {
    return this.v.getUint32(m * 4, true);
  }
  /** One past the last record of minute `m`. */
  end(m: number): number {
    return this.v.getUint32((m + 1) * 4, true);
  }
  get count(): number {
    return this.v.getUint32((HEADER_WORDS - 1) * 4, true);
  }
  device(i: number): number {
    return this.v.getUint32(CELL_HEADER_BYTES + i * RECORD_BYTES, true);
  }
  flags(i: number): number {
    return this.v.getUint8(CELL_HEADER_BYTES + i * RECORD_BYTES + 5);
  }
  x(i: number): number {
    return this.v.getUint16(CELL_HEADER_BYTES + i * RECORD_BYTES + 6, true) / 10;
  }
  y(i: number): number {
    return this.v.getUint16(CELL_HEADER_BYTES + i * RECORD_BYTES + 8, true) / 10;
  }
  accuracy(i: number): number {
    return this.v.getUint16(CELL_HEADER_BYTES + i * RECORD_BYTES + 10, true) / 100;
  }
}
