/**
 * Syslog line parser for RFC 3164 (BSD) and RFC 5424 messages, written as a single forward scan
 * without regular expressions so it keeps up with a campus controller's log volume (well over
 * 200 000 lines/s on one core). It accepts what controllers actually send: an optional `<PRI>`
 * (files written by a syslog daemon drop it), `Mmm dd hh:mm:ss` with optional fraction and a
 * year before or after the time (Aruba writes `Jul 28 16:08:56 2020`), a leading weekday
 * (OpenWrt `logread`), RFC 3339 timestamps, a missing hostname, and RFC 5424 structured data.
 *
 * BSD timestamps carry neither year nor zone: the year is the one that puts the time nearest to
 * `referenceMs` (the receive time), and the zone is `tzOffsetMinutes` (default UTC).
 */
import { reject, type IngestReason } from '../errors.ts';

/** One RFC 5424 SD-ELEMENT: `[id name="value" …]`, parameters in order, values unescaped. */
export interface SdElement {
  id: string;
  params: [name: string, value: string][];
}

/** A parsed syslog line. */
export interface SyslogMessage {
  format: 'rfc3164' | 'rfc5424';
  /** 0–23, when the line carried a PRI. */
  facility?: number;
  /** 0 (emergency) – 7 (debug), when the line carried a PRI. */
  severity?: number;
  /** UTC epoch ms of the header timestamp (or of `referenceMs` when `receivedTime`). */
  atMs: number;
  /** True when the line had no timestamp and the receive time stood in. */
  receivedTime: boolean;
  /** The timestamp exactly as written, e.g. `Jun  3 01:02:32` ('' when none). */
  timestampText: string;
  /** The sender's hostname or address (personal for end-user hosts, R-DATA-2). */
  hostname?: string;
  /** RFC 3164 TAG / RFC 5424 APP-NAME (`stm`, `hostapd`). */
  appName?: string;
  procId?: string;
  msgId?: string;
  structuredData?: SdElement[];
  /** The free-text message, after the header. */
  msg: string;
}

export interface SyslogParseOptions {
  /** Receive time, epoch ms: picks the year of BSD timestamps and stands in for missing ones. Default `Date.now()`. */
  referenceMs?: number;
  /** Offset of the senders' local time east of UTC, minutes, for zone-less timestamps. Default 0. */
  tzOffsetMinutes?: number;
  /** Longest line accepted, characters. Default 16 384. */
  maxLineLength?: number;
}

const DAY_MS = 86_400_000;
const HALF_YEAR_MS = 183 * DAY_MS;

function fail(reason: IngestReason, message: string): never {
  throw reject('CAIRN_ERR_SYSLOG_MALFORMED', 'syslog', reason, message);
}

function digit(s: string, i: number): number {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : -1;
}

