/**
 * Validator and parser for Cairn's own batch format (`schema.ts`). A batch is all or nothing:
 * the first invalid observation refuses the whole request with its path, so a client fixes and
 * re-sends one batch (idempotent through `sourceRecordId`) instead of tracking partial accepts.
 *
 * Two paths with one outcome. The hot path checks and converts each observation in one pass
 * over its own keys (no per-object key arrays, no path strings, readings already in normal form
 * kept as they are). It accepts only what the schema accepts; anything it does not accept, for
 * whatever reason, goes to the exact path (the TypeBox checker compiled from `schema.ts`, then
 * the converter), which finds the first problem and words the refusal. So a valid batch costs one
 * pass, and an invalid one gets the same error as it always did.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { malformed, type IngestReason } from '../errors.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import { MAX_TIME_MS, asObject, collectFlags, copyPersonal, isoToMs, parseJsonBody, type CollectFlags } from '../read.ts';
import type { Band, DeviceIdType, ObservationKind, ParseOptions, RawObservation, RssiReading } from '../types.ts';
import { NATIVE_MAX_BATCH, NativeBatchSchema, type NativeBatch, type NativeObservation } from './schema.ts';

const S = 'native' as const;
const checker = TypeCompiler.Compile(NativeBatchSchema);

export interface NativeOptions extends Pick<ParseOptions, 'collect'> {
  /** Body cap, bytes. Default 2 MiB (1 000 observations of up to ~2 KB). */
  maxBodyBytes?: number;
  /** Skip the hot path: check with the compiled schema only (tests hold both paths to one outcome). */
  exactOnly?: boolean;
}

