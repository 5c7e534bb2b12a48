/** A small fixed-window limiter for login: per client address and per account, in memory. */
export class WindowLimiter {
  private hits = new Map<string, { start: number; n: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Count a hit; false when the key is over its limit in the current window. */
  hit(key: string): boolean {
    const t = this.now();
    const h = this.hits.get(key);
    if (!h || t - h.start >= this.windowMs) {
      if (this.hits.size > 100_000) this.sweep(t);
      this.hits.set(key, { start: t, n: 1 });
      return true;
    }
    h.n++;
    return h.n <= this.max;
  }

  private sweep(t: number): void {
    for (const [k, h] of this.hits) if (t - h.start >= this.windowMs) this.hits.delete(k);
  }
}