/** Two digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

/** Four digits at `i`, or -1. */
function four(s: string, i: number): number {
  const a = two(s, i);
  const b = two(s, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

/** Month number 1–12 from a three-letter name at `i` (any case), or 0. */
function monthAt(s: string, i: number): number {
  const k = ((s.charCodeAt(i) | 32) << 16) | ((s.charCodeAt(i + 1) | 32) << 8) | (s.charCodeAt(i + 2) | 32);
  switch (k) {
    case 0x6a616e: return 1; // jan
    case 0x666562: return 2; // feb
    case 0x6d6172: return 3; // mar
    case 0x617072: return 4; // apr
    case 0x6d6179: return 5; // may
    case 0x6a756e: return 6; // jun
    case 0x6a756c: return 7; // jul
    case 0x617567: return 8; // aug
    case 0x736570: return 9; // sep
    case 0x6f6374: return 10; // oct
    case 0x6e6f76: return 11; // nov
    case 0x646563: return 12; // dec
    default: return 0;
  }
}

function isWeekdayAt(s: string, i: number): boolean {
  const k = ((s.charCodeAt(i) | 32) << 16) | ((s.charCodeAt(i + 1) | 32) << 8) | (s.charCodeAt(i + 2) | 32);
  return k === 0x6d6f6e || k === 0x747565 || k === 0x776564 || k === 0x746875 || k === 0x667269 || k === 0x736174 || k === 0x73756e;
}

/** Milliseconds from a fraction's digits at `i` (up to 9 read); sets `fracEnd`. */
let fracEnd = 0;
function fraction(s: string, i: number, end: number): number {
  let ms = 0;
  let n = 0;
  let j = i;
  while (j < end && n < 9) {
    const d = digit(s, j);
    if (d < 0) break;
    if (n < 3) ms = ms * 10 + d;
    n++;
    j++;
  }
  if (n === 0) return -1;
  for (let k = n; k < 3; k++) ms *= 10;
  fracEnd = j;
  return ms;
}

let yearCacheLo = 0;
let yearCacheHi = -1;
let yearCache = 1970;

function yearOf(ms: number): number {
  if (ms >= yearCacheLo && ms < yearCacheHi) return yearCache;
  yearCache = new Date(ms).getUTCFullYear();
  yearCacheLo = Date.UTC(yearCache, 0, 1);
  yearCacheHi = Date.UTC(yearCache + 1, 0, 1);
  return yearCache;
}

/** Result slots of the timestamp scanners (avoids an allocation per line). */
let tsMs = 0;
let tsNext = 0;

/**
 * RFC 3339 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` at `i`. A missing zone is allowed only when
 * `zoneless` is given (then that offset applies). Sets tsMs/tsNext; returns false when absent.
 */
function rfc3339(s: string, i: number, end: number, zonelessOffsetMin: number | undefined): boolean {
  if (end - i < 19) return false;
  const y = four(s, i);
  const mo = two(s, i + 5);
  const d = two(s, i + 8);
  const h = two(s, i + 11);
  const mi = two(s, i + 14);
  const se = two(s, i + 17);
  const t = s.charCodeAt(i + 10) | 32;
  if (y < 0 || s.charCodeAt(i + 4) !== 45 || s.charCodeAt(i + 7) !== 45 || t !== 116 || s.charCodeAt(i + 13) !== 58 || s.charCodeAt(i + 16) !== 58) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return false;
  let j = i + 19;
  let ms = 0;
  if (j < end && s.charCodeAt(j) === 46) {
    ms = fraction(s, j + 1, end);
    if (ms < 0) return false;
    j = fracEnd;
  }
  let offMin: number;
  const z = j < end ? s.charCodeAt(j) : 32;
  if (z === 90 || z === 122) {
    offMin = 0;
    j++;
  } else if ((z === 43 || z === 45) && j + 6 <= end && s.charCodeAt(j + 3) === 58) {
    const oh = two(s, j + 1);
    const om = two(s, j + 4);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return false;
    offMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
    j += 6;
  } else if (zonelessOffsetMin !== undefined) {
    offMin = zonelessOffsetMin;
  } else {
    return false;
  }
  tsMs = Date.UTC(y, mo - 1, d, h, mi, se, ms) - offMin * 60_000;
  tsNext = j;
  return true;
}

/**
 * BSD timestamp at `i`: `[Www ]Mmm dd [yyyy ]hh:mm:ss[.frac][ yyyy]`, or RFC 3339. Sets
 * tsMs/tsNext; returns 0 when absent, 1 when found, 2 when found after a weekday.
 */
function bsdTimestamp(s: string, i: number, end: number, refMs: number, offMin: number): number {
  if (digit(s, i) >= 0) return rfc3339(s, i, end, offMin) ? 1 : 0;
  let weekday = false;
  if (end - i > 4 && s.charCodeAt(i + 3) === 32 && isWeekdayAt(s, i) && monthAt(s, i + 4) > 0) {
    weekday = true;
    i += 4;
  }
  if (end - i < 14) return 0;
  const mo = monthAt(s, i);
  if (mo === 0 || s.charCodeAt(i + 3) !== 32) return 0;
  let j = i + 4;
  if (s.charCodeAt(j) === 32) j++; // space-padded day
  let day = digit(s, j);
  if (day < 0) return 0;
  j++;
  const d2 = digit(s, j);
  if (d2 >= 0) {
    day = day * 10 + d2;
    j++;
  }
  if (day < 1 || day > 31 || s.charCodeAt(j) !== 32) return 0;
  j++;
  let year = -1;
  if (s.charCodeAt(j + 4) === 32 && s.charCodeAt(j + 2) !== 58) {
    year = four(s, j);
    if (year < 1970 || year > 2100) return 0;
    j += 5;
  }
  const h = two(s, j);
  const mi = two(s, j + 3);
  const se = two(s, j + 6);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60 || s.charCodeAt(j + 2) !== 58 || s.charCodeAt(j + 5) !== 58) return 0;
  j += 8;
  let ms = 0;
  if (j < end && s.charCodeAt(j) === 46) {
    ms = fraction(s, j + 1, end);
    if (ms < 0) return 0;
    j = fracEnd;
  }
  if (year < 0 && end - j >= 5 && s.charCodeAt(j) === 32 && (j + 5 === end || s.charCodeAt(j + 5) === 32)) {
    const y = four(s, j + 1);
    if (y >= 1970 && y <= 2100) {
      year = y;
      j += 5;
    }
  }
  const offMs = offMin * 60_000;
  if (year >= 0) {
    tsMs = Date.UTC(year, mo - 1, day, h, mi, se, ms) - offMs;
  } else {
    const y = yearOf(refMs);
    let t = Date.UTC(y, mo - 1, day, h, mi, se, ms) - offMs;
    if (t - refMs > HALF_YEAR_MS) t = Date.UTC(y - 1, mo - 1, day, h, mi, se, ms) - offMs;
    else if (refMs - t > HALF_YEAR_MS) t = Date.UTC(y + 1, mo - 1, day, h, mi, se, ms) - offMs;
    tsMs = t;
  }
  tsNext = j;
  return weekday ? 2 : 1;
}

function isFacilityLevel(s: string, a: number, b: number): boolean {
  let dot = -1;
  for (let k = a; k < b; k++) {
    const c = s.charCodeAt(k);
    if (c === 46) {
      if (dot >= 0) return false;
      dot = k;
    } else if (!(c >= 97 && c <= 122) && !(c >= 48 && c <= 57)) return false;
  }
  return dot > a && dot < b - 1;
}

function parse3164(s: string, i: number, end: number, pri: number, o: SyslogParseOptions): SyslogMessage {
  const refMs = o.referenceMs ?? Date.now();
  const found = bsdTimestamp(s, i, end, refMs, o.tzOffsetMinutes ?? 0);
  const m: SyslogMessage = { format: 'rfc3164', atMs: refMs, receivedTime: true, timestampText: '', msg: '' };
  if (pri >= 0) {
    m.facility = pri >> 3;
    m.severity = pri & 7;
  }
  if (found === 0) {
    // RFC 3164 §4.3.2: without a valid timestamp the whole rest is the message. Only tolerated
    // when a PRI proves this is syslog at all.
    if (pri < 0) fail('bad_timestamp', 'The line has neither a PRI nor a timestamp.');
  } else {
    m.atMs = tsMs;
    m.receivedTime = false;
    m.timestampText = s.slice(i, tsNext);
    i = tsNext;
    if (i < end && s.charCodeAt(i) !== 32) fail('bad_timestamp', 'The timestamp is not followed by a space.');
    while (i < end && s.charCodeAt(i) === 32) i++;
    // HOSTNAME, unless the next token is already the TAG (`stm[1787]:`, `hostapd:`) or an
    // OpenWrt `facility.level` token.
    let t = i;
    let tagLike = false;
    while (t < end) {
      const c = s.charCodeAt(t);
      if (c === 32) break;
      if (c === 91) tagLike = true; // '['
      t++;
    }
    if (t > i && !tagLike && s.charCodeAt(t - 1) !== 58) {
      if (found === 2 && isFacilityLevel(s, i, t)) {
        // logread: `Thu Mar  7 12:00:00 2024 daemon.notice hostapd: …`
      } else {
        if (t - i > 255) fail('bad_header', 'The hostname is longer than 255 characters.');
        m.hostname = s.slice(i, t);
      }
      i = t;
      while (i < end && s.charCodeAt(i) === 32) i++;
    }
  }
  // TAG: APP[PID]: or APP:
  let j = i;
  const limit = Math.min(end, i + 49);
  while (j < limit) {
    const c = s.charCodeAt(j);
    if (c === 58 || c === 91 || c === 32) break;
    j++;
  }
  if (j > i && j < end) {
    const c = s.charCodeAt(j);
    if (c === 58) {
      m.appName = s.slice(i, j);
      i = j + 1;
    } else if (c === 91) {
      const close = s.indexOf(']', j + 1);
      if (close > j + 1 && close - j <= 129 && s.charCodeAt(close + 1) === 58) {
        m.appName = s.slice(i, j);
        m.procId = s.slice(j + 1, close);
        i = close + 2;
      }
    }
    if (m.appName !== undefined && i < end && s.charCodeAt(i) === 32) i++;
  }
  m.msg = i === 0 && end === s.length ? s : s.slice(i, end);
  return m;
}

/** An RFC 5424 header field (1–max printable US-ASCII, or `-`) ending at a space; sets tsNext. */
function field(s: string, i: number, end: number, max: number, name: string): string | undefined {
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (c === 32) break;
    if (c < 33 || c > 126) fail('bad_header', `The ${name} has a character outside printable ASCII.`);
    j++;
  }
  if (j === i || j - i > max) fail('bad_header', `The ${name} is empty or longer than ${max} characters.`);
  if (j >= end) fail('bad_header', `The line ends inside the ${name}.`);
  tsNext = j + 1;
  return j - i === 1 && s.charCodeAt(i) === 45 ? undefined : s.slice(i, j);
}

