/**
 * True contacts, computed exactly from the trajectories: two people are in contact while they
 * are on the same floor within `radiusM` of each other. Both move linearly on each leg, so on
 * the overlap of two legs their squared distance is a quadratic in time and the stretch within
 * the radius is found by solving it, not by sampling. A pair is reported for a day when its
 * cumulative time within the radius reaches `minMinutes` (R-CT-3's "within a set distance for
 * at least a set time"), with the first and last moment of proximity that day.
 *
 * Candidate pairs come from a sweep over each floor's legs in start order, so the work grows
 * with the number of people on a floor at once, not with the square of the head count.
 */
import type { DayPlan, Leg } from './schedule.ts';

/** A true contact of two people on one day. */
export interface TrueContact {
  /** Person indices, a < b. */
  a: number;
  b: number;
  day: number;
  firstMs: number;
  lastMs: number;
  /** Cumulative time within the radius that day, ms. */
  totalMs: number;
}

export interface ContactOptions {
  /** Contact distance, metres; default 2. */
  radiusM?: number;
  /** Least cumulative time within it for a contact, minutes; default 15. */
  minMinutes?: number;
}

interface Acc {
  first: number;
  last: number;
  total: number;
}

/**
 * The stretch [s, e] ⊂ [lo, hi] during which two legs are within `r` (or `undefined`). Both
 * legs must cover [lo, hi].
 */
export function withinInterval(p: Leg, q: Leg, lo: number, hi: number, r: number): [number, number] | undefined {
  const pv = p.t1 > p.t0 ? 1 / (p.t1 - p.t0) : 0;
  const qv = q.t1 > q.t0 ? 1 / (q.t1 - q.t0) : 0;
  // Velocities per ms, and the relative position at `lo`.
  const pvx = (p.x1 - p.x0) * pv, pvy = (p.y1 - p.y0) * pv;
  const qvx = (q.x1 - q.x0) * qv, qvy = (q.y1 - q.y0) * qv;
  const dx = p.x0 + pvx * (lo - p.t0) - (q.x0 + qvx * (lo - q.t0));
  const dy = p.y0 + pvy * (lo - p.t0) - (q.y0 + qvy * (lo - q.t0));
  const vx = pvx - qvx, vy = pvy - qvy;
  const a = vx * vx + vy * vy;
  const b = dx * vx + dy * vy;
  const c = dx * dx + dy * dy - r * r;
  const span = hi - lo;
  if (a < 1e-18) return c <= 0 ? [lo, hi] : undefined;
  const disc = b * b - a * c;
  if (disc < 0) return undefined;
  const sq = Math.sqrt(disc);
  const t1 = Math.max(0, (-b - sq) / a);
  const t2 = Math.min(span, (-b + sq) / a);
  return t2 > t1 ? [lo + t1, lo + t2] : undefined;
}

function boxesMeet(p: Leg, q: Leg, r: number): boolean {
  return (
    Math.min(p.x0, p.x1) - r <= Math.max(q.x0, q.x1) &&
    Math.min(q.x0, q.x1) - r <= Math.max(p.x0, p.x1) &&
    Math.min(p.y0, p.y1) - r <= Math.max(q.y0, q.y1) &&
    Math.min(q.y0, q.y1) - r <= Math.max(p.y0, p.y1)
  );
}

/**
 * Every pair in contact on the plan's day, ordered by (a, b).
 *
 * @example contactsOfDay(sim.plan(0), { radiusM: 2, minMinutes: 15 })
 */
export function contactsOfDay(plan: DayPlan, opts: ContactOptions = {}): TrueContact[] {
  const r = opts.radiusM ?? 2;
  const minMs = (opts.minMinutes ?? 15) * 60_000;
  const byFloor = new Map<number, { leg: Leg; person: number }[]>();
  plan.days.forEach((pd, person) => {
    if (!pd) return;
    for (const leg of pd.legs) {
      if (leg.t1 <= leg.t0) continue;
      let list = byFloor.get(leg.floor);
      if (!list) byFloor.set(leg.floor, (list = []));
      list.push({ leg, person });
    }
  });
  const pairs = new Map<number, Acc>();
  const n = plan.days.length;
  for (const list of byFloor.values()) {
    list.sort((u, v) => u.leg.t0 - v.leg.t0 || u.person - v.person);
    let active: { leg: Leg; person: number }[] = [];
    for (const cur of list) {
      active = active.filter((x) => x.leg.t1 > cur.leg.t0);
      for (const other of active) {
        if (other.person === cur.person || !boxesMeet(cur.leg, other.leg, r)) continue;
        const lo = cur.leg.t0;
        const hi = Math.min(cur.leg.t1, other.leg.t1);
        const w = withinInterval(cur.leg, other.leg, lo, hi, r);
        if (!w) continue;
        const a = Math.min(cur.person, other.person), b = Math.max(cur.person, other.person);
        const key = a * n + b;
        const acc = pairs.get(key);
        if (acc) {
          acc.first = Math.min(acc.first, w[0]);
          acc.last = Math.max(acc.last, w[1]);
          acc.total += w[1] - w[0];
        } else {
          pairs.set(key, { first: w[0], last: w[1], total: w[1] - w[0] });
        }
      }
      active.push(cur);
    }
  }
  const out: TrueContact[] = [];
  for (const [key, acc] of pairs) {
    if (acc.total < minMs) continue;
    out.push({ a: Math.floor(key / n), b: key % n, day: plan.day, firstMs: Math.round(acc.first), lastMs: Math.round(acc.last), totalMs: Math.round(acc.total) });
  }
  return out.sort((x, y) => x.a - y.a || x.b - y.b);
}
