/**
 * The simulation: campus, people, devices and, tick by tick, what the infrastructure sees.
 * `ticks()` is a lazy generator: it plans one day at a time, walks the clock in `tickMs` steps
 * from the first arrival to the last departure, and at each tick lets the devices whose report
 * is due (each has a period and a phase) be heard by the sensors of their building. Nights and
 * empty days are skipped, and nothing but the current day's plan is held, so a 10 000-device,
 * 30-day run streams in constant memory. Every random stream (plans per day, radio noise per
 * day, vendor estimates per day, encounters per day) has its own seed derived from the run's
 * seed: the same options give the same ticks, byte for byte.
 *
 * Connected Wi-Fi devices associate with the AP of strongest mean signal (clients average many
 * beacons, so the decision uses the noise-free signal) and roam only when another is stronger
 * by `roamHysteresisDb` (or theirs fades below `dropBelowDbm`), which gives the association and
 * disassociation events controllers log. Badges near each other can
 * hear each other: with `encounters` on, each `encounterSlotMs` slot yields badge-to-badge
 * encounters like the SocioPatterns badges record.
 */
import { CairnError } from '../kernel/errors.ts';
import { seededNormal, seededRandom } from '../kernel/prng.ts';
import { makeEncounter, type Band, type DeviceIdType, type Encounter, type ObservationKind } from '../ingest/index.ts';
import { buildCampus, SIM_WIFI_MODEL, type Campus } from './campus.ts';
import { mixSeed } from './ids.ts';
import { buildPopulation, rotatingMac, type SimDevice, type SimPerson } from './population.ts';
import { Radio, type SimReading } from './radio.ts';
import { DAY_MS, HOUR_MS } from '../kernel/clock.ts';
import { legAt, planDay, positionOnLeg, type DayPlan, type FloorPosition } from './schedule.ts';

export interface SimulationOptions {
  seed: number;
  people: number;
  /** Simulated days; default 1. */
  days?: number;
  /** Midnight (UTC) of day 0, epoch ms; schedules are hours after it. Default 2024-03-04 (a Monday). */
  startMs?: number;
  buildings?: number;
  /** Default 3. */
  floorsPerBuilding?: number;
  /** Clock step, ms; every period is a multiple of it. Default 5 000. */
  tickMs?: number;
  /** Report periods, ms. Defaults: badge 10 s, connected Wi-Fi 30 s, probing phone 60 s, SDK 10 s. */
  badgePeriodMs?: number;
  wifiPeriodMs?: number;
  probePeriodMs?: number;
  sdkPeriodMs?: number;
  /** How often a probing phone changes its randomised MAC; default 15 minutes. */
  macRotationMs?: number;
  /** Shadowing σ: badge → BLE sensor (default 4 dB), Wi-Fi client → AP (default 6 dB). */
  badgeSigmaDb?: number;
  wifiSigmaDb?: number;
  /** Sensitivities; defaults −90 dBm (BLE), −85 dBm (Wi-Fi). */
  bleSensitivityDbm?: number;
  wifiSensitivityDbm?: number;
  /** Loss per floor between device and sensor; default 15 dB. */
  floorLossDb?: number;
  /** Readings kept per sighting, strongest first; default 8. */
  maxReadings?: number;
  /** Roaming: a better AP must be this much stronger (default 8 dB); below `dropBelowDbm` (−88) the client leaves; it joins at `associateMinDbm` (−80) or better. */
  roamHysteresisDb?: number;
  dropBelowDbm?: number;
  associateMinDbm?: number;
  /** Shares of people carrying each device (phone 0.95, of which connected 0.7; laptop 0.8; badge 1; SDK app 0.2 of phones). */
  phoneShare?: number;
  connectedPhoneShare?: number;
  laptopShare?: number;
  badgeShare?: number;
  sdkShare?: number;
  /** Badge-to-badge encounters (off by default: they cost a neighbour search per slot). */
  encounters?: boolean;
  /** Encounter slot, ms (multiple of `tickMs`); default 20 000 as SocioPatterns. */
  encounterSlotMs?: number;
  /** A badge hears another at this strength or better (default −75 dBm, about 3 m). */
  encounterThresholdDbm?: number;
  /** σ (metres per axis) of the vendor's or app's own position estimate, per kind. */
  vendorSigmaM?: Partial<Record<'ble-badge' | 'wifi-connected' | 'wifi-unconnected' | 'sdk', number>>;
}

