/**
 * A bounded set of recently seen keys with least-recently-used eviction, for de-duplicating
 * re-delivered records (firehose replays after a reconnect). Backed by a `Map`, whose insertion
 * order is the recency order; every operation is O(1).
 */
/** Recently seen keys, at most `capacity` of them. @example const seen = new LruSet(100_000); if (!seen.add(uid)) return; // duplicate */
export class LruSet {
  private readonly keys = new Map<string, true>();

  /** @param capacity how many keys to remember; the oldest is forgotten beyond it. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('LruSet capacity must be a positive integer');
  }

  get size(): number {
    return this.keys.size;
  }

  /** True when `key` was seen recently; refreshes its recency. */
  has(key: string): boolean {
    if (!this.keys.has(key)) return false;
    this.keys.delete(key);
    this.keys.set(key, true);
    return true;
  }

  /**
   * Remember `key`; returns false when it was already there (a duplicate).
   *
   * @example if (!seen.add(rec.recordUid)) return; // duplicate
   */
  add(key: string): boolean {
    if (this.has(key)) return false;
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    return true;
  }
}
