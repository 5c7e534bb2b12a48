/**
 * Cisco Meraki Scanning API v3 posts: once per window (60 s, as Meraki sends them) and per
 * building (a Meraki network) and type (`WiFi`, `BLE`), every client seen in the window with
 * its location history (`locations[]`: x/y metres and lat/lng, the vendor's `variance`, the
 * floor plan, per-AP `rssiRecords`) and its `latestRecord`. Connected clients carry the SSID and
 * an address (personal fields the ingest adapter drops unless the tenant collects them);
 * probing phones carry neither. Badges carry their iBeacon identity in `bleBeacons`.
 */
import type { SimBuilding, SimFloor } from '../campus.ts';
import type { Simulation, SimSighting, SimTick } from '../simulation.ts';
import { JSON_HEADERS, JsonBatcher, iso, windowClosed, type SimPayload } from './types.ts';

export interface MerakiEmitOptions {
  /** The receiver's shared secret (sent in the body); default `cairn-simulator`. */
  secret?: string;
  /** Window between posts, ms; default 60 000. */
  windowMs?: number;
  /** Most clients per post; default 500. Posts also stay under ~1 MB. */
  maxObservations?: number;
  /** The SSID connected clients are on. */
  ssid?: string;
}

interface Client {
  /** The observation as sent (a plain literal: JSON.stringify's fast path). */
  obs: { locations: Record<string, unknown>[]; latestRecord: Record<string, unknown> | null };
  firstMs: number;
  lastMs: number;
}

const M_PER_DEG_LAT = 111_320;

function location(sim: Simulation, s: SimSighting, floor: SimFloor, b: SimBuilding): Record<string, unknown> {
  const lat0 = (b.originLat * Math.PI) / 180;
  return {
    x: s.estX,
    y: s.estY,
    lat: Math.round((b.originLat + s.estY / M_PER_DEG_LAT) * 1e7) / 1e7,
    lng: Math.round((b.originLng + s.estX / (M_PER_DEG_LAT * Math.cos(lat0))) * 1e7) / 1e7,
    variance: s.estAccuracyM,
    time: iso(s.atMs),
    floorPlanId: floor.vendorFloorId,
    floorPlanName: floor.name,
    nearestApTags: [floor.key],
    rssiRecords: s.readings.map((r) => ({ apMac: sim.campus.sensors[r.sensor]!.mac, rssi: r.rssiDbm })),
  };
}

/**
 * Meraki Scanning API v3 POST bodies for the ticks.
 *
 * @example for (const p of emitMeraki(sim, sim.ticks(), { secret })) parseMerakiScanning(p.body, { secret })
 */
export function* emitMeraki(sim: Simulation, ticks: Iterable<SimTick>, opts: MerakiEmitOptions = {}): Generator<SimPayload> {
  const campus = sim.campus;
  const secret = opts.secret ?? 'cairn-simulator';
  const windowMs = opts.windowMs ?? 60_000;
  const ssid = opts.ssid ?? 'cairn-corp';
  const maxObs = opts.maxObservations ?? 500;
  // building → type → clients by device id (insertion order = first seen).
  let window = new Map<number, { WiFi: Map<string, Client>; BLE: Map<string, Client> }>();
  let windowStart = -Infinity;
  function* flush(): Generator<SimPayload> {
    const buildings = [...window.keys()].sort((a, b) => a - b);
    for (const bi of buildings) {
      const b = campus.buildings[bi]!;
      for (const type of ['WiFi', 'BLE'] as const) {
        const clients = window.get(bi)![type];
        if (clients.size === 0) continue;
        const prefix = `{"version":"3.0","secret":${JSON.stringify(secret)},"type":"${type}","data":{"networkId":${JSON.stringify(b.merakiNetworkId)},"observations":[`;
        const batch = new JsonBatcher(maxObs, 950_000 - prefix.length);
        for (const c of clients.values()) {
          const json = JSON.stringify(c.obs);
          if (batch.full(json)) yield { format: 'meraki', topic: type, headers: { ...JSON_HEADERS }, ...batch.take(prefix, ']}}') };
          batch.add(json, c.firstMs);
          if (c.lastMs > batch.lastMs) batch.lastMs = c.lastMs;
        }
        if (batch.size > 0) yield { format: 'meraki', topic: type, headers: { ...JSON_HEADERS }, ...batch.take(prefix, ']}}') };
      }
    }
    window = new Map();
  }
  for (const tick of ticks) {
    if (window.size > 0 && windowClosed(windowStart, tick.atMs, windowMs)) yield* flush();
    if (window.size === 0) windowStart = tick.atMs;
    for (const s of tick.sightings) {
      if (s.kind === 'sdk' || s.readings.length === 0) continue;
      const floor = campus.floors[s.floor]!;
      const b = campus.buildings[floor.building]!;
      let w = window.get(b.index);
      if (!w) window.set(b.index, (w = { WiFi: new Map(), BLE: new Map() }));
      const ble = s.kind === 'ble-badge';
      const dev = sim.devices[s.device]!;
      const key = ble ? dev.bleMac! : s.deviceId;
      const map = ble ? w.BLE : w.WiFi;
      let c = map.get(key);
      if (!c) {
        const obs = ble
          ? { clientMac: dev.bleMac!, name: null, bleBeacons: [{ bleType: 'iBeacon', uuid: dev.ibeacon!.uuid, major: dev.ibeacon!.major, minor: dev.ibeacon!.minor }], locations: [], latestRecord: null }
          : s.kind === 'wifi-connected'
            ? { clientMac: s.deviceId, ipv4: dev.ipv4 ?? null, ipv6: null, ssid, os: dev.os ?? null, manufacturer: dev.manufacturer ?? null, userId: null, locations: [], latestRecord: null }
            : { clientMac: s.deviceId, ipv4: null, ipv6: null, ssid: null, os: null, manufacturer: null, userId: null, locations: [], latestRecord: null };
        c = { obs, firstMs: s.atMs, lastMs: s.atMs };
        map.set(key, c);
      }
      c.obs.locations.push(location(sim, s, floor, b));
      const best = s.readings[0]!;
      c.obs.latestRecord = { time: iso(s.atMs), nearestApMac: campus.sensors[best.sensor]!.mac, nearestApRssi: best.rssiDbm };
      c.lastMs = s.atMs;
    }
  }
  if (window.size > 0) yield* flush();
}
