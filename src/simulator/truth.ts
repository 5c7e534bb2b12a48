/**
 * Ground truth, for scoring what Cairn makes of the simulated stream: where each person really
 * was (sampled at a fixed step), which pairs were really in contact (exact, per day), and which
 * simulated device belongs to whom. All lazy, one day at a time.
 */
import { DAY_MS, toIso } from '../kernel/clock.ts';
import { zoneAt } from './campus.ts';
import { contactsOfDay, type ContactOptions, type TrueContact } from './contacts.ts';
import { legAt, positionOnLeg, type Activity, type FloorPosition } from './schedule.ts';
import type { Simulation } from './simulation.ts';

/** One person's true position at one instant. */
export interface TruthSample {
  atMs: number;
  person: number;
  /** Global floor index. */
  floor: number;
  x: number;
  y: number;
  activity: Activity;
}

/**
 * True positions every `stepMs` of everyone present (or of `people` only), in time order.
 *
 * @example for (const s of truePositions(sim, { stepMs: 60_000, people: [0, 1, 2] })) …
 */
export function* truePositions(sim: Simulation, opts: { stepMs: number; people?: readonly number[] }): Generator<TruthSample> {
  const who = opts.people ?? sim.people.map((p) => p.index);
  const cursor = new Int32Array(sim.people.length);
  const pos: FloorPosition = { floor: 0, x: 0, y: 0 };
  for (let day = 0; day < sim.options.days; day++) {
    const plan = sim.plan(day);
    if (Number.isNaN(plan.firstMs)) continue;
    cursor.fill(0);
    const start = Math.ceil((plan.firstMs - sim.options.startMs) / opts.stepMs) * opts.stepMs + sim.options.startMs;
    for (let t = start; t < plan.lastMs; t += opts.stepMs) {
      for (const p of who) {
        const pd = plan.days[p];
        const li = pd ? legAt(pd, t, cursor[p]!) : -1;
        if (li < 0) continue;
        cursor[p] = li;
        const leg = pd!.legs[li]!;
        positionOnLeg(leg, t, pos);
        yield { atMs: t, person: p, floor: pos.floor, x: pos.x, y: pos.y, activity: leg.activity };
      }
    }
  }
}

/**
 * True contacts of every simulated day, day by day.
 *
 * @example [...trueContacts(sim, { radiusM: 2, minMinutes: 15 })].length
 */
export function* trueContacts(sim: Simulation, opts: ContactOptions = {}): Generator<TrueContact> {
  for (let day = 0; day < sim.options.days; day++) yield* contactsOfDay(sim.plan(day), opts);
}

/** A truth sample as JSON (ISO time, floor and zone keys, centimetres). */
export function truthSampleJson(sim: Simulation, s: TruthSample) {
  const floor = sim.campus.floors[s.floor]!;
  return { at: toIso(s.atMs), person: sim.people[s.person]!.id, floor: floor.key, x: Math.round(s.x * 100) / 100, y: Math.round(s.y * 100) / 100, zone: zoneAt(floor, s.x, s.y)?.id ?? null, activity: s.activity };
}

/** A contact as JSON, with the pair's badges (what encounters and badge fixes name). */
export function contactJson(sim: Simulation, c: TrueContact) {
  const badge = (p: number) => sim.people[p]!.devices.map((d) => sim.devices[d]!).find((d) => d.type === 'badge')?.stableId ?? null;
  return {
    a: sim.people[c.a]!.id,
    b: sim.people[c.b]!.id,
    badgeA: badge(c.a),
    badgeB: badge(c.b),
    day: toIso(sim.options.startMs + c.day * DAY_MS).slice(0, 10),
    firstAt: toIso(c.firstMs),
    lastAt: toIso(c.lastMs),
    minutes: Math.round(c.totalMs / 600) / 100,
  };
}

/** Who carries what: simulated people and their devices' identifiers (no real person behind any). */
export function deviceRegistry(sim: Simulation) {
  return sim.devices.map((d) => ({
    device: d.index,
    person: sim.people[d.person]!.id,
    type: d.type,
    kind: d.kind,
    idType: d.idType,
    id: d.stableId ?? null,
    rotatingMac: d.rotates,
    ...(d.bleMac ? { bleMac: d.bleMac } : {}),
  }));
}
