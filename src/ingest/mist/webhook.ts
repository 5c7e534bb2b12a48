/**
 * Juniper Mist location webhooks: `{topic, events[]}` bodies for `location`, `location_client`,
 * `location_unclient`, `location_asset`, `location_sdk`, `zone`, `discovered-raw-rssi` and
 * `sdkclient_scan_data`, plus the `ping` test delivery. Field types follow Mist's OpenAPI
 * webhook schemas: `timestamp` epoch seconds (may be fractional), `x`/`y` metres on `map_id`,
 * MACs as 12 bare hex digits.
 */
import { malformed, reject } from '../errors.ts';
import { eddystoneUidId, iBeaconId } from '../ble.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import {
  INGEST_LIMITS,
  asObject,
  at,
  collectFlags,
  copyPersonal,
  eachRecord,
  normaliseBand,
  normaliseRssiDbm,
  optArray,
  optNumber,
  optString,
  parseJsonBody,
  reqNumber,
  reqString,
  secondsToMs,
  type CollectFlags,
  type Json,
} from '../read.ts';
import type { DeviceIdType, ObservationKind, ParseOptions, RawObservation, RssiReading, ZoneTransition } from '../types.ts';
import { MIST_SIGNATURE_HEADER, verifyMistSignature } from './signature.ts';

/** Topics this adapter understands. Others (e.g. `occupancy-alerts`) are refused as unsupported. */
export const MIST_TOPICS = [
  'location',
  'location_client',
  'location_unclient',
  'location_asset',
  'location_sdk',
  'zone',
  'discovered-raw-rssi',
  'sdkclient_scan_data',
  'ping',
] as const;
export type MistTopic = (typeof MIST_TOPICS)[number];

export interface MistOptions extends ParseOptions {
  /** Body size cap, bytes. Default `INGEST_LIMITS.maxBodyBytes`. */
  maxBodyBytes?: number;
  /** Most events per delivery. Default `INGEST_LIMITS.maxRecords`. */
  maxEvents?: number;
  /**
   * What BLE tags are to this tenant: `ble-asset` (equipment; the default, R-LOC-3) or
   * `ble-badge` (tags people wear, used for contact tracing).
   */
  bleKind?: 'ble-badge' | 'ble-asset';
}

/** What one delivery held. `ping` deliveries carry nothing and only need a 2xx. */
export interface MistWebhookResult {
  topic: MistTopic;
  ping: boolean;
  observations: RawObservation[];
  zoneTransitions: ZoneTransition[];
}

const S = 'mist' as const;

interface DeviceRef {
  deviceId: string;
  idType: DeviceIdType;
  randomized: boolean;
}

function macRef(ev: Json, key: string, path: string): DeviceRef {
  const raw = reqString(ev, key, S, path);
  const mac = parseMac(raw);
  if (mac === undefined) throw malformed(S, 'invalid_mac', `${at(path, key)} is not a MAC address.`, at(path, key));
  return { deviceId: mac, idType: 'mac', randomized: isLocallyAdministered(mac) };
}

/** A BLE tag: its beacon identity when it has a usable one, else its (often random) address. */
function bleRef(ev: Json, path: string): DeviceRef {
  const beacon =
    iBeaconId(optString(ev, 'ibeacon_uuid', S, path), optNumber(ev, 'ibeacon_major', S, path), optNumber(ev, 'ibeacon_minor', S, path)) ??
    eddystoneUidId(optString(ev, 'eddystone_uid_namespace', S, path), optString(ev, 'eddystone_uid_instance', S, path));
  if (beacon !== undefined) return { deviceId: beacon, idType: 'badge', randomized: false };
  return macRef(ev, 'mac', path);
}

function sdkRef(ev: Json, key: string, path: string): DeviceRef {
  return { deviceId: reqString(ev, key, S, path).toLowerCase(), idType: 'app', randomized: false };
}

/** The common place fields: time, map, site. */
function place(ev: Json, path: string, timeKey = 'timestamp'): { atMs: number; vendorFloorId?: string; vendorSiteId?: string } {
  const out: { atMs: number; vendorFloorId?: string; vendorSiteId?: string } = { atMs: secondsToMs(reqNumber(ev, timeKey, S, path), S, at(path, timeKey)) };
  const map = optString(ev, 'map_id', S, path);
  if (map) out.vendorFloorId = map;
  const site = optString(ev, 'site_id', S, path);
  if (site) out.vendorSiteId = site;
  return out;
}