/** `/observations/3/deviceId` → `observations[3].deviceId`. */
function jsonPath(pointer: string): string {
  let out = '';
  for (const part of pointer.split('/').slice(1)) {
    const seg = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

function reasonFor(t: ValueErrorType): IngestReason {
  switch (t) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing_field';
    case ValueErrorType.StringMaxLength:
      return 'string_too_long';
    case ValueErrorType.ArrayMaxItems:
      return 'too_many_items';
    case ValueErrorType.String:
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
    case ValueErrorType.Object:
    case ValueErrorType.Array:
      return 'wrong_type';
    default:
      return 'invalid_value';
  }
}

function mac(v: string, path: string): string {
  const m = parseMac(v);
  if (m === undefined) throw malformed(S, 'invalid_mac', `${path} is not a MAC address.`, path);
  return m;
}

function convert(o: NativeObservation, path: string, flags: ReturnType<typeof collectFlags>): RawObservation {
  const idType = o.idType ?? 'mac';
  const deviceId = idType === 'mac' ? mac(o.deviceId, `${path}.deviceId`) : o.deviceId;
  if ((o.at === undefined) === (o.atMs === undefined)) {
    throw malformed(S, o.at === undefined ? 'missing_field' : 'invalid_value', `${path} needs exactly one of at and atMs.`, `${path}.at`);
  }
  const atMs = o.at !== undefined ? isoToMs(o.at, S, `${path}.at`) : o.atMs!;
  const obs: RawObservation = { source: S, kind: o.kind, deviceId, idType, randomized: idType === 'mac' && isLocallyAdministered(deviceId), atMs };
  if (o.sensorId !== undefined) obs.sensorId = parseMac(o.sensorId) ?? o.sensorId;
  if (o.apMac !== undefined) obs.apMac = mac(o.apMac, `${path}.apMac`);
  if (o.rssiDbm !== undefined) obs.rssiDbm = o.rssiDbm;
  if (o.band !== undefined) obs.band = o.band;
  if (o.readings !== undefined && o.readings.length > 0) {
    obs.readings = o.readings.map((r): RssiReading => {
      const reading: RssiReading = { sensorId: parseMac(r.sensorId) ?? r.sensorId, rssiDbm: r.rssiDbm };
      if (r.band !== undefined) reading.band = r.band;
      return reading;
    });
  }
  if ((o.x === undefined) !== (o.y === undefined)) throw malformed(S, 'invalid_value', `${path} needs both x and y, or neither.`, `${path}.x`);
  if (o.x !== undefined && o.y !== undefined) {
    obs.vendorX = o.x;
    obs.vendorY = o.y;
  }
  if ((o.lat === undefined) !== (o.lng === undefined)) throw malformed(S, 'invalid_value', `${path} needs both lat and lng, or neither.`, `${path}.lat`);
  if (o.lat !== undefined && o.lng !== undefined) {
    obs.lat = o.lat;
    obs.lng = o.lng;
  }
  if (o.floorId !== undefined) obs.vendorFloorId = o.floorId;
  if (o.siteId !== undefined) obs.vendorSiteId = o.siteId;
  if (o.accuracyM !== undefined) obs.vendorAccuracyM = o.accuracyM;
  if (o.sourceRecordId !== undefined) obs.sourceRecordId = o.sourceRecordId;
  return copyPersonal(obs, flags, { ip: o.ip, username: o.username, hostname: o.hostname, ssid: o.ssid, manufacturer: o.manufacturer, os: o.os });
}

/**
 * Validate a batch (raw body, or a body the HTTP layer already parsed) against
 * `NativeBatchSchema` and convert it. Refuses the whole batch on the first problem with
 * `CAIRN_ERR_INGEST_MALFORMED`, a reason and the JSON path (never the value).
 *
 * @example parseNativeBatch('{"observations":[{"kind":"wifi-connected","deviceId":"AA-BB-CC-DD-EE-FF","at":"2024-03-01T09:15:30Z","rssiDbm":-60}]}')
 */
export function parseNativeBatch(input: string | Uint8Array | object, opts: NativeOptions = {}): RawObservation[] {
  const parsed = typeof input === 'string' || input instanceof Uint8Array ? parseJsonBody(input, S, opts.maxBodyBytes ?? 2_097_152) : input;
  const flags = collectFlags(opts);
  const fast = opts.exactOnly ? undefined : fastBatch(parsed, flags);
  if (fast !== undefined) return fast;
  const body = asObject(parsed, S, '');
  const list = body['observations'];
  // Count first: validating 10 000 items only to refuse the batch for its size is wasted work.
  if (Array.isArray(list) && list.length > NATIVE_MAX_BATCH) {
    throw malformed(S, 'too_many_items', `observations has more than ${NATIVE_MAX_BATCH} items.`, 'observations', NATIVE_MAX_BATCH);
  }
  if (!checker.Check(body)) {
    const e = checker.Errors(body).First();
    if (e?.type === ValueErrorType.ObjectAdditionalProperties) {
      // The unknown key is client input (it could be a MAC): name only the object it is in.
      const parent = jsonPath(e.path.slice(0, e.path.lastIndexOf('/'))) || 'The body';
      throw malformed(S, 'invalid_value', `${parent} has a field the format does not define.`, parent === 'The body' ? undefined : parent);
    }
    const path = e ? jsonPath(e.path) || 'observations' : 'observations';
    const reason = e ? reasonFor(e.type) : 'invalid_value';
    throw malformed(S, reason, `${path}: ${e ? e.message : 'invalid'}`, path);
  }
  const batch = body as NativeBatch;
  return batch.observations.map((o, i) => convert(o, `observations[${i}]`, flags));
}

/**
 * The hot path of {@link parseNativeBatch}: the observations when the whole batch is valid, else
 * undefined (the exact path then decides and words the refusal). It mirrors the compiled schema
 * check (same types, bounds, literals, required and unknown fields) and `convert`.
 */
function fastBatch(body: unknown, flags: CollectFlags): RawObservation[] | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  let list: unknown;
  let keys = 0;
  for (const k in body) {
    if (k !== 'observations') return undefined;
    list = (body as Record<string, unknown>)[k];
    keys++;
  }
  if (keys !== 1 || !Array.isArray(list) || list.length < 1 || list.length > NATIVE_MAX_BATCH) return undefined;
  const n = list.length;
  const out: RawObservation[] = new Array(n);
  const personal = flags.ip || flags.username || flags.hostname || flags.ssid || flags.manufacturer || flags.os;
  for (let i = 0; i < n; i++) {
    const o = fastObservation(list[i], flags, personal);
    if (o === undefined) return undefined;
    out[i] = o;
  }
  return out;
}

