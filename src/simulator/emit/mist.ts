/**
 * Juniper Mist location webhooks: `{topic, events[]}` deliveries, one topic per delivery, as
 * Mist batches them. Connected clients go to `location_client`, probing phones to
 * `location_unclient`, badges to `location_asset` (iBeacon identity, BLE address) and, one
 * event per sensor that heard them, to `discovered-raw-rssi`; app phones to `location_sdk`.
 * Positions are the vendor's own estimate (truth plus its error), in metres on the floor's map.
 * With a secret, each delivery carries `X-Mist-Signature-v2`, the HMAC-SHA256 of the body.
 */
import { MIST_SIGNATURE_HEADER, mistSignature, type MistTopic } from '../../ingest/index.ts';
import { bareMac } from '../ids.ts';
import type { Simulation, SimSighting, SimTick } from '../simulation.ts';
import { JSON_HEADERS, JsonBatcher, windowClosed, type SimPayload } from './types.ts';

/** The topics the simulator produces. */
export const MIST_SIM_TOPICS = ['location_client', 'location_unclient', 'location_asset', 'location_sdk', 'discovered-raw-rssi'] as const satisfies readonly MistTopic[];
export type MistSimTopic = (typeof MIST_SIM_TOPICS)[number];

export interface MistEmitOptions {
  /** The webhook secret; when set, deliveries are signed. */
  secret?: string;
  /** Topics to emit; default all of `MIST_SIM_TOPICS`. */
  topics?: readonly MistSimTopic[];
  /** Most events per delivery; default 500. */
  maxEvents?: number;
  /** A delivery goes out at least this often (simulated time), ms; default 10 000. */
  windowMs?: number;
  /** The Mist org id written into raw-RSSI events. */
  orgId?: string;
}

function topicOf(s: SimSighting): MistSimTopic {
  switch (s.kind) {
    case 'wifi-connected':
      return 'location_client';
    case 'wifi-unconnected':
      return 'location_unclient';
    case 'sdk':
      return 'location_sdk';
    default:
      return 'location_asset';
  }
}

/**
 * Mist webhook deliveries for the ticks.
 *
 * @example for (const p of emitMist(sim, sim.ticks(), { secret })) receiveMistWebhook(p.body, p.headers, { secret })
 */
export function* emitMist(sim: Simulation, ticks: Iterable<SimTick>, opts: MistEmitOptions = {}): Generator<SimPayload> {
  const campus = sim.campus;
  const topics = new Set<MistSimTopic>(opts.topics ?? MIST_SIM_TOPICS);
  const windowMs = opts.windowMs ?? 10_000;
  const orgId = opts.orgId ?? '00000000-0000-4000-8000-00000000c0de';
  const batches = new Map<MistSimTopic, JsonBatcher>(MIST_SIM_TOPICS.map((t) => [t, new JsonBatcher(opts.maxEvents ?? 500, 1_000_000)]));
  const starts = new Map<MistSimTopic, number>();
  const flush = (topic: MistSimTopic): SimPayload => {
    const b = batches.get(topic)!.take(`{"topic":${JSON.stringify(topic)},"events":[`, ']}');
    const headers: Record<string, string> = { ...JSON_HEADERS };
    if (opts.secret) headers[MIST_SIGNATURE_HEADER] = mistSignature(b.body, opts.secret);
    return { format: 'mist', topic, headers, ...b };
  };
  /** Adds an event; returns the delivery it closed, if it had to. */
  const add = (topic: MistSimTopic, event: Record<string, unknown>, atMs: number): SimPayload | undefined => {
    if (!topics.has(topic)) return undefined;
    const b = batches.get(topic)!;
    const json = JSON.stringify(event);
    const closed = b.full(json) ? flush(topic) : undefined;
    if (b.size === 0) starts.set(topic, atMs);
    b.add(json, atMs);
    return closed;
  };
  let p: SimPayload | undefined;
  for (const tick of ticks) {
    for (const t of MIST_SIM_TOPICS) if (batches.get(t)!.size > 0 && windowClosed(starts.get(t)!, tick.atMs, windowMs)) yield flush(t);
    // Object literals, not spreads: JSON.stringify takes its fast path only on plain shapes.
    for (const s of tick.sightings) {
      const floor = campus.floors[s.floor]!;
      const site = campus.buildings[floor.building]!.vendorSiteId;
      const map = floor.vendorFloorId;
      const ts = s.atMs / 1000;
      const topic = topicOf(s);
      if (topic === 'location_sdk') {
        if ((p = add(topic, { id: s.deviceId, site_id: site, map_id: map, x: s.estX, y: s.estY, timestamp: ts, type: 'sdk' }, s.atMs))) yield p;
      } else if (topic === 'location_asset') {
        const dev = sim.devices[s.device]!;
        const mac = bareMac(dev.bleMac!);
        const b = dev.ibeacon!;
        const asset = { mac, ibeacon_uuid: b.uuid, ibeacon_major: b.major, ibeacon_minor: b.minor, site_id: site, map_id: map, x: s.estX, y: s.estY, timestamp: ts, type: 'asset' };
        if ((p = add(topic, asset, s.atMs))) yield p;
        if (!topics.has('discovered-raw-rssi')) continue;
        for (const r of s.readings) {
          const sensor = campus.sensors[r.sensor]!;
          const raw = { mac, ibeacon_uuid: b.uuid, ibeacon_major: b.major, ibeacon_minor: b.minor, device_id: sensor.vendorId, rssi: r.rssiDbm, timestamp: ts, site_id: site, map_id: campus.floors[sensor.floor]!.vendorFloorId, org_id: orgId, is_asset: true };
          if ((p = add('discovered-raw-rssi', raw, s.atMs))) yield p;
        }
      } else {
        if ((p = add(topic, { mac: bareMac(s.deviceId), site_id: site, map_id: map, x: s.estX, y: s.estY, timestamp: ts, type: 'wifi' }, s.atMs))) yield p;
      }
    }
  }
  for (const t of MIST_SIM_TOPICS) if (batches.get(t)!.size > 0) yield flush(t);
}
