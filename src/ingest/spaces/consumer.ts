/**
 * The Cisco Spaces firehose consumer: a long-lived HTTP GET on
 * `/api/partners/v1/firehose/events` (header `X-API-Key`) whose body is NDJSON, one event per
 * line. It de-duplicates on `recordUid` (bounded LRU), keeps the highest `recordTimestamp`
 * handed to the sink, and when the connection drops or goes idle it reconnects with exponential
 * back-off and jitter, resuming with `fromTimestamp` (epoch ms; the API's `0` means "latest
 * only", so it is never sent). It resumes a little before the checkpoint (`resumeOverlapMs`)
 * because events from Spaces' partitions are not strictly ordered; the LRU drops the replays.
 * Size the LRU above `resumeOverlapMs` × peak events per second.
 *
 * Delivery is in order and exactly once per process: a record enters the de-duplication set
 * and the checkpoint only after the sink resolved, so a failing sink sees it again after the
 * reconnect. `onRecord` takes one record at a time; `onBatch` takes the complete lines at hand
 * (up to `maxBatch`, after at most `lingerMs` of waiting for more) with the checkpoint they
 * lead to, so a store can commit the batch and the checkpoint in one transaction. Across
 * restarts, pass the persisted checkpoint back as `checkpoint`: the stream resumes the overlap
 * before it and drops the recordUids it lists (those committed inside the overlap).
 */
import http from 'node:http';
import https from 'node:https';
import { CairnError, isCairnError } from '../../kernel/errors.ts';
import { ingestReasonOf } from '../errors.ts';
import { INGEST_LIMITS } from '../read.ts';
import { parseSpacesLine, type SpacesOptions, type SpacesRecord } from './firehose.ts';
import { LruSet } from './lru.ts';

/** The region endpoints' path; the host is `partners.ciscospaces.io` (or `.eu`, `.sg`). */
export const SPACES_FIREHOSE_PATH = '/api/partners/v1/firehose/events';

export type FirehoseStateName = 'connecting' | 'streaming' | 'backoff' | 'stopped';

/** What `onStateChange` reports: for logs and a health endpoint (never holds the key). */
export interface FirehoseState {
  state: FirehoseStateName;
  /** Consecutive failed attempts (0 while healthy). */
  attempt: number;
  lastRecordTimestamp?: number;
  /** Wait before the next attempt, ms (state `backoff`). */
  delayMs?: number;
  /** Why the last connection ended, as a metrics label (`http_503`, `disconnected`, `idle`…). */
  reason?: string;
}

/**
 * Where a stream stands after a committed batch: persist it with the batch, pass it back as
 * `checkpoint` after a restart. `boundaryUids` are the recordUids committed at or after
 * `recordTimestamp − resumeOverlapMs` (at most `MAX_BOUNDARY_UIDS`, the newest), which the
 * resumed stream replays.
 */
export interface FirehoseCheckpoint {
  /** Highest `recordTimestamp` committed, epoch ms. */
  recordTimestamp: number;
  boundaryUids: string[];
}

/** What `onBatch` receives: event records (keep-alives only move the checkpoint) in stream order. */
export interface FirehoseBatch {
  records: SpacesRecord[];
  /** The checkpoint once this batch is committed. */
  checkpoint: FirehoseCheckpoint;
}

/** Most recordUids a checkpoint lists; beyond it the sink's own idempotence (`sourceRecordId`) catches replays. */
export const MAX_BOUNDARY_UIDS = 20_000;

