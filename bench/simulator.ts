/**
 * Simulator benchmark: how fast the simulator produces data (sightings per second from the
 * campus, schedules and radio model; native observations per second including serialisation;
 * exact contacts per simulated day), and the location engine's median error on its ground
 * truth for badges and Wi-Fi. Prints JSON when run directly:
 *
 *   node --import tsx bench/simulator.ts [--full]
 *
 * Quick: 300 people (about 900 devices), two office hours. Full: 3 400 people (about 10 000
 * devices), a whole day, with the peak resident memory of the streaming run.
 */
import { fileURLToPath } from 'node:url';
import { contactsOfDay, emitNative, evaluateLocation, Simulation } from '../src/simulator/index.ts';

const HOUR = 3_600_000;

/**
 * Runs the simulator benchmark and returns flat figures.
 *
 * @example const r = await benchSimulator({ full: false }); r.sightings_per_s
 */
export async function benchSimulator(opts: { full: boolean }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const people = opts.full ? 3_400 : 300;
  const sim = new Simulation({ seed: 1, people });
  const day0 = sim.options.startMs;
  const window = opts.full ? {} : { fromMs: day0 + 9 * HOUR, toMs: day0 + 11 * HOUR };
  out['people'] = people;
  out['devices'] = sim.devices.length;
  out['sensors'] = sim.campus.sensors.length;
  out['buildings'] = sim.campus.buildings.length;

  // Generation alone (plans, positions, radio, associations), streaming: nothing is kept.
  let peakRss = process.memoryUsage().rss;
  let sightings = 0, readings = 0, ticks = 0;
  let t0 = performance.now();
  for (const tick of sim.ticks(window)) {
    ticks++;
    sightings += tick.sightings.length;
    for (const s of tick.sightings) readings += s.readings.length;
    if ((ticks & 255) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  let s = (performance.now() - t0) / 1000;
  out['sightings'] = sightings;
  out['sightings_per_s'] = Math.round(sightings / s);
  out['readings_per_s'] = Math.round(readings / s);
  out['generate_seconds'] = Math.round(s * 10) / 10;
  out['peak_rss_mb'] = Math.round(peakRss / 1_048_576);

  // The same stream as native batches (serialised JSON bodies).
  t0 = performance.now();
  let observations = 0, bytes = 0;
  const short = opts.full ? { fromMs: day0 + 9 * HOUR, toMs: day0 + 10 * HOUR } : window;
  for (const p of emitNative(sim, sim.ticks(short))) {
    observations += p.records;
    bytes += p.body.length;
  }
  s = (performance.now() - t0) / 1000;
  out['native_observations_per_s'] = Math.round(observations / s);
  out['native_bytes_per_observation'] = Math.round(bytes / Math.max(1, observations));

  // Exact contacts of one simulated day.
  t0 = performance.now();
  const contacts = contactsOfDay(sim.plan(0), { radiusM: 2, minMinutes: 15 });
  out['contacts_day'] = contacts.length;
  out['contacts_seconds'] = Math.round((performance.now() - t0) / 100) / 10;

  // Location error on the ground truth (two office hours).
  const hours = { fromMs: day0 + 9 * HOUR, toMs: day0 + 11 * HOUR };
  const evalSim = opts.full ? new Simulation({ seed: 1, people: 600 }) : sim;
  const badge = evaluateLocation(evalSim, evalSim.ticks(hours), { kind: 'ble-badge' });
  const wifi = evaluateLocation(evalSim, evalSim.ticks(hours), { kind: 'wifi-connected' });
  const probe = evaluateLocation(evalSim, evalSim.ticks(hours), { kind: 'wifi-unconnected' });
  out['badge_median_error_m'] = badge.medianErrorM;
  out['badge_p90_error_m'] = badge.p90ErrorM;
  out['badge_raw_median_error_m'] = badge.rawMedianErrorM;
  out['badge_floor_hit_rate'] = badge.floorHitRate;
  out['wifi_connected_median_error_m'] = wifi.medianErrorM;
  out['wifi_connected_p90_error_m'] = wifi.p90ErrorM;
  out['wifi_unconnected_median_error_m'] = probe.medianErrorM;
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await benchSimulator({ full: process.argv.includes('--full') });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
