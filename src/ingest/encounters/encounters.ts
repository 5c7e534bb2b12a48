/**
 * Badge-to-badge encounters: wearable badges (and the SocioPatterns RFID badges) record which
 * other badges were close, so contact tracing (R-CT-3) can work from proximity directly instead
 * of from positions. Cairn's JSON format is an array of `{a, b, rssi?, atMs, durationMs?}`
 * (or `{encounters: [...]}`); each pair is stored in one order (`a < b`), so `(i, j)` and
 * `(j, i)` are the same encounter.
 */
import { malformed } from '../errors.ts';
import {
  asObject,
  at,
  checkTimeMs,
  eachRecord,
  normaliseRssiDbm,
  optArray,
  optNumber,
  parseJsonBody,
  reqNumber,
} from '../read.ts';
import type { Encounter, ParseOptions } from '../types.ts';

const S = 'encounter' as const;

/** Badge ids: 1–64 of `A-Z a-z 0-9 . _ : -` (so also non-negative integers). @example isBadgeId('badge-0042') === true */
export function isBadgeId(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 58)) return false;
  }
  return true;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return s.length > 0;
}

/**
 * True when `x` sorts before `y`: numerically for all-digit ids (`7` < `130`), else by code unit.
 * Used to give each pair one spelling.
 *
 * @example badgeBefore('7', '130') === true
 */
export function badgeBefore(x: string, y: string): boolean {
  if (isDigits(x) && isDigits(y) && x.length !== y.length) return x.length < y.length;
  return x < y;
}

/**
 * An encounter with its pair ordered; throws `self_encounter` when both sides are one badge.
 *
 * @example makeEncounter('130', '7', 1480486100000) // { a: '7', b: '130', atMs: 1480486100000 }
 */
export function makeEncounter(x: string, y: string, atMs: number, extra?: { rssiDbm?: number; durationMs?: number }): Encounter {
  if (x === y) throw malformed(S, 'self_encounter', 'An encounter needs two different badges.');
  const e: Encounter = badgeBefore(x, y) ? { a: x, b: y, atMs } : { a: y, b: x, atMs };
  if (extra?.rssiDbm !== undefined) e.rssiDbm = extra.rssiDbm;
  if (extra?.durationMs !== undefined) e.durationMs = extra.durationMs;
  return e;
}

function badge(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  let s: string;
  if (typeof v === 'string') s = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) s = String(v);
  else if (v === undefined || v === null) throw malformed(S, 'missing_field', `${at(path, key)} is required.`, at(path, key));
  else throw malformed(S, 'wrong_type', `${at(path, key)} must be a badge id.`, at(path, key));
  if (!isBadgeId(s)) throw malformed(S, 'invalid_id', `${at(path, key)} is not a badge id.`, at(path, key));
  return s;
}

export interface EncounterOptions extends Omit<ParseOptions, 'collect'> {
  maxBodyBytes?: number;
  /** Most encounters per upload. Default 10 000. */
  maxEncounters?: number;
}

/**
 * Parse an upload of encounters: a JSON array of `{a, b, rssi?, atMs, durationMs?}` or an
 * object `{encounters: [...]}`. `rssi` is dBm, either sign.
 *
 * @example parseEncounterBatch('[{"a":"b-2","b":"b-1","rssi":-58,"atMs":1710072000000}]') // [{ a: 'b-1', b: 'b-2', rssiDbm: -58, atMs: 1710072000000 }]
 */
export function parseEncounterBatch(body: string | Uint8Array, opts: EncounterOptions = {}): Encounter[] {
  const doc = parseJsonBody(body, S, opts.maxBodyBytes);
  const max = opts.maxEncounters ?? 10_000;
  const list = Array.isArray(doc) ? doc : optArray(asObject(doc, S, ''), 'encounters', S, '', max);
  if (list === undefined) throw malformed(S, 'missing_field', 'encounters is required.', 'encounters');
  if (list.length > max) throw malformed(S, 'too_many_items', `More than ${max} encounters.`, undefined, max);
  const base = Array.isArray(doc) ? '' : 'encounters';
  return eachRecord(list, opts, [] as Encounter[], (item, i, out) => {
    const p = at(base, i);
    const o = asObject(item, S, p);
    const a = badge(o, 'a', p);
    const b = badge(o, 'b', p);
    const atMs = checkTimeMs(reqNumber(o, 'atMs', S, p), S, at(p, 'atMs'));
    const extra: { rssiDbm?: number; durationMs?: number } = {};
    const rssi = optNumber(o, 'rssi', S, p);
    if (rssi !== undefined) {
      const dbm = normaliseRssiDbm(rssi);
      if (dbm === undefined) throw malformed(S, 'invalid_rssi', `${at(p, 'rssi')} is not an RSSI in dBm.`, at(p, 'rssi'));
      extra.rssiDbm = dbm;
    }
    const dur = optNumber(o, 'durationMs', S, p);
    if (dur !== undefined) {
      if (!Number.isInteger(dur) || dur < 0 || dur > 86_400_000) throw malformed(S, 'invalid_value', `${at(p, 'durationMs')} must be 0 to 86 400 000 ms.`, at(p, 'durationMs'));
      extra.durationMs = dur;
    }
    out.push(makeEncounter(a, b, atMs, extra));
  });
}
