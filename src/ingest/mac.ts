/**
 * MAC address utilities. Vendors write MACs every way there is (`AA:BB:…`, `aa-bb-…`,
 * `aabb.ccdd.eeff`, `aabbccddeeff`, `0:1c:42:…`); Cairn keeps exactly one spelling,
 * lower-case colon form, so a device seen by two sources is one device before pseudonymisation.
 * Hand-written scanner, no regular expressions: it runs once per record on every ingest path.
 */
import { malformed } from './errors.ts';
import type { IngestSource } from './types.ts';

const HEX = '0123456789abcdef';

/** Value of one hex digit char code, or -1. */
function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

function isSep(c: number): boolean {
  return c === 58 || c === 45 || c === 46 || c === 32; // : - . space
}

/**
 * Parse a MAC in any common notation and return it normalised (`aa:bb:cc:dd:ee:ff`), or
 * `undefined` when it is not a MAC. Accepted: 12 bare hex digits; six groups of 1–2 digits
 * separated by `:`, `-` or space; three groups of 4 separated by `.`, `-` or `:`; two groups of 6
 * separated by `-` or `:`. Separators must all be the same. Surrounding blanks are ignored.
 *
 * @example parseMac('AABB.CCDD.EEFF') === 'aa:bb:cc:dd:ee:ff'
 * @example parseMac('0:1c:42:0:0:8') === '00:1c:42:00:00:08'
 */
/** True for the normalised form itself: lower-case hex pairs joined by colons. */
function isCanonical(s: string): boolean {
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    if (i % 3 === 2) {
      if (c !== 58) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

export function parseMac(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  let s = input;
  if (s.length > 17 || (s.length > 0 && (s.charCodeAt(0) === 32 || s.charCodeAt(s.length - 1) === 32))) {
    s = s.trim();
    if (s.length > 17) return undefined;
  }
  if (s.length < 11) {
    return undefined;
  }
  if (s.length === 17 && isCanonical(s)) return s; // already `aa:bb:cc:dd:ee:ff`: the common case, no allocation
  const digits: number[] = [];
  const groupLens: number[] = [];
  let sep = -1;
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const v = hexVal(c);
    if (v >= 0) {
      digits.push(v);
      run++;
      if (digits.length > 12) return undefined;
      continue;
    }
    if (!isSep(c) || run === 0) return undefined;
    if (sep === -1) sep = c;
    else if (sep !== c) return undefined;
    groupLens.push(run);
    run = 0;
  }
  if (run === 0) return undefined;
  groupLens.push(run);
  const groups = groupLens.length;
  let nibbles: number[];
  if (groups === 1) {
    if (digits.length !== 12) return undefined;
    nibbles = digits;
  } else if (groups === 6) {
    if (sep === 46) return undefined; // dots only in the 3×4 form
    nibbles = [];
    let k = 0;
    for (const len of groupLens) {
      if (len === 1) nibbles.push(0, digits[k]!);
      else if (len === 2) nibbles.push(digits[k]!, digits[k + 1]!);
      else return undefined;
      k += len;
    }
  } else if (groups === 3) {
    if (sep === 32 || groupLens[0] !== 4 || groupLens[1] !== 4 || groupLens[2] !== 4) return undefined;
    nibbles = digits;
  } else if (groups === 2) {
    if ((sep !== 45 && sep !== 58) || groupLens[0] !== 6 || groupLens[1] !== 6) return undefined;
    nibbles = digits;
  } else {
    return undefined;
  }
  let out = '';
  for (let i = 0; i < 12; i += 2) {
    if (i > 0) out += ':';
    out += HEX[nibbles[i]!]! + HEX[nibbles[i + 1]!]!;
  }
  return out;
}

/** True when `input` is a MAC in one of the notations `parseMac` accepts. @example isValidMac('aabb.ccdd.eeff') === true */
export function isValidMac(input: string): boolean {
  return parseMac(input) !== undefined;
}

/**
 * Normalise a MAC or throw `CAIRN_ERR_INGEST_MALFORMED` (`invalid_mac`). The message names the
 * field, never the value.
 *
 * @example normaliseMac('5684DAE9AC8B') === '56:84:da:e9:ac:8b'
 */
export function normaliseMac(input: string, source: IngestSource = 'native', path = 'mac'): string {
  const m = parseMac(input);
  if (m === undefined) throw malformed(source, 'invalid_mac', `${path} is not a MAC address.`, path);
  return m;
}

function firstOctet(mac: string): number {
  const n = mac.length === 17 && mac.charCodeAt(2) === 58 ? mac : parseMac(mac);
  if (n === undefined) return -1;
  return hexVal(n.charCodeAt(0)) * 16 + hexVal(n.charCodeAt(1));
}

/**
 * True when the locally-administered bit (0x02 of the first octet) is set: the address was
 * assigned by software, which for phones means a randomised, per-network MAC (R-LOC-5).
 *
 * @example isLocallyAdministered('02:00:5e:10:00:01') === true
 */
export function isLocallyAdministered(mac: string): boolean {
  const o = firstOctet(mac);
  return o >= 0 && (o & 0x02) !== 0;
}

/** True for group (multicast/broadcast) addresses: bit 0x01 of the first octet. Never a client. @example isMulticastMac('01:00:5e:00:00:fb') === true */
export function isMulticastMac(mac: string): boolean {
  const o = firstOctet(mac);
  return o >= 0 && (o & 0x01) !== 0;
}
