/**
 * Defensive readers shared by the JSON adapters: a size-capped body parser, typed field readers
 * that cap string lengths and array sizes and name the field path on refusal, the per-record
 * loop that skips or rejects bad records, and the normalisers every vendor needs (RSSI sign,
 * band, timestamps, the R-PRIV-1 field filter). Nothing here quotes an input value in an error.
 */
import { isCairnError } from '../kernel/errors.ts';
import { malformed } from './errors.ts';
import type { Band, IngestSource, ParseOptions, PersonalField } from './types.ts';

/** Caps applied unless an adapter is given others. Sizes in bytes, lengths in characters. */
export const INGEST_LIMITS = {
  /** Largest request body an adapter parses (1 MiB). */
  maxBodyBytes: 1_048_576,
  /** Most records (events, observations) in one payload. */
  maxRecords: 5_000,
  /** Longest identifier-like string (ids, names, MACs). */
  maxStringLength: 256,
  /** Most RSSI readings attached to one observation. */
  maxReadings: 64,
  /** Longest single line in line formats (NDJSON, syslog), bytes. */
  maxLineBytes: 65_536,
} as const;

/** Latest timestamp accepted (2100-01-01), epoch ms: anything later is a unit mistake. */
export const MAX_TIME_MS = 4_102_444_800_000;

export type Json = Record<string, unknown>;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Parse a JSON body after checking its size; refuse empty, oversized, non-UTF-8 or invalid JSON.
 *
 * @example parseJsonBody(req.rawBody, 'mist', INGEST_LIMITS.maxBodyBytes)
 */
export function parseJsonBody(raw: string | Uint8Array, source: IngestSource, maxBytes: number = INGEST_LIMITS.maxBodyBytes): unknown {
  let text: string;
  if (typeof raw === 'string') {
    // Each UTF-16 unit is at most 3 UTF-8 bytes; only measure exactly when it could matter.
    if (raw.length > maxBytes || (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes)) {
      throw malformed(source, 'body_too_large', `The body is larger than ${maxBytes} bytes.`, undefined, maxBytes);
    }
    text = raw;
  } else if (raw instanceof Uint8Array) {
    if (raw.byteLength > maxBytes) throw malformed(source, 'body_too_large', `The body is larger than ${maxBytes} bytes.`, undefined, maxBytes);
    try {
      text = decoder.decode(raw);
    } catch {
      throw malformed(source, 'bad_json', 'The body is not valid UTF-8.');
    }
  } else {
    throw malformed(source, 'wrong_type', 'The body must be a string or bytes.');
  }
  if (text.trim().length === 0) throw malformed(source, 'empty_body', 'The body is empty.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(source, 'bad_json', 'The body is not valid JSON.');
  }
}

/** Join a path and a key or index, for error messages only. @example at(at('events', 3), 'mac') === 'events[3].mac' */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The value as a plain object, or a refusal naming `path`. @example const ev = asObject(events[i], 'mist', 'events[3]') */
export function asObject(v: unknown, source: IngestSource, path: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw malformed(source, 'not_object', `${path || 'The body'} must be a JSON object.`, path || undefined);
  }
  return v as Json;
}

/**
 * An optional string field: `undefined` when absent or null; refused when not a string or longer
 * than `maxLen` characters.
 *
 * @example optString(ev, 'map_id', 'mist', 'events[0]') // '845a…' or undefined
 */
export function optString(o: Json, key: string, source: IngestSource, path: string, maxLen: number = INGEST_LIMITS.maxStringLength): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw malformed(source, 'wrong_type', `${at(path, key)} must be a string.`, at(path, key));
  if (v.length > maxLen) throw malformed(source, 'string_too_long', `${at(path, key)} is longer than ${maxLen} characters.`, at(path, key), maxLen);
  return v;
}

/** A required string field (empty strings refused too). @example reqString(body, 'topic', 'mist', '', 64) */
export function reqString(o: Json, key: string, source: IngestSource, path: string, maxLen: number = INGEST_LIMITS.maxStringLength): string {
  const v = optString(o, key, source, path, maxLen);
  if (v === undefined || v.length === 0) throw malformed(source, 'missing_field', `${at(path, key)} is required.`, at(path, key));
  return v;
}