const MAX_SD_ELEMENTS = 32;
const MAX_SD_PARAMS = 64;

function sdName(s: string, i: number, end: number): number {
  let j = i;
  while (j < end && j - i <= 32) {
    const c = s.charCodeAt(j);
    if (c === 61 || c === 32 || c === 93 || c === 34 || c < 33 || c > 126) break;
    j++;
  }
  if (j === i || j - i > 32) fail('bad_structured_data', 'An SD name is empty or longer than 32 characters.');
  return j;
}

/** STRUCTURED-DATA at `i`; sets tsNext to the index after it. */
function structuredData(s: string, i: number, end: number): SdElement[] | undefined {
  if (s.charCodeAt(i) === 45) {
    tsNext = i + 1;
    return undefined;
  }
  const out: SdElement[] = [];
  while (i < end && s.charCodeAt(i) === 91) {
    if (out.length >= MAX_SD_ELEMENTS) fail('bad_structured_data', `More than ${MAX_SD_ELEMENTS} SD elements.`);
    let j = sdName(s, i + 1, end);
    const el: SdElement = { id: s.slice(i + 1, j), params: [] };
    while (j < end && s.charCodeAt(j) === 32) {
      const nameEnd = sdName(s, j + 1, end);
      if (s.charCodeAt(nameEnd) !== 61 || s.charCodeAt(nameEnd + 1) !== 34) fail('bad_structured_data', 'An SD parameter is not name="value".');
      if (el.params.length >= MAX_SD_PARAMS) fail('bad_structured_data', `More than ${MAX_SD_PARAMS} parameters in one SD element.`);
      let k = nameEnd + 2;
      let value = '';
      let from = k;
      for (;;) {
        if (k >= end) fail('bad_structured_data', 'An SD value is not terminated.');
        const c = s.charCodeAt(k);
        if (c === 34) break;
        if (c === 92 && k + 1 < end) {
          const n = s.charCodeAt(k + 1);
          if (n === 34 || n === 92 || n === 93) {
            value += s.slice(from, k);
            from = k + 1;
            k += 2;
            continue;
          }
        }
        k++;
      }
      value += s.slice(from, k);
      el.params.push([s.slice(j + 1, nameEnd), value]);
      j = k + 1;
    }
    if (s.charCodeAt(j) !== 93) fail('bad_structured_data', 'An SD element is not closed with ].');
    out.push(el);
    i = j + 1;
  }
  if (out.length === 0) fail('bad_structured_data', 'STRUCTURED-DATA is neither - nor [elements].');
  tsNext = i;
  return out;
}

