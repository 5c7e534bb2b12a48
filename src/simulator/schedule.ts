/**
 * Daily schedules and the trajectories they produce. For each simulated day (independently
 * seeded, so day 12 can be computed without days 0–11) everyone who comes in gets an arrival
 * and a departure, and the day is filled with commitments: meetings (a room, a slot, several
 * attendees, each on a seat), lunch in their building's cafeteria (with teammates at one table,
 * or alone), and coffee breaks at the end of the corridor. The commitments become a trajectory:
 * legs that either stay at a point or walk at the person's speed along straight segments
 * (into the corridor, along it, out to the destination; stairs between floors), contiguous from
 * the entrance in the morning back to the entrance in the evening. Ground truth (positions and
 * contacts) is read straight off these legs.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../kernel/clock.ts';
import { seededRandom, seededNormal } from '../kernel/prng.ts';
import type { Campus, SimFloor } from './campus.ts';
import { mixSeed } from './ids.ts';
import type { SimPerson } from './population.ts';

const MIN = MINUTE_MS;
/** Seconds on the stairs per level climbed or descended. */
const STAIRS_MS_PER_LEVEL = 15_000;

/** What someone is doing during a leg. */
export type Activity = 'desk' | 'walk' | 'stairs' | 'meeting' | 'lunch' | 'break';

/**
 * One piece of a trajectory on one floor: from (x0, y0) at t0 to (x1, y1) at t1 in a straight
 * line at constant speed (equal points: standing still). Times epoch ms, positions floor metres.
 */
export interface Leg {
  t0: number;
  t1: number;
  /** Global floor index. */
  floor: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  activity: Activity;
  /** False while the laptop stays on the desk (lunch, breaks and the walks to and from them). */
  carry: boolean;
}

/** One person's day: present from `arriveMs` (at the entrance) until `leaveMs` (out of the door). */
export interface PersonDay {
  person: number;
  arriveMs: number;
  leaveMs: number;
  /** Contiguous: legs[i].t1 === legs[i + 1].t0; legs[0].t0 === arriveMs; last t1 === leaveMs. */
  legs: Leg[];
}

export interface Meeting {
  floor: number;
  /** Zone index on the floor. */
  zone: number;
  startMs: number;
  endMs: number;
  attendees: number[];
}

export interface DayPlan {
  day: number;
  dayStartMs: number;
  weekend: boolean;
  /** Indexed by person; `undefined` for those who stay away. */
  days: (PersonDay | undefined)[];
  meetings: Meeting[];
  /** Earliest arrival and latest departure (NaN when nobody comes). */
  firstMs: number;
  lastMs: number;
}

interface Place {
  floor: number;
  x: number;
  y: number;
}

interface Commitment extends Place {
  startMs: number;
  endMs: number;
  activity: 'meeting' | 'lunch' | 'break';
  carry: boolean;
}

type Intervals = number[]; // [s0, e0, s1, e1, …]

function free(iv: Intervals, s: number, e: number): boolean {
  for (let i = 0; i < iv.length; i += 2) if (iv[i]! < e && s < iv[i + 1]!) return false;
  return true;
}

/** The corridor points a walk between two places passes through (stairs between floors). */
function route(campus: Campus, from: Place, to: Place, lane: number): Place[] {
  const fa = campus.floors[from.floor]!;
  const pts: Place[] = [from];
  const cyA = fa.corridorY + lane;
  if (from.floor === to.floor) {
    if (Math.abs(from.x - to.x) < 1e-9 || (Math.abs(from.y - to.y) < 0.5 && Math.abs(from.y - fa.corridorY) <= fa.corridorHalfWidthM)) {
      pts.push(to);
      return pts;
    }
    pts.push({ floor: from.floor, x: from.x, y: cyA }, { floor: from.floor, x: to.x, y: cyA }, to);
    return pts;
  }
  const fb = campus.floors[to.floor]!;
  const cyB = fb.corridorY + lane;
  pts.push({ floor: from.floor, x: from.x, y: cyA }, { floor: from.floor, x: fa.stairs.x, y: cyA });
  pts.push({ floor: to.floor, x: fb.stairs.x, y: cyB }, { floor: to.floor, x: to.x, y: cyB }, to);
  return pts;
}

function dist(a: Place, b: Place): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** How long the walk takes, ms. */
function walkMs(campus: Campus, from: Place, to: Place, lane: number, speedMps: number): number {
  const pts = route(campus, from, to, lane);
  let ms = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!, b = pts[i]!;
    if (a.floor !== b.floor) ms += STAIRS_MS_PER_LEVEL * Math.abs(campus.floors[a.floor]!.level - campus.floors[b.floor]!.level);
    else ms += Math.ceil((dist(a, b) / speedMps) * 1000);
  }
  return ms;
}

