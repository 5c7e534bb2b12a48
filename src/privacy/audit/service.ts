/**
 * The audit log (R-SEC-5, R-DATA-6). Every mutation and every read of personal data writes an
 * event (actor, org, action, target, request id, time, outcome) in the same transaction as the
 * change; denied attempts are written too. Events form a hash chain per org; every
 * `checkpointEvery` events a checkpoint (sequence, hash, time) is signed with the region's
 * Ed25519 key, as CloudTrail signs its digest files. Pruning keeps the chain verifiable by
 * leaving a signed anchor: the sequence and hash of the last pruned event.
 */
import { generateKeyPairSync, createPrivateKey, createPublicKey, sign, verify as verifySig, type KeyObject } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { EventBus } from '../../kernel/events.ts';
import { reposFor, AUDIT_COLS, SqliteDatabase, type AuditEventRow, type CheckpointRow, type Database, type Executor } from '../../storage/index.ts';
import { actorString, type Ctx } from '../context.ts';
import type { KeyService } from '../keys/index.ts';
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ChainChecker, cleanField, eventHash, GENESIS_HASH, signedPayload } from './chain.ts';
import type { SliceJob, SliceResult } from './verify-worker.ts';

/** Chains longer than this are verified in parallel slices on worker threads (SQLite). */
const PARALLEL_MIN_EVENTS = 100_000;

