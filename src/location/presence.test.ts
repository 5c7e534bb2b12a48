/** Presence: zone-minute counts, enter/exit events, and nothing applied before the commit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, type ZoneEvent } from '../kernel/events.ts';
import { ZoneIndex } from './engine/index.ts';
import { PresenceTracker } from './presence.ts';
import type { FloorPlan } from './plan.ts';

function floor(): FloorPlan {
  const zones = new ZoneIndex([
    { id: 'west', polygon: { outer: [0, 0, 10, 0, 10, 10, 0, 10] } },
    { id: 'east', polygon: { outer: [10, 0, 20, 0, 20, 10, 10, 10] } },
  ]);
  return { id: 'f1', siteId: 's1', widthM: 20, heightM: 10, bounds: { minX: 0, minY: 0, maxX: 20, maxY: 10 }, zones, zoneIds: zones.zoneIds, cellKeys: ['f1|', ...zones.zoneIds.map((z) => `f1|${z}`)] };
}

function setup() {
  const bus = new EventBus();
  const events: [string, ZoneEvent][] = [];
  bus.on('location.zone.entered', (e) => void events.push(['enter', e]));
  bus.on('location.zone.exited', (e) => void events.push(['exit', e]));
  return { bus, events, tracker: new PresenceTracker('o1', 300_000), f: floor() };
}
const at = (f: FloorPlan, zone: string) => f.zoneIds.indexOf(zone);

test('a device counts once per zone and minute; moving emits exit then enter', () => {
  const { bus, events, tracker, f } = setup();
  const b = tracker.begin();
  const minute = 1_700_000_040_000; // a minute boundary
  const t = minute + 40_000;
  b.observe('dev', true, false, f, at(f, 'west'), t);
  b.observe('dev', true, false, f, at(f, 'west'), t + 5_000);
  b.observe('dev', true, false, f, at(f, 'east'), t + 10_000);
  b.observe('dev', true, false, f, at(f, 'east'), t + 25_000); // next minute
  const counts = b.counts.map((c) => [c.zoneId, c.bucketMs - minute, c.devices]);
  assert.deepEqual(counts, [['west', 0, 1], ['east', 0, 1], ['east', 60_000, 1]]);
  assert.equal(events.length, 0, 'nothing is emitted before the commit');
  assert.equal(b.commit(bus), 3);
  assert.deepEqual(events.map(([k, e]) => [k, e.zoneId, e.device]), [['enter', 'west', 'dev'], ['exit', 'west', 'dev'], ['enter', 'east', 'dev']]);
});

test('an uncommitted batch leaves the tracker as it was; a re-delivered minute is not counted twice', () => {
  const { bus, tracker, f } = setup();
  const t = 1_700_000_000_000;
  const dropped = tracker.begin();
  dropped.observe('dev', true, false, f, at(f, 'west'), t);
  assert.equal(tracker.state.size, 0);
  const first = tracker.begin();
  first.observe('dev', false, true, f, at(f, 'west'), t);
  first.commit(bus);
  const again = tracker.begin();
  again.observe('dev', false, true, f, at(f, 'west'), t);
  assert.deepEqual(again.counts, [], 'same device, zone and minute: already counted');
  const c = first.counts[0]!;
  assert.equal(c.randomized, 1);
});

test('untracked devices appear in events without their pseudonym; idle devices exit', () => {
  const { bus, events, tracker, f } = setup();
  const t = 1_700_000_000_000;
  const b = tracker.begin();
  b.observe('anon', false, false, f, at(f, 'east'), t);
  b.commit(bus);
  assert.equal(events[0]![1].device, null);
  assert.equal(tracker.expire(t + 301_000, bus), 1);
  assert.deepEqual(events.map(([k, e]) => [k, e.zoneId, e.atMs]), [['enter', 'east', t], ['exit', 'east', t]]);
  assert.equal(tracker.state.size, 0);
});
