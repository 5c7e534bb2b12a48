/**
 * Cisco Spaces firehose records. The firehose is NDJSON: one `EventRecord` per line, with the
 * envelope `recordUid` (unique, for de-duplication), `recordTimestamp` (epoch ms, the resume
 * point), `spacesTenantId`, `eventType`, and the payload under the camel-case name of the event
 * (`deviceLocationUpdate`). This module parses one line; `consumer.ts` streams them.
 *
 * Handled: `DEVICE_LOCATION_UPDATE` (one observation), `DEVICE_COUNT` and `CAMERA_COUNT`
 * (area counts), `KEEP_ALIVE`. Every other event type is returned as a record with nothing in
 * it, so the consumer still advances its resume point past it.
 */
import { malformed } from '../errors.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import {
  INGEST_LIMITS,
  asObject,
  checkTimeMs,
  collectFlags,
  copyPersonal,
  optArray,
  optNumber,
  optObject,
  optString,
  normaliseRssiDbm,
  reqNumber,
  reqString,
  type Json,
} from '../read.ts';
import type { ParseOptions, RawObservation } from '../types.ts';

const S = 'spaces' as const;
const FEET_TO_M = 0.3048;

export interface SpacesOptions extends ParseOptions {
  /**
   * Unit of `xPos`/`yPos` (and `unc`) on this tenant's maps. The records do not say; Cisco's
   * CMX-derived maps use feet, hence the default `ft`. Observations always carry metres.
   */
  coordinateUnit?: 'ft' | 'm';
  /** Longest line accepted, bytes. Default `INGEST_LIMITS.maxLineBytes`. */
  maxLineBytes?: number;
}

/** An area count from a count event: metric name → value, for one vendor location. */
export interface SpacesCount {
  source: 'spaces';
  eventType: string;
  vendorLocationId: string;
  atMs: number;
  /** Non-negative numeric fields of the event payload, by their vendor names (e.g. `associatedCount`). */
  counts: Record<string, number>;
}

/** One firehose line, parsed. */
export interface SpacesRecord {
  /** Unique per event: the de-duplication key and `sourceRecordId` of its observation. */
  recordUid: string;
  /** When Spaces generated the event, epoch ms: what `fromTimestamp` resumes from. */
  recordTimestamp: number;
  eventType: string;
  tenantId?: string;
  keepAlive: boolean;
  observations: RawObservation[];
  counts: SpacesCount[];
}

/** Event types whose payload is an area count. */
export const SPACES_COUNT_EVENTS: readonly string[] = ['DEVICE_COUNT', 'CAMERA_COUNT'];

function camel(eventType: string): string {
  return eventType.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function isEventType(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || c === 95 || (c >= 48 && c <= 57))) return false;
  }
  return s.length > 0;
}

/** The FLOOR location and its BUILDING ancestor, walking at most 8 parents. */
function floorAndBuilding(loc: Json | undefined): { floor?: string; building?: string } {
  const out: { floor?: string; building?: string } = {};
  let cur = loc;
  for (let depth = 0; cur && depth < 8; depth++) {
    const id = typeof cur['locationId'] === 'string' ? (cur['locationId'] as string) : undefined;
    const types = Array.isArray(cur['inferredLocationTypes']) ? (cur['inferredLocationTypes'] as unknown[]) : [];
    if (id && id.length <= INGEST_LIMITS.maxStringLength) {
      if (!out.floor && types.includes('FLOOR')) out.floor = id;
      if (!out.building && types.includes('BUILDING')) out.building = id;
    }
    const parent = cur['parent'];
    cur = parent !== null && typeof parent === 'object' && !Array.isArray(parent) ? (parent as Json) : undefined;
  }
  return out;
}

