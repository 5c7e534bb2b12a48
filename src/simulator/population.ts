/**
 * The simulated people and what they carry. Each person has a desk (which fixes building, floor
 * and team, the people of one office), a walking speed, habits (arrival time, hours, how often
 * they come in) and devices:
 *  - a phone: most join the corporate Wi-Fi with a per-network randomised MAC (stable for that
 *    network); the others only probe, with a randomised MAC that rotates every few minutes;
 *  - a laptop (most people): a stable vendor MAC, always connected, left on the desk at lunch;
 *  - a badge: a BLE tag with a stable iBeacon identity;
 *  - some phones run the org's app (SDK): a stable install id and the app's own position.
 * Identities are generated, never real; `devices.json` maps them back to simulated people so
 * tests can score what Cairn finds.
 */
import { seededRandom, shuffledIndices } from '../kernel/prng.ts';
import { iBeaconId } from '../ingest/index.ts';
import type { DeviceIdType, ObservationKind } from '../ingest/index.ts';
import type { Point } from '../location/engine/index.ts';
import type { Campus } from './campus.ts';
import { bleStaticAddress, mixSeed, randomisedMac, uuidFrom, vendorMac } from './ids.ts';

export interface SimPerson {
  index: number;
  /** `p-00042`. */
  id: string;
  building: number;
  /** Global floor index of the desk. */
  floor: number;
  /** Index of the office zone on that floor; people of one office are a team. */
  zone: number;
  desk: Point;
  speedMps: number;
  /** Probability of coming in on a weekday. */
  attendance: number;
  /** Usual arrival, hours after midnight UTC. */
  arriveHour: number;
  /** Usual hours in the building. */
  stayHours: number;
  /** Lateral offset in corridors (metres), so not everyone walks one line. */
  lane: number;
  devices: number[];
}

export type DeviceType = 'phone' | 'laptop' | 'badge' | 'sdk';

export interface SimDevice {
  index: number;
  person: number;
  type: DeviceType;
  /** The observation kind its sightings carry. */
  kind: ObservationKind;
  idType: DeviceIdType;
  /** The identifier sources report, when it does not rotate: badge id, app id, connected MAC. */
  stableId?: string;
  /** Phones that only probe: their MAC rotates every `rotationMs`, starting at `rotationPhaseMs`. */
  rotates: boolean;
  rotationPhaseMs: number;
  /** Badges: the BLE address they advertise from, and their iBeacon triple. */
  bleMac?: string;
  ibeacon?: { uuid: string; major: number; minor: number };
  /** Report period in ticks, and the tick phase within it. */
  periodTicks: number;
  phaseTicks: number;
  /** Connected Wi-Fi: a fake client address (personal in real data; kept only when collected). */
  ipv4?: string;
  os?: string;
  manufacturer?: string;
}

export interface PopulationOptions {
  seed: number;
  people: number;
  tickMs: number;
  /** Report periods, ms (multiples of `tickMs`). */
  badgePeriodMs: number;
  wifiPeriodMs: number;
  probePeriodMs: number;
  sdkPeriodMs: number;
  /** Shares of people with each device. */
  phoneShare: number;
  connectedPhoneShare: number;
  laptopShare: number;
  badgeShare: number;
  sdkShare: number;
  rotationMs: number;
}

/** The org's iBeacon UUID for badges (any fixed value; major/minor number the badges). */
export const BADGE_IBEACON_UUID = 'c0ffee00-ca1e-4b1d-9a2e-5eed00000001';

/** OUIs of laptop vendors (globally administered: the locally-administered bit is clear). */
const LAPTOP_OUIS: readonly (readonly [number, number, number])[] = [
  [0x3c, 0x22, 0xfb],
  [0xa4, 0x83, 0xe7],
  [0x8c, 0x8d, 0x28],
  [0xf4, 0x8c, 0x50],
  [0xdc, 0x41, 0xa9],
];

/**
 * Desks shuffled, people seated, devices handed out. Deterministic for the options.
 *
 * @example const { people, devices } = buildPopulation(campus, opts)
 */