/**
 * An optional finite number; with `lenient`, a numeric string is accepted too (Meraki sends
 * some numbers as strings). `undefined` when absent, null or an empty string.
 *
 * @example optNumber(loc, 'x', 'meraki', 'locations[0]', true) // 12.4 for 12.4 or "12.4"
 */
export function optNumber(o: Json, key: string, source: IngestSource, path: string, lenient = false): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw malformed(source, 'invalid_number', `${at(path, key)} must be a finite number.`, at(path, key));
    return v;
  }
  if (lenient && typeof v === 'string') {
    if (v.length === 0) return undefined;
    if (v.length > 32) throw malformed(source, 'string_too_long', `${at(path, key)} is longer than 32 characters.`, at(path, key), 32);
    const n = Number(v);
    if (!Number.isFinite(n) || v.trim().length === 0) throw malformed(source, 'invalid_number', `${at(path, key)} must be a number.`, at(path, key));
    return n;
  }
  throw malformed(source, 'wrong_type', `${at(path, key)} must be a number.`, at(path, key));
}

/** A required finite number. @example reqNumber(ev, 'timestamp', 'mist', 'events[0]') */
export function reqNumber(o: Json, key: string, source: IngestSource, path: string, lenient = false): number {
  const v = optNumber(o, key, source, path, lenient);
  if (v === undefined) throw malformed(source, 'missing_field', `${at(path, key)} is required.`, at(path, key));
  return v;
}

/** An optional array, refused when longer than `maxItems`. @example optArray(body, 'events', 'mist', '', 5000) */
export function optArray(o: Json, key: string, source: IngestSource, path: string, maxItems: number): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw malformed(source, 'wrong_type', `${at(path, key)} must be an array.`, at(path, key));
  if (v.length > maxItems) throw malformed(source, 'too_many_items', `${at(path, key)} has more than ${maxItems} items.`, at(path, key), maxItems);
  return v;
}

/** An optional nested object. @example optObject(body, 'data', 'meraki', '') */
export function optObject(o: Json, key: string, source: IngestSource, path: string): Json | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  return asObject(v, source, at(path, key));
}

/**
 * Run `fn` over each record of a batch, collecting its output. A record that `fn` refuses with
 * `CAIRN_ERR_INGEST_UNSUPPORTED` is skipped; one refused as malformed is skipped too, unless
 * `opts.strict`, in which case the refusal propagates. Skips are reported to `opts.onSkip`, and a
 * skipped record's partial output is removed. Other errors (bugs) always propagate.
 *
 * @example eachRecord(events, opts, [] as RawObservation[], (ev, i, out) => out.push(toObservation(ev, i)))
 */
export function eachRecord<T>(items: readonly unknown[], opts: ParseOptions, out: T[], fn: (item: unknown, index: number, out: T[]) => void): T[] {
  for (let i = 0; i < items.length; i++) {
    const mark = out.length;
    try {
      fn(items[i], i, out);
    } catch (e) {
      if (!isCairnError(e)) throw e;
      if (opts.strict && e.code !== 'CAIRN_ERR_INGEST_UNSUPPORTED') throw e;
      out.length = mark;
      const reason = typeof e.details?.['reason'] === 'string' ? (e.details['reason'] as string) : 'invalid_value';
      opts.onSkip?.(reason, i);
    }
  }
  return out;
}

/** Which personal fields to copy, as flags (R-PRIV-1: what is not enabled is never copied). */
export type CollectFlags = Readonly<Record<PersonalField, boolean>>;

const NOTHING: CollectFlags = Object.freeze({ ip: false, username: false, hostname: false, ssid: false, manufacturer: false, os: false });

/** Flags from the tenant's `collect` list; default collects nothing. @example collectFlags({ collect: ['ssid'] }).ssid === true */
export function collectFlags(opts: ParseOptions | undefined): CollectFlags {
  const c = opts?.collect;
  if (!c || c.length === 0) return NOTHING;
  return {
    ip: c.includes('ip'),
    username: c.includes('username'),
    hostname: c.includes('hostname'),
    ssid: c.includes('ssid'),
    manufacturer: c.includes('manufacturer'),
    os: c.includes('os'),
  };
}