function locationUpdate(rec: SpacesRecord, p: Json, opts: SpacesOptions): RawObservation {
  const path = 'deviceLocationUpdate';
  const device = optObject(p, 'device', S, path);
  if (!device) throw malformed(S, 'missing_field', `${path}.device is required.`, `${path}.device`);
  const mac = parseMac(reqString(device, 'macAddress', S, `${path}.device`));
  if (mac === undefined) throw malformed(S, 'invalid_mac', `${path}.device.macAddress is not a MAC address.`, `${path}.device.macAddress`);
  const ssid = optString(p, 'ssid', S, path);
  const ipv4 = optString(p, 'ipv4', S, path, 64);
  const lastSeen = optNumber(p, 'lastSeen', S, path);
  const obs: RawObservation = {
    source: S,
    // Location updates are computed for devices on the network; an empty SSID and IP mean probing only.
    kind: ssid || ipv4 ? 'wifi-connected' : 'wifi-unconnected',
    deviceId: mac,
    idType: 'mac',
    randomized: isLocallyAdministered(mac),
    atMs: lastSeen !== undefined && lastSeen > 0 ? checkTimeMs(lastSeen, S, `${path}.lastSeen`) : rec.recordTimestamp,
    sourceRecordId: rec.recordUid,
  };
  const scale = (opts.coordinateUnit ?? 'ft') === 'ft' ? FEET_TO_M : 1;
  const x = optNumber(p, 'xPos', S, path);
  const y = optNumber(p, 'yPos', S, path);
  if (x !== undefined && y !== undefined) {
    obs.vendorX = x * scale;
    obs.vendorY = y * scale;
  }
  const unc = optNumber(p, 'unc', S, path);
  if (unc !== undefined && unc > 0) obs.vendorAccuracyM = unc * scale;
  const lat = optNumber(p, 'latitude', S, path);
  const lng = optNumber(p, 'longitude', S, path);
  // -999 means "not geo-aligned".
  if (lat !== undefined && lng !== undefined && Math.abs(lat) <= 90 && Math.abs(lng) <= 180) {
    obs.lat = lat;
    obs.lng = lng;
  }
  const mapId = optString(p, 'mapId', S, path);
  const { floor, building } = floorAndBuilding(optObject(p, 'location', S, path));
  if (mapId || floor) obs.vendorFloorId = (mapId || floor)!;
  if (building) obs.vendorSiteId = building;
  const rssi = optNumber(p, 'maxDetectedRssi', S, path);
  const dbm = rssi === undefined ? undefined : normaliseRssiDbm(rssi);
  if (dbm !== undefined) obs.rssiDbm = dbm;
  const flags = collectFlags(opts);
  const ipv6 = flags.ip && !ipv4 ? optArray(p, 'ipv6', S, path, 16)?.find((v): v is string => typeof v === 'string' && v.length <= 64) : undefined;
  return copyPersonal(obs, flags, {
    ip: ipv4 || ipv6,
    ssid,
    os: optString(device, 'os', S, `${path}.device`),
    manufacturer: optString(device, 'manufacturer', S, `${path}.device`),
    username: optString(p, 'rawUserId', S, path) || optString(device, 'userId', S, `${path}.device`),
  });
}

function countEvent(rec: SpacesRecord, env: Json): SpacesCount | undefined {
  const key = camel(rec.eventType);
  const p = optObject(env, key, S, '') ?? optObject(env, `${key}s`, S, '');
  if (!p) throw malformed(S, 'missing_field', `${key} is required for ${rec.eventType}.`, key);
  const loc = optObject(p, 'location', S, key);
  const id = (loc && optString(loc, 'locationId', S, `${key}.location`)) || optString(p, 'locationId', S, key);
  if (!id) throw malformed(S, 'missing_field', `${key}.location.locationId is required.`, `${key}.location.locationId`);
  const counts: Record<string, number> = {};
  let n = 0;
  for (const k of Object.keys(p)) {
    const v = p[k];
    // Only plain metric names: keeps `__proto__` and friends out of the object.
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(k)) continue;
    counts[k] = v;
    if (++n >= 32) break;
  }
  return { source: S, eventType: rec.eventType, vendorLocationId: id, atMs: rec.recordTimestamp, counts };
}

/**
 * Parse one firehose line. Refuses lines that are not an `EventRecord` (no `recordUid`,
 * `recordTimestamp` or `eventType`), oversized lines and malformed payloads of the handled types.
 *
 * @example parseSpacesLine(line).observations[0] // { source: 'spaces', deviceId: '00:39:a7:8f:4a:00', sourceRecordId: 'event-f3e19217', … }
 */
export function parseSpacesLine(line: string, opts: SpacesOptions = {}): SpacesRecord {
  const max = opts.maxLineBytes ?? INGEST_LIMITS.maxLineBytes;
  if (typeof line !== 'string') throw malformed(S, 'wrong_type', 'A firehose line must be a string.');
  if (line.length > max) throw malformed(S, 'line_too_long', `The line is longer than ${max} bytes.`, undefined, max);
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw malformed(S, 'bad_json', 'The line is not valid JSON.');
  }
  const env = asObject(doc, S, '');
  const eventType = reqString(env, 'eventType', S, '', 64);
  if (!isEventType(eventType)) throw malformed(S, 'invalid_value', 'eventType is not an event type name.', 'eventType');
  const rec: SpacesRecord = {
    recordUid: reqString(env, 'recordUid', S, '', 128),
    recordTimestamp: checkTimeMs(reqNumber(env, 'recordTimestamp', S, ''), S, 'recordTimestamp'),
    eventType,
    keepAlive: eventType === 'KEEP_ALIVE',
    observations: [],
    counts: [],
  };
  const tenant = optString(env, 'spacesTenantId', S, '');
  if (tenant) rec.tenantId = tenant;
  if (eventType === 'DEVICE_LOCATION_UPDATE') {
    const p = optObject(env, 'deviceLocationUpdate', S, '');
    if (!p) throw malformed(S, 'missing_field', 'deviceLocationUpdate is required.', 'deviceLocationUpdate');
    rec.observations.push(locationUpdate(rec, p, opts));
  } else if (SPACES_COUNT_EVENTS.includes(eventType)) {
    const c = countEvent(rec, env);
    if (c) rec.counts.push(c);
  }
  return rec;
}