export function buildPopulation(campus: Campus, o: PopulationOptions): { people: SimPerson[]; devices: SimDevice[] } {
  const rand = seededRandom(mixSeed(o.seed, 40));
  const gauss = () => {
    let u = rand();
    while (u <= 1e-12) u = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  const desks: { floor: number; zone: number; desk: Point }[] = [];
  for (const f of campus.floors) {
    f.zones.forEach((z, zi) => {
      if (z.kind === 'office') for (const d of z.seats) desks.push({ floor: f.index, zone: zi, desk: d });
    });
  }
  const order = shuffledIndices(desks.length, rand);
  const people: SimPerson[] = [];
  const devices: SimDevice[] = [];
  const period = (ms: number) => Math.max(1, Math.round(ms / o.tickMs));
  const addDevice = (d: Omit<SimDevice, 'index' | 'periodTicks' | 'phaseTicks' | 'rotates' | 'rotationPhaseMs'> & Partial<SimDevice>, periodMs: number): void => {
    const p = period(periodMs);
    const dev: SimDevice = { rotates: false, rotationPhaseMs: 0, ...d, index: devices.length, periodTicks: p, phaseTicks: Math.floor(rand() * p) };
    devices.push(dev);
    people[d.person]!.devices.push(dev.index);
  };
  for (let i = 0; i < o.people; i++) {
    const seat = desks[order[i]!]!;
    const floor = campus.floors[seat.floor]!;
    people.push({
      index: i,
      id: `p-${String(i + 1).padStart(5, '0')}`,
      building: floor.building,
      floor: seat.floor,
      zone: seat.zone,
      desk: seat.desk,
      speedMps: 1.0 + rand() * 0.5,
      attendance: 0.82 + rand() * 0.16,
      arriveHour: Math.min(10, Math.max(7, 8.6 + 0.5 * gauss())),
      stayHours: Math.min(10.5, Math.max(5, 8.4 + 0.6 * gauss())),
      lane: (rand() - 0.5) * 2 * (floor.corridorHalfWidthM - 0.4),
      devices: [],
    });
    const h = (k: number) => mixSeed(o.seed, 41, i, k);
    if (rand() < o.badgeShare) {
      const major = 1 + Math.floor(i / 65_535);
      const minor = (i % 65_535) + 1;
      addDevice({ person: i, type: 'badge', kind: 'ble-badge', idType: 'badge', stableId: iBeaconId(BADGE_IBEACON_UUID, major, minor)!, bleMac: bleStaticAddress(h(1), h(2)), ibeacon: { uuid: BADGE_IBEACON_UUID, major, minor } }, o.badgePeriodMs);
    }
    if (rand() < o.phoneShare) {
      const ios = rand() < 0.55;
      const extra = { os: ios ? 'iOS' : 'Android', manufacturer: ios ? 'Apple' : 'Samsung' };
      if (rand() < o.connectedPhoneShare) {
        addDevice({ person: i, type: 'phone', kind: 'wifi-connected', idType: 'mac', stableId: randomisedMac(h(3), h(4)), ipv4: `10.64.${(i >>> 8) & 0xff}.${i & 0xff}`, ...extra }, o.wifiPeriodMs);
      } else {
        addDevice({ person: i, type: 'phone', kind: 'wifi-unconnected', idType: 'mac', rotates: true, rotationPhaseMs: Math.floor(rand() * o.rotationMs), ...extra }, o.probePeriodMs);
      }
      if (rand() < o.sdkShare) addDevice({ person: i, type: 'sdk', kind: 'sdk', idType: 'app', stableId: uuidFrom(h(5)) }, o.sdkPeriodMs);
    }
    if (rand() < o.laptopShare) {
      const oui = LAPTOP_OUIS[h(6) % LAPTOP_OUIS.length]!;
      addDevice({ person: i, type: 'laptop', kind: 'wifi-connected', idType: 'mac', stableId: vendorMac(oui, h(7)), ipv4: `10.65.${(i >>> 8) & 0xff}.${i & 0xff}`, os: 'Windows', manufacturer: 'Dell' }, o.wifiPeriodMs);
    }
  }
  return { people, devices };
}

/**
 * The MAC a probing phone uses at `atMs`: a fresh randomised address every `rotationMs`, the
 * same one within a rotation slot.
 *
 * @example rotatingMac(seed, device, atMs, 15 * 60_000)
 */
export function rotatingMac(seed: number, device: SimDevice, atMs: number, rotationMs: number): string {
  const slot = Math.floor((atMs + device.rotationPhaseMs) / rotationMs);
  return randomisedMac(mixSeed(seed, 42, device.index, slot), mixSeed(seed, 43, device.index, slot));
}
