/**
 * Reader for SocioPatterns face-to-face contact files (`tij_<name>.dat`): one line per contact
 * and 20-second slot, `t<TAB>i<TAB>j`, where `t` is Unix seconds at the start of the slot and
 * `i`, `j` are RFID badge numbers that were about 1–1.5 m apart during `[t, t + 20 s)`. A
 * contact of d seconds is d/20 consecutive lines. Each line becomes one `Encounter` with
 * `durationMs` = the slot; a pair repeated within one slot (in either order) is kept once.
 */
import { malformed } from '../errors.ts';
import { MAX_TIME_MS } from '../read.ts';
import type { Encounter } from '../types.ts';
import { makeEncounter } from './encounters.ts';

export interface SocioPatternsOptions {
  /** Slot length, seconds. Default 20 (every SocioPatterns data set). */
  slotSeconds?: number;
  /** Prefix for badge ids, to keep data sets apart (e.g. `ws16:`). Default none. */
  idPrefix?: string;
}

/** Parses lines one by one, remembering the pairs of the current slot to drop repeats. */
class TijParser {
  private slot = -1;
  private pairs = new Set<string>();
  private lineNo = 0;
  private readonly slotS: number;
  private readonly prefix: string;

  constructor(opts: SocioPatternsOptions) {
    this.slotS = opts.slotSeconds ?? 20;
    this.prefix = opts.idPrefix ?? '';
  }

  /** The line's encounter; `undefined` for blank lines and repeats. */
  line(raw: string): Encounter | undefined {
    this.lineNo++;
    const s = raw.trim();
    if (s.length === 0) return undefined;
    const f: number[] = [];
    let cur = -1;
    for (let k = 0; k <= s.length; k++) {
      const c = k < s.length ? s.charCodeAt(k) : 32;
      if (c >= 48 && c <= 57) {
        cur = cur < 0 ? c - 48 : cur * 10 + (c - 48);
        if (cur > Number.MAX_SAFE_INTEGER / 10) this.bad('A number on the line is too large.');
      } else if (c === 32 || c === 9) {
        if (cur >= 0) f.push(cur);
        cur = -1;
      } else {
        this.bad('The line is not three whitespace-separated integers.');
      }
    }
    if (f.length !== 3) this.bad('The line is not three whitespace-separated integers.');
    const [t, i, j] = f as [number, number, number];
    const atMs = t * 1000;
    if (atMs > MAX_TIME_MS) throw malformed('encounter', 'invalid_timestamp', `Line ${this.lineNo}: the time is not plausible.`, undefined);
    if (t % this.slotS !== 0) throw malformed('encounter', 'invalid_timestamp', `Line ${this.lineNo}: the time is not the start of a ${this.slotS}-second slot.`);
    if (i === j) throw malformed('encounter', 'self_encounter', `Line ${this.lineNo}: a badge cannot meet itself.`);
    if (t !== this.slot) {
      this.slot = t;
      this.pairs.clear();
    }
    const e = makeEncounter(this.prefix + i, this.prefix + j, atMs, { durationMs: this.slotS * 1000 });
    const key = `${e.a}\u0000${e.b}`;
    if (this.pairs.has(key)) return undefined;
    this.pairs.add(key);
    return e;
  }

  private bad(message: string): never {
    throw malformed('encounter', 'bad_line', `Line ${this.lineNo}: ${message}`);
  }
}

/**
 * Parse a whole `tij` file held in memory.
 *
 * @example parseSocioPatternsContacts('1480486100\t125\t130\n')[0] // { a: '125', b: '130', atMs: 1480486100000, durationMs: 20000 }
 */
export function parseSocioPatternsContacts(text: string, opts: SocioPatternsOptions = {}): Encounter[] {
  const p = new TijParser(opts);
  const out: Encounter[] = [];
  let start = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl < 0) nl = text.length;
    const e = p.line(text.slice(start, nl));
    if (e) out.push(e);
    start = nl + 1;
  }
  return out;
}

/**
 * Stream a `tij` file (e.g. `fs.createReadStream(path)`) as encounters, without holding it.
 *
 * @example for await (const e of readSocioPatternsContacts(createReadStream('tij_WS16.dat'))) sink(e)
 */
export async function* readSocioPatternsContacts(input: AsyncIterable<string | Uint8Array>, opts: SocioPatternsOptions = {}): AsyncGenerator<Encounter> {
  const p = new TijParser(opts);
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
      const e = p.line(rest.slice(start, nl));
      if (e) yield e;
      start = nl + 1;
    }
    rest = rest.slice(start);
    if (rest.length > 4096) throw malformed('encounter', 'line_too_long', 'A line is longer than 4096 characters.', undefined, 4096);
  }
  rest += decoder.decode();
  const e = p.line(rest);
  if (e) yield e;
}