function locationEvent(ev: Json, path: string, kind: ObservationKind, ref: DeviceRef, flags: CollectFlags): RawObservation {
  const obs: RawObservation = {
    source: S,
    kind,
    ...ref,
    ...place(ev, path),
    vendorX: reqNumber(ev, 'x', S, path),
    vendorY: reqNumber(ev, 'y', S, path),
  };
  // Mist's `name` is the client's own name (usually its hostname): personal, opt-in only.
  return flags.hostname ? copyPersonal(obs, flags, { hostname: optString(ev, 'name', S, path) }) : obs;
}

function unsupportedType(path: string): never {
  throw reject('CAIRN_ERR_INGEST_UNSUPPORTED', S, 'unsupported_type', `${path}.type is not a client type this adapter knows.`, { path: `${path}.type` });
}

/** The generic `location` topic: `type` says which kind of client the event is about. */
function genericLocation(ev: Json, path: string, bleKind: ObservationKind, flags: CollectFlags): RawObservation {
  const type = reqString(ev, 'type', S, path);
  switch (type) {
    case 'wifi':
      return locationEvent(ev, path, 'wifi-connected', macRef(ev, 'mac', path), flags);
    case 'asset':
      return locationEvent(ev, path, bleKind, bleRef(ev, path), flags);
    case 'sdk':
      return locationEvent(ev, path, 'sdk', sdkRef(ev, 'id', path), flags);
    default:
      return unsupportedType(path);
  }
}

function zoneEvent(ev: Json, path: string, bleKind: ObservationKind): ZoneTransition {
  const trigger = reqString(ev, 'trigger', S, path);
  if (trigger !== 'enter' && trigger !== 'exit') throw malformed(S, 'invalid_value', `${path}.trigger must be enter or exit.`, `${path}.trigger`);
  const type = reqString(ev, 'type', S, path);
  let kind: ObservationKind;
  let ref: DeviceRef;
  if (type === 'wifi') {
    kind = 'wifi-connected';
    ref = macRef(ev, 'mac', path);
  } else if (type === 'sdk') {
    kind = 'sdk';
    ref = sdkRef(ev, 'id', path);
  } else if (type === 'asset') {
    kind = bleKind;
    const assetId = optString(ev, 'asset_id', S, path);
    ref = assetId ? { deviceId: assetId.toLowerCase(), idType: 'asset', randomized: false } : macRef(ev, 'mac', path);
  } else {
    return unsupportedType(path);
  }
  return { source: S, kind, ...ref, trigger, vendorZoneId: reqString(ev, 'zone_id', S, path), ...place(ev, path) };
}

function rssiOf(ev: Json, key: string, path: string): number {
  const r = normaliseRssiDbm(reqNumber(ev, key, S, path));
  if (r === undefined) throw malformed(S, 'invalid_rssi', `${at(path, key)} is not a usable RSSI.`, at(path, key));
  return r;
}

/** One AP (`device_id`) hearing one BLE device: a single-sensor reading for the location engine. */
function rawRssiEvent(ev: Json, path: string, bleKind: ObservationKind): RawObservation {
  const ref = bleRef(ev, path);
  const sensorId = reqString(ev, 'device_id', S, path).toLowerCase();
  const rssiDbm = rssiOf(ev, 'rssi', path);
  return { source: S, kind: bleKind, ...ref, ...place(ev, path), sensorId, rssiDbm, readings: [{ sensorId, rssiDbm }] };
}

/** The SDK's own Wi-Fi scan: every AP the phone heard, with RSSI, and the AP it is connected to. */
function scanDataEvent(ev: Json, path: string): RawObservation {
  const ref = macRef(ev, 'mac', path);
  const obs: RawObservation = { source: S, kind: 'sdk', ...ref, ...place(ev, path, 'last_seen') };
  const ap = parseMac(optString(ev, 'connection_ap', S, path) ?? '');
  if (ap) {
    obs.apMac = ap;
    obs.sensorId = ap;
  }
  const connRssi = optNumber(ev, 'connection_rssi', S, path);
  const rssi = connRssi === undefined ? undefined : normaliseRssiDbm(connRssi);
  if (rssi !== undefined) obs.rssiDbm = rssi;
  const band = normaliseBand(ev['connection_band']);
  if (band) obs.band = band;
  const scan = optArray(ev, 'scan_data', S, path, INGEST_LIMITS.maxReadings);
  if (scan && scan.length > 0) {
    const readings: RssiReading[] = [];
    scan.forEach((item, i) => {
      const p = at(at(path, 'scan_data'), i);
      const s = asObject(item, S, p);
      const sensor = parseMac(reqString(s, 'ap', S, p));
      const r = normaliseRssiDbm(reqNumber(s, 'rssi', S, p));
      if (sensor === undefined || r === undefined) return;
      const reading: RssiReading = { sensorId: sensor, rssiDbm: r };
      const b = normaliseBand(s['band']);
      if (b) reading.band = b;
      readings.push(reading);
    });
    if (readings.length > 0) obs.readings = readings;
  }
  return obs;
}