/** Appends the walk's legs from `t0`; returns the arrival time. */
function walk(legs: Leg[], campus: Campus, from: Place, to: Place, t0: number, lane: number, speedMps: number, carry: boolean): number {
  const pts = route(campus, from, to, lane);
  let t = t0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!, b = pts[i]!;
    if (a.floor !== b.floor) {
      const half = (STAIRS_MS_PER_LEVEL * Math.abs(campus.floors[a.floor]!.level - campus.floors[b.floor]!.level)) / 2;
      legs.push({ t0: t, t1: t + half, floor: a.floor, x0: a.x, y0: a.y, x1: a.x, y1: a.y, activity: 'stairs', carry });
      legs.push({ t0: t + half, t1: t + 2 * half, floor: b.floor, x0: b.x, y0: b.y, x1: b.x, y1: b.y, activity: 'stairs', carry });
      t += 2 * half;
      continue;
    }
    const ms = Math.ceil((dist(a, b) / speedMps) * 1000); // never faster than walking
    if (ms <= 0) continue;
    legs.push({ t0: t, t1: t + ms, floor: a.floor, x0: a.x, y0: a.y, x1: b.x, y1: b.y, activity: 'walk', carry });
    t += ms;
  }
  return t;
}

function stay(legs: Leg[], at: Place, t0: number, t1: number, activity: Activity, carry: boolean): void {
  if (t1 > t0) legs.push({ t0, t1, floor: at.floor, x0: at.x, y0: at.y, x1: at.x, y1: at.y, activity, carry });
}

/** Turns arrival, departure and commitments into a contiguous trajectory. */
function trajectory(campus: Campus, p: SimPerson, arriveMs: number, leaveMs: number, commitments: Commitment[]): PersonDay {
  const ground = campus.floors[campus.buildings[p.building]!.floors[0]!]!;
  const door: Place = { floor: ground.index, x: ground.entrance!.x, y: ground.entrance!.y };
  const desk: Place = { floor: p.floor, x: p.desk.x, y: p.desk.y };
  const legs: Leg[] = [];
  const w = (a: Place, b: Place) => walkMs(campus, a, b, p.lane, p.speedMps);
  let t = walk(legs, campus, door, desk, arriveMs, p.lane, p.speedMps, true);
  let at: Place = desk;
  let atActivity: Activity = 'desk';
  let atCarry = true;
  commitments.sort((a, b) => a.startMs - b.startMs);
  for (let i = 0; i < commitments.length; i++) {
    const c = commitments[i]!;
    const go = w(at, c);
    const depart = Math.max(t, c.startMs - go - (c.activity === 'meeting' ? MIN : 0));
    if (depart + go >= c.endMs - 2 * MIN) continue; // too late to be worth it
    stay(legs, at, t, depart, atActivity, atCarry);
    t = walk(legs, campus, at, c, depart, p.lane, p.speedMps, c.carry);
    stay(legs, c, t, c.endMs, c.activity, c.carry);
    t = Math.max(t, c.endMs);
    at = c;
    atActivity = c.activity;
    atCarry = c.carry;
    const next = commitments[i + 1];
    if (!next || next.startMs - t > w(c, desk) + w(desk, next) + 5 * MIN) {
      t = walk(legs, campus, at, desk, t, p.lane, p.speedMps, c.carry);
      at = desk;
      atActivity = 'desk';
      atCarry = true;
    }
  }
  const out = w(at, door);
  const depart = Math.max(t, leaveMs - out);
  stay(legs, at, t, depart, atActivity, atCarry);
  const end = walk(legs, campus, at, door, depart, p.lane, p.speedMps, true);
  return { person: p.index, arriveMs, leaveMs: end, legs };
}

/**
 * The plan of one day for everyone: who comes, meetings, lunches, breaks and each person's
 * trajectory. Deterministic for (seed, day), whatever was computed before.
 *
 * @example const plan = planDay(campus, people, { seed: 7, startMs: Date.UTC(2024, 2, 4), day: 0 })
 */
