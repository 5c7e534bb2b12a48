/**
 * Live data for a demo org: the simulation run against the wall clock, as native observation
 * batches stamped with real time. The simulated office day is decoupled from the real hour:
 * `startHour` picks the simulated time of day at which the stream starts (10 gives a busy
 * office whenever the demo is started), and `speed` runs the simulation faster than real time
 * while stamps stay real. `liveBatches` is the unpaced generator (tests, back-fills);
 * `liveStream` waits for each batch's time before yielding it.
 */
import type { NativeObservation } from '../ingest/index.ts';
import type { SimBuilding, SimFloor } from './campus.ts';
import { nativeObservation } from './emit/native.ts';
import { DAY_MS, HOUR_MS } from '../kernel/clock.ts';
import { DEFAULT_START_MS, Simulation, type SimulationOptions } from './simulation.ts';

export interface LiveStreamOptions {
  seed: number;
  people: number;
  buildings?: number;
  floorsPerBuilding?: number;
  /** Wall-clock time of the first batch, epoch ms; default now. */
  startMs?: number;
  /** Simulation step and batch cadence, ms; default 5 000. */
  tickMs?: number;
  /** Simulated time of day (hours, UTC) at `startMs`; default the real one. */
  startHour?: number;
  /** Simulated ms per real ms; default 1. */
  speed?: number;
  /** Simulated days before the stream ends; default 365. */
  days?: number;
  /** Observations per batch; default 1 000. */
  maxBatch?: number;
  /** The demo org's site and floor ids for the campus's buildings and floors. */
  siteIdOf?: (b: SimBuilding) => string;
  floorIdOf?: (f: SimFloor) => string;
  /** Any other simulation option (report periods, σ, shares…). */
  simulation?: Partial<SimulationOptions>;
  /** Clock and sleep, replaceable in tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Stops the stream. */
  signal?: AbortSignal;
}

/** One batch: its wall-clock time and the observations (all stamped with it). */
export interface LiveBatch {
  atMs: number;
  /** The simulated instant it shows. */
  simMs: number;
  observations: NativeObservation[];
}

function setup(o: LiveStreamOptions): { sim: Simulation; wallStart: number; simStart: number; speed: number } {
  const wallStart = o.startMs ?? (o.now ?? Date.now)();
  const hour = o.startHour ?? (wallStart % DAY_MS) / HOUR_MS;
  const speed = o.speed ?? 1;
  const opts: SimulationOptions = { ...o.simulation, seed: o.seed, people: o.people, days: o.days ?? 365, startMs: DEFAULT_START_MS, tickMs: o.tickMs ?? 5_000 };
  if (o.buildings !== undefined) opts.buildings = o.buildings;
  if (o.floorsPerBuilding !== undefined) opts.floorsPerBuilding = o.floorsPerBuilding;
  return { sim: new Simulation(opts), wallStart, simStart: DEFAULT_START_MS + Math.round(hour * HOUR_MS), speed };
}

/**
 * The live stream's batches without waiting (each tick's sightings, split at `maxBatch`).
 *
 * @example for (const b of liveBatches({ seed: 1, people: 50, startMs: Date.now(), startHour: 10 })) …
 */
export function* liveBatches(o: LiveStreamOptions): Generator<LiveBatch> {
  const { sim, wallStart, simStart, speed } = setup(o);
  const max = Math.min(o.maxBatch ?? 1_000, 1_000);
  const emitOpts: { siteIdOf?: (b: SimBuilding) => string; floorIdOf?: (f: SimFloor) => string } = {};
  if (o.siteIdOf) emitOpts.siteIdOf = o.siteIdOf;
  if (o.floorIdOf) emitOpts.floorIdOf = o.floorIdOf;
  for (const tick of sim.ticks({ fromMs: simStart })) {
    if (tick.sightings.length === 0) continue;
    const atMs = Math.round(wallStart + (tick.atMs - simStart) / speed);
    for (let i = 0; i < tick.sightings.length; i += max) {
      const observations = tick.sightings.slice(i, i + max).map((s) => {
        const obs = nativeObservation(sim, s, emitOpts);
        obs.atMs = atMs;
        return obs;
      });
      yield { atMs, simMs: tick.atMs, observations };
    }
  }
}

/**
 * Native batches for a demo org, each released when the wall clock reaches its time. Ends when
 * `signal` aborts or the simulated days run out.
 *
 * @example for await (const b of liveStream({ seed: 1, people: 80, startHour: 10, signal })) await ingest(ctx, org, b.observations)
 */
export async function* liveStream(o: LiveStreamOptions): AsyncGenerator<LiveBatch> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (const batch of liveBatches(o)) {
    if (o.signal?.aborted) return;
    const wait = batch.atMs - now();
    if (wait > 0) await sleep(wait);
    if (o.signal?.aborted) return;
    yield batch;
  }
}
