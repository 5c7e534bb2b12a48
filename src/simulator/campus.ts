/**
 * The simulated campus: buildings of a few floors, each floor a rectangle with a corridor along
 * its middle and rooms on both sides (open-plan offices with desks, meeting rooms with seats
 * around a table; the ground floor also has the lobby with the entrance and the cafeteria with
 * its tables). Zones tile the floor, so every point of a floor is in exactly one zone. BLE
 * sensors sit on a jittered grid (about 8 m apart) and APs on a staggered grid (about 15 m), so
 * at least three sensors hear every point of a floor. Everything follows from the seed and the
 * head count; the campus grows buildings until everyone has a desk.
 */
import { CairnError } from '../kernel/errors.ts';
import { seededRandom } from '../kernel/prng.ts';
import { DEFAULT_BLE_MODEL, ZoneIndex, polygonFromPoints, type PathLossModel, type Point } from '../location/engine/index.ts';
import { mixSeed, uuidFrom, macFromBytes } from './ids.ts';

/** What a zone is used for; decides who goes there and when. */
export type ZoneKind = 'office' | 'meeting' | 'corridor' | 'cafeteria' | 'lobby';

/** A rectangular zone of one floor, floor-local metres. */
export interface SimZone {
  /** `b1-f0-z03`. */
  id: string;
  name: string;
  kind: ZoneKind;
  /** Global floor index (into `Campus.floors`). */
  floor: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Desks (office), seats (meeting room, cafeteria). */
  seats: Point[];
  /** Cafeteria: the seat indices of each table. */
  tables: number[][];
}

/** One floor of one building. */
export interface SimFloor {
  /** Index into `Campus.floors`. */
  index: number;
  /** `b1-f0` (building 1, ground floor). */
  key: string;
  name: string;
  building: number;
  /** 0 = ground floor. */
  level: number;
  widthM: number;
  heightM: number;
  /** y of the corridor's centre line, metres. */
  corridorY: number;
  /** Half the corridor's width, metres. */
  corridorHalfWidthM: number;
  /** Where the stairs meet the corridor. */
  stairs: Point;
  /** The coffee corner at the far end of the corridor. */
  coffee: Point;
  /** The door (ground floor only). */
  entrance?: Point;
  zones: SimZone[];
  zoneIndex: ZoneIndex;
  /** The vendor's map id (Mist `map_id`, Meraki `floorPlanId`), UUID-shaped. */
  vendorFloorId: string;
  /** Sensor indices (into `Campus.sensors`) of this floor's BLE sensors and APs. */
  bleSensors: number[];
  aps: number[];
}

/** A building: a site in Cairn's terms. */
export interface SimBuilding {
  index: number;
  /** `b1`. */
  key: string;
  name: string;
  /** Global floor indices, by level. */
  floors: number[];
  /** The vendor's site id (Mist `site_id`), UUID-shaped. */
  vendorSiteId: string;
  /** Meraki network id. */
  merakiNetworkId: string;
  /** The wireless controller's name and address (Aruba syslog). */
  controller: string;
  controllerIp: string;
  /** WGS84 of the floor plans' origin, for vendors that send lat/lng. */
  originLat: number;
  originLng: number;
}

/** A BLE sensor or an AP placed on a floor. */
export interface SimSensor {
  index: number;
  kind: 'ap' | 'ble-sensor';
  /** `b1-f0-ap03`, `b1-f0-ble07`: the AP name controllers log, the MQTT sensor id. */
  id: string;
  /** Infrastructure MAC (the AP's base MAC), not personal data. */
  mac: string;
  /** The vendor's id: the Mist device id for BLE sensors, the AP name for APs. */
  vendorId: string;
  building: number;
  floor: number;
  level: number;
  xM: number;
  yM: number;
  coverageRadiusM: number;
  /** The true path-loss model of readings at this sensor. */
  model: PathLossModel;
  /** APs: one BSSID per band. */
  bssid24?: string;
  bssid5?: string;
  /** APs: management address (Aruba syslog names the AP by ip-bssid-name). */
  ip?: string;
}

export interface Campus {
  seed: number;
  buildings: SimBuilding[];
  floors: SimFloor[];
  sensors: SimSensor[];
  /** True models: BLE badge → sensor, Wi-Fi client → AP. */
  bleModel: PathLossModel;
  wifiModel: PathLossModel;
  floorHeightM: number;
  /** Desks on the campus. */
  deskCount: number;
}

