/**
 * Scores proximity tracing on the simulator's ground truth (issue 4, "Correctness"): one simulated
 * day of one device kind goes through the real ingest pipeline as vendor positions (the
 * simulator's own estimate of each sighting, with the accuracy it reports), every device of that
 * kind is traced over the day through `ProximityService.trace`, and the person pairs found are
 * compared with the exact contacts `contactsOfDay` computes from the trajectories (same radius,
 * same cumulative time). Only people who carry a device of the kind can be found, so the truth is
 * limited to pairs of them. Used by test/tracing-correctness.test.ts and bench/tracing.ts.
 */
import { DAY_MS } from '../../kernel/clock.ts';
import type { Ctx, IdKind } from '../../privacy/index.ts';
import { parseNativeBatch, type IngestService, type NativeObservation } from '../../ingest/index.ts';
import { contactsOfDay, nativeObservation, type Simulation } from '../../simulator/index.ts';
import type { ProximityService } from './service.ts';

export interface ContactEvalOptions {
  /** Which devices: badges, or connected phones (carried, unlike laptops left on desks). */
  kind: 'ble-badge' | 'wifi-connected';
  /** Simulated day (0-based); default 0. */
  day?: number;
  /**
   * `vendor` (default): the simulator's own position estimate with its accuracy, as Mist or an
   * app reports it. `rssi`: the sensors' readings, located by Cairn (WLS and Kalman; the org
   * needs the campus's sensors, `layOutSimCampus(…, sensors)`).
   */
  positions?: 'vendor' | 'rssi';
  /** Contact definition for Cairn and the truth alike; defaults 2 m and 15 minutes. */
  radiusMeters?: number;
  minMinutes?: number;
  /** Where the org keeps the simulated buildings and floors (keys `b1`, `b1-f0`). */
  siteIdOf: (buildingKey: string) => string;
  floorIdOf: (floorKey: string) => string;
  /** The org's pseudonymiser (to map reported contacts back to simulated people). */
  pseudonym: (kind: IdKind, raw: string) => string;
}

export interface ContactEvalReport {
  kind: string;
  /** Median accuracy the fixes carried, metres. */
  accuracyM: number;
  fixes: number;
  devices: number;
  /** True contacts among people carrying the kind, and the pairs Cairn reported. */
  truePairs: number;
  reportedPairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  /** Trace time per device, ms. */
  traceP50Ms: number;
}

const pairKey = (a: number, b: number): string => (a < b ? `${a}-${b}` : `${b}-${a}`);

/** What `ingestSimDay` loaded, for `scoreTraces`. */
export interface SimDayLoad {
  kind: ContactEvalOptions['kind'];
  day: number;
  fixes: number;
  /** Median accuracy the fixes carried, metres (NaN with `rssi`: Cairn's locator sets it). */
  accuracyM: number;
  /** The simulated devices of the kind (index, person, id type, id). */
  devices: { person: number; idType: string; id: string }[];
}

function carriedDevices(sim: Simulation, kind: ContactEvalOptions['kind']) {
  return sim.devices.filter((d) => (kind === 'ble-badge' ? d.type === 'badge' : d.type === 'phone' && d.kind === 'wifi-connected'));
}

/**
 * Ingest one simulated day of `kind` into `orgId` through the pipeline (vendor positions).
 *
 * @example const load = await ingestSimDay(services.ingest, ctx, orgId, sim, { kind: 'ble-badge', ...layout, pseudonym })
 */
export async function ingestSimDay(ingest: IngestService, ctx: Ctx, orgId: string, sim: Simulation, o: Omit<ContactEvalOptions, 'pseudonym' | 'radiusMeters' | 'minMinutes'>): Promise<SimDayLoad> {
  const day = o.day ?? 0;
  const dayStart = sim.options.startMs + day * DAY_MS;
  const devices = carriedDevices(sim, o.kind);
  const carried = new Set(devices.map((d) => d.index));
  let batch: NativeObservation[] = [];
  let fixes = 0;
  const accuracies: number[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await ingest.ingest(ctx, orgId, { source: 'native', observations: parseNativeBatch({ observations: batch }) });
    batch = [];
  };
  for (const tick of sim.ticks({ fromMs: dayStart, toMs: dayStart + DAY_MS - 1 })) {
    for (const x of tick.sightings) {
      if (x.kind !== o.kind || !carried.has(x.device)) continue;
      const floor = sim.campus.floors[x.floor]!;
      if (o.positions === 'rssi') batch.push(nativeObservation(sim, x, { siteIdOf: (b) => o.siteIdOf(b.key), floorIdOf: (f) => o.floorIdOf(f.key) }));
      else batch.push({ kind: x.kind, idType: x.idType, deviceId: x.deviceId, atMs: x.atMs, x: x.estX, y: x.estY, accuracyM: x.estAccuracyM, floorId: o.floorIdOf(floor.key), siteId: o.siteIdOf(sim.campus.buildings[floor.building]!.key) });
      if (fixes++ % 97 === 0 && o.positions !== 'rssi') accuracies.push(x.estAccuracyM);
      if (batch.length >= 1000) await flush();
    }
  }
  await flush();
  accuracies.sort((a, b) => a - b);
  return { kind: o.kind, day, fixes, accuracyM: accuracies[accuracies.length >> 1] ?? NaN, devices: devices.map((d) => ({ person: d.person, idType: d.idType, id: d.stableId! })) };
}

/**
 * Trace every device of a loaded day and compare the person pairs found with the true contacts.
 *
 * @example const report = await scoreTraces(services.proximity, ctx, orgId, sim, load, { pseudonym })
 */
