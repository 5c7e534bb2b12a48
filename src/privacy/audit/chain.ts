/**
 * The audit hash chain. An event's fields are joined by U+001F into its `canon` text (a character
 * no field may hold: details are JSON, which escapes it; the other fields are cleaned on append):
 * seq, at_ms, actor, action, target, request id, outcome, details. Each event's hash is SHA-256
 * over the previous event's hash, the org id and the canon; the first event of an org links to 64
 * zeros. A checkpoint signs, besides the hash at its last event, a digest of every canon in its
 * range, so a whole signed range is checked with one hash over one database-built string.
 */
import { hash as oneShotHash, createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);
const SEP = '\x1f';
/** Joins canon texts in a range digest (never inside a canon: cleaned like SEP). */
export const RANGE_SEP = '\x1e';

export interface AuditFields {
  seq: number;
  atMs: number;
  actor: string;
  action: string;
  target: string;
  requestId: string;
  outcome: string;
  /** JSON text. */
  details: string;
}

export const sha256hex: (s: string) => string =
  typeof oneShotHash === 'function' ? (s) => oneShotHash('sha256', s, 'hex') as string : (s) => createHash('sha256').update(s).digest('hex');

/** The canonical text of an event. */
export function canonOf(f: AuditFields): string {
  return f.seq + SEP + f.atMs + SEP + f.actor + SEP + f.action + SEP + f.target + SEP + f.requestId + SEP + f.outcome + SEP + f.details;
}

/** The fields back from a canon text (what the API shows is what the chain covers). */
export function parseCanon(canon: string): AuditFields {
  const p = canon.split(SEP);
  return { seq: Number(p[0]), atMs: Number(p[1]), actor: p[2] ?? '', action: p[3] ?? '', target: p[4] ?? '', requestId: p[5] ?? '', outcome: p[6] ?? '', details: p.slice(7).join(SEP) };
}

/** Hash of an event from the previous event's hash. */
export function eventHash(prevHash: string, orgId: string, canon: string): string {
  return sha256hex(prevHash + SEP + orgId + SEP + canon);
}

/** Digest of a range body as built by the repository (`rangeBody`); hashed in place, never copied. */
export function rangeDigest(orgId: string, body: string): string {
  return createHash('sha256').update(orgId + RANGE_SEP).update(body).digest('hex');
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_G = /[\x00-\x1f\x7f]/g;

/** Strip control characters from a short field so the separators stay unambiguous. */
export function cleanField(s: string, max = 512): string {
  const t = CONTROL.test(s) ? s.replace(CONTROL_G, ' ') : s;
  return t.length > max ? t.slice(0, max) : t;
}

/** The text a checkpoint signature covers. */
export function checkpointPayload(orgId: string, fromSeq: number, seq: number, hash: string, digest: string, atMs: number): Buffer {
  return Buffer.from(`cairn-audit-checkpoint|v2|${orgId}|${fromSeq}|${seq}|${hash}|${digest}|${atMs}`);
}

/** The text a prune anchor signature covers. */
export function anchorPayload(orgId: string, seq: number, hash: string, atMs: number): Buffer {
  return Buffer.from(`cairn-audit-anchor|v2|${orgId}|${seq}|${hash}|${atMs}`);
}

/**
 * The text a redaction signature covers: the previous event's hash, the event's own chain hash
 * (unchanged) and the SHA-256 of its canon after a data subject's tokens were erased (R-PRIV-4).
 * Binding the previous hash keeps the link: altering the event before a redacted one still shows.
 */
export function redactionPayload(orgId: string, seq: number, prevHash: string, hash: string, canonDigest: string, atMs: number): Buffer {
  return Buffer.from(`cairn-audit-redaction|v1|${orgId}|${seq}|${prevHash}|${hash}|${canonDigest}|${atMs}`);
}

/**
 * Accepts the text of a redacted event: true when a valid redaction signature covers this seq, the
 * previous event's hash, this chain hash and this exact canon.
 */
export type RedactionCheck = (seq: number, prevHash: string, hash: string, canon: string) => boolean;

/**
 * Checks events one at a time in seq order: continuity and recomputed hashes. Names the first
 * bad event where a signed range did not match, and covers the unsigned tail. A redacted event
 * (its hash no longer follows from its text) passes only with a valid redaction signature; the
 * chain then continues from its stored hash.
 */
export class ChainChecker {
  expected: number;
  prev: string;
  count = 0;
  constructor(
    private readonly orgId: string,
    startSeq: number,
    startPrev: string,
    private readonly redacted?: RedactionCheck,
  ) {
    this.expected = startSeq;
    this.prev = startPrev;
  }

  /** null when the event is good; otherwise why it is bad. */
  check(seq: number, canon: string, hash: string): string | null {
    if (seq !== this.expected) return seq > this.expected ? `event ${this.expected} is missing (next present is ${seq})` : `event ${seq} is out of order or duplicated (expected ${this.expected})`;
    let h = eventHash(this.prev, this.orgId, canon);
    if (h !== hash && this.redacted?.(seq, this.prev, hash, canon)) h = hash;
    if (h !== hash) return `event ${seq} was altered, inserted or moved (its hash does not follow from the chain)`;
    this.prev = h;
    this.expected++;
    this.count++;
    return null;
  }
}