function parse5424(s: string, i: number, end: number, pri: number, o: SyslogParseOptions): SyslogMessage {
  const refMs = o.referenceMs ?? Date.now();
  const m: SyslogMessage = { format: 'rfc5424', facility: pri >> 3, severity: pri & 7, atMs: refMs, receivedTime: true, timestampText: '', msg: '' };
  if (s.charCodeAt(i) === 45 && s.charCodeAt(i + 1) === 32) {
    i += 2;
  } else {
    if (!rfc3339(s, i, end, undefined) || s.charCodeAt(tsNext) !== 32) fail('bad_timestamp', 'The RFC 5424 timestamp is not RFC 3339 with a zone.');
    m.atMs = tsMs;
    m.receivedTime = false;
    m.timestampText = s.slice(i, tsNext);
    i = tsNext + 1;
  }
  const host = field(s, i, end, 255, 'hostname');
  i = tsNext;
  const app = field(s, i, end, 48, 'app name');
  i = tsNext;
  const proc = field(s, i, end, 128, 'proc id');
  i = tsNext;
  const msgId = field(s, i, end, 32, 'msg id');
  i = tsNext;
  if (host !== undefined) m.hostname = host;
  if (app !== undefined) m.appName = app;
  if (proc !== undefined) m.procId = proc;
  if (msgId !== undefined) m.msgId = msgId;
  if (i >= end) fail('bad_structured_data', 'STRUCTURED-DATA is missing.');
  const sd = structuredData(s, i, end);
  if (sd) m.structuredData = sd;
  i = tsNext;
  if (i < end) {
    if (s.charCodeAt(i) !== 32) fail('bad_structured_data', 'STRUCTURED-DATA is not followed by a space.');
    i++;
    if (s.charCodeAt(i) === 0xfeff) i++; // UTF-8 BOM, as decoded
  }
  m.msg = s.slice(i, end);
  return m;
}

