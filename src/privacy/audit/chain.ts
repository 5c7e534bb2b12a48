/**
 * The audit hash chain. Each event's hash is SHA-256 over the previous event's hash and the
 * event's fields joined by U+001F (a character no field may hold: details are JSON, which
 * escapes it; other fields are checked on append). The first event of an org links to 64 zeros.
 */
import { hash as oneShotHash, createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
const SEP = '\x1f';

export interface ChainFields {
  org_id: string;
  seq: number;
  at_ms: number;
  actor: string;
  action: string;
  target: string;
  request_id: string;
  outcome: string;
  details: string;
}

const sha256hex: (s: string) => string =
  typeof oneShotHash === 'function' ? (s) => oneShotHash('sha256', s, 'hex') as string : (s) => createHash('sha256').update(s).digest('hex');

/** Hash of an event given the previous hash. */
export function eventHash(prevHash: string, e: ChainFields): string {
  return sha256hex(prevHash + SEP + e.org_id + SEP + e.seq + SEP + e.at_ms + SEP + e.actor + SEP + e.action + SEP + e.target + SEP + e.request_id + SEP + e.outcome + SEP + e.details);
}

/** Same as eventHash over a raw row in AUDIT_COLS order (org_id, seq, at_ms, actor, action, target, request_id, outcome, details, …). */
export function rowHash(prevHash: string, r: readonly unknown[]): string {
  return sha256hex(prevHash + SEP + r[0] + SEP + r[1] + SEP + r[2] + SEP + r[3] + SEP + r[4] + SEP + r[5] + SEP + r[6] + SEP + r[7] + SEP + r[8]);
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_G = /[\x00-\x1f\x7f]/g;

/** Strip control characters from a short field so the separator stays unambiguous. */
export function cleanField(s: string, max = 512): string {
  const t = CONTROL.test(s) ? s.replace(CONTROL_G, ' ') : s;
  return t.length > max ? t.slice(0, max) : t;
}

/** The text a checkpoint or anchor signature covers. */
export function signedPayload(kind: 'checkpoint' | 'anchor', orgId: string, seq: number, hash: string, atMs: number): Buffer {
  return Buffer.from(`cairn-audit-${kind}|v1|${orgId}|${seq}|${hash}|${atMs}`);
}

/**
 * Checks a run of events in seq order: continuity, links and recomputed hashes. Used by the
 * verifier in-process and by each verification worker on its slice of the chain.
 */
export class ChainChecker {
  expected: number;
  prev: string;
  count = 0;
  firstSeq: number | null = null;
  /** The prev_hash the first row claimed (for stitching slices together). */
  firstPrev: string | null = null;
  constructor(startSeq: number, startPrev: string | null) {
    this.expected = startSeq;
    this.prev = startPrev ?? '';
  }

  /** null when the row is good; otherwise why it is bad. `row` is in AUDIT_COLS order. */
  check(row: readonly unknown[]): string | null {
    const seq = Number(row[1]);
    if (seq !== this.expected) return seq > this.expected ? `event ${this.expected} is missing (next present is ${seq})` : `event ${seq} is out of order or duplicated (expected ${this.expected})`;
    if (this.firstPrev === null) {
      this.firstPrev = row[9] as string;
      if (this.prev === '') this.prev = this.firstPrev;
    }
    if (row[9] !== this.prev) return `event ${seq} does not link to the previous event (inserted, deleted or reordered)`;
    const h = rowHash(this.prev, row);
    if (h !== row[10]) return `event ${seq} was altered (hash mismatch)`;
    this.firstSeq ??= seq;
    this.prev = h;
    this.expected++;
    this.count++;
    return null;
  }
}