export function planDay(campus: Campus, people: readonly SimPerson[], o: { seed: number; startMs: number; day: number }): DayPlan {
  const dayStartMs = o.startMs + o.day * DAY_MS;
  const dow = new Date(dayStartMs + 12 * HOUR_MS).getUTCDay();
  const weekend = dow === 0 || dow === 6;
  const rand = seededRandom(mixSeed(o.seed, 50, o.day));
  const gauss = seededNormal(rand);
  const at = (hours: number) => dayStartMs + Math.round(hours * HOUR_MS);
  const n = people.length;
  const arrive = new Float64Array(n).fill(NaN);
  const leave = new Float64Array(n).fill(NaN);
  const busy: Intervals[] = Array.from({ length: n }, () => []);
  const commitments: Commitment[][] = Array.from({ length: n }, () => []);
  const presentByFloor = new Map<number, number[]>();
  const presentByBuilding = new Map<number, number[]>();
  for (const p of people) {
    if (rand() >= (weekend ? 0.03 : p.attendance)) continue;
    const a = at(Math.min(11, Math.max(6.5, p.arriveHour + 0.35 * gauss())));
    const stayMs = Math.min(11, Math.max(3, p.stayHours + 0.5 * gauss())) * HOUR_MS;
    arrive[p.index] = Math.round(a / 1000) * 1000;
    leave[p.index] = Math.min(at(21), Math.round((a + stayMs) / 1000) * 1000);
    (presentByFloor.get(p.floor) ?? presentByFloor.set(p.floor, []).get(p.floor)!).push(p.index);
    (presentByBuilding.get(p.building) ?? presentByBuilding.set(p.building, []).get(p.building)!).push(p.index);
  }
  const isIn = (i: number, s: number, e: number) => arrive[i]! <= s && leave[i]! >= e;
  const commit = (i: number, c: Commitment, margin: number) => {
    commitments[i]!.push(c);
    busy[i]!.push(c.startMs - margin, c.endMs + margin);
  };

  // Meetings: each room, each half hour from 9:00, booked with some probability.
  const meetings: Meeting[] = [];
  for (const b of campus.buildings) {
    const inBuilding = presentByBuilding.get(b.index);
    if (!inBuilding || inBuilding.length < 2) continue;
    for (const fi of b.floors) {
      const floor = campus.floors[fi]!;
      const onFloor = presentByFloor.get(fi) ?? [];
      floor.zones.forEach((z, zi) => {
        if (z.kind !== 'meeting' || z.seats.length < 2) return;
        let roomFreeAt = 0;
        for (let slot = 9; slot < 17; slot += 0.5) {
          const s = at(slot);
          if (s < roomFreeAt || rand() >= 0.4) continue;
          const e = Math.min(at(17.5), s + [30, 60, 60, 90][Math.floor(rand() * 4)]! * MIN);
          const want = 2 + Math.floor(rand() * (Math.min(z.seats.length, 8) - 1));
          const attendees: number[] = [];
          for (let tries = 0; tries < want * 6 && attendees.length < want; tries++) {
            const pool = rand() < 0.7 && onFloor.length > 0 ? onFloor : inBuilding;
            const i = pool[Math.floor(rand() * pool.length)]!;
            if (attendees.includes(i) || !isIn(i, s - 15 * MIN, e + 10 * MIN) || !free(busy[i]!, s - 5 * MIN, e + 5 * MIN)) continue;
            attendees.push(i);
          }
          if (attendees.length < 2) continue;
          attendees.forEach((i, k) => {
            const seat = z.seats[k]!;
            commit(i, { floor: fi, x: seat.x, y: seat.y, startMs: s, endMs: e, activity: 'meeting', carry: true }, 5 * MIN);
          });
          meetings.push({ floor: fi, zone: zi, startMs: s, endMs: e, attendees });
          roomFreeAt = e;
        }
      });
    }
  }

  // Lunch: teams split into groups at one cafeteria table; the rest alone, or at their desk.
  for (const b of campus.buildings) {
    const ground = campus.floors[b.floors[0]!]!;
    const caf = ground.zones.find((z) => z.kind === 'cafeteria');
    if (!caf) continue;
    const seatBusy: Intervals[] = caf.seats.map(() => []);
    const seatAt = (k: number, s: number, e: number): number[] | undefined => {
      for (const table of caf.tables) {
        const freeSeats = table.filter((si) => free(seatBusy[si]!, s, e));
        if (freeSeats.length >= k) return freeSeats.slice(0, k);
      }
      return undefined;
    };
    const lunch = (group: number[], s0: number, dur: number): boolean => {
      for (const shift of [0, 10, 20, -10, 30]) {
        const s = s0 + shift * MIN;
        const e = s + dur;
        if (!group.every((i) => isIn(i, s - 30 * MIN, e + 15 * MIN) && free(busy[i]!, s - 5 * MIN, e + 5 * MIN))) continue;
        const seats = seatAt(group.length, s, e);
        if (!seats) continue;
        group.forEach((i, k) => {
          const seat = caf.seats[seats[k]!]!;
          seatBusy[seats[k]!]!.push(s, e);
          commit(i, { floor: ground.index, x: seat.x, y: seat.y, startMs: s, endMs: e, activity: 'lunch', carry: false }, 5 * MIN);
        });
        return true;
      }
      return false;
    };
    const solo: number[] = [];
    for (const fi of b.floors) {
      const teams = new Map<number, number[]>();
      for (const i of presentByFloor.get(fi) ?? []) (teams.get(people[i]!.zone) ?? teams.set(people[i]!.zone, []).get(people[i]!.zone)!).push(i);
      for (const team of teams.values()) {
        for (let k = team.length - 1; k > 0; k--) {
          const j = Math.floor(rand() * (k + 1));
          [team[k], team[j]] = [team[j]!, team[k]!];
        }
        for (let k = 0; k < team.length; ) {
          const size = 1 + Math.floor(rand() * 5);
          const group = team.slice(k, k + size);
          k += size;
          const s = at(Math.min(13.75, Math.max(11.5, 12.2 + 0.35 * gauss())));
          const dur = (30 + Math.floor(rand() * 4) * 5) * MIN;
          const ok = group.filter((i) => isIn(i, s - 30 * MIN, s + dur + 15 * MIN) && free(busy[i]!, s - 5 * MIN, s + dur + 5 * MIN));
          for (const i of group) if (!ok.includes(i)) solo.push(i);
          if (ok.length > 0 && !lunch(ok, Math.round(s / (5 * MIN)) * 5 * MIN, dur)) solo.push(...ok);
        }
      }
    }
    for (const i of solo) {
      if (rand() < 0.25) continue; // lunch at the desk
      lunch([i], Math.round(at(11.75 + rand() * 1.75) / (5 * MIN)) * 5 * MIN, (25 + Math.floor(rand() * 3) * 5) * MIN);
    }
  }

  // Coffee breaks: up to two, at the end of the corridor of their floor.
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(arrive[i]!)) continue;
    const breaks = Math.floor(rand() * 3);
    const floor: SimFloor = campus.floors[people[i]!.floor]!;
    for (let k = 0; k < breaks; k++) {
      const span = leave[i]! - arrive[i]! - 75 * MIN;
      if (span <= 0) break;
      const s = Math.round((arrive[i]! + 30 * MIN + rand() * span) / 1000) * 1000;
      const e = s + (4 + Math.floor(rand() * 7)) * MIN;
      const x = floor.coffee.x - rand() * 2.5;
      const y = floor.coffee.y + (rand() - 0.5) * 2 * (floor.corridorHalfWidthM - 0.3);
      if (free(busy[i]!, s - 3 * MIN, e + 3 * MIN)) commit(i, { floor: floor.index, x, y, startMs: s, endMs: e, activity: 'break', carry: false }, 3 * MIN);
    }
  }

  const days: (PersonDay | undefined)[] = new Array(n);
  let firstMs = NaN;
  let lastMs = NaN;
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(arrive[i]!)) continue;
    const d = trajectory(campus, people[i]!, arrive[i]!, leave[i]!, commitments[i]!);
    days[i] = d;
    if (!(d.arriveMs >= firstMs)) firstMs = d.arriveMs;
    if (!(d.leaveMs <= lastMs)) lastMs = d.leaveMs;
  }
  return { day: o.day, dayStartMs, weekend, days, meetings, firstMs, lastMs };
}