/**
 * Turn one Mist webhook delivery (the raw body, signature already checked) into observations
 * and zone transitions. Bad events are skipped (see `ParseOptions`); a bad envelope, an
 * unknown topic or an oversized body is refused.
 *
 * @example parseMistWebhook(rawBody, { collect: [] }).observations[0] // { source: 'mist', kind: 'wifi-connected', deviceId: '56:84:da:e9:ac:8b', atMs: 1461220784000, vendorX: 13.5, … }
 */
export function parseMistWebhook(rawBody: string | Uint8Array, opts: MistOptions = {}): MistWebhookResult {
  const body = asObject(parseJsonBody(rawBody, S, opts.maxBodyBytes ?? INGEST_LIMITS.maxBodyBytes), S, '');
  const topicRaw = reqString(body, 'topic', S, '', 64);
  if (!(MIST_TOPICS as readonly string[]).includes(topicRaw)) {
    throw reject('CAIRN_ERR_INGEST_UNSUPPORTED', S, 'unsupported_topic', 'The webhook topic is not one Cairn ingests.', { path: 'topic' });
  }
  const topic = topicRaw as MistTopic;
  const result: MistWebhookResult = { topic, ping: topic === 'ping', observations: [], zoneTransitions: [] };
  const events = optArray(body, 'events', S, '', opts.maxEvents ?? INGEST_LIMITS.maxRecords);
  if (topic === 'ping') return result;
  if (events === undefined) throw malformed(S, 'missing_field', 'events is required.', 'events');
  const bleKind: ObservationKind = opts.bleKind ?? 'ble-asset';
  const flags = collectFlags(opts);
  if (topic === 'zone') {
    eachRecord(events, opts, result.zoneTransitions, (item, i, out) => {
      const p = at('events', i);
      out.push(zoneEvent(asObject(item, S, p), p, bleKind));
    });
    return result;
  }
  eachRecord(events, opts, result.observations, (item, i, out) => {
    const p = at('events', i);
    const ev = asObject(item, S, p);
    switch (topic) {
      case 'location':
        out.push(genericLocation(ev, p, bleKind, flags));
        break;
      case 'location_client':
        out.push(locationEvent(ev, p, 'wifi-connected', macRef(ev, 'mac', p), flags));
        break;
      case 'location_unclient':
        out.push(locationEvent(ev, p, 'wifi-unconnected', macRef(ev, 'mac', p), flags));
        break;
      case 'location_asset':
        out.push(locationEvent(ev, p, bleKind, bleRef(ev, p), flags));
        break;
      case 'location_sdk':
        out.push(locationEvent(ev, p, 'sdk', sdkRef(ev, 'id', p), flags));
        break;
      case 'discovered-raw-rssi':
        out.push(rawRssiEvent(ev, p, bleKind));
        break;
      case 'sdkclient_scan_data':
        out.push(scanDataEvent(ev, p));
        break;
    }
  });
  return result;
}

/**
 * Verify the signature, then parse: what a webhook route calls with the raw body and Node's
 * (lower-cased) request headers.
 *
 * @example receiveMistWebhook(req.rawBody, req.headers, { secret: tenantSecret, collect: ['ssid'] })
 */
export function receiveMistWebhook(
  rawBody: string | Uint8Array,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  opts: MistOptions & { secret: string },
): MistWebhookResult {
  let sig = headers[MIST_SIGNATURE_HEADER];
  if (sig === undefined) {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === MIST_SIGNATURE_HEADER) sig = headers[k];
  }
  verifyMistSignature(rawBody, sig, opts.secret);
  return parseMistWebhook(rawBody, opts);
}
