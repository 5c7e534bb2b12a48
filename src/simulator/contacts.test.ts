import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactsOfDay, withinInterval } from './contacts.ts';
import { legAt, positionOnLeg, type FloorPosition, type Leg } from './schedule.ts';
import { Simulation } from './simulation.ts';

const leg = (t0: number, t1: number, x0: number, y0: number, x1: number, y1: number): Leg => ({ t0, t1, floor: 0, x0, y0, x1, y1, activity: 'walk', carry: true });

test('withinInterval solves the crossing exactly: two walkers passing, a walker passing someone standing', () => {
  // A walks +x at 1 m/s from x=0, B walks −x from x=20 at 1 m/s, 1 m apart in y: within 2 m while |20 − 2t| ≤ √3.
  const a = leg(0, 20_000, 0, 0, 20, 0);
  const b = leg(0, 20_000, 20, 1, 0, 1);
  const w = withinInterval(a, b, 0, 20_000, 2)!;
  const half = Math.sqrt(3) / 2;
  assert.ok(Math.abs(w[0] - (10 - half) * 1000) < 1e-6 && Math.abs(w[1] - (10 + half) * 1000) < 1e-6, String(w));
  // Standing at x=5, y=1.5: within 2 m while |t − 5| ≤ √(4 − 2.25).
  const s = leg(0, 20_000, 5, 1.5, 5, 1.5);
  const v = withinInterval(a, s, 0, 20_000, 2)!;
  assert.ok(Math.abs(v[1] - v[0] - 2000 * Math.sqrt(1.75)) < 1e-6);
  assert.equal(withinInterval(a, leg(0, 20_000, 5, 3, 5, 3), 0, 20_000, 2), undefined);
  // Overlap window clips the stretch.
  assert.deepEqual(withinInterval(s, leg(0, 20_000, 5, 0, 5, 0), 2000, 3000, 2), [2000, 3000]);
});

test('true contacts match a brute-force check of the trajectories sampled every second', () => {
  const sim = new Simulation({ seed: 9, people: 45, floorsPerBuilding: 2 });
  const plan = sim.plan(0);
  const radiusM = 2;
  const exact = contactsOfDay(plan, { radiusM, minMinutes: 0 });
  assert.ok(exact.length > 20, `${exact.length} pairs ever within 2 m`);
  // Brute force: every second, every pair on the same floor.
  const n = sim.people.length;
  const seconds = new Map<number, number>();
  const cursor = new Int32Array(n);
  const pos: (FloorPosition | undefined)[] = new Array(n);
  for (let t = Math.ceil(plan.firstMs / 1000) * 1000; t < plan.lastMs; t += 1000) {
    for (let p = 0; p < n; p++) {
      const pd = plan.days[p];
      const i = pd ? legAt(pd, t, cursor[p]!) : -1;
      if (i < 0) {
        pos[p] = undefined;
        continue;
      }
      cursor[p] = i;
      pos[p] = positionOnLeg(pd!.legs[i]!, t, { floor: 0, x: 0, y: 0 });
    }
    for (let a = 0; a < n; a++) {
      const pa = pos[a];
      if (!pa) continue;
      for (let b = a + 1; b < n; b++) {
        const pb = pos[b];
        if (pb && pb.floor === pa.floor && (pa.x - pb.x) ** 2 + (pa.y - pb.y) ** 2 <= radiusM * radiusM) seconds.set(a * n + b, (seconds.get(a * n + b) ?? 0) + 1);
      }
    }
  }
  const exactByPair = new Map(exact.map((c) => [c.a * n + c.b, c]));
  for (const [key, s] of seconds) {
    const c = exactByPair.get(key);
    if (s >= 5) assert.ok(c, `brute force finds pair ${key} within 2 m for ${s} s; exact does not`);
    // Sampling at 1 s misses at most about a second per entry and exit.
    if (c) assert.ok(Math.abs(c.totalMs / 1000 - s) <= 4 + 0.002 * s, `pair ${key}: exact ${c.totalMs / 1000} s, sampled ${s} s`);
  }
  for (const c of exact) if (c.totalMs > 5_000) assert.ok(seconds.has(c.a * n + c.b), `exact pair ${c.a}-${c.b} (${c.totalMs} ms) not seen by brute force`);
  // The threshold keeps pairs with enough cumulative time, and nothing else.
  const fifteen = contactsOfDay(plan, { radiusM, minMinutes: 15 });
  assert.deepEqual(fifteen, exact.filter((c) => c.totalMs >= 15 * 60_000));
  assert.ok(fifteen.length > 0 && fifteen.every((c) => c.firstMs < c.lastMs && c.lastMs - c.firstMs >= c.totalMs - 1));
});
