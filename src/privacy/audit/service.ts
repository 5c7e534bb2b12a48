/**
 * The audit log (R-SEC-5, R-DATA-6). Every mutation and every read of personal data writes an
 * event (actor, org, action, target, request id, time, outcome) in the same transaction as the
 * change; denied attempts are written too. Events form a hash chain per org. Checkpoints are
 * signed with the region's Ed25519 key, as CloudTrail signs its digest files: every
 * `checkpointEvery` events, every hour for chains that grew, and before a verification run; each
 * covers a range of events with one digest, so verification checks whole signed ranges at the
 * speed of one hash and walks event by event only where a range fails (to name the first bad
 * event) and over the unsigned tail. Pruning keeps the chain verifiable by leaving a signed anchor.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, verify as verifySig, type KeyObject } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { EventBus } from '../../kernel/events.ts';
import { reposFor, type AuditEventRow, type CheckpointRow, type Database, type Executor } from '../../storage/index.ts';
import { actorString, type Ctx } from '../context.ts';
import type { KeyService } from '../keys/index.ts';
import { anchorPayload, canonOf, ChainChecker, checkpointPayload, cleanField, eventHash, GENESIS_HASH, parseCanon, rangeDigest, redactionPayload, sha256hex, type RedactionCheck } from './chain.ts';

export type Outcome = 'ok' | 'denied' | 'error';

export interface AuditInput {
  actor: string;
  action: string;
  /** What was acted on: `site:<id>`, `device:<pseudonym>`; never a raw identifier. */
  target: string;
  requestId: string;
  outcome: Outcome;
  /** Small JSON-able facts (field names, counts, purpose); never personal data in clear. */
  details?: Record<string, unknown>;
  atMs?: number;
}

export interface VerifyResult {
  ok: boolean;
  orgId: string;
  eventsChecked: number;
  checkpointsChecked: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The first event found bad, with why. */
  firstBad?: { seq: number; reason: string };
}

interface Signer {
  id: string;
  priv: KeyObject;
}

export class AuditService {
  private signers = new Map<string, Promise<Signer>>();
  constructor(
    private readonly keys: KeyService,
    private readonly clock: Clock,
    private readonly checkpointEvery: number,
    private readonly bus?: EventBus,
  ) {}

  /** Append one event from a context, inside the caller's transaction. */
  async record(x: Executor, ctx: Ctx, orgId: string, action: string, target: string, details?: Record<string, unknown>, outcome: Outcome = 'ok'): Promise<void> {
    await this.append(x, orgId, [{ actor: actorString(ctx.actor), action, target, requestId: ctx.requestId, outcome, details }]);
  }

