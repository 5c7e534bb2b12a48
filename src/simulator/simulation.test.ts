import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isLocallyAdministered, isMulticastMac, isValidMac } from '../ingest/index.ts';
import { emit, SIM_FORMATS } from './emit/index.ts';
import { rotatingMac } from './population.ts';
import { Radio } from './radio.ts';
import { Simulation, type SimAssociation } from './simulation.ts';

const HOUR = 3_600_000;
const opts = { seed: 17, people: 40, encounters: true } as const;
const window = (sim: Simulation) => ({ fromMs: sim.options.startMs + 8 * HOUR, toMs: sim.options.startMs + 9 * HOUR });

function digest(sim: Simulation): string {
  const h = createHash('sha256');
  const ticks = [...sim.ticks(window(sim))];
  for (const format of SIM_FORMATS) for (const p of emit(sim, format, ticks, { mist: { secret: 's' } })) h.update(format).update(p.topic ?? '').update(p.body);
  return h.digest('hex');
}

test('the same seed gives the same stream in every format, byte for byte; another seed does not', () => {
  const a = digest(new Simulation(opts));
  assert.equal(digest(new Simulation(opts)), a);
  assert.notEqual(digest(new Simulation({ ...opts, seed: 18 })), a);
});

test('phones use randomised MACs (locally-administered bit set); laptops and infrastructure do not', () => {
  const sim = new Simulation({ seed: 5, people: 80 });
  const seen = { phone: 0, laptop: 0 };
  for (const tick of sim.ticks({ toMs: sim.options.startMs + 10 * HOUR })) {
    for (const s of tick.sightings) {
      if (s.idType !== 'mac') continue;
      const dev = sim.devices[s.device]!;
      assert.ok(isValidMac(s.deviceId) && !isMulticastMac(s.deviceId));
      if (dev.type === 'phone') {
        seen.phone++;
        assert.ok(isLocallyAdministered(s.deviceId) && s.randomized, `phone MAC ${s.deviceId}`);
      } else {
        seen.laptop++;
        assert.ok(!isLocallyAdministered(s.deviceId) && !s.randomized, `laptop MAC ${s.deviceId}`);
      }
    }
  }
  assert.ok(seen.phone > 100 && seen.laptop > 100, JSON.stringify(seen));
  for (const d of sim.devices.filter((x) => x.type === 'badge')) assert.ok(d.stableId!.startsWith('ibeacon:'));
});

test('a probing phone keeps its MAC within a rotation slot and changes it at the next', () => {
  const sim = new Simulation({ seed: 5, people: 80, macRotationMs: 10 * 60_000 });
  const dev = sim.devices.find((d) => d.rotates)!;
  const t0 = sim.options.startMs + 9 * HOUR - dev.rotationPhaseMs;
  const first = rotatingMac(sim.options.seed, dev, t0 + 1, 600_000);
  assert.equal(rotatingMac(sim.options.seed, dev, t0 + 599_999, 600_000), first);
  const next = rotatingMac(sim.options.seed, dev, t0 + 600_000, 600_000);
  assert.notEqual(next, first);
  assert.ok(isLocallyAdministered(first) && isLocallyAdministered(next));
  // In the stream: one device, many MACs over a day.
  const macs = new Set<string>();
  for (const tick of sim.ticks()) for (const s of tick.sightings) if (s.device === dev.index) macs.add(s.deviceId);
  assert.ok(macs.size > 10, `${macs.size} MACs in a day`);
});