function isKind(v: unknown): v is ObservationKind {
  return v === 'wifi-connected' || v === 'wifi-unconnected' || v === 'ble-badge' || v === 'ble-asset' || v === 'sdk' || v === 'wired';
}
function isBand(v: unknown): v is Band {
  return v === '2.4' || v === '5' || v === '6';
}
/** A string of `min`…`max` UTF-16 units (the schema's minLength/maxLength). */
function str(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}
function rssi(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v < 0 && v >= -130;
}
function num(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
}

/** One observation checked and converted, or undefined when the exact path must look at it. */
function fastObservation(v: unknown, flags: CollectFlags, personal: boolean): RawObservation | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  let kind: ObservationKind | undefined;
  let deviceId: string | undefined;
  let idType: DeviceIdType = 'mac';
  let at: string | undefined;
  let atMs: number | undefined;
  let sensorId: string | undefined;
  let apMac: string | undefined;
  let rssiDbm: number | undefined;
  let band: Band | undefined;
  let readings: RssiReading[] | undefined;
  let x: number | undefined;
  let y: number | undefined;
  let lat: number | undefined;
  let lng: number | undefined;
  let floorId: string | undefined;
  let siteId: string | undefined;
  let accuracyM: number | undefined;
  let sourceRecordId: string | undefined;
  let hasPersonal = false;
  for (const k in o) {
    const f = o[k];
    switch (k) {
      case 'kind':
        if (!isKind(f)) return undefined;
        kind = f;
        continue;
      case 'deviceId':
        if (!str(f, 1, 128)) return undefined;
        deviceId = f;
        continue;
    }
    if (f === undefined) {
      // An optional field given as undefined is absent (objects handed in, never JSON).
      if (!OPTIONAL.has(k)) return undefined;
      continue;
    }
    switch (k) {
      case 'idType':
        if (f !== 'mac' && f !== 'badge' && f !== 'app' && f !== 'asset') return undefined;
        idType = f;
        break;
      case 'at':
        if (!str(f, 20, 35)) return undefined;
        at = f;
        break;
      case 'atMs':
        if (!Number.isInteger(f) || (f as number) < 0 || (f as number) > MAX_TIME_MS) return undefined;
        atMs = f as number;
        break;
      case 'sensorId':
        if (!str(f, 1, 128)) return undefined;
        sensorId = f;
        break;
      case 'apMac':
        if (!str(f, 0, 32)) return undefined;
        apMac = f;
        break;
      case 'rssiDbm':
        if (!rssi(f)) return undefined;
        rssiDbm = f;
        break;
      case 'band':
        if (!isBand(f)) return undefined;
        band = f;
        break;
      case 'readings':
        readings = fastReadings(f);
        if (readings === undefined) return undefined;
        break;
      case 'x':
        if (!num(f, -Infinity, Infinity)) return undefined;
        x = f;
        break;
      case 'y':
        if (!num(f, -Infinity, Infinity)) return undefined;
        y = f;
        break;
      case 'floorId':
        if (!str(f, 1, 128)) return undefined;
        floorId = f;
        break;
      case 'siteId':
        if (!str(f, 1, 128)) return undefined;
        siteId = f;
        break;
      case 'accuracyM':
        if (!num(f, 0, 10_000)) return undefined;
        accuracyM = f;
        break;
      case 'lat':
        if (!num(f, -90, 90)) return undefined;
        lat = f;
        break;
      case 'lng':
        if (!num(f, -180, 180)) return undefined;
        lng = f;
        break;
      case 'sourceRecordId':
        if (!str(f, 1, 128)) return undefined;
        sourceRecordId = f;
        break;
      case 'ip':
      case 'ssid':
        if (!str(f, 0, 64)) return undefined;
        hasPersonal = true;
        break;
      case 'username':
      case 'hostname':
        if (!str(f, 0, 256)) return undefined;
        hasPersonal = true;
        break;
      case 'manufacturer':
      case 'os':
        if (!str(f, 0, 128)) return undefined;
        hasPersonal = true;
        break;
      default:
        return undefined;
    }
  }
  if (kind === undefined || deviceId === undefined || (at === undefined) === (atMs === undefined)) return undefined;
  if (idType === 'mac') {
    const m = parseMac(deviceId);
    if (m === undefined) return undefined;
    deviceId = m;
  }
  if (at !== undefined) {
    try {
      atMs = isoToMs(at, S, 'at');
    } catch {
      return undefined;
    }
  }
  if ((x === undefined) !== (y === undefined) || (lat === undefined) !== (lng === undefined)) return undefined;
  const obs: RawObservation = { source: S, kind, deviceId, idType, randomized: idType === 'mac' && isLocallyAdministered(deviceId), atMs: atMs! };
  if (sensorId !== undefined) obs.sensorId = parseMac(sensorId) ?? sensorId;
  if (apMac !== undefined) {
    const m = parseMac(apMac);
    if (m === undefined) return undefined;
    obs.apMac = m;
  }
  if (rssiDbm !== undefined) obs.rssiDbm = rssiDbm;
  if (band !== undefined) obs.band = band;
  if (readings !== undefined && readings.length > 0) obs.readings = readings;
  if (x !== undefined && y !== undefined) {
    obs.vendorX = x;
    obs.vendorY = y;
  }
  if (lat !== undefined && lng !== undefined) {
    obs.lat = lat;
    obs.lng = lng;
  }
  if (floorId !== undefined) obs.vendorFloorId = floorId;
  if (siteId !== undefined) obs.vendorSiteId = siteId;
  if (accuracyM !== undefined) obs.vendorAccuracyM = accuracyM;
  if (sourceRecordId !== undefined) obs.sourceRecordId = sourceRecordId;
  // R-PRIV-1: personal fields are read only when the org collects one of them.
  if (personal && hasPersonal) copyPersonal(obs, flags, { ip: o['ip'] as string | undefined, username: o['username'] as string | undefined, hostname: o['hostname'] as string | undefined, ssid: o['ssid'] as string | undefined, manufacturer: o['manufacturer'] as string | undefined, os: o['os'] as string | undefined });
  return obs;
}