export interface FirehoseConsumerOptions {
  /** Full endpoint URL, e.g. `https://partners.ciscospaces.io/api/partners/v1/firehose/events`. */
  url: string;
  /** The partner app's API key. Secret: sent only as the `X-API-Key` header, never logged. */
  apiKey: string;
  /** The sink, one record at a time (keep-alives are not passed on), in stream order. Give this or `onBatch`. */
  onRecord?: (record: SpacesRecord) => void | Promise<void>;
  /** The sink, a batch at a time with the checkpoint it leads to. Give this or `onRecord`. */
  onBatch?: (batch: FirehoseBatch) => Promise<void>;
  /** Most records in one batch (`onBatch`). Default 500. */
  maxBatch?: number;
  /** How long a partial batch waits for more lines before it is handed over, ms (`onBatch`). Default 200. */
  lingerMs?: number;
  /** Where to start, epoch ms. Omitted (and no `checkpoint`): the latest events only. */
  fromTimestamp?: number;
  /** A persisted checkpoint to resume from (wins over `fromTimestamp`). */
  checkpoint?: FirehoseCheckpoint;
  /** Options for each line's parser (`coordinateUnit`, `collect`…). */
  parse?: SpacesOptions;
  /** How many recent `recordUid`s to remember. Default 100 000. */
  dedupCapacity?: number;
  /** How far before the checkpoint to resume, ms. Default 5 000. */
  resumeOverlapMs?: number;
  /** First back-off delay, ms (default 1 000), doubling up to `maxBackoffMs` (default 60 000), with 50–100 % jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Reconnect when nothing (not even a keep-alive) arrived for this long, ms. Default 60 000. */
  idleTimeoutMs?: number;
  /** Longest line, bytes; longer lines are skipped. Default `INGEST_LIMITS.maxLineBytes`. */
  maxLineBytes?: number;
  /** A line that was skipped (bad JSON, bad record), with a reason label. */
  onSkip?: (reason: string) => void;
  onStateChange?: (state: FirehoseState) => void;
  /** Random source for jitter (tests pass a seeded one). */
  random?: () => number;
  /** HTTP(S) agent, e.g. for a proxy. */
  agent?: http.Agent;
}

/** Counters since start. */
export interface FirehoseStats {
  connections: number;
  delivered: number;
  duplicates: number;
  keepAlives: number;
  skipped: number;
}

/**
 * Stream a Spaces firehose into `onRecord` (or `onBatch`) until `stop()`.
 *
 * @example
 * const c = new SpacesFirehoseConsumer({ url, apiKey, checkpoint: saved, onBatch: ({ records, checkpoint }) => store(records, checkpoint) });
 * const done = c.run(); … await c.stop(); await done;
 */
export class SpacesFirehoseConsumer {
  readonly stats: FirehoseStats = { connections: 0, delivered: 0, duplicates: 0, keepAlives: 0, skipped: 0 };
  private readonly seen: LruSet;
  private last: number | undefined;
  /** Committed recordUids inside the resume overlap, with their timestamps (the checkpoint's boundary). */
  private readonly recent = new Map<string, number>();
  /** Parsed, new records not handed to the sink yet. */
  private pending: SpacesRecord[] = [];
  private readonly pendingUids = new Set<string>();
  /** Something was committed on the current connection. */
  private progressed = false;
  private stopped = false;
  private req: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private running: Promise<void> | undefined;
  /** Set when the current connection was cut for being idle (the stream then only sees a reset). */
  private idled = false;

