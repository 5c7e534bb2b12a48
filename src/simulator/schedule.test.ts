import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zoneAt, type SimFloor } from './campus.ts';
import { legAt, positionAt, positionOnLeg, type FloorPosition } from './schedule.ts';
import { Simulation } from './simulation.ts';

const sim = new Simulation({ seed: 42, people: 150, days: 5 });

test('schedules keep people inside their building from arrival to departure, and out of it otherwise', () => {
  for (let day = 0; day < 2; day++) {
    const plan = sim.plan(day);
    let present = 0;
    plan.days.forEach((pd, p) => {
      if (!pd) return;
      present++;
      const person = sim.people[p]!;
      assert.equal(pd.legs[0]!.t0, pd.arriveMs);
      assert.equal(pd.legs[pd.legs.length - 1]!.t1, pd.leaveMs);
      for (let i = 1; i < pd.legs.length; i++) assert.equal(pd.legs[i]!.t0, pd.legs[i - 1]!.t1, `person ${p}: legs not contiguous`);
      assert.ok(pd.arriveMs >= plan.dayStartMs + 6.5 * 3_600_000 && pd.leaveMs <= plan.dayStartMs + 22 * 3_600_000);
      for (let t = pd.arriveMs; t < pd.leaveMs; t += 30_000) {
        const pos: FloorPosition = positionAt(pd, t)!;
        const floor: SimFloor = sim.campus.floors[pos.floor]!;
        assert.equal(floor.building, person.building, 'left the building');
        assert.ok(pos.x >= 0 && pos.x <= floor.widthM && pos.y >= 0 && pos.y <= floor.heightM, `outside ${floor.key} at (${pos.x}, ${pos.y})`);
        assert.ok(zoneAt(floor, Math.min(pos.x, floor.widthM - 1e-6), Math.min(pos.y, floor.heightM - 1e-6)), 'in no zone');
      }
      assert.equal(positionAt(pd, pd.arriveMs - 1), undefined);
      assert.equal(positionAt(pd, pd.leaveMs), undefined);
      for (const leg of pd.legs) {
        const len = Math.hypot(leg.x1 - leg.x0, leg.y1 - leg.y0);
        if (leg.activity === 'walk') assert.ok(len / ((leg.t1 - leg.t0) / 1000) <= person.speedMps + 0.01, 'faster than walking');
        else assert.equal(len, 0, `${leg.activity} legs stand still`);
      }
    });
    assert.ok(present > 100, `${present} of 150 came in on a weekday`);
  }
});

test('days are lunches in the cafeteria, meetings on seats in meeting rooms, walks through corridors', () => {
  const plan = sim.plan(0);
  let lunches = 0;
  let present = 0;
  const at = { floor: 0, x: 0, y: 0 };
  plan.days.forEach((pd) => {
    if (!pd) return;
    present++;
    const kinds = (activity: string) => pd.legs.filter((l) => l.activity === activity).map((l) => zoneAt(sim.campus.floors[l.floor]!, l.x0, l.y0)?.kind);
    const lunch = kinds('lunch');
    if (lunch.length > 0) lunches++;
    assert.ok(lunch.every((k) => k === 'cafeteria'));
    assert.ok(kinds('meeting').every((k) => k === 'meeting'));
    assert.ok(kinds('desk').every((k) => k === 'office'));
    // Long walks along x run down the corridor, not through rooms.
    for (const l of pd.legs.filter((x) => x.activity === 'walk' && x.y0 === x.y1 && Math.abs(x.x1 - x.x0) > 3)) {
      const mid = positionOnLeg(l, (l.t0 + l.t1) / 2, at);
      assert.equal(zoneAt(sim.campus.floors[l.floor]!, mid.x, mid.y)?.kind, 'corridor');
    }
  });
  assert.ok(lunches / present > 0.6, `${lunches} of ${present} had lunch in the cafeteria`);
  assert.ok(plan.meetings.length > 10, `${plan.meetings.length} meetings`);
  for (const m of plan.meetings) {
    assert.ok(m.attendees.length >= 2);
    const mid = (m.startMs + m.endMs) / 2;
    const there = m.attendees.filter((p) => {
      const pos = positionAt(plan.days[p], mid);
      return pos !== undefined && pos.floor === m.floor && zoneAt(sim.campus.floors[m.floor]!, pos.x, pos.y) === sim.campus.floors[m.floor]!.zones[m.zone];
    });
    assert.ok(there.length >= 2, 'attendees are in the room mid-meeting');
  }
});

test('a day is planned from its own seed: the same whatever was planned before, and weekends are quiet', () => {
  const fresh = new Simulation({ seed: 42, people: 150, days: 5 });
  const direct = JSON.stringify(fresh.plan(3).days);
  const after = JSON.stringify(sim.plan(3).days);
  assert.equal(direct, after);
  assert.notEqual(JSON.stringify(sim.plan(2).days), direct);
  const sat = new Simulation({ seed: 42, people: 150, days: 7 }).plan(5);
  assert.ok(sat.weekend && sat.days.filter(Boolean).length < 15, 'Saturday is quiet');
  const pd = sim.plan(0).days.find(Boolean)!;
  assert.equal(legAt(pd, pd.arriveMs), 0);
});
