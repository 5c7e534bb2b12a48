/**
 * Cisco Meraki Scanning (Location) API v3. Meraki first GETs the receiver URL and expects the
 * network's validator string back as plain text; then it POSTs `{version, secret, type, data:
 * {networkId, observations[]}}` where each observation is one client (`clientMac`) with a recent
 * history of `locations[]` (x/y metres and/or lat/lng, `variance`, `floorPlanId`, per-AP
 * `rssiRecords`) or, when it is no longer located, only a `latestRecord`. `type` is `WiFi` or
 * `BLE` (also seen as `Bluetooth`). The shared secret travels in the body and is compared in
 * constant time. Numbers may arrive as strings, and RSSI with either sign.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { malformed, reject } from '../errors.ts';
import { iBeaconId } from '../ble.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import {
  INGEST_LIMITS,
  asObject,
  at,
  checkTimeMs,
  collectFlags,
  copyPersonal,
  eachRecord,
  isoToMs,
  normaliseRssiDbm,
  optArray,
  optNumber,
  optObject,
  optString,
  parseJsonBody,
  reqString,
  type CollectFlags,
  type Json,
} from '../read.ts';
import type { ObservationKind, ParseOptions, RawObservation, RssiReading } from '../types.ts';

export interface MerakiOptions extends ParseOptions {
  /** The shared secret set for this receiver in the Meraki dashboard. */
  secret: string;
  maxBodyBytes?: number;
  /** Most clients per POST. Default `INGEST_LIMITS.maxRecords`. */
  maxObservations?: number;
  /** What BLE clients are to this tenant; default `ble-asset` (R-LOC-3). */
  bleKind?: 'ble-badge' | 'ble-asset';
}

const S = 'meraki' as const;
const MAX_LOCATIONS = 100;

/**
 * The answer to Meraki's validation GET: status 200 and the validator string as `text/plain`.
 *
 * @example const r = merakiValidatorResponse(tenant.merakiValidator); reply.code(r.status).type(r.contentType).send(r.body)
 */