  constructor(private readonly opts: FirehoseConsumerOptions) {
    const u = new URL(opts.url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new CairnError('CAIRN_ERR_CONFIG', 'The firehose URL must be http(s).');
    if (!opts.apiKey) throw new CairnError('CAIRN_ERR_CONFIG', 'The firehose API key is missing.');
    if (!opts.onRecord === !opts.onBatch) throw new CairnError('CAIRN_ERR_CONFIG', 'Give the firehose consumer onRecord or onBatch.');
    this.seen = new LruSet(opts.dedupCapacity ?? 100_000);
    const cp = opts.checkpoint;
    if (cp) {
      this.last = cp.recordTimestamp;
      // Their own times are not kept; the checkpoint's is the latest they can have.
      for (const uid of cp.boundaryUids) {
        this.seen.add(uid);
        this.recent.set(uid, cp.recordTimestamp);
      }
    }
  }

  /** The highest `recordTimestamp` delivered (or passed as a keep-alive): the checkpoint to persist. */
  get lastRecordTimestamp(): number | undefined {
    return this.last;
  }

  /** The committed checkpoint (undefined before anything was committed or resumed). */
  get checkpoint(): FirehoseCheckpoint | undefined {
    return this.last === undefined ? undefined : this.checkpointAfter([]);
  }

  /** Run until `stop()`. Rejects only on a fatal refusal (401/403: `CAIRN_ERR_UNAUTHENTICATED`). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stop streaming; resolves once the loop has ended (complete lines already received are committed first). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.req?.destroy();
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.running?.catch(() => undefined);
  }

  private emit(s: FirehoseState): void {
    this.opts.onStateChange?.(this.last === undefined ? s : { ...s, lastRecordTimestamp: this.last });
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      this.emit({ state: 'connecting', attempt });
      let outcome: { progressed: boolean; reason: string };
      try {
        outcome = await this.connectOnce(attempt);
      } catch (e) {
        this.stopped = true;
        this.emit({ state: 'stopped', attempt, reason: 'unauthenticated' });
        throw e;
      }
      if (this.stopped) break;
      attempt = outcome.progressed ? 0 : attempt + 1;
      const delayMs = this.backoffMs(attempt);
      this.emit({ state: 'backoff', attempt, delayMs, reason: outcome.reason });
      await this.sleep(delayMs);
    }
    this.emit({ state: 'stopped', attempt: 0 });
  }

  private backoffMs(attempt: number): number {
    const initial = this.opts.initialBackoffMs ?? 1_000;
    const max = this.opts.maxBackoffMs ?? 60_000;
    const base = Math.min(max, initial * 2 ** Math.min(attempt, 30));
    return Math.round(base * (0.5 + 0.5 * (this.opts.random ?? Math.random)()));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** The `fromTimestamp` to ask for: a little before the checkpoint, or the configured start. */
  private resumeFrom(): number | undefined {
    if (this.last !== undefined) return Math.max(1, this.last - (this.opts.resumeOverlapMs ?? 5_000));
    const f = this.opts.fromTimestamp;
    return f !== undefined && f > 0 ? f : undefined;
  }

  private open(url: URL): Promise<http.IncomingMessage> {
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<http.IncomingMessage>((resolve, rejectP) => {
      const headers = { 'x-api-key': this.opts.apiKey, accept: 'application/x-ndjson, application/json' };
      const req = lib.request(url, { method: 'GET', headers, agent: this.opts.agent }, resolve);
      this.req = req;
      req.setTimeout(this.opts.idleTimeoutMs ?? 60_000, () => {
        this.idled = true;
        req.destroy();
      });
      req.on('error', rejectP);
      req.end();
    });
  }

  /**
   * One connection: request, stream lines to the sink, return when the stream ends, saying
   * whether anything new was committed and why it ended. Throws only when the key is refused.
   */
  private async connectOnce(attempt: number): Promise<{ progressed: boolean; reason: string }> {
    const url = new URL(this.opts.url);
    const from = this.resumeFrom();
    if (from !== undefined) url.searchParams.set('fromTimestamp', String(from));
    this.progressed = false;
    this.idled = false;
    this.stats.connections++;
    let res: http.IncomingMessage | undefined;
    let reason: string;
    try {
      res = await this.open(url);
      if (res.statusCode === 401 || res.statusCode === 403) {
        res.resume();
        throw new CairnError('CAIRN_ERR_UNAUTHENTICATED', 'The Spaces firehose refused the API key.');
      }
      if (res.statusCode !== 200) {
        res.resume();
        return { progressed: false, reason: `http_${res.statusCode ?? 0}` };
      }
      this.emit({ state: 'streaming', attempt });
      await this.stream(res);
      // The server ended the response; a partial last line is discarded and replayed on resume.
      reason = this.idled ? 'idle' : 'ended';
    } catch (e) {
      if (isCairnError(e) && e.code === 'CAIRN_ERR_UNAUTHENTICATED') throw e;
      if (e instanceof SinkError) return { progressed: this.progressed, reason: 'sink_error' };
      reason = this.idled ? 'idle' : 'disconnected';
    } finally {
      this.req = undefined;
      res?.destroy();
    }
    // Complete lines that arrived before the cut are committed; the rest is replayed on resume.
    try {
      await this.flush();
    } catch (e) {
      if (!(e instanceof SinkError)) throw e;
      reason = 'sink_error';
    }
    return { progressed: this.progressed, reason };
  }

  /** Split the body into lines and hand them over; in batch mode a partial batch waits at most `lingerMs` for more. */
  private async stream(res: http.IncomingMessage): Promise<void> {
    const maxLine = this.opts.maxLineBytes ?? INGEST_LIMITS.maxLineBytes;
    const lingerMs = this.opts.lingerMs ?? 200;
    const it = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const pull = () => {
      const p = it.next();
      p.catch(() => undefined); // a read pending when a flush fails must not go unhandled
      return p;
    };
    let next = pull();
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let dropping = false;
    for (;;) {
      let r: IteratorResult<Buffer> | undefined;
      if (this.pending.length > 0) {
        r = await within(next, lingerMs);
        if (r === undefined) {
          await this.flush();
          continue;
        }
      } else {
        r = await next;
      }
      if (r.done) return;
      next = pull();
      const chunk = r.value;
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl === -1) {
          const rest = chunk.length - start;
          if (!dropping && pendingLen + rest > maxLine) {
            dropping = true;
            pending = [];
            pendingLen = 0;
          }
          if (!dropping && rest > 0) {
            pending.push(chunk.subarray(start));
            pendingLen += rest;
          }
          break;
        }
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (dropping || pendingLen + piece.length > maxLine) this.skip('line_too_long');
        else this.takeLine(pendingLen > 0 ? Buffer.concat([...pending, piece]) : piece);
        dropping = false;
        pending = [];
        pendingLen = 0;
        if (this.pending.length > 0 && (this.opts.onRecord || this.pending.length >= (this.opts.maxBatch ?? 500))) await this.flush();
      }
    }
  }

  private skip(reason: string): void {
    this.stats.skipped++;
    this.opts.onSkip?.(reason);
  }

  /** Parse and de-duplicate one line; a new record waits in `pending` for the next flush. */
  private takeLine(buf: Buffer): void {
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 13) end--;
    if (end === 0) return;
    let rec: SpacesRecord;
    try {
      rec = parseSpacesLine(buf.toString('utf8', 0, end), this.opts.parse);
    } catch (e) {
      if (!isCairnError(e)) throw e;
      this.skip(ingestReasonOf(e));
      return;
    }
    if (this.pendingUids.has(rec.recordUid) || this.seen.has(rec.recordUid)) {
      this.stats.duplicates++;
      return;
    }
    this.pending.push(rec);
    this.pendingUids.add(rec.recordUid);
  }

  /** The checkpoint once `batch` is committed: the highest time, and the uids inside the overlap before it. */
  private checkpointAfter(batch: readonly SpacesRecord[]): FirehoseCheckpoint {
    let last = this.last ?? -Infinity;
    for (const r of batch) if (r.recordTimestamp > last) last = r.recordTimestamp;
    const from = last - (this.opts.resumeOverlapMs ?? 5_000);
    const inside: [string, number][] = [];
    for (const [uid, ts] of this.recent) if (ts >= from) inside.push([uid, ts]);
    for (const r of batch) if (r.recordTimestamp >= from) inside.push([r.recordUid, r.recordTimestamp]);
    if (inside.length > MAX_BOUNDARY_UIDS) inside.sort((a, b) => b[1] - a[1]).length = MAX_BOUNDARY_UIDS;
    return { recordTimestamp: last, boundaryUids: inside.map(([uid]) => uid) };
  }

  /** Hand the pending records to the sink; once it resolved they are committed (seen, checkpointed). */
  private async flush(): Promise<void> {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingUids.clear();
    try {
      if (this.opts.onBatch) {
        await this.opts.onBatch({ records: batch.filter((r) => !r.keepAlive), checkpoint: this.checkpointAfter(batch) });
      } else {
        for (const r of batch) if (!r.keepAlive) await this.opts.onRecord!(r);
      }
    } catch (e) {
      throw new SinkError(e);
    }
    for (const r of batch) {
      if (r.keepAlive) this.stats.keepAlives++;
      else this.stats.delivered++;
      this.seen.add(r.recordUid);
      this.recent.set(r.recordUid, r.recordTimestamp);
      if (this.last === undefined || r.recordTimestamp > this.last) this.last = r.recordTimestamp;
    }
    const from = this.last! - (this.opts.resumeOverlapMs ?? 5_000);
    for (const [uid, ts] of this.recent) if (ts < from || this.recent.size > MAX_BOUNDARY_UIDS) this.recent.delete(uid);
    this.progressed = true;
  }
}

/** `p`, or undefined when it has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/** The sink threw: reconnect and replay from the checkpoint. */
class SinkError extends Error {
  constructor(readonly inner: unknown) {
    super('firehose sink failed');
  }
}
