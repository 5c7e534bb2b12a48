/**
 * Badge-to-badge encounters in Cairn's upload format: JSON arrays of `{a, b, rssi, atMs,
 * durationMs}`, one per window (default a minute) and at most `maxEncounters` each. The ticks
 * must come from a simulation with `encounters: true`.
 */
import type { Simulation, SimTick } from '../simulation.ts';
import { JSON_HEADERS, JsonBatcher, windowClosed, type SimPayload } from './types.ts';

export interface EncounterEmitOptions {
  /** Window, ms; default 60 000. */
  windowMs?: number;
  /** Most encounters per upload; default 5 000. */
  maxEncounters?: number;
}

/**
 * Encounter uploads for the ticks.
 *
 * @example for (const p of emitEncounters(sim, sim.ticks())) parseEncounterBatch(p.body)
 */
export function* emitEncounters(_sim: Simulation, ticks: Iterable<SimTick>, opts: EncounterEmitOptions = {}): Generator<SimPayload> {
  const windowMs = opts.windowMs ?? 60_000;
  const batch = new JsonBatcher(opts.maxEncounters ?? 5_000, 1_000_000);
  const flush = (): SimPayload => ({ format: 'encounters', headers: { ...JSON_HEADERS }, ...batch.take('[', ']') });
  let windowStart = -Infinity;
  for (const tick of ticks) {
    if (batch.size > 0 && windowClosed(windowStart, tick.atMs, windowMs)) yield flush();
    for (const e of tick.encounters) {
      const json = JSON.stringify({ a: e.a, b: e.b, rssi: e.rssiDbm, atMs: e.atMs, durationMs: e.durationMs });
      if (batch.full(json)) yield flush();
      if (batch.size === 0) windowStart = tick.atMs;
      batch.add(json, e.atMs);
    }
  }
  if (batch.size > 0) yield flush();
}
