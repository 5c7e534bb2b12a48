/**
 * The acceptance figure: on the simulator's ground truth, badges heard by at least three
 * sensors are located by the engine (RssiPositionSolver + DeviceSmoother) with a median error of
 * at most 3 m. Two office hours of 60 people (about 37 000 badge sightings), fixed seed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateLocation } from './evaluate.ts';
import { Simulation } from './simulation.ts';

const HOUR = 3_600_000;
const officeHours = (sim: Simulation) => sim.ticks({ fromMs: sim.options.startMs + 9 * HOUR, toMs: sim.options.startMs + 11 * HOUR });

test('badges heard by ≥ 3 sensors are located with a median error ≤ 3 m', () => {
  const sim = new Simulation({ seed: 2024, people: 60 });
  const r = evaluateLocation(sim, officeHours(sim), { kind: 'ble-badge', minSensors: 3 });
  assert.ok(r.scored > 20_000, `${r.scored} badge fixes scored`);
  assert.ok(r.scored / r.sightings > 0.99, 'nearly every badge sighting is heard by three sensors');
  assert.ok(r.floorHitRate >= 0.99, `floor right for ${r.floorHitRate}`);
  assert.ok(r.medianErrorM <= 3, `median error ${r.medianErrorM} m`);
  assert.ok(r.p90ErrorM <= 7, `90th percentile ${r.p90ErrorM} m`);
});

test('connected Wi-Fi is located within R-LOC-2 expectations (5–10 m), and more shadowing makes badges worse', () => {
  const sim = new Simulation({ seed: 2024, people: 60 });
  const wifi = evaluateLocation(sim, officeHours(sim), { kind: 'wifi-connected' });
  assert.ok(wifi.scored > 2_000 && wifi.medianErrorM <= 10, JSON.stringify(wifi));
  const badge = evaluateLocation(sim, officeHours(sim), { kind: 'ble-badge' });
  const noisy = new Simulation({ seed: 2024, people: 60, badgeSigmaDb: 9 });
  const worse = evaluateLocation(noisy, officeHours(noisy), { kind: 'ble-badge' });
  assert.ok(worse.medianErrorM > badge.medianErrorM + 0.5, `σ 9 dB: ${worse.medianErrorM} m vs σ 4 dB: ${badge.medianErrorM} m`);
});