export interface CampusOptions {
  seed: number;
  /** Head count; the campus gets enough desks for everyone. */
  people: number;
  /** Fixed number of buildings (floors widen to fit everyone); default: as many as needed. */
  buildings?: number;
  /** Floors per building; default 3. */
  floorsPerBuilding?: number;
  /** BLE sensor grid pitch, metres; default 8. */
  bleSpacingM?: number;
  /** AP grid pitch, metres; default 15. */
  apSpacingM?: number;
  /** Default `DEFAULT_BLE_MODEL` (−59 dBm at 1 m, n = 2.2). */
  bleModel?: PathLossModel;
  /** Default `SIM_WIFI_MODEL` (−40 dBm at 1 m, n = 3). */
  wifiModel?: PathLossModel;
}

/** A phone or laptop as an AP hears it: −40 dBm at 1 m, indoor exponent 3 (Cairn's uncalibrated Wi-Fi model). */
export const SIM_WIFI_MODEL: Readonly<PathLossModel> = Object.freeze({ txPowerDbm: -40, exponent: 3 });

const ROOM_DEPTH_M = 9;
const CORRIDOR_M = 3;
const FLOOR_HEIGHT_M = 3.5;
const DESK_MARGIN_M = 1.3;
const DESK_PITCH_X_M = 2.6;
const DESK_PITCH_Y_M = 2.8;
const MAX_FLOOR_WIDTH_M = 240;
/** Three bytes each: the Mist OUI for APs and BLE sensors alike (all "Mist APs"). */
const AP_OUI = [0x5c, 0x5b, 0x35] as const;
const BLE_OUI = [0xd4, 0x20, 0xb0] as const;

type Rng = () => number;

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function rect(z: Pick<SimZone, 'minX' | 'minY' | 'maxX' | 'maxY'>): Point[] {
  return [
    { x: z.minX, y: z.minY },
    { x: z.maxX, y: z.minY },
    { x: z.maxX, y: z.maxY },
    { x: z.minX, y: z.maxY },
  ];
}

function desks(x0: number, x1: number, y0: number, y1: number): Point[] {
  const out: Point[] = [];
  for (let y = y0 + DESK_MARGIN_M; y <= y1 - DESK_MARGIN_M + 1e-9; y += DESK_PITCH_Y_M) {
    for (let x = x0 + DESK_MARGIN_M; x <= x1 - DESK_MARGIN_M + 1e-9; x += DESK_PITCH_X_M) out.push({ x: round1(x), y: round1(y) });
  }
  return out;
}

/** Two rows of chairs along a table down the middle of the room, 1.1 m apart, 1.6 m across. */
function meetingSeats(x0: number, x1: number, y0: number, y1: number): Point[] {
  const cx = (x0 + x1) / 2;
  const out: Point[] = [];
  for (let y = y0 + 1.5; y <= y1 - 1.5 + 1e-9; y += 1.1) {
    out.push({ x: round1(cx - 0.8), y: round1(y) }, { x: round1(cx + 0.8), y: round1(y) });
  }
  return out;
}

/** Tables of six (three a side, 0.9 m apart, 1.4 m across), on a 4 m × 3.6 m pitch. */
function cafeteriaSeats(x0: number, x1: number, y0: number, y1: number): { seats: Point[]; tables: number[][] } {
  const seats: Point[] = [];
  const tables: number[][] = [];
  for (let ty = y0 + 2; ty <= y1 - 1.8 + 1e-9; ty += 3.6) {
    for (let tx = x0 + 2.2; tx <= x1 - 2.2 + 1e-9; tx += 4) {
      const t: number[] = [];
      for (const side of [-0.7, 0.7]) {
        for (let i = -1; i <= 1; i++) {
          t.push(seats.length);
          seats.push({ x: round1(tx + i * 0.9), y: round1(ty + side) });
        }
      }
      tables.push(t);
    }
  }
  return { seats, tables };
}

/** Splits [x0, x1] into offices (12–18 m) and meeting rooms (5–6.5 m); the first piece is a meeting room. */
function partition(rand: Rng, x0: number, x1: number): { kind: 'office' | 'meeting'; x0: number; x1: number }[] {
  const out: { kind: 'office' | 'meeting'; x0: number; x1: number }[] = [];
  let x = x0;
  let first = true;
  while (x1 - x > 1e-6) {
    const left = x1 - x;
    let kind: 'office' | 'meeting';
    let w: number;
    if (first) {
      kind = 'meeting';
      w = Math.min(left, 6);
    } else if (left <= 19) {
      if (left < 4 && out.length > 0) {
        out[out.length - 1]!.x1 = x1;
        break;
      }
      kind = left >= 10 ? 'office' : 'meeting';
      w = left;
    } else if (rand() < 0.3) {
      kind = 'meeting';
      w = 5 + Math.round(rand() * 3) / 2;
    } else {
      kind = 'office';
      w = 12 + Math.round(rand() * 12) / 2;
    }
    out.push({ kind, x0: x, x1: x + w });
    x += w;
    first = false;
  }
  return out;
}