/** One device heard at one tick, with the truth beside it. */
export interface SimSighting {
  atMs: number;
  device: number;
  person: number;
  kind: ObservationKind;
  /** What sources report: badge id, app id, or the MAC in use now (rotating for probing phones). */
  deviceId: string;
  idType: DeviceIdType;
  randomized: boolean;
  band?: Band;
  /** Truth: global floor index and floor metres of the device. */
  floor: number;
  x: number;
  y: number;
  /** Strongest first; empty for SDK sightings (the app positions itself). */
  readings: SimReading[];
  /** The AP (sensor index) a connected device is associated with, or -1. */
  ap: number;
  /** The vendor's (or app's) own estimate, floor metres, and its DRMS accuracy. */
  estX: number;
  estY: number;
  estAccuracyM: number;
}

/** A connected client joining or leaving an AP. */
export interface SimAssociation {
  atMs: number;
  device: number;
  /** The client MAC. */
  deviceId: string;
  type: 'associate' | 'disassociate';
  /** Sensor index of the AP. */
  ap: number;
  band: Band;
  reason: 'join' | 'roam' | 'signal' | 'left';
  /** Truth: where the device was (global floor index, metres); floor -1 once its owner has left. */
  floor: number;
  x: number;
  y: number;
}

/** What happened at one tick (ticks with nothing are not yielded). */
export interface SimTick {
  atMs: number;
  sightings: SimSighting[];
  associations: SimAssociation[];
  /** Badge-to-badge encounters (only with `encounters` on, at slot boundaries). */
  encounters: Encounter[];
}

/** Resolved options (every default filled in). */
export type ResolvedSimulationOptions = Required<Omit<SimulationOptions, 'buildings' | 'vendorSigmaM'>> & {
  buildings?: number;
  vendorSigmaM: Record<'ble-badge' | 'wifi-connected' | 'wifi-unconnected' | 'sdk', number>;
};

/** `v` within [0, max], to the centimetre. */
function clampCm(v: number, max: number): number {
  return Math.round((v < 0 ? 0 : v > max ? max : v) * 100) / 100;
}

/** 2024-03-04T00:00:00Z, a Monday. */
export const DEFAULT_START_MS = Date.UTC(2024, 2, 4);

const STREAM_RADIO = 60;
const STREAM_VENDOR = 61;
const STREAM_ENCOUNTER = 62;
/** Badge-to-badge path loss: −65 dBm at 1 m (bodies in the way), n = 2.2, σ = 4 dB. */
const BADGE_TO_BADGE = { txPowerDbm: -65, exponent: 2.2, sigmaDb: 4 };

function resolve(o: SimulationOptions): ResolvedSimulationOptions {
  const r: ResolvedSimulationOptions = {
    seed: o.seed >>> 0,
    people: o.people,
    days: o.days ?? 1,
    startMs: o.startMs ?? DEFAULT_START_MS,
    floorsPerBuilding: o.floorsPerBuilding ?? 3,
    tickMs: o.tickMs ?? 5_000,
    badgePeriodMs: o.badgePeriodMs ?? 10_000,
    wifiPeriodMs: o.wifiPeriodMs ?? 30_000,
    probePeriodMs: o.probePeriodMs ?? 60_000,
    sdkPeriodMs: o.sdkPeriodMs ?? 10_000,
    macRotationMs: o.macRotationMs ?? 15 * 60_000,
    badgeSigmaDb: o.badgeSigmaDb ?? 4,
    wifiSigmaDb: o.wifiSigmaDb ?? 6,
    bleSensitivityDbm: o.bleSensitivityDbm ?? -90,
    wifiSensitivityDbm: o.wifiSensitivityDbm ?? -85,
    floorLossDb: o.floorLossDb ?? 15,
    maxReadings: o.maxReadings ?? 8,
    roamHysteresisDb: o.roamHysteresisDb ?? 8,
    dropBelowDbm: o.dropBelowDbm ?? -88,
    associateMinDbm: o.associateMinDbm ?? -80,
    phoneShare: o.phoneShare ?? 0.95,
    connectedPhoneShare: o.connectedPhoneShare ?? 0.7,
    laptopShare: o.laptopShare ?? 0.8,
    badgeShare: o.badgeShare ?? 1,
    sdkShare: o.sdkShare ?? 0.2,
    encounters: o.encounters ?? false,
    encounterSlotMs: o.encounterSlotMs ?? 20_000,
    encounterThresholdDbm: o.encounterThresholdDbm ?? -75,
    vendorSigmaM: { 'ble-badge': 2, 'wifi-connected': 5, 'wifi-unconnected': 8, sdk: 1.5, ...o.vendorSigmaM },
  };
  if (o.buildings !== undefined) r.buildings = o.buildings;
  const bad = (m: string): never => {
    throw new CairnError('CAIRN_ERR_VALIDATION', m);
  };
  if (!Number.isInteger(r.people) || r.people < 1 || r.people > 200_000) bad('people must be 1 to 200 000.');
  if (!Number.isInteger(r.days) || r.days < 1 || r.days > 3_660) bad('days must be 1 to 3 660.');
  if (!Number.isFinite(r.startMs) || r.startMs < 0) bad('startMs must be an epoch time.');
  if (!Number.isInteger(r.tickMs) || r.tickMs < 100 || r.tickMs > 600_000) bad('tickMs must be 100 to 600 000.');
  for (const k of ['badgePeriodMs', 'wifiPeriodMs', 'probePeriodMs', 'sdkPeriodMs', 'encounterSlotMs'] as const) {
    const v = r[k];
    if (!Number.isInteger(v) || v < r.tickMs || v % r.tickMs !== 0 || v > HOUR_MS) bad(`${k} must be a multiple of tickMs (${r.tickMs} ms), at most an hour.`);
  }
  if (!(r.macRotationMs >= 60_000)) bad('macRotationMs must be at least a minute.');
  for (const k of ['phoneShare', 'connectedPhoneShare', 'laptopShare', 'badgeShare', 'sdkShare'] as const) if (!(r[k] >= 0 && r[k] <= 1)) bad(`${k} must be between 0 and 1.`);
  for (const k of ['badgeSigmaDb', 'wifiSigmaDb'] as const) if (!(r[k] >= 0 && r[k] <= 20)) bad(`${k} must be 0 to 20 dB.`);
  if (!Number.isInteger(r.maxReadings) || r.maxReadings < 1 || r.maxReadings > 64) bad('maxReadings must be 1 to 64.');
  return r;
}