/** Optional observation fields (an undefined value counts as absent). */
const OPTIONAL: ReadonlySet<string> = new Set(['idType', 'at', 'atMs', 'sensorId', 'apMac', 'rssiDbm', 'band', 'readings', 'x', 'y', 'floorId', 'siteId', 'accuracyM', 'lat', 'lng', 'sourceRecordId', 'ip', 'username', 'hostname', 'ssid', 'manufacturer', 'os']);

/**
 * Readings checked; the input array itself when every reading is already in normal form (exactly
 * `sensorId` and `rssiDbm`, plus a band, the sensor id not a MAC to respell), else normalised copies.
 */
function fastReadings(v: unknown): RssiReading[] | undefined {
  if (!Array.isArray(v) || v.length > 64) return undefined;
  let copy: RssiReading[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const r: unknown = v[i];
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return undefined;
    let sensorId: unknown;
    let rssiDbm: unknown;
    let band: unknown;
    let keys = 0;
    for (const k in r) {
      const f = (r as Record<string, unknown>)[k];
      if (k === 'sensorId') sensorId = f;
      else if (k === 'rssiDbm') rssiDbm = f;
      else if (k === 'band') band = f;
      else return undefined;
      keys++;
    }
    if (!str(sensorId, 1, 128) || !rssi(rssiDbm) || (band !== undefined && !isBand(band))) return undefined;
    const mac = parseMac(sensorId);
    if (copy === undefined && ((mac !== undefined && mac !== sensorId) || keys !== (band === undefined ? 2 : 3))) copy = (v as RssiReading[]).slice(0, i);
    if (copy !== undefined) {
      const reading: RssiReading = { sensorId: mac ?? sensorId, rssiDbm };
      if (band !== undefined) reading.band = band;
      copy.push(reading);
    }
  }
  return copy ?? (v as RssiReading[]);
}