interface FloorDraft {
  floor: Omit<SimFloor, 'index' | 'bleSensors' | 'aps' | 'zoneIndex' | 'vendorFloorId'>;
  deskCount: number;
}

function layoutFloor(rand: Rng, building: number, level: number, widthM: number): FloorDraft {
  const key = `b${building + 1}-f${level}`;
  const heightM = 2 * ROOM_DEPTH_M + CORRIDOR_M;
  const cy = ROOM_DEPTH_M + CORRIDOR_M / 2;
  const zones: SimZone[] = [];
  const add = (kind: ZoneKind, name: string, minX: number, minY: number, maxX: number, maxY: number): void => {
    const z: SimZone = { id: `${key}-z${String(zones.length + 1).padStart(2, '0')}`, name, kind, floor: -1, minX: round1(minX), minY, maxX: round1(maxX), maxY, seats: [], tables: [] };
    if (kind === 'office') z.seats = desks(z.minX, z.maxX, minY, maxY);
    else if (kind === 'meeting') z.seats = meetingSeats(z.minX, z.maxX, minY, maxY);
    else if (kind === 'cafeteria') Object.assign(z, cafeteriaSeats(z.minX, z.maxX, minY, maxY));
    zones.push(z);
  };
  const roomName = (kind: 'office' | 'meeting', n: number): string => `${kind === 'office' ? 'Office' : 'Meeting room'} ${building + 1}.${level}${String(n).padStart(2, '0')}`;
  add('corridor', `Corridor ${building + 1}.${level}`, 0, ROOM_DEPTH_M, widthM, ROOM_DEPTH_M + CORRIDOR_M);
  let n = 1;
  let bottomStart = 0;
  let entrance: Point | undefined;
  if (level === 0) {
    add('lobby', `Lobby ${building + 1}`, 0, 0, 10, ROOM_DEPTH_M);
    let cafW = Math.min(28, Math.max(16, Math.round(widthM * 0.4)));
    if (widthM - 10 - cafW < 5) cafW = widthM - 10;
    add('cafeteria', `Cafeteria ${building + 1}`, 10, 0, 10 + cafW, ROOM_DEPTH_M);
    bottomStart = 10 + cafW;
    entrance = { x: 5, y: 0.4 };
  }
  for (const p of partition(rand, bottomStart, widthM)) add(p.kind, roomName(p.kind, n++), p.x0, 0, p.x1, ROOM_DEPTH_M);
  for (const p of partition(rand, 0, widthM)) add(p.kind, roomName(p.kind, n++), p.x0, ROOM_DEPTH_M + CORRIDOR_M, p.x1, heightM);
  // The last zone edge lands exactly on the floor's width (rounding may have moved it).
  for (const z of zones) if (Math.abs(z.maxX - widthM) < 0.2) z.maxX = widthM;
  const floor: FloorDraft['floor'] = {
    key,
    name: level === 0 ? `Building ${building + 1}, ground floor` : `Building ${building + 1}, floor ${level}`,
    building,
    level,
    widthM,
    heightM,
    corridorY: cy,
    corridorHalfWidthM: CORRIDOR_M / 2,
    stairs: { x: 1.5, y: cy },
    coffee: { x: round1(widthM - 1.5), y: cy },
    zones,
  };
  if (entrance) floor.entrance = entrance;
  return { floor, deskCount: zones.reduce((s, z) => s + (z.kind === 'office' ? z.seats.length : 0), 0) };
}