export function merakiValidatorResponse(validator: string): { status: 200; contentType: 'text/plain'; body: string } {
  return { status: 200, contentType: 'text/plain', body: validator };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparison of the body's secret with the configured one (lengths leak nothing). */
function checkSecret(got: unknown, want: string): void {
  if (typeof got !== 'string' || got.length === 0 || got.length > 1024 || !timingSafeEqual(digest(got), digest(want))) {
    throw reject('CAIRN_ERR_SIGNATURE', S, 'bad_secret', 'The shared secret in the body does not match this receiver.');
  }
}

/** Meraki `time`: ISO 8601 in v3; epoch seconds or ms tolerated. */
function timeOf(o: Json, key: string, path: string): number {
  const v = o[key];
  if (typeof v === 'number') return checkTimeMs(v > 1e11 ? v : v * 1000, S, at(path, key));
  return isoToMs(reqString(o, key, S, path, 40), S, at(path, key));
}

/**
 * The iBeacon identity in raw advertising data: Apple's manufacturer-specific AD
 * (`ff 4c 00 02 15`) followed by a 16-byte UUID, major and minor.
 */
function iBeaconFromRaw(hex: string): string | undefined {
  const h = hex.toLowerCase();
  const i = h.indexOf('ff4c000215');
  if (i < 0 || h.length < i + 10 + 40) return undefined;
  const body = h.slice(i + 10, i + 50);
  return iBeaconId(body.slice(0, 32), Number.parseInt(body.slice(32, 36), 16), Number.parseInt(body.slice(36, 40), 16));
}

function bleIdentity(ob: Json, path: string): string | undefined {
  const beacons = optArray(ob, 'bleBeacons', S, path, 16);
  if (!beacons) return undefined;
  for (let i = 0; i < beacons.length; i++) {
    const p = at(at(path, 'bleBeacons'), i);
    const b = asObject(beacons[i], S, p);
    const id =
      iBeaconId(optString(b, 'uuid', S, p), optNumber(b, 'major', S, p, true), optNumber(b, 'minor', S, p, true)) ??
      iBeaconFromRaw(optString(b, 'rawData', S, p, 512) ?? '');
    if (id !== undefined) return id;
  }
  return undefined;
}

function readings(loc: Json, path: string): RssiReading[] {
  const recs = optArray(loc, 'rssiRecords', S, path, INGEST_LIMITS.maxReadings) ?? [];
  const out: RssiReading[] = [];
  for (let i = 0; i < recs.length; i++) {
    const p = at(at(path, 'rssiRecords'), i);
    const r = asObject(recs[i], S, p);
    const ap = parseMac(reqString(r, 'apMac', S, p));
    const rssi = optNumber(r, 'rssi', S, p, true);
    const dbm = rssi === undefined ? undefined : normaliseRssiDbm(rssi);
    if (ap !== undefined && dbm !== undefined) out.push({ sensorId: ap, rssiDbm: dbm });
  }
  return out;
}

function inRange(v: number | undefined, lim: number): number | undefined {
  return v !== undefined && Math.abs(v) <= lim ? v : undefined;
}

function fromLocation(base: RawObservation, loc: Json, path: string): RawObservation {
  const obs: RawObservation = { ...base, atMs: timeOf(loc, 'time', path) };
  const x = optNumber(loc, 'x', S, path, true);
  const y = optNumber(loc, 'y', S, path, true);
  if (x !== undefined && y !== undefined) {
    obs.vendorX = x;
    obs.vendorY = y;
  }
  const lat = inRange(optNumber(loc, 'lat', S, path, true), 90);
  const lng = inRange(optNumber(loc, 'lng', S, path, true), 180);
  if (lat !== undefined && lng !== undefined) {
    obs.lat = lat;
    obs.lng = lng;
  }
  // Meraki calls the position uncertainty "variance" and describes it in metres.
  const variance = optNumber(loc, 'variance', S, path, true);
  if (variance !== undefined && variance >= 0) obs.vendorAccuracyM = variance;
  const floor = optString(loc, 'floorPlanId', S, path);
  if (floor) obs.vendorFloorId = floor;
  const rs = readings(loc, path);
  if (rs.length > 0) {
    obs.readings = rs;
    const best = rs.reduce((a, b) => (b.rssiDbm > a.rssiDbm ? b : a));
    obs.sensorId = best.sensorId;
    obs.apMac = best.sensorId;
    obs.rssiDbm = best.rssiDbm;
  }
  return obs;
}

function fromLatest(base: RawObservation, rec: Json, path: string): RawObservation {
  const obs: RawObservation = { ...base, atMs: timeOf(rec, 'time', path) };
  const ap = parseMac(optString(rec, 'nearestApMac', S, path) ?? '');
  if (ap) {
    obs.apMac = ap;
    obs.sensorId = ap;
  }
  const rssi = optNumber(rec, 'nearestApRssi', S, path, true);
  const dbm = rssi === undefined ? undefined : normaliseRssiDbm(rssi);
  if (dbm !== undefined) obs.rssiDbm = dbm;
  return obs;
}

function clientObservations(ob: Json, path: string, isBle: boolean, bleKind: ObservationKind, networkId: string | undefined, flags: CollectFlags, out: RawObservation[]): void {
  const macRaw = reqString(ob, 'clientMac', S, path);
  const mac = parseMac(macRaw);
  if (mac === undefined) throw malformed(S, 'invalid_mac', `${path}.clientMac is not a MAC address.`, `${path}.clientMac`);
  const ipv4 = optString(ob, 'ipv4', S, path, 64);
  const ssid = optString(ob, 'ssid', S, path);
  const beacon = isBle ? bleIdentity(ob, path) : undefined;
  const base: RawObservation = {
    source: S,
    kind: isBle ? bleKind : ipv4 || ssid ? 'wifi-connected' : 'wifi-unconnected',
    deviceId: beacon ?? mac,
    idType: beacon ? 'badge' : 'mac',
    randomized: beacon ? false : isLocallyAdministered(mac),
    atMs: 0,
  };
  if (networkId) base.vendorSiteId = networkId;
  copyPersonal(base, flags, {
    // v2 wrote "/192.0.2.25"; v3 sends the bare address.
    ip: ipv4?.startsWith('/') ? ipv4.slice(1) : ipv4 ?? optString(ob, 'ipv6', S, path, 64),
    ssid,
    os: optString(ob, 'os', S, path),
    manufacturer: optString(ob, 'manufacturer', S, path),
    username: optString(ob, 'userId', S, path),
  });
  const locs = optArray(ob, 'locations', S, path, MAX_LOCATIONS) ?? [];
  for (let i = 0; i < locs.length; i++) {
    const p = at(at(path, 'locations'), i);
    out.push(fromLocation(base, asObject(locs[i], S, p), p));
  }
  if (locs.length === 0) {
    const latest = optObject(ob, 'latestRecord', S, path);
    if (!latest) throw malformed(S, 'missing_field', `${path} has neither locations nor latestRecord.`, `${path}.latestRecord`);
    out.push(fromLatest(base, latest, `${path}.latestRecord`));
  }
}

/**
 * Check the shared secret and version of a Scanning API v3 POST, then turn each client's
 * location fixes (or, without fixes, its latest record) into observations. A client with
 * several fixes yields one observation per fix, oldest first as sent.
 *
 * @example parseMerakiScanning(rawBody, { secret: 'supersecret-test' }).length // 3 for the constructed WiFi sample
 */
export function parseMerakiScanning(rawBody: string | Uint8Array, opts: MerakiOptions): RawObservation[] {
  if (typeof opts.secret !== 'string' || opts.secret.length === 0) {
    throw new CairnError('CAIRN_ERR_CONFIG', 'No Meraki shared secret is configured for this receiver.');
  }
  const body = asObject(parseJsonBody(rawBody, S, opts.maxBodyBytes ?? INGEST_LIMITS.maxBodyBytes), S, '');
  checkSecret(body['secret'], opts.secret);
  const version = body['version'];
  if (version !== '3.0' && version !== 3 && version !== '3') {
    throw reject('CAIRN_ERR_INGEST_UNSUPPORTED', S, 'unsupported_version', 'Only Scanning API version 3 is supported.', { path: 'version' });
  }
  const type = reqString(body, 'type', S, '', 32);
  const isBle = type === 'BLE' || type === 'Bluetooth';
  if (!isBle && type !== 'WiFi') {
    throw reject('CAIRN_ERR_INGEST_UNSUPPORTED', S, 'unsupported_type', 'The scanning type is neither WiFi nor BLE.', { path: 'type' });
  }
  const data = optObject(body, 'data', S, '');
  if (!data) throw malformed(S, 'missing_field', 'data is required.', 'data');
  const networkId = optString(data, 'networkId', S, 'data');
  const list = optArray(data, 'observations', S, 'data', opts.maxObservations ?? INGEST_LIMITS.maxRecords);
  if (!list) throw malformed(S, 'missing_field', 'data.observations is required.', 'data.observations');
  const flags = collectFlags(opts);
  const bleKind: ObservationKind = opts.bleKind ?? 'ble-asset';
  return eachRecord(list, opts, [] as RawObservation[], (item, i, out) => {
    const p = at('data.observations', i);
    clientObservations(asObject(item, S, p), p, isBle, bleKind, networkId, flags, out);
  });
}