/**
 * A seeded simulation. Construction builds the campus and the population (cheap); the data is
 * produced lazily by `ticks()`.
 *
 * @example
 * const sim = new Simulation({ seed: 7, people: 100 });
 * for (const tick of sim.ticks()) for (const s of tick.sightings) …
 */
export class Simulation {
  readonly options: ResolvedSimulationOptions;
  readonly campus: Campus;
  readonly people: SimPerson[];
  readonly devices: SimDevice[];
  private planCache: DayPlan | undefined;

  constructor(options: SimulationOptions) {
    this.options = resolve(options);
    const o = this.options;
    const campusOpts: Parameters<typeof buildCampus>[0] = { seed: o.seed, people: o.people, floorsPerBuilding: o.floorsPerBuilding, wifiModel: SIM_WIFI_MODEL };
    if (o.buildings !== undefined) campusOpts.buildings = o.buildings;
    this.campus = buildCampus(campusOpts);
    const pop = buildPopulation(this.campus, {
      seed: o.seed,
      people: o.people,
      tickMs: o.tickMs,
      badgePeriodMs: o.badgePeriodMs,
      wifiPeriodMs: o.wifiPeriodMs,
      probePeriodMs: o.probePeriodMs,
      sdkPeriodMs: o.sdkPeriodMs,
      phoneShare: o.phoneShare,
      connectedPhoneShare: o.connectedPhoneShare,
      laptopShare: o.laptopShare,
      badgeShare: o.badgeShare,
      sdkShare: o.sdkShare,
      rotationMs: o.macRotationMs,
    });
    this.people = pop.people;
    this.devices = pop.devices;
  }

  /** The first instant after the simulated period, epoch ms. */
  get endMs(): number {
    return this.options.startMs + this.options.days * DAY_MS;
  }

  /** The plan of day `day` (0-based); the last one is cached. */
  plan(day: number): DayPlan {
    if (this.planCache?.day === day) return this.planCache;
    this.planCache = planDay(this.campus, this.people, { seed: this.options.seed, startMs: this.options.startMs, day });
    return this.planCache;
  }

