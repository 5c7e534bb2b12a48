/**
 * Test support for the adapters' fuzz tests (not exported from the module): a seeded PRNG,
 * text and structure-aware JSON mutators, and `fuzzAdapter`, which feeds thousands of mutated
 * inputs to a parser and asserts that each either returns or throws a `CairnError`, never
 * anything else, and within a time bound. Seeds are fixed so a failure reproduces exactly.
 */
import { isCairnError } from '../kernel/errors.ts';
import { ingestReasonOf } from './errors.ts';
import { seededRandom } from '../kernel/prng.ts';

/** The seeded PRNG of the kernel (mulberry32), under this module's old name. */
export const prng = seededRandom;

function int(rnd: () => number, n: number): number {
  return Math.floor(rnd() * n);
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[int(rnd, xs.length)]!;
}

const JUNK = ['\u0000', '\uFFFD', '"', '\\', '{', '}', '[', ']', ',', ':', '-', '<', '>', '|', '#', '*', '%', '\n', '\r\n', ' ', 'é', '\uD83D', '9999999999999999999999', '-0', 'e', 'null', 'NaN', '"__proto__":{"polluted":1},'];

/** Mutate text: flip, delete, insert, truncate, duplicate or blow up a slice. */
export function mutateText(s: string, rnd: () => number): string {
  const n = 1 + int(rnd, 3);
  let out = s;
  for (let k = 0; k < n; k++) {
    const i = int(rnd, out.length + 1);
    switch (int(rnd, 8)) {
      case 0: // truncate
        out = out.slice(0, i);
        break;
      case 1: // delete a slice
        out = out.slice(0, i) + out.slice(i + 1 + int(rnd, 16));
        break;
      case 2: // insert junk
        out = out.slice(0, i) + pick(rnd, JUNK) + out.slice(i);
        break;
      case 3: // replace one char with a random code unit
        out = out.slice(0, i) + String.fromCharCode(int(rnd, 0x10000)) + out.slice(i + 1);
        break;
      case 4: // duplicate a slice
        out = out.slice(0, i) + out.slice(i, i + int(rnd, 64)) + out.slice(i);
        break;
      case 5: // a very long run
        out = out.slice(0, i) + 'A'.repeat(1 + int(rnd, 200_000)) + out.slice(i);
        break;
      case 6: // swap a digit
        out = out.replace(/\d/, String(int(rnd, 10)));
        break;
      default: // flip case of a slice
        out = out.slice(0, i) + out.slice(i, i + 8).toUpperCase() + out.slice(i + 8);
    }
  }
  return out;
}

/** A random JSON value of the nastier kinds: wrong types, extremes, huge strings, deep nesting. */
export function randomJsonValue(rnd: () => number, depth = 0): unknown {
  switch (int(rnd, depth > 3 ? 12 : 15)) {
    case 0: return null;
    case 1: return true;
    case 2: return pick(rnd, [0, -1, 1, -67, 67, 1.5, 1e308, -1e308, 2 ** 53, -(2 ** 31), 4_102_444_800_001]);
    case 3: return '';
    case 4: return pick(rnd, ['string', 'aa:bb:cc:dd:ee:ff', '02:00:5e:10:00:01', '5684dae9ac8b', '1.2.3.4', '-67', '2024-03-01T09:15:30Z', 'NaN', 'wifi', 'asset', 'sdk', 'enter', 'DEVICE_LOCATION_UPDATE', 'KEEP_ALIVE', 'ble-badge']);
    case 5: return 'x'.repeat(int(rnd, 5_000));
    case 6: return 'y'.repeat(300_000);
    case 7: return int(rnd, 1_000_000);
    case 8: return rnd() * 200 - 100;
    case 9: return String(int(rnd, 1e9));
    case 10: return [];
    case 11: return {};
    case 12: return Array.from({ length: int(rnd, 6) }, () => randomJsonValue(rnd, depth + 1));
    case 13: {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < int(rnd, 5); i++) o[pick(rnd, ['a', 'mac', 'x', 'rssi', 'id', 'type', 'events', 'data', 'topic'])] = randomJsonValue(rnd, depth + 1);
      return o;
    }
    default: {
      let v: unknown = 1;
      for (let i = 0; i < 200; i++) v = [v];
      return v;
    }
  }
}