  /**
   * Append events to an org's chain inside the caller's transaction (the head row is locked on
   * PostgreSQL, and SQLite transactions are serialised, so chains never fork). When the chain has
   * grown by `checkpointEvery` since its last checkpoint, a signed checkpoint is written too.
   */
  async append(x: Executor, orgId: string, inputs: AuditInput[]): Promise<number> {
    if (inputs.length === 0) return 0;
    const repo = reposFor(x).audit;
    const head = await repo.lockHead(orgId, GENESIS_HASH);
    let { seq, hash } = head;
    const rows: AuditEventRow[] = new Array(inputs.length);
    const now = this.clock.nowMs();
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i]!;
      seq += 1;
      const atMs = inp.atMs ?? now;
      const canon = canonOf({
        seq,
        atMs,
        actor: cleanField(inp.actor),
        action: cleanField(inp.action, 128),
        target: cleanField(inp.target),
        requestId: cleanField(inp.requestId, 128),
        outcome: inp.outcome,
        details: JSON.stringify(inp.details ?? {}),
      });
      hash = eventHash(hash, orgId, canon);
      rows[i] = { org_id: orgId, seq, at_ms: atMs, canon, hash };
    }
    await repo.insertEvents(rows);
    await repo.setHead(orgId, seq, hash);
    if (seq - head.checkpoint_seq >= this.checkpointEvery) await this.writeCheckpoint(x, orgId, head.checkpoint_seq, seq, hash);
    this.bus?.emit('audit.appended', { orgId, seq });
    return seq;
  }

  /** Record a refused attempt in its own transaction (there is no change to join). */
  async recordDenied(db: Database, ctx: Ctx, orgId: string, action: string, target: string): Promise<void> {
    await db.tx((x) => this.record(x, ctx, orgId, action, target, {}, 'denied'));
  }

  /**
   * Sign a checkpoint at the head of an org's chain, covering everything since its last
   * checkpoint, after checking those events one by one (so a signature never vouches for a range
   * that was already tampered with). Returns undefined when there is nothing new to sign.
   */
  async checkpointNow(db: Database, orgId: string): Promise<CheckpointRow | undefined> {
    return db.tx(async (x) => {
      const repo = reposFor(x).audit;
      const head = await repo.lockHead(orgId, GENESIS_HASH);
      if (head.seq === 0 || head.checkpoint_seq >= head.seq) return undefined;
      const last = await repo.lastCheckpoint(orgId);
      const anchor = await repo.anchor(orgId);
      const from = Math.max(last?.seq ?? 0, anchor?.seq ?? 0, head.checkpoint_seq);
      const startHash = last && last.seq === from ? last.hash : anchor && anchor.seq === from ? anchor.hash : from === 0 ? GENESIS_HASH : null;
      if (startHash === null) return undefined;
      const checker = new ChainChecker(orgId, from + 1, startHash, await this.redactionCheck(x, orgId));
      for (let after = from; ; ) {
        const page = await repo.page(orgId, after, 20_000, head.seq);
        for (const r of page) if (checker.check(r.seq, r.canon, r.hash)) return undefined;
        if (page.length < 20_000) break;
        after = page[page.length - 1]!.seq;
      }
      if (checker.expected !== head.seq + 1 || checker.prev !== head.hash) return undefined;
      return this.writeCheckpoint(x, orgId, from, head.seq, head.hash);
    });
  }

  /**
   * Sign the head of every org whose chain grew since its last checkpoint, as CloudTrail signs a
   * digest file every hour. Returns how many checkpoints were written.
   */
  async checkpointAll(directory: { list(): Promise<{ org_id: string; region: string }[]> }, storeOf: (region: string) => Database): Promise<number> {
    let n = 0;
    for (const d of await directory.list()) if (await this.checkpointNow(storeOf(d.region), d.org_id)) n++;
    return n;
  }

  private async writeCheckpoint(x: Executor, orgId: string, fromSeq: number, seq: number, hash: string): Promise<CheckpointRow> {
    const repo = reposFor(x).audit;
    const range = await repo.rangeBody(orgId, fromSeq, seq);
    if (range.count !== seq - fromSeq) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit range ${fromSeq}..${seq} of org ${orgId} is incomplete; not signing it.`);
    const digest = rangeDigest(orgId, range.body);
    const s = await this.signer(x);
    const at = this.clock.nowMs();
    const row: CheckpointRow = { org_id: orgId, seq, from_seq: fromSeq, hash, range_digest: digest, at_ms: at, key_id: s.id, signature: sign(null, checkpointPayload(orgId, fromSeq, seq, hash, digest, at), s.priv).toString('base64') };
    await repo.insertCheckpoint(row);
    await repo.setCheckpointSeq(orgId, seq);
    return row;
  }

  /** The region's signing key, created on first use and stored wrapped by the master key. */
  private signer(x: Executor): Promise<Signer> {
    let p = this.signers.get(x.name);
    if (!p) {
      p = (async () => {
        const repo = reposFor(x).keys;
        let row = await repo.latestSigningKey();
        if (!row) {
          const { privateKey, publicKey } = generateKeyPairSync('ed25519');
          const id = newId();
          row = { id, public_pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), private_wrapped: await this.keys.wrapSecret(privateKey.export({ type: 'pkcs8', format: 'der' }), `audit-signing|${id}`), created_at: this.clock.nowMs() };
          await repo.insertSigningKey(row);
        }
        const priv = createPrivateKey({ key: await this.keys.unwrapSecret(row.private_wrapped, `audit-signing|${row.id}`), format: 'der', type: 'pkcs8' });
        return { id: row.id, priv };
      })();
      p.catch(() => this.signers.delete(x.name));
      this.signers.set(x.name, p);
    }
    return p;
  }

  /**
   * Create the region's signing key if it has none, in its own transaction, before any event is
   * appended (so a rolled-back append never leaves a cached key that was not stored).
   */
  async init(db: Database): Promise<void> {
    await db.tx((x) => this.signer(x).then(() => undefined));
  }

  /** Public keys that verify this region's checkpoints (for external verifiers). */
  async publicKeys(db: Database): Promise<{ id: string; publicKeyPem: string }[]> {
    return (await reposFor(db).keys.listSigningKeys()).map((k) => ({ id: k.id, publicKeyPem: k.public_pem }));
  }

  /**
   * Verify an org's chain from its anchor (or genesis) to its head: detects altered, deleted,
   * inserted, reordered and truncated events, and forged checkpoints or anchors; names the first
   * bad event. Signed ranges are checked whole; the rest event by event.
   */
  async verify(db: Database, orgId: string): Promise<VerifyResult> {
    const repo = reposFor(db).audit;
    const pubs = new Map<string, KeyObject>();
    for (const k of await reposFor(db).keys.listSigningKeys()) pubs.set(k.id, createPublicKey(k.public_pem));
    const sigOk = (keyId: string, payload: Buffer, signature: string): boolean => {
      const pub = pubs.get(keyId);
      return !!pub && verifySig(null, payload, pub, Buffer.from(signature, 'base64'));
    };
    const result: VerifyResult = { ok: true, orgId, eventsChecked: 0, checkpointsChecked: 0, firstSeq: null, lastSeq: null };
    const fail = (seq: number, reason: string): VerifyResult => ({ ...result, ok: false, firstBad: { seq, reason } });

    const anchor = await repo.anchor(orgId);
    if (anchor && !sigOk(anchor.key_id, anchorPayload(orgId, anchor.seq, anchor.hash, anchor.at_ms), anchor.signature)) return fail(anchor.seq + 1, 'prune anchor signature does not verify');
    let pos = anchor ? anchor.seq : 0;
    let prev = anchor ? anchor.hash : GENESIS_HASH;

    const redacted = await this.redactionCheck(db, orgId);
    const checkpoints = (await repo.checkpoints(orgId)).filter((c) => c.seq > pos);
    for (const c of checkpoints) {
      if (!sigOk(c.key_id, checkpointPayload(orgId, c.from_seq, c.seq, c.hash, c.range_digest, c.at_ms), c.signature)) return fail(c.seq, `checkpoint at seq ${c.seq} has an invalid signature`);
    }

    /** Walk (pos, to] event by event from `prev`; on success move pos/prev to the end. */
    const walk = async (to: number, signedEnd?: CheckpointRow): Promise<VerifyResult | null> => {
      const checker = new ChainChecker(orgId, pos + 1, prev, redacted);
      for (let after = pos; ; ) {
        const page = await repo.page(orgId, after, 20_000, to);
        for (const r of page) {
          const bad = checker.check(r.seq, r.canon, r.hash);
          if (bad) return fail(checker.expected, bad);
          result.firstSeq ??= r.seq;
          result.lastSeq = r.seq;
          result.eventsChecked++;
        }
        if (page.length < 20_000) break;
        after = page[page.length - 1]!.seq;
      }
      const last = checker.expected - 1;
      if (signedEnd) {
        if (last < signedEnd.seq) return fail(last + 1, `events after seq ${last} are missing: a signed checkpoint covers seq ${signedEnd.seq} (truncated)`);
        if (checker.prev !== signedEnd.hash) return fail(signedEnd.seq, `event ${signedEnd.seq} differs from its signed checkpoint`);
        result.checkpointsChecked++;
      }
      pos = last;
      prev = checker.prev;
      return null;
    };

    for (const c of checkpoints) {
      const aligned = c.from_seq === pos;
      if (aligned) {
        const range = await repo.rangeBody(orgId, c.from_seq, c.seq);
        if (range.count === c.seq - c.from_seq && rangeDigest(orgId, range.body) === c.range_digest) {
          // The whole range is byte-for-byte what was signed; its last event's hash is signed too.
          result.firstSeq ??= c.from_seq + 1;
          result.lastSeq = c.seq;
          result.eventsChecked += range.count;
          result.checkpointsChecked++;
          pos = c.seq;
          prev = c.hash;
          continue;
        }
      }
      const before = pos;
      const bad = await walk(c.seq, c);
      if (bad) return bad;
      // The events chain correctly to the signed hash yet their texts differ from the signed digest.
      if (aligned) return fail(before + 1, `events ${before + 1}..${c.seq} differ from their signed checkpoint range`);
    }
    const tail = await walk(Number.MAX_SAFE_INTEGER);
    if (tail) return tail;
    const head = await repo.head(orgId);
    if (head && (head.seq !== pos || head.hash !== prev)) return fail(pos + 1, `the chain ends at seq ${pos} but its head says seq ${head.seq} (truncated or altered)`);
    if (!head && pos > 0) return fail(pos, 'the chain head is missing');
    return result;
  }

  /**
   * Delete events older than `beforeMs` in bounded batches, each batch in its own transaction
   * that also moves the signed anchor, so what remains still verifies. An event's own recorded
   * time (inside its hashed canon) must be old too: a tampered time column cannot get a recent
   * event pruned. Returns rows deleted.
   */
  async prune(db: Database, orgId: string, beforeMs: number, batchRows: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await db.tx(async (x) => {
        const repo = reposFor(x).audit;
        const head = await repo.head(orgId);
        const rows = await repo.oldestBefore(orgId, beforeMs, batchRows);
        // Never prune the head: the newest event always stays, so the chain has a visible end.
        const keep: AuditEventRow[] = [];
        for (const r of rows) {
          if ((head && r.seq >= head.seq) || parseCanon(r.canon).atMs >= beforeMs) break;
          keep.push(r);
        }
        if (keep.length === 0) return 0;
        const last = keep[keep.length - 1]!;
        const deleted = await repo.deleteThrough(orgId, last.seq);
        const s = await this.signer(x);
        const at = this.clock.nowMs();
        await repo.setAnchor({ org_id: orgId, seq: last.seq, hash: last.hash, at_ms: at, key_id: s.id, signature: sign(null, anchorPayload(orgId, last.seq, last.hash, at), s.priv).toString('base64') });
        await repo.deleteCheckpointsFrom(orgId, last.seq);
        return deleted;
      });
      total += n;
      if (n < batchRows) return total;
    }
  }

  /**
   * How verification accepts redacted events: each stored redaction whose signature (region key)
   * covers the event's seq, previous hash, own hash and the SHA-256 of its present text.
   */
  private async redactionCheck(x: Executor, orgId: string): Promise<RedactionCheck | undefined> {
    const rows = await reposFor(x).audit.redactions(orgId);
    if (rows.length === 0) return undefined;
    const pubs = new Map<string, KeyObject>();
    for (const k of await reposFor(x).keys.listSigningKeys()) pubs.set(k.id, createPublicKey(k.public_pem));
    const bySeq = new Map(rows.map((r) => [Number(r.seq), r]));
    return (seq, prevHash, hash, canon) => {
      const r = bySeq.get(seq);
      const pub = r && pubs.get(r.key_id);
      return !!r && !!pub && r.canon_digest === sha256hex(canon) && verifySig(null, redactionPayload(orgId, seq, prevHash, hash, r.canon_digest, Number(r.at_ms)), pub, Buffer.from(r.signature, 'base64'));
    };
  }

  /**
   * Erase a data subject's tokens (their pseudonyms, record ids) from an org's audit events, inside
   * the caller's transaction (R-PRIV-4 erasure). Each changed event keeps its chain hash; the region
   * key signs (seq, previous hash, hash, SHA-256 of the new text), and every signed checkpoint whose
   * range holds a changed event is re-signed over the new texts. Only an intact chain is redacted:
   * each event's hash must follow from its predecessor's before its text changes, and each range
   * to be re-signed must chain to its signed end hash. Returns how many events changed.
   *
   * @example await audit.redact(x, orgId, [devicePseudonym, personId]) // events now say "[erased]"
   */
  async redact(x: Executor, orgId: string, needles: readonly string[], replacement = '[erased]'): Promise<number> {
    const wanted = [...new Set(needles)].filter((n) => n.length >= 8);
    if (wanted.length === 0) return 0;
    const repo = reposFor(x).audit;
    const rows = await repo.containing(orgId, wanted);
    if (rows.length === 0) return 0;
    const check = await this.redactionCheck(x, orgId);
    const anchor = await repo.anchor(orgId);
    const prevOf = async (seq: number): Promise<string> => {
      if (anchor && Number(anchor.seq) === seq - 1) return anchor.hash;
      if (seq === 1) return GENESIS_HASH;
      const p = (await repo.page(orgId, seq - 2, 1))[0];
      if (!p || Number(p.seq) !== seq - 1) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit event ${seq - 1} of org ${orgId} is missing; not redacting.`);
      return p.hash;
    };
    const s = await this.signer(x);
    const at = this.clock.nowMs();
    const changed: number[] = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      const prev = await prevOf(seq);
      if (eventHash(prev, orgId, r.canon) !== r.hash && !check?.(seq, prev, r.hash, r.canon)) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit event ${seq} of org ${orgId} does not verify; not redacting.`);
      let canon = r.canon;
      for (const n of wanted) canon = canon.split(n).join(replacement);
      if (canon === r.canon) continue;
      const digest = sha256hex(canon);
      await repo.putRedaction({ org_id: orgId, seq, at_ms: at, canon_digest: digest, key_id: s.id, signature: sign(null, redactionPayload(orgId, seq, prev, r.hash, digest, at), s.priv).toString('base64') });
      await repo.setCanon(orgId, seq, canon);
      changed.push(seq);
    }
    if (changed.length === 0) return 0;
    const after = await this.redactionCheck(x, orgId);
    for (const c of await repo.checkpoints(orgId)) {
      if (!changed.some((q) => q > c.from_seq && q <= c.seq)) continue;
      const start = Number(c.from_seq) === 0 ? GENESIS_HASH : await prevOf(Number(c.from_seq) + 1);
      const checker = new ChainChecker(orgId, Number(c.from_seq) + 1, start, after);
      for (const e of await repo.page(orgId, c.from_seq, c.seq - c.from_seq, c.seq)) {
        const bad = checker.check(Number(e.seq), e.canon, e.hash);
        if (bad) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit range ${c.from_seq}..${c.seq} of org ${orgId} does not verify (${bad}); not re-signing it.`);
      }
      if (checker.prev !== c.hash) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit range ${c.from_seq}..${c.seq} of org ${orgId} does not end at its signed hash; not re-signing it.`);
      const digest = rangeDigest(orgId, (await repo.rangeBody(orgId, c.from_seq, c.seq)).body);
      await repo.resignCheckpoint({ ...c, range_digest: digest, at_ms: at, key_id: s.id, signature: sign(null, checkpointPayload(orgId, c.from_seq, c.seq, c.hash, digest, at), s.priv).toString('base64') });
    }
    return changed.length;
  }

  /** Newest events first, for the API (paged by `beforeSeq`). */
  async list(db: Database, orgId: string, beforeSeq: number, limit: number): Promise<AuditEventRow[]> {
    return reposFor(db).audit.recent(orgId, beforeSeq, Math.min(Math.max(limit, 1), 1000));
  }
}

export function assertChainOk(r: VerifyResult): void {
  if (!r.ok) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit chain of org ${r.orgId} is broken at seq ${r.firstBad?.seq}: ${r.firstBad?.reason}`);
}