  /**
   * The simulated stream, tick by tick, in time order. `fromMs`/`toMs` bound it (inclusive);
   * a bounded run is deterministic too, though its noise differs from the same stretch of an
   * unbounded one (each day's noise starts at the day's first tick produced).
   */
  *ticks(range: { fromMs?: number; toMs?: number } = {}): Generator<SimTick> {
    const o = this.options;
    const radio = new Radio(this.campus, {
      ble: { sigmaDb: o.badgeSigmaDb, sensitivityDbm: o.bleSensitivityDbm },
      wifi: { sigmaDb: o.wifiSigmaDb, sensitivityDbm: o.wifiSensitivityDbm },
      floorLossDb: o.floorLossDb,
      maxReadings: o.maxReadings,
    });
    const groups = new Map<number, number[][]>();
    for (const d of this.devices) {
      let g = groups.get(d.periodTicks);
      if (!g) groups.set(d.periodTicks, (g = Array.from({ length: d.periodTicks }, () => [])));
      g[d.phaseTicks]!.push(d.index);
    }
    const periods = [...groups.keys()].sort((a, b) => a - b);
    const maxPeriodMs = periods[periods.length - 1]! * o.tickMs;
    const badges = this.devices.filter((d) => d.type === 'badge').map((d) => d.index);
    const slotTicks = o.encounterSlotMs / o.tickMs;
    const cursor = new Int32Array(this.people.length);
    const assoc = new Int32Array(this.devices.length).fill(-1);
    const pos: FloorPosition = { floor: 0, x: 0, y: 0 };
    for (let day = 0; day < o.days; day++) {
      const dayStart = o.startMs + day * DAY_MS;
      if (range.toMs !== undefined && dayStart > range.toMs) break;
      if (range.fromMs !== undefined && dayStart + DAY_MS <= range.fromMs) continue;
      const plan = this.plan(day);
      if (Number.isNaN(plan.firstMs)) continue;
      const from = Math.max(plan.firstMs, range.fromMs ?? -Infinity);
      const to = Math.min(plan.lastMs + maxPeriodMs, range.toMs ?? Infinity);
      if (from > to) continue;
      const k0 = Math.ceil((from - o.startMs) / o.tickMs);
      const k1 = Math.floor((to - o.startMs) / o.tickMs);
      const gauss = seededNormal(seededRandom(mixSeed(o.seed, STREAM_RADIO, day)));
      const vgauss = seededNormal(seededRandom(mixSeed(o.seed, STREAM_VENDOR, day)));
      const egauss = seededNormal(seededRandom(mixSeed(o.seed, STREAM_ENCOUNTER, day)));
      cursor.fill(0);
      for (let k = k0; k <= k1; k++) {
        const t = o.startMs + k * o.tickMs;
        const tick: SimTick = { atMs: t, sightings: [], associations: [], encounters: [] };
        for (const p of periods) {
          for (const di of groups.get(p)![k % p]!) this.sense(this.devices[di]!, t, plan, cursor, assoc, radio, gauss, vgauss, pos, tick);
        }
        if (o.encounters && k % slotTicks === 0) this.encounterSlot(badges, t, plan, cursor, egauss, tick);
        if (tick.sightings.length > 0 || tick.associations.length > 0 || tick.encounters.length > 0) yield tick;
      }
    }
  }

  private sense(
    dev: SimDevice,
    t: number,
    plan: DayPlan,
    cursor: Int32Array,
    assoc: Int32Array,
    radio: Radio,
    gauss: () => number,
    vgauss: () => number,
    pos: FloorPosition,
    tick: SimTick,
  ): void {
    const o = this.options;
    const pd = plan.days[dev.person];
    const li = pd ? legAt(pd, t, cursor[dev.person]!) : -1;
    if (li < 0) {
      if (assoc[dev.index]! >= 0) this.associate(dev, t, assoc, -1, 'left', tick, undefined);
      return;
    }
    cursor[dev.person] = li;
    const leg = pd!.legs[li]!;
    const person = this.people[dev.person]!;
    if (dev.type === 'laptop' && !leg.carry) {
      pos.floor = person.floor;
      pos.x = person.desk.x;
      pos.y = person.desk.y;
    } else {
      positionOnLeg(leg, t, pos);
    }
    const floor = this.campus.floors[pos.floor]!;
    let readings: SimReading[] = [];
    let band: Band | undefined;
    let deviceId = dev.stableId ?? '';
    let randomized = false;
    if (dev.kind === 'ble-badge') {
      const n = radio.hear('ble', floor.building, floor.level, pos.x, pos.y, gauss);
      if (n === 0) return;
      readings = radio.readings(n);
    } else if (dev.kind === 'wifi-connected' || dev.kind === 'wifi-unconnected') {
      const connected = dev.kind === 'wifi-connected';
      band = connected ? '5' : '2.4';
      randomized = dev.type === 'phone';
      if (!connected) deviceId = rotatingMac(o.seed, dev, t, o.macRotationMs);
      const n = radio.hear('wifi', floor.building, floor.level, pos.x, pos.y, gauss);
      if (connected) {
        const cur = assoc[dev.index]!;
        const best = radio.bestSensor;
        const bestMean = radio.bestMeanDbm;
        if (cur < 0) {
          if (best >= 0 && bestMean >= o.associateMinDbm) this.associate(dev, t, assoc, best, 'join', tick, pos);
        } else {
          const curMean = radio.meanAt(cur, floor.level, pos.x, pos.y);
          if (curMean < o.dropBelowDbm) this.associate(dev, t, assoc, best >= 0 && bestMean >= o.associateMinDbm ? best : -1, 'signal', tick, pos);
          else if (best >= 0 && best !== cur && bestMean - curMean >= o.roamHysteresisDb) this.associate(dev, t, assoc, best, 'roam', tick, pos);
        }
      }
      if (n === 0) return;
      readings = radio.readings(n);
    }
    const sigma = o.vendorSigmaM[dev.kind as keyof ResolvedSimulationOptions['vendorSigmaM']] ?? 5;
    const s: SimSighting = {
      atMs: t,
      device: dev.index,
      person: dev.person,
      kind: dev.kind,
      deviceId,
      idType: dev.idType,
      randomized,
      floor: pos.floor,
      x: pos.x,
      y: pos.y,
      readings,
      ap: assoc[dev.index]!,
      estX: clampCm(pos.x + sigma * vgauss(), floor.widthM),
      estY: clampCm(pos.y + sigma * vgauss(), floor.heightM),
      estAccuracyM: Math.round(sigma * Math.SQRT2 * 10) / 10,
    };
    if (band) s.band = band;
    tick.sightings.push(s);
  }

