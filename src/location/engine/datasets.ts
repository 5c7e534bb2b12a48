/**
 * Parsers for the public fingerprint datasets in shared/data/positioning (see its README):
 *
 * - UJIIndoorLoc (validation part): 520 Wi-Fi APs, `100` = not detected; LONGITUDE/LATITUDE
 *   are EPSG:3857 (Web-Mercator) metres, not UTM, so a distance in them is the ground
 *   distance times 1/cos(latitude) ≈ 1.305 on the UJI campus. Published errors on this
 *   dataset are in those units; {@link UJI_MERCATOR_TO_GROUND} converts.
 * - BLE RSSI Dataset (iBeacon_RSSI_Labeled): 13 iBeacons, `-200` = not heard (and −198/−199
 *   treated the same); the position is only a grid-cell label (letter = column, number = row)
 *   with no published cell size, so positions are in grid cells, not metres.
 *
 * Parsers take the file text (the engine does no I/O) and throw `CAIRN_ERR_DATASET` when the
 * text is not in the expected shape.
 */
import { CairnError } from '../../kernel/errors.ts';
import type { Fingerprint } from './fingerprint.ts';

/** Ground metres per Web-Mercator metre at the UJI campus (latitude ≈ 39.993° N). */
export const UJI_MERCATOR_TO_GROUND = Math.cos((39.993 * Math.PI) / 180);

/** A UJIIndoorLoc record: a fingerprint plus the capture device and time. */
export interface UjiFingerprint extends Fingerprint {
  floor: number;
  building: number;
  phoneId: number;
  timestampSeconds: number;
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => l.length > 0);
}

/**
 * Parses UJIIndoorLoc CSV text (training or validation file) into fingerprints with positions
 * in the file's Web-Mercator metres.
 *
 * @example parseUjiIndoorLoc(readFileSync(path, 'utf8')).samples.length // 1111 for validationData
 */
export function parseUjiIndoorLoc(text: string): { transmitterCount: number; samples: UjiFingerprint[] } {
  const rows = lines(text);
  const header = rows[0]?.split(',') ?? [];
  const waps = header.filter((h) => /^WAP\d+$/.test(h)).length;
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new CairnError('CAIRN_ERR_DATASET', `UJIIndoorLoc header has no ${name} column.`);
    return i;
  };
  if (waps === 0) throw new CairnError('CAIRN_ERR_DATASET', 'UJIIndoorLoc header has no WAP columns.');
  const cLon = col('LONGITUDE'), cLat = col('LATITUDE'), cFloor = col('FLOOR'), cBuilding = col('BUILDINGID');
  const cPhone = col('PHONEID'), cTime = col('TIMESTAMP');
  const samples: UjiFingerprint[] = [];
  for (let r = 1; r < rows.length; r++) {
    const f = rows[r]!.split(',');
    if (f.length !== header.length) {
      throw new CairnError('CAIRN_ERR_DATASET', `UJIIndoorLoc row ${r + 1} has ${f.length} fields, expected ${header.length}.`);
    }
    const rssi = new Float64Array(waps);
    for (let j = 0; j < waps; j++) {
      const v = Number(f[j]);
      rssi[j] = v === 100 || !Number.isFinite(v) ? NaN : v;
    }
    const num = (i: number): number => {
      const v = Number(f[i]);
      if (!Number.isFinite(v)) throw new CairnError('CAIRN_ERR_DATASET', `UJIIndoorLoc row ${r + 1}: ${header[i]} is not a number.`);
      return v;
    };
    samples.push({
      rssiDbm: rssi,
      xMeters: num(cLon),
      yMeters: num(cLat),
      floor: num(cFloor),
      building: num(cBuilding),
      phoneId: num(cPhone),
      timestampSeconds: num(cTime),
    });
  }
  return { transmitterCount: waps, samples };
}

/** An iBeacon record: a fingerprint whose position is its grid cell (column, row). */
export interface BeaconFingerprint extends Fingerprint {
  /** The original cell label, e.g. `O02`. */
  cell: string;
}

/**
 * Grid cell label → (column, row) in cell units: the letter's alphabet index (A = 0, so
 * `D` = 3; the absent `H` keeps its gap) and the row number.
 *
 * @example beaconCellToGrid('O02') // { x: 14, y: 2 }
 */
export function beaconCellToGrid(label: string): { x: number; y: number } {
  const m = /^([A-Z])(\d{1,2})$/.exec(label.trim());
  if (!m) throw new CairnError('CAIRN_ERR_DATASET', `Not a grid cell label: ${JSON.stringify(label)}.`);
  return { x: m[1]!.charCodeAt(0) - 65, y: Number(m[2]) };
}

/**
 * Parses iBeacon_RSSI_Labeled.csv text. Readings at or below −198 dBm are "not heard".
 * Positions are grid cells (see {@link beaconCellToGrid}); the `xMeters`/`yMeters` fields
 * hold cell units because the dataset publishes no cell size.
 *
 * @example parseIBeaconLabeled(text).samples[0].cell // 'O02'
 */
export function parseIBeaconLabeled(text: string): { transmitterCount: number; samples: BeaconFingerprint[] } {
  const rows = lines(text);
  const header = rows[0]?.split(',') ?? [];
  if (header[0] !== 'location' || header[1] !== 'date') {
    throw new CairnError('CAIRN_ERR_DATASET', 'iBeacon file must start with the columns location,date.');
  }
  const beacons = header.length - 2;
  if (beacons < 1) throw new CairnError('CAIRN_ERR_DATASET', 'iBeacon file has no beacon columns.');
  const samples: BeaconFingerprint[] = [];
  for (let r = 1; r < rows.length; r++) {
    const f = rows[r]!.split(',');
    if (f.length !== header.length) {
      throw new CairnError('CAIRN_ERR_DATASET', `iBeacon row ${r + 1} has ${f.length} fields, expected ${header.length}.`);
    }
    const cell = f[0]!;
    const g = beaconCellToGrid(cell);
    const rssi = new Float64Array(beacons);
    for (let j = 0; j < beacons; j++) {
      const v = Number(f[j + 2]);
      rssi[j] = Number.isFinite(v) && v > -198 ? v : NaN;
    }
    samples.push({ rssiDbm: rssi, xMeters: g.x, yMeters: g.y, cell });
  }
  return { transmitterCount: beacons, samples };
}
