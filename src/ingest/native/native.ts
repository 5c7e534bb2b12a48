/**
 * Validator and parser for Cairn's own batch format (`schema.ts`). A batch is all or nothing:
 * the first invalid observation refuses the whole request with its path, so a client fixes and
 * re-sends one batch (idempotent through `sourceRecordId`) instead of tracking partial accepts.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { malformed, type IngestReason } from '../errors.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import { asObject, collectFlags, copyPersonal, isoToMs, parseJsonBody } from '../read.ts';
import type { ParseOptions, RawObservation, RssiReading } from '../types.ts';
import { NATIVE_MAX_BATCH, NativeBatchSchema, type NativeBatch, type NativeObservation } from './schema.ts';

const S = 'native' as const;
const checker = TypeCompiler.Compile(NativeBatchSchema);

export interface NativeOptions extends Pick<ParseOptions, 'collect'> {
  /** Body cap, bytes. Default 2 MiB (1 000 observations of up to ~2 KB). */
  maxBodyBytes?: number;
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
  const flags = collectFlags(opts);
  return batch.observations.map((o, i) => convert(o, `observations[${i}]`, flags));
}
