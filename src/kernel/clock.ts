/**
 * Time source. Everything that reads "now" takes a Clock, so retention, expiry and audit tests
 * can run on a fake clock. Times inside Cairn are UTC epoch milliseconds.
 */
export interface Clock {
  /** Current time in epoch milliseconds (UTC). */
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock tests move by hand. @example const c = new FakeClock(0); c.advance(DAY_MS) */
export class FakeClock implements Clock {
  constructor(private t: number) {}
  nowMs(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** ISO 8601 at the edges: `toIso(0) === '1970-01-01T00:00:00.000Z'`. */
export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}