/** The worker's module: the TypeScript source under tsx, the bundled file in dist/. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('./verify-worker.ts', import.meta.url) : new URL('./audit-verify-worker.js', import.meta.url);
}

function runSlice(job: SliceJob): Promise<SliceResult> {
  return new Promise((resolve, reject) => {
    // Under tsx (tests, bench) the worker registers the TypeScript loader before importing the source.
    const w = import.meta.url.endsWith('.ts')
      ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl().href)}); })`, { eval: true, workerData: job })
      : new Worker(workerUrl(), { workerData: job });
    w.once('message', (m: SliceResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`verification worker exited ${code}`)));
  });
}

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
  pubs: Map<string, KeyObject>;
}

export class AuditService {
  /** Chains with at least this many events are verified in parallel slices (SQLite). */
  parallelMinEvents = PARALLEL_MIN_EVENTS;
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
   * PostgreSQL, and SQLite transactions are serialised, so chains never fork).
   */
  async append(x: Executor, orgId: string, inputs: AuditInput[]): Promise<number> {
    if (inputs.length === 0) return 0;
    const repo = reposFor(x).audit;
    const head = await repo.lockHead(orgId, GENESIS_HASH);
    let { seq, hash } = head;
    const rows: AuditEventRow[] = new Array(inputs.length);
    const now = this.clock.nowMs();
    const checkpoints: { seq: number; hash: string }[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const inp = inputs[i]!;
      seq += 1;
      const row: AuditEventRow = {
        org_id: orgId,
        seq,
        at_ms: inp.atMs ?? now,
        actor: cleanField(inp.actor),
        action: cleanField(inp.action, 128),
        target: cleanField(inp.target),
        request_id: cleanField(inp.requestId, 128),
        outcome: inp.outcome,
        details: JSON.stringify(inp.details ?? {}),
        prev_hash: hash,
        hash: '',
      };
      row.hash = eventHash(hash, row);
      hash = row.hash;
      rows[i] = row;
      if (seq % this.checkpointEvery === 0) checkpoints.push({ seq, hash });
    }
    await repo.insertEvents(rows);
    await repo.setHead(orgId, seq, hash);
    for (const c of checkpoints) await this.writeCheckpoint(x, orgId, c.seq, c.hash);
    this.bus?.emit('audit.appended', { orgId, seq });
    return seq;
  }

  /** Record a refused attempt in its own transaction (there is no change to join). */
  async recordDenied(db: Database, ctx: Ctx, orgId: string, action: string, target: string): Promise<void> {
    await db.tx((x) => this.record(x, ctx, orgId, action, target, {}, 'denied'));
  }

  /**
   * Sign a checkpoint at the head of every org whose chain grew since its last checkpoint, as
   * CloudTrail signs a digest file every hour. Returns how many were written.
   */
  async checkpointAll(directory: { list(): Promise<{ org_id: string; region: string }[]> }, storeOf: (region: string) => Database): Promise<number> {
    let n = 0;
    for (const d of await directory.list()) {
      const db = storeOf(d.region);
      const repo = reposFor(db).audit;
      const head = await repo.head(d.org_id);
      if (!head || head.seq === 0) continue;
      const last = (await repo.checkpoints(d.org_id)).at(-1);
      if (last && last.seq >= head.seq) continue;
      if (await this.checkpointNow(db, d.org_id)) n++;
    }
    return n;
  }

  /** Sign a checkpoint at the current head now (used by `audit verify` and on a schedule). */
  async checkpointNow(db: Database, orgId: string): Promise<CheckpointRow | undefined> {
    return db.tx(async (x) => {
      const head = await reposFor(x).audit.head(orgId);
      if (!head || head.seq === 0) return undefined;
      return this.writeCheckpoint(x, orgId, head.seq, head.hash);
    });
  }

  private async writeCheckpoint(x: Executor, orgId: string, seq: number, hash: string): Promise<CheckpointRow> {
    const s = await this.signer(x);
    const at = this.clock.nowMs();
    const row: CheckpointRow = { org_id: orgId, seq, hash, at_ms: at, key_id: s.id, signature: sign(null, signedPayload('checkpoint', orgId, seq, hash, at), s.priv).toString('base64') };
    await reposFor(x).audit.insertCheckpoint(row);
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
        const pubs = new Map<string, KeyObject>();
        for (const k of await repo.listSigningKeys()) pubs.set(k.id, createPublicKey(k.public_pem));
        return { id: row.id, priv, pubs };
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
   * bad event.
   */
  async verify(db: Database, orgId: string): Promise<VerifyResult> {
    const repo = reposFor(db).audit;
    const pubs = new Map<string, KeyObject>();
    for (const k of await reposFor(db).keys.listSigningKeys()) pubs.set(k.id, createPublicKey(k.public_pem));
    const checkSig = (kind: 'checkpoint' | 'anchor', c: CheckpointRow): boolean => {
      const pub = pubs.get(c.key_id);
      return !!pub && verifySig(null, signedPayload(kind, orgId, c.seq, c.hash, c.at_ms), pub, Buffer.from(c.signature, 'base64'));
    };
    const result: VerifyResult = { ok: true, orgId, eventsChecked: 0, checkpointsChecked: 0, firstSeq: null, lastSeq: null };
    const fail = (seq: number, reason: string): VerifyResult => ({ ...result, ok: false, firstBad: { seq, reason } });

    const anchor = await repo.anchor(orgId);
    if (anchor && !checkSig('anchor', anchor)) return fail(anchor.seq + 1, 'prune anchor signature does not verify');
    let prev = anchor ? anchor.hash : GENESIS_HASH;
    let expected = anchor ? anchor.seq + 1 : 1;

    const checkpoints = (await repo.checkpoints(orgId)).filter((c) => c.seq >= expected);
    for (const c of checkpoints) {
      if (!checkSig('checkpoint', c)) return fail(c.seq, `checkpoint at seq ${c.seq} has an invalid signature`);
    }
    const cpBySeq = new Map(checkpoints.map((c) => [c.seq, c]));

    const checker = new ChainChecker(expected, prev);
    const check = (row: readonly unknown[]): string | null => {
      const why = checker.check(row);
      if (why) return why;
      const cp = cpBySeq.get(Number(row[1]));
      if (cp) {
        if (cp.hash !== checker.prev) return `event ${row[1]} differs from its signed checkpoint`;
        result.checkpointsChecked++;
      }
      return null;
    };
    const bounds = await repo.seqBounds(orgId);

    if (db instanceof SqliteDatabase && db.file !== ':memory:' && bounds && bounds.count >= this.parallelMinEvents && availableParallelism() > 1) {
      const slices = Math.min(availableParallelism(), 8);
      const from = Math.max(expected, bounds.min);
      if (from !== expected) return fail(expected, `event ${expected} is missing (next present is ${from})`);
      const size = Math.ceil((bounds.max - from + 1) / slices);
      const jobs: SliceJob[] = [];
      for (let a = from; a <= bounds.max; a += size) {
        const b = Math.min(bounds.max, a + size - 1);
        jobs.push({ file: db.file, orgId, from: a, to: b, checkpointSeqs: checkpoints.filter((c) => c.seq >= a && c.seq <= b).map((c) => c.seq) });
      }
      const parts = await Promise.all(jobs.map(runSlice));
      let link = prev;
      for (const p of parts) {
        if (p.firstPrev !== null && p.firstPrev !== link) return fail(p.from, `event ${p.from} does not link to the previous event (inserted, deleted or reordered)`);
        for (const [seq, h] of p.checkpointHashes) {
          if (cpBySeq.get(seq)!.hash !== h) return fail(seq, `event ${seq} differs from its signed checkpoint`);
          result.checkpointsChecked++;
        }
        if (p.bad) return { ...result, eventsChecked: result.eventsChecked + p.count, ok: false, firstBad: p.bad };
        result.eventsChecked += p.count;
        result.firstSeq ??= p.count > 0 ? p.from : null;
        if (p.count > 0) result.lastSeq = p.lastSeq;
        link = p.lastHash;
      }
      prev = link;
      expected = (result.lastSeq ?? expected - 1) + 1;
    } else if (db instanceof SqliteDatabase) {
      for (const row of db.iterateRaw(`SELECT ${AUDIT_COLS} FROM audit_events WHERE org_id = $1 ORDER BY seq`, [orgId])) {
        const bad = check(row);
        if (bad) return fail(checker.expected, bad);
        result.firstSeq ??= Number(row[1]);
        result.lastSeq = Number(row[1]);
        result.eventsChecked++;
      }
      prev = checker.prev;
      expected = checker.expected;
    } else {
      let after = expected - 1;
      for (;;) {
        const page = await repo.page(orgId, after, 20_000);
        for (const r of page) {
          const row = [r.org_id, r.seq, r.at_ms, r.actor, r.action, r.target, r.request_id, r.outcome, r.details, r.prev_hash, r.hash];
          const bad = check(row);
          if (bad) return fail(checker.expected, bad);
          result.firstSeq ??= r.seq;
          result.lastSeq = r.seq;
          result.eventsChecked++;
        }
        if (page.length < 20_000) break;
        after = page[page.length - 1]!.seq;
      }
      prev = checker.prev;
      expected = checker.expected;
    }
    const last = expected - 1;
    const beyond = checkpoints.find((c) => c.seq > last);
    if (beyond) return fail(last + 1, `events after seq ${last} are missing: a signed checkpoint covers seq ${beyond.seq} (truncated)`);
    const head = await repo.head(orgId);
    if (head && (head.seq !== last || head.hash !== prev)) return fail(last + 1, `the chain ends at seq ${last} but its head says seq ${head.seq} (truncated or altered)`);
    if (!head && last > 0) return fail(last, 'the chain head is missing');
    return result;
  }

  /**
   * Delete events older than `beforeMs` in bounded batches, each batch in its own transaction
   * that also moves the signed anchor, so what remains still verifies. Returns rows deleted.
   */
  async prune(db: Database, orgId: string, beforeMs: number, batchRows: number): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await db.tx(async (x) => {
        const repo = reposFor(x).audit;
        const head = await repo.head(orgId);
        const rows = await repo.oldestBefore(orgId, beforeMs, batchRows);
        // Never prune the head: the newest event always stays, so the chain has a visible end.
        const keep = rows.filter((r) => !head || r.seq < head.seq);
        if (keep.length === 0) return 0;
        const last = keep[keep.length - 1]!;
        const deleted = await repo.deleteThrough(orgId, last.seq);
        const s = await this.signer(x);
        const at = this.clock.nowMs();
        await repo.setAnchor({ org_id: orgId, seq: last.seq, hash: last.hash, at_ms: at, key_id: s.id, signature: sign(null, signedPayload('anchor', orgId, last.seq, last.hash, at), s.priv).toString('base64') });
        await repo.deleteCheckpointsBelow(orgId, last.seq + 1);
        return deleted;
      });
      total += n;
      if (n < batchRows) return total;
    }
  }

  /** Newest events first, for the API (paged by `beforeSeq`). */
  async list(db: Database, orgId: string, beforeSeq: number, limit: number): Promise<AuditEventRow[]> {
    return reposFor(db).audit.recent(orgId, beforeSeq, Math.min(Math.max(limit, 1), 1000));
  }
}

export function assertChainOk(r: VerifyResult): void {
  if (!r.ok) throw new CairnError('CAIRN_ERR_AUDIT_BROKEN', `Audit chain of org ${r.orgId} is broken at seq ${r.firstBad?.seq}: ${r.firstBad?.reason}`);
}