/** Sensors of one floor: BLE on a jittered grid, APs on a staggered grid. */
function placeSensors(campus: Campus, rand: Rng, f: SimFloor, bleSpacing: number, apSpacing: number): void {
  const b = campus.buildings[f.building]!;
  const bleCols = Math.max(2, Math.ceil(f.widthM / bleSpacing));
  const bleRows = Math.max(2, Math.ceil(f.heightM / bleSpacing));
  for (let r = 0; r < bleRows; r++) {
    for (let c = 0; c < bleCols; c++) {
      const i = campus.sensors.length;
      const n = f.bleSensors.length + 1;
      const v = (mixSeed(campus.seed, 31) ^ (i + 1)) & 0xffffff;
      const mac = macFromBytes(BLE_OUI[0], BLE_OUI[1], BLE_OUI[2], (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      campus.sensors.push({
        index: i,
        kind: 'ble-sensor',
        id: `${f.key}-ble${String(n).padStart(2, '0')}`,
        mac,
        vendorId: `00000000-0000-0000-1000-${mac.replaceAll(':', '')}`,
        building: f.building,
        floor: f.index,
        level: f.level,
        xM: round1(((c + 0.5) * f.widthM) / bleCols + (rand() - 0.5) * 1.2),
        yM: round1(((r + 0.5) * f.heightM) / bleRows + (rand() - 0.5) * 1.2),
        coverageRadiusM: 10,
        model: campus.bleModel,
      });
      f.bleSensors.push(i);
    }
  }
  const apCols = Math.max(2, Math.ceil(f.widthM / apSpacing));
  const apRows = 2;
  for (let r = 0; r < apRows; r++) {
    for (let c = 0; c < apCols; c++) {
      const i = campus.sensors.length;
      const n = f.aps.length + 1;
      // Base MACs four apart: base+1 is the 2.4 GHz BSSID, base+2 the 5 GHz one.
      const v = (mixSeed(campus.seed, 32) & 0xfffffc) ^ ((i + 1) * 4);
      const byte = (k: number): number => (v >>> k) & 0xff;
      const id = `${f.key}-ap${String(n).padStart(2, '0')}`;
      const stagger = r % 2 === 1 ? 0.5 : 0;
      campus.sensors.push({
        index: i,
        kind: 'ap',
        id,
        mac: macFromBytes(AP_OUI[0], AP_OUI[1], AP_OUI[2], byte(16), byte(8), byte(0)),
        vendorId: id,
        building: f.building,
        floor: f.index,
        level: f.level,
        xM: round1(Math.min(f.widthM - 1, ((c + 0.25 + stagger) * f.widthM) / apCols)),
        yM: round1(r === 0 ? ROOM_DEPTH_M * 0.5 : f.heightM - ROOM_DEPTH_M * 0.5),
        coverageRadiusM: 15,
        model: campus.wifiModel,
        bssid24: macFromBytes(AP_OUI[0], AP_OUI[1], AP_OUI[2], byte(16), byte(8), (v + 1) & 0xff),
        bssid5: macFromBytes(AP_OUI[0], AP_OUI[1], AP_OUI[2], byte(16), byte(8), (v + 2) & 0xff),
        ip: `10.${(b.index % 250) + 1}.${f.level}.${n + 10}`,
      });
      f.aps.push(i);
    }
  }
}

/**
 * Builds the campus for a head count. Deterministic: the same options give the same campus.
 *
 * @example const campus = buildCampus({ seed: 7, people: 200 }); campus.floors[0].zones.map((z) => z.kind)
 */
export function buildCampus(options: CampusOptions): Campus {
  const people = Math.max(0, Math.floor(options.people));
  const floorsPer = options.floorsPerBuilding ?? 3;
  if (!Number.isInteger(floorsPer) || floorsPer < 1 || floorsPer > 30) throw new CairnError('CAIRN_ERR_VALIDATION', 'floorsPerBuilding must be 1 to 30.');
  if (options.buildings !== undefined && (!Number.isInteger(options.buildings) || options.buildings < 1 || options.buildings > 200)) {
    throw new CairnError('CAIRN_ERR_VALIDATION', 'buildings must be 1 to 200.');
  }
  const seed = options.seed >>> 0;
  const draftBuilding = (b: number, extraWidth: number) => {
    const rand = seededRandom(mixSeed(seed, 10, b));
    const width = Math.round((44 + rand() * 20 + extraWidth) * 2) / 2;
    const floors: FloorDraft[] = [];
    for (let level = 0; level < floorsPer; level++) floors.push(layoutFloor(rand, b, level, width));
    return { floors, desks: floors.reduce((s, f) => s + f.deskCount, 0), width };
  };
  let drafts: ReturnType<typeof draftBuilding>[] = [];
  if (options.buildings === undefined) {
    let desks = 0;
    while (desks < people || drafts.length === 0) {
      const d = draftBuilding(drafts.length, 0);
      drafts.push(d);
      desks += d.desks;
      if (drafts.length > 2000) throw new CairnError('CAIRN_ERR_VALIDATION', 'Too many people for one campus.');
    }
  } else {
    for (let extra = 0; ; extra += 6) {
      drafts = [];
      for (let b = 0; b < options.buildings; b++) drafts.push(draftBuilding(b, extra));
      if (drafts.reduce((s, d) => s + d.desks, 0) >= people) break;
      if (drafts[0]!.width > MAX_FLOOR_WIDTH_M) throw new CairnError('CAIRN_ERR_VALIDATION', `${options.buildings} building(s) of ${floorsPer} floor(s) cannot seat ${people} people; allow more buildings or floors.`);
    }
  }
  const campus: Campus = {
    seed,
    buildings: [],
    floors: [],
    sensors: [],
    bleModel: options.bleModel ?? DEFAULT_BLE_MODEL,
    wifiModel: options.wifiModel ?? SIM_WIFI_MODEL,
    floorHeightM: FLOOR_HEIGHT_M,
    deskCount: 0,
  };
  drafts.forEach((d, b) => {
    const building: SimBuilding = {
      index: b,
      key: `b${b + 1}`,
      name: `Building ${b + 1}`,
      floors: [],
      vendorSiteId: uuidFrom(mixSeed(seed, 100, b)),
      merakiNetworkId: `L_${String(mixSeed(seed, 101, b)).padStart(10, '0')}${String(b).padStart(8, '0')}`,
      controller: `b${b + 1}-ctl`,
      controllerIp: `10.${(b % 250) + 1}.255.1`,
      // Buildings 150 m apart along a street in Utrecht (any spot would do; used for lat/lng only).
      originLat: 52.0907,
      originLng: 5.1214 + (b * 150) / (111_320 * Math.cos((52.0907 * Math.PI) / 180)),
    };
    campus.buildings.push(building);
    for (const fd of d.floors) {
      const index = campus.floors.length;
      for (const z of fd.floor.zones) z.floor = index;
      const floor: SimFloor = {
        ...fd.floor,
        index,
        vendorFloorId: uuidFrom(mixSeed(seed, 200, index)),
        bleSensors: [],
        aps: [],
        zoneIndex: new ZoneIndex(fd.floor.zones.map((z) => ({ id: z.id, polygon: polygonFromPoints(rect(z)) }))),
      };
      campus.floors.push(floor);
      building.floors.push(index);
      campus.deskCount += fd.deskCount;
    }
  });
  const apSpacing = options.apSpacingM ?? 15;
  const bleSpacing = options.bleSpacingM ?? 8;
  if (!(apSpacing >= 4 && apSpacing <= 60) || !(bleSpacing >= 3 && bleSpacing <= 40)) throw new CairnError('CAIRN_ERR_VALIDATION', 'Sensor spacing out of range (BLE 3–40 m, AP 4–60 m).');
  for (const f of campus.floors) placeSensors(campus, seededRandom(mixSeed(seed, 30, f.index)), f, bleSpacing, apSpacing);
  return campus;
}

/** The zone of the floor that contains the point, if any. @example zoneAt(campus.floors[0], 5, 1)?.kind === 'lobby' */
export function zoneAt(floor: SimFloor, x: number, y: number): SimZone | undefined {
  const id = floor.zoneIndex.zoneAt(x, y);
  return id === undefined ? undefined : floor.zones.find((z) => z.id === id);
}

/**
 * The campus as plain JSON, shaped for registering it in Cairn (sites → floors → zones with
 * polygons, sensors as `SensorInput`s). Written as `campus.json` by `cairn simulate`.
 *
 * @example JSON.stringify(campusPlan(campus))
 */
export function campusPlan(campus: Campus) {
  return {
    seed: campus.seed,
    models: { ble: campus.bleModel, wifi: campus.wifiModel },
    sites: campus.buildings.map((b) => ({
      key: b.key,
      name: b.name,
      vendorSiteId: b.vendorSiteId,
      merakiNetworkId: b.merakiNetworkId,
      floors: b.floors.map((fi) => {
        const f = campus.floors[fi]!;
        return {
          key: f.key,
          name: f.name,
          level: f.level,
          widthM: f.widthM,
          heightM: f.heightM,
          vendorFloorId: f.vendorFloorId,
          zones: f.zones.map((z) => ({ key: z.id, name: z.name, kind: z.kind, polygon: rect(z).map((p) => [p.x, p.y]), seats: z.seats.length })),
          sensors: [...f.bleSensors, ...f.aps].map((si) => {
            const s = campus.sensors[si]!;
            return { kind: s.kind, name: s.id, mac: s.mac, vendorId: s.vendorId, xM: s.xM, yM: s.yM, coverageRadiusM: s.coverageRadiusM, txPowerDbm: s.model.txPowerDbm };
          }),
        };
      }),
    })),
  };
}