/**
 * Copy the enabled personal fields onto `target`, skipping empty values.
 *
 * @example copyPersonal(obs, flags, { ip: ev.ipv4, ssid: ev.ssid })
 */
export function copyPersonal<T extends Partial<Record<PersonalField, string>>>(target: T, flags: CollectFlags, values: Partial<Record<PersonalField, string | undefined>>): T {
  for (const k of Object.keys(values) as PersonalField[]) {
    const v = values[k];
    if (flags[k] && v !== undefined && v.length > 0) (target as Record<string, unknown>)[k] = v;
  }
  return target;
}

/**
 * RSSI in negative dBm, whatever sign convention the vendor used: a positive value is read as the
 * magnitude of a negative dBm (some APs report `67` for -67 dBm). Zero and values beyond -130 dBm
 * are "not heard" sentinels and give `undefined`.
 *
 * @example normaliseRssiDbm(67) === -67; normaliseRssiDbm(-200) === undefined
 */
export function normaliseRssiDbm(v: number): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v === 0) return undefined;
  const d = v > 0 ? -v : v;
  return d < -130 ? undefined : d;
}

/**
 * A band label from the spellings vendors use (`2.4`, `2.4GHz`, `24`, `5`, `6E`, Cisco's
 * `IEEE_802_11_B`…), or `undefined` when unknown.
 *
 * @example normaliseBand('IEEE_802_11_A') === '5'
 */
export function normaliseBand(v: unknown): Band | undefined {
  if (typeof v === 'number') v = String(v);
  if (typeof v !== 'string' || v.length > 24) return undefined;
  const s = v.trim().toUpperCase().replace('GHZ', '').trim();
  switch (s) {
    case '2.4':
    case '24':
    case '2':
    case 'IEEE_802_11_B':
    case 'IEEE_802_11_G':
    case 'B':
    case 'G':
      return '2.4';
    case '5':
    case '5.0':
    case 'IEEE_802_11_A':
    case 'A':
      return '5';
    case '6':
    case '6E':
    case '6.0':
      return '6';
    default:
      return undefined;
  }
}

/** Epoch milliseconds in the accepted range (1970–2100), rounded, or a refusal naming `path`. @example checkTimeMs(1641977166586, 'spaces', 'recordTimestamp') */
export function checkTimeMs(ms: number, source: IngestSource, path: string): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw malformed(source, 'invalid_timestamp', `${path} is not a plausible time.`, path);
  }
  return Math.round(ms);
}

/** Epoch seconds (possibly fractional, as Mist sends them) to epoch ms. @example secondsToMs(1461220784.5, 'mist', 'timestamp') === 1461220784500 */
export function secondsToMs(s: number, source: IngestSource, path: string): number {
  return checkTimeMs(s * 1000, source, path);
}

/**
 * An ISO 8601 / RFC 3339 timestamp with a date, a time and a zone (`2024-03-01T09:15:30Z`) to
 * epoch ms. Date-only or zone-less strings are refused: their instant is ambiguous.
 *
 * @example isoToMs('2024-03-01T09:15:30Z', 'meraki', 'time') === 1709284530000
 */
export function isoToMs(s: string, source: IngestSource, path: string): number {
  const ok =
    s.length >= 20 &&
    s.length <= 35 &&
    s.charCodeAt(4) === 45 &&
    s.charCodeAt(7) === 45 &&
    (s.charCodeAt(10) === 84 || s.charCodeAt(10) === 116) &&
    (s.endsWith('Z') || s.endsWith('z') || s.charCodeAt(s.length - 6) === 43 || s.charCodeAt(s.length - 6) === 45);
  const ms = ok ? Date.parse(s) : NaN;
  if (Number.isNaN(ms)) throw malformed(source, 'invalid_timestamp', `${path} is not an ISO 8601 time with a zone.`, path);
  return checkTimeMs(ms, source, path);
}