/**
 * Parse one syslog line (RFC 5424 when it starts `<PRI>1 `, else RFC 3164); throw
 * `CAIRN_ERR_SYSLOG_MALFORMED` with a reason (`bad_pri`, `bad_timestamp`, `bad_header`,
 * `bad_structured_data`, `line_too_long`, `bad_line`) for anything else. Trailing CR/LF/NUL are ignored.
 *
 * @example parseSyslogLine('<134>Jun  3 01:02:32 ctl stm[4105]: <501080> …', { referenceMs }).appName === 'stm'
 */
export function parseSyslogLine(line: string, opts: SyslogParseOptions = {}): SyslogMessage {
  if (typeof line !== 'string') fail('bad_line', 'A syslog line must be a string.');
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 10 && c !== 13 && c !== 0) break;
    end--;
  }
  if (end === 0) fail('bad_line', 'The line is empty.');
  const max = opts.maxLineLength ?? 16_384;
  if (end > max) throw reject('CAIRN_ERR_SYSLOG_MALFORMED', 'syslog', 'line_too_long', `The line is longer than ${max} characters.`, { limit: max });
  let i = 0;
  let pri = -1;
  if (line.charCodeAt(0) === 60) {
    let v = 0;
    let j = 1;
    for (; j < end && j <= 4; j++) {
      const d = digit(line, j);
      if (d < 0) break;
      v = v * 10 + d;
    }
    if (j === 1 || j > 4 || line.charCodeAt(j) !== 62 || v > 191) fail('bad_pri', 'The PRI is not <0>…<191>.');
    pri = v;
    i = j + 1;
  }
  if (pri >= 0 && line.charCodeAt(i) === 49 && line.charCodeAt(i + 1) === 32) return parse5424(line, i + 2, end, pri, opts);
  return parse3164(line, i, end, pri, opts);
}
