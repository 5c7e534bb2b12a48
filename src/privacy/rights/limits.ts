/**
 * In-memory fixed-window counters for the public side of data-subject requests: submissions per
 * client address and per subject, code checks per client address. Keys are SHA-256 digests of
 * the address or the subject's keyed lookup, never the values themselves. A restart forgets them
 * (the per-request lock-out after five wrong codes is stored with the request and survives).
 */
import { createHash } from 'node:crypto';

export class FixedWindow {
  private hits = new Map<string, { start: number; n: number }>();
  constructor(
    readonly max: number,
    readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Count a hit for `key`; returns the count in the current window (over `max` means refused).
   * @example if (limiter.hit(key) > limiter.max) refuse()
   */
  hit(key: string): number {
    const t = this.now();
    const h = this.hits.get(key);
    if (!h || t - h.start >= this.windowMs) {
      if (this.hits.size > 100_000) for (const [k, v] of this.hits) if (t - v.start >= this.windowMs) this.hits.delete(k);
      this.hits.set(key, { start: t, n: 1 });
      return 1;
    }
    return ++h.n;
  }
}

/** The in-memory key of a client address or subject lookup. @example clientKey('10.0.0.1').length === 32 */
export function clientKey(value: string): string {
  return createHash('sha256').update(`cairn-dsar|${value}`).digest('hex').slice(0, 32);
}