  /** Moves a connected device to AP `to` (-1: off the network), logging the events. */
  private associate(dev: SimDevice, t: number, assoc: Int32Array, to: number, reason: SimAssociation['reason'], tick: SimTick, pos: FloorPosition | undefined): void {
    const cur = assoc[dev.index]!;
    if (cur === to) return;
    const where = pos ? { floor: pos.floor, x: pos.x, y: pos.y } : { floor: -1, x: NaN, y: NaN };
    const mac = dev.stableId!;
    if (cur >= 0) tick.associations.push({ atMs: t, device: dev.index, deviceId: mac, type: 'disassociate', ap: cur, band: '5', reason, ...where });
    if (to >= 0) tick.associations.push({ atMs: t, device: dev.index, deviceId: mac, type: 'associate', ap: to, band: '5', reason: cur >= 0 ? reason : 'join', ...where });
    assoc[dev.index] = to;
  }

  /** Badges within earshot of each other during one slot (sweep along x per floor). */
  private encounterSlot(badges: number[], t: number, plan: DayPlan, cursor: Int32Array, gauss: () => number, tick: SimTick): void {
    const o = this.options;
    const m = BADGE_TO_BADGE;
    const reach = Math.pow(10, (m.txPowerDbm - (o.encounterThresholdDbm - 3 * m.sigmaDb)) / (10 * m.exponent));
    const here: { floor: number; x: number; y: number; id: string }[] = [];
    const pos: FloorPosition = { floor: 0, x: 0, y: 0 };
    for (const bi of badges) {
      const dev = this.devices[bi]!;
      const pd = plan.days[dev.person];
      const li = pd ? legAt(pd, t, cursor[dev.person]!) : -1;
      if (li < 0) continue;
      cursor[dev.person] = li;
      positionOnLeg(pd!.legs[li]!, t, pos);
      here.push({ floor: pos.floor, x: pos.x, y: pos.y, id: dev.stableId! });
    }
    here.sort((a, b) => a.floor - b.floor || a.x - b.x || (a.id < b.id ? -1 : 1));
    for (let i = 0; i < here.length; i++) {
      const a = here[i]!;
      for (let j = i + 1; j < here.length; j++) {
        const b = here[j]!;
        if (b.floor !== a.floor || b.x - a.x > reach) break;
        const d2 = (b.x - a.x) ** 2 + (b.y - a.y) ** 2;
        if (d2 > reach * reach) continue;
        const r = Math.round(m.txPowerDbm - 5 * m.exponent * Math.log10(Math.max(d2, 0.04)) + m.sigmaDb * gauss());
        if (r >= o.encounterThresholdDbm) tick.encounters.push(makeEncounter(a.id, b.id, t, { rssiDbm: Math.min(r, -1), durationMs: o.encounterSlotMs }));
      }
    }
  }
}
