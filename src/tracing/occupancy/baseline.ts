/**
 * Zone baselines (R-CT-1): the limit a zone's figure is compared with. Either fixed by an admin
 * (or the zone's own occupancy limit, when no baseline is set), or learned from the zone-minute
 * history: for each hour of the week in the site's time zone (Monday 00:00 first), the chosen
 * percentile of the per-minute peak figure over the look-back period, minutes without a row
 * counting as empty (0). An hour of week with fewer than {@link MIN_LEARN_MINUTES} minutes of
 * history takes the percentile over all hours; with too little history at all there is no limit
 * (no alert) until there is. A learned limit is at least 1.
 */
import { MINUTE_MS } from '../../kernel/clock.ts';

export const HOURS_OF_WEEK = 168;
/** Fewest minutes of history an hour of week needs for its own limit. */
export const MIN_LEARN_MINUTES = 30;
const BLOCK_MS = 15 * MINUTE_MS;

const weekday: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/**
 * The hour of week (0 = Monday 00:00-00:59 … 167 = Sunday 23:00) of `ms` in time zone `tz`, cached
 * per quarter hour (every zone offset is a multiple of 15 minutes).
 */
export class HourOfWeek {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly cache = new Map<number, number>();

  constructor(readonly timezone: string) {
    let fmt: Intl.DateTimeFormat;
    try {
      fmt = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
    } catch {
      fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
    }
    this.fmt = fmt;
  }

  /** @example new HourOfWeek('Europe/Amsterdam').at(Date.UTC(2026, 0, 5, 8)) === 9 // Monday 09:00 CET */
  at(ms: number): number {
    const block = ms - (((ms % BLOCK_MS) + BLOCK_MS) % BLOCK_MS);
    let h = this.cache.get(block);
    if (h === undefined) {
      let day = 0;
      let hour = 0;
      for (const p of this.fmt.formatToParts(block)) {
        if (p.type === 'weekday') day = weekday[p.value] ?? 0;
        else if (p.type === 'hour') hour = Number(p.value) % 24;
      }
      h = day * 24 + hour;
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(block, h);
    }
    return h;
  }
}

/** One minute of a zone's history: its peak figure (policy applied). */
export interface MinuteSample {
  bucketMs: number;
  value: number;
}

/**
 * The value at percentile `p` (0-100, nearest rank) of `total` samples, of which only `values`
 * (unsorted) are given and the rest are 0.
 *
 * @example percentileWithZeros([5, 1, 3], 10, 90) === 3
 */
export function percentileWithZeros(values: number[], total: number, p: number): number {
  if (total <= 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  const zeros = total - values.length;
  if (rank <= zeros) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, rank - zeros - 1)] ?? 0;
}

export interface Learned {
  /** 168 limits (hour of week), null where there is no limit. */
  limits: (number | null)[];
  /** Minutes of history used. */
  minutes: number;
}

/**
 * Learn per-hour-of-week limits from `samples` (zone-minute peaks in [fromMs, toMs); minutes
 * without a sample were empty).
 *
 * @example learnLimits(samples, from, to, new HourOfWeek('Europe/Amsterdam'), 95)
 */
export function learnLimits(samples: readonly MinuteSample[], fromMs: number, toMs: number, how: HourOfWeek, percentile: number): Learned {
  const total = new Array<number>(HOURS_OF_WEEK).fill(0);
  const values: number[][] = Array.from({ length: HOURS_OF_WEEK }, () => []);
  const start = Math.ceil(fromMs / MINUTE_MS) * MINUTE_MS;
  if (toMs <= start) return { limits: new Array<number | null>(HOURS_OF_WEEK).fill(null), minutes: 0 };
  // Minutes per hour of week, a quarter hour at a time (partial blocks at both ends).
  for (let b = start - (start % BLOCK_MS); b < toMs; b += BLOCK_MS) {
    const lo = Math.max(b, start);
    const hi = Math.min(b + BLOCK_MS, toMs);
    if (hi > lo) total[how.at(b)]! += Math.ceil((hi - lo) / MINUTE_MS);
  }
  for (const s of samples) if (s.bucketMs >= start && s.bucketMs < toMs) values[how.at(s.bucketMs)]!.push(s.value);
  const minutes = total.reduce((a, b) => a + b, 0);
  if (minutes < MIN_LEARN_MINUTES) return { limits: new Array<number | null>(HOURS_OF_WEEK).fill(null), minutes };
  const overall = Math.max(1, Math.ceil(percentileWithZeros(values.flat(), minutes, percentile)));
  const limits = total.map((n, h) => (n >= MIN_LEARN_MINUTES ? Math.max(1, Math.ceil(percentileWithZeros(values[h]!, n, percentile))) : overall));
  return { limits, minutes };
}

/** Where a zone's limit comes from. */
export type BaselineSource = 'fixed' | 'learned' | 'zone';

export interface ZoneBaseline {
  mode: 'fixed' | 'learned' | 'off';
  fixedLimit: number | null;
  learned: (number | null)[] | null;
}

/**
 * The limit in force for a zone at hour of week `hourOfWeek`, and where it comes from; null
 * when the zone has none (no alerts for it).
 *
 * @example limitFor({ mode: 'fixed', fixedLimit: 20, learned: null }, null, 9) // { limit: 20, source: 'fixed' }
 */
export function limitFor(b: ZoneBaseline | undefined, zoneLimit: number | null, hourOfWeek: number): { limit: number; source: BaselineSource } | null {
  if (b === undefined) return zoneLimit !== null ? { limit: zoneLimit, source: 'zone' } : null;
  if (b.mode === 'fixed' && b.fixedLimit !== null) return { limit: b.fixedLimit, source: 'fixed' };
  if (b.mode === 'learned') {
    const l = b.learned?.[hourOfWeek];
    return l === null || l === undefined ? null : { limit: l, source: 'learned' };
  }
  return null;
}