/** A position on a floor. */
export interface FloorPosition {
  floor: number;
  x: number;
  y: number;
}

/**
 * The leg a person is on at `t` (searching forward from `hint`, so a caller walking time
 * forward pays O(1) per step), or -1 when they are not in the building: present means
 * arriveMs ≤ t < leaveMs.
 *
 * @example const i = legAt(pd, t, cursor[p]); if (i >= 0) { cursor[p] = i; positionOnLeg(pd.legs[i], t, out); }
 */
export function legAt(pd: PersonDay, t: number, hint = 0): number {
  if (!(t >= pd.arriveMs && t < pd.leaveMs)) return -1;
  const legs = pd.legs;
  let i = hint > 0 && hint < legs.length && legs[hint]!.t0 <= t ? hint : 0;
  while (i < legs.length - 1 && legs[i]!.t1 <= t) i++;
  return i;
}

/** Where on `leg` one is at `t` (clamped to the leg), into `out`. */
export function positionOnLeg(leg: Leg, t: number, out: FloorPosition): FloorPosition {
  const span = leg.t1 - leg.t0;
  let u = span > 0 ? (t - leg.t0) / span : 0;
  u = u < 0 ? 0 : u > 1 ? 1 : u;
  out.floor = leg.floor;
  out.x = leg.x0 + u * (leg.x1 - leg.x0);
  out.y = leg.y0 + u * (leg.y1 - leg.y0);
  return out;
}

/**
 * Where the person is at `t`, or `undefined` when they are not in the building.
 *
 * @example positionAt(plan.days[3], Date.UTC(2024, 2, 4, 10))
 */
export function positionAt(pd: PersonDay | undefined, t: number): FloorPosition | undefined {
  if (!pd) return undefined;
  const i = legAt(pd, t);
  return i < 0 ? undefined : positionOnLeg(pd.legs[i]!, t, { floor: 0, x: 0, y: 0 });
}