/** Replace, delete or duplicate one random node of a parsed JSON document. */
export function mutateJson(doc: unknown, rnd: () => number): unknown {
  const copy = structuredClone(doc);
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((c, i) => { nodes.push({ parent: v, key: i }); walk(c); });
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) { nodes.push({ parent: v as Record<string, unknown>, key: k }); walk((v as Record<string, unknown>)[k]); }
  };
  walk(copy);
  if (nodes.length === 0) return randomJsonValue(rnd);
  const times = 1 + int(rnd, 3);
  for (let t = 0; t < times; t++) {
    const { parent, key } = pick(rnd, nodes);
    const action = int(rnd, 6);
    if (Array.isArray(parent)) {
      const i = key as number;
      if (action === 0) parent.splice(i, 1);
      else if (action === 1) {
        // Many copies of a small node (array caps), a few of a big one. Copies are clones, so a
        // later mutation of one cannot multiply through shared references (memory stays bounded).
        const copies = (JSON.stringify(parent[i]) ?? '').length < 200 ? 1 + int(rnd, 1500) : 1 + int(rnd, 4);
        for (let k = 0; k < copies; k++) parent.push(structuredClone(parent[i]));
      }
      else parent[i] = randomJsonValue(rnd);
    } else {
      const k = key as string;
      if (action === 0) delete parent[k];
      else parent[k] = randomJsonValue(rnd);
    }
  }
  return copy;
}

export interface FuzzReport {
  iterations: number;
  accepted: number;
  rejected: number;
  /** Reason label → count, for a glance at coverage. */
  reasons: Record<string, number>;
  maxMs: number;
}

/**
 * Feed `iterations` mutated variants of `seeds` to `run`. Half the variants are structure-aware
 * JSON mutations (when the seed parses), half text mutations. Throws an assertion-style Error
 * naming the iteration when `run` throws anything but a CairnError or takes longer than `maxMsPerCall`.
 *
 * @example fuzzAdapter({ seed: 1, iterations: 3000, seeds: [sample], run: (s) => parseMistWebhook(s) })
 */
export function fuzzAdapter(opts: {
  seed: number;
  iterations: number;
  seeds: readonly string[];
  run: (input: string) => unknown;
  maxMsPerCall?: number;
  json?: boolean;
}): FuzzReport {
  const rnd = prng(opts.seed);
  const maxMsPerCall = opts.maxMsPerCall ?? 5000; // a hang guard, not a speed test (speed is measured by npm run bench)
  const parsed = opts.seeds.map((s) => { try { return { ok: true as const, v: JSON.parse(s) as unknown }; } catch { return { ok: false as const }; } });
  const report: FuzzReport = { iterations: opts.iterations, accepted: 0, rejected: 0, reasons: {}, maxMs: 0 };
  for (let it = 0; it < opts.iterations; it++) {
    const si = int(rnd, opts.seeds.length);
    const p = parsed[si]!;
    const input = opts.json !== false && p.ok && rnd() < 0.5 ? JSON.stringify(mutateJson(p.v, rnd)) : mutateText(opts.seeds[si]!, rnd);
    const t0 = performance.now();
    try {
      opts.run(input);
      report.accepted++;
    } catch (e) {
      if (!isCairnError(e)) {
        throw new Error(`fuzz iteration ${it} (seed ${opts.seed}) threw a non-CairnError: ${e instanceof Error ? e.stack : String(e)}`);
      }
      report.rejected++;
      const r = ingestReasonOf(e);
      report.reasons[r] = (report.reasons[r] ?? 0) + 1;
    }
    const ms = performance.now() - t0;
    if (ms > report.maxMs) report.maxMs = ms;
    if (ms > maxMsPerCall) throw new Error(`fuzz iteration ${it} (seed ${opts.seed}) took ${ms.toFixed(1)} ms`);
  }
  return report;
}