export async function scoreTraces(proximity: ProximityService, ctx: Ctx, orgId: string, sim: Simulation, load: SimDayLoad, o: Pick<ContactEvalOptions, 'pseudonym' | 'radiusMeters' | 'minMinutes'>): Promise<ContactEvalReport> {
  const dayStart = sim.options.startMs + load.day * DAY_MS;
  const personOf = new Map<string, number>();
  for (const d of load.devices) personOf.set(o.pseudonym(d.idType === 'mac' ? 'mac' : 'badge', d.id), d.person);
  const people = new Set(load.devices.map((d) => d.person));
  const reported = new Set<string>();
  const times: number[] = [];
  for (const d of load.devices) {
    const t = performance.now();
    const r = await proximity.trace(ctx, orgId, {
      ...(d.idType === 'mac' ? { mac: d.id } : { badge: d.id }),
      fromMs: dayStart,
      toMs: dayStart + DAY_MS,
      purpose: 'Correctness check on simulated data',
      ...(o.radiusMeters !== undefined ? { radiusMeters: o.radiusMeters } : {}),
      ...(o.minMinutes !== undefined ? { minMinutes: o.minMinutes } : {}),
    });
    times.push(performance.now() - t);
    for (const c of r.contacts) {
      const p = personOf.get(c.device);
      if (p !== undefined && p !== d.person) reported.add(pairKey(d.person, p));
    }
  }
  const truth = new Set(contactsOfDay(sim.plan(load.day), { radiusM: o.radiusMeters ?? 2, minMinutes: o.minMinutes ?? 15 }).filter((c) => people.has(c.a) && people.has(c.b)).map((c) => pairKey(c.a, c.b)));
  let tp = 0;
  for (const k of reported) if (truth.has(k)) tp++;
  times.sort((a, b) => a - b);
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return {
    kind: load.kind,
    accuracyM: load.accuracyM,
    fixes: load.fixes,
    devices: load.devices.length,
    truePairs: truth.size,
    reportedPairs: reported.size,
    truePositives: tp,
    precision: reported.size ? r3(tp / reported.size) : 1,
    recall: truth.size ? r3(tp / truth.size) : 1,
    traceP50Ms: Math.round((times[times.length >> 1] ?? 0) * 10) / 10,
  };
}

/**
 * Ingest one simulated day of `kind` into `orgId` and score the traces of every device.
 *
 * @example await evaluateContacts(services, ctx, orgId, sim, { kind: 'ble-badge', siteIdOf, floorIdOf, pseudonym })
 */
export async function evaluateContacts(s: { ingest: IngestService; proximity: ProximityService }, ctx: Ctx, orgId: string, sim: Simulation, o: ContactEvalOptions): Promise<ContactEvalReport> {
  return scoreTraces(s.proximity, ctx, orgId, sim, await ingestSimDay(s.ingest, ctx, orgId, sim, o), o);
}

/**
 * Lay the simulated campus out in an org (sites, floors, zones, and with `sensors` the BLE
 * sensors and APs for RSSI positions). Returns the maps from the simulator's keys to the org's ids.
 */
export async function layOutSimCampus(
  tenancy: {
    createSite(ctx: Ctx, orgId: string, input: { name: string }): Promise<{ id: string }>;
    createFloor(ctx: Ctx, orgId: string, siteId: string, input: { name: string; level?: number; widthM: number; heightM: number }): Promise<{ id: string }>;
    createZone(ctx: Ctx, orgId: string, floorId: string, input: { name: string; polygon: [number, number][] }): Promise<{ id: string }>;
  },
  ctx: Ctx,
  orgId: string,
  sim: Simulation,
  sensors?: { create(ctx: Ctx, orgId: string, siteId: string, input: { floorId: string; kind: 'ap' | 'ble-sensor'; name: string; mac?: string | null; vendorId?: string | null; xM: number; yM: number; coverageRadiusM?: number; txPowerDbm?: number | null }): Promise<unknown> },
): Promise<{ siteIdOf: (k: string) => string; floorIdOf: (k: string) => string; zoneIdOf: (k: string) => string }> {
  const sites = new Map<string, string>();
  const floors = new Map<string, string>();
  const zones = new Map<string, string>();
  for (const b of sim.campus.buildings) {
    const site = await tenancy.createSite(ctx, orgId, { name: b.name });
    sites.set(b.key, site.id);
    for (const fi of b.floors) {
      const f = sim.campus.floors[fi]!;
      const floor = await tenancy.createFloor(ctx, orgId, site.id, { name: f.name, level: f.level, widthM: f.widthM, heightM: f.heightM });
      floors.set(f.key, floor.id);
      if (sensors) {
        for (const si of [...f.bleSensors, ...f.aps]) {
          const x = sim.campus.sensors[si]!;
          await sensors.create(ctx, orgId, site.id, { floorId: floor.id, kind: x.kind, name: x.id, mac: x.mac, vendorId: x.vendorId ?? null, xM: x.xM, yM: x.yM, coverageRadiusM: x.coverageRadiusM, txPowerDbm: x.model.txPowerDbm });
        }
      }
      for (const z of f.zones) zones.set(z.id, (await tenancy.createZone(ctx, orgId, floor.id, { name: z.name, polygon: [[z.minX, z.minY], [z.maxX, z.minY], [z.maxX, z.maxY], [z.minX, z.maxY]] })).id);
    }
  }
  return { siteIdOf: (k) => sites.get(k)!, floorIdOf: (k) => floors.get(k)!, zoneIdOf: (k) => zones.get(k)! };
}