test('connected devices join the strongest AP, roam only past the hysteresis, and leave when their owner goes home', () => {
  const roamsWith = (hysteresisDb: number) => {
    const sim = new Simulation({ seed: 8, people: 30, roamHysteresisDb: hysteresisDb });
    const radio = new Radio(sim.campus, { ble: { sigmaDb: 4, sensitivityDbm: -90 }, wifi: { sigmaDb: 6, sensitivityDbm: -85 }, floorLossDb: 15, maxReadings: 8 });
    const mean = (ap: number, a: SimAssociation) => radio.meanAt(ap, sim.campus.floors[a.floor]!.level, a.x, a.y);
    const state = new Map<number, number>();
    const previous = new Map<number, number>();
    const count = { join: 0, roam: 0, signal: 0, left: 0 };
    for (const tick of sim.ticks()) {
      for (const a of tick.associations) {
        const cur = state.get(a.device) ?? -1;
        assert.equal(sim.campus.sensors[a.ap]!.kind, 'ap');
        if (a.type === 'disassociate') {
          assert.equal(a.ap, cur, 'disassociates from the AP it is on');
          state.set(a.device, -1);
          previous.set(a.device, a.ap);
          if (a.reason === 'left') count.left++;
          if (a.reason === 'signal') assert.ok(mean(a.ap, a) < -88, 'dropped only below −88 dBm');
          continue;
        }
        assert.equal(cur, -1, 'associates only when off the network');
        state.set(a.device, a.ap);
        if (a.reason !== 'left') count[a.reason]++;
        const building = sim.campus.buildings[sim.campus.floors[a.floor]!.building]!;
        const strongest = Math.max(...building.floors.flatMap((f) => sim.campus.floors[f]!.aps).map((ap) => mean(ap, a)));
        assert.ok(Math.abs(mean(a.ap, a) - strongest) < 1e-9, 'joins the strongest AP');
        if (a.reason === 'roam') assert.ok(mean(a.ap, a) - mean(previous.get(a.device)!, a) >= hysteresisDb - 1e-9, 'roams only past the hysteresis');
      }
      for (const s of tick.sightings) if (s.kind === 'wifi-connected') assert.equal(s.ap, state.get(s.device) ?? -1);
    }
    assert.ok([...state.values()].every((ap) => ap === -1), 'everyone is off the network at night');
    return count;
  };
  const sticky = roamsWith(8);
  assert.ok(sticky.join > 30 && sticky.roam > 10 && sticky.left === sticky.join, JSON.stringify(sticky));
  const eager = roamsWith(0);
  assert.ok(eager.roam > sticky.roam, `${eager.roam} roams without hysteresis, ${sticky.roam} with`);
});

test('readings follow the path-loss model: residuals have the configured shadowing σ and no sensor hears below its sensitivity', () => {
  const sim = new Simulation({ seed: 3, people: 40, badgeSigmaDb: 3.5 });
  const residuals: number[] = [];
  for (const tick of sim.ticks({ toMs: sim.options.startMs + 11 * HOUR })) {
    for (const s of tick.sightings) {
      if (s.kind !== 'ble-badge') continue;
      for (const r of s.readings) {
        assert.ok(r.rssiDbm >= -90 && r.rssiDbm < 0);
        const sensor = sim.campus.sensors[r.sensor]!;
        const d = Math.hypot(sensor.xM - s.x, sensor.yM - s.y);
        // Close, same-floor sensors: far above the cutoff, so the noise is not truncated.
        if (sensor.floor === s.floor && d > 1 && d < 6) residuals.push(r.rssiDbm - (sensor.model.txPowerDbm - 10 * sensor.model.exponent * Math.log10(d)));
      }
    }
  }
  const mean = residuals.reduce((a, b) => a + b, 0) / residuals.length;
  const sd = Math.sqrt(residuals.reduce((a, b) => a + (b - mean) ** 2, 0) / residuals.length);
  assert.ok(residuals.length > 1000 && Math.abs(mean) < 0.3 && Math.abs(sd - Math.hypot(3.5, 0.29)) < 0.25, `mean ${mean.toFixed(2)}, σ ${sd.toFixed(2)} over ${residuals.length}`);
});

test('bad options are refused with a clear validation error', () => {
  assert.throws(() => new Simulation({ seed: 1, people: 0 }), { code: 'CAIRN_ERR_VALIDATION' });
  assert.throws(() => new Simulation({ seed: 1, people: 5, tickMs: 3000 }), /multiple of tickMs/);
  assert.throws(() => new Simulation({ seed: 1, people: 5, laptopShare: 2 }), /laptopShare/);
});
