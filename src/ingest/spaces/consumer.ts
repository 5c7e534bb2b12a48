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
 * and the checkpoint only after `onRecord` resolved, so a failing sink sees it again after the
 * reconnect. Across restarts, persist `lastRecordTimestamp` and pass it back as
 * `fromTimestamp`; the sink stays idempotent on `sourceRecordId`.
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

export interface FirehoseConsumerOptions {
  /** Full endpoint URL, e.g. `https://partners.ciscospaces.io/api/partners/v1/firehose/events`. */
  url: string;
  /** The partner app's API key. Secret: sent only as the `X-API-Key` header, never logged. */
  apiKey: string;
  /** The sink. Called once per event record (keep-alives are not passed on), in stream order. */
  onRecord: (record: SpacesRecord) => void | Promise<void>;
  /** Where to start, epoch ms (a persisted checkpoint). Omitted: the latest events only. */
  fromTimestamp?: number;
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
 * Stream a Spaces firehose into `onRecord` until `stop()`.
 *
 * @example
 * const c = new SpacesFirehoseConsumer({ url, apiKey, fromTimestamp: saved, onRecord: (r) => pipeline.push(r) });
 * const done = c.run(); … await c.stop(); await done; save(c.lastRecordTimestamp);
 */
export class SpacesFirehoseConsumer {
  readonly stats: FirehoseStats = { connections: 0, delivered: 0, duplicates: 0, keepAlives: 0, skipped: 0 };
  private readonly seen: LruSet;
  private last: number | undefined;
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
    this.seen = new LruSet(opts.dedupCapacity ?? 100_000);
  }

  /** The highest `recordTimestamp` delivered (or passed as a keep-alive): the checkpoint to persist. */
  get lastRecordTimestamp(): number | undefined {
    return this.last;
  }

  /** Run until `stop()`. Rejects only on a fatal refusal (401/403: `CAIRN_ERR_UNAUTHENTICATED`). */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Stop streaming; resolves once the loop has ended. */
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
   * whether anything new was delivered and why it ended. Throws only when the key is refused.
   */
  private async connectOnce(attempt: number): Promise<{ progressed: boolean; reason: string }> {
    const url = new URL(this.opts.url);
    const from = this.resumeFrom();
    if (from !== undefined) url.searchParams.set('fromTimestamp', String(from));
    const maxLine = this.opts.maxLineBytes ?? INGEST_LIMITS.maxLineBytes;
    let progressed = false;
    this.idled = false;
    this.stats.connections++;
    try {
      const res = await this.open(url);
      if (res.statusCode === 401 || res.statusCode === 403) {
        res.resume();
        throw new CairnError('CAIRN_ERR_UNAUTHENTICATED', 'The Spaces firehose refused the API key.');
      }
      if (res.statusCode !== 200) {
        res.resume();
        return { progressed, reason: `http_${res.statusCode ?? 0}` };
      }
      this.emit({ state: 'streaming', attempt });
      let pending: Buffer[] = [];
      let pendingLen = 0;
      let dropping = false;
      for await (const chunk of res as AsyncIterable<Buffer>) {
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
          if (dropping || pendingLen + piece.length > maxLine) {
            this.skip('line_too_long');
          } else if (await this.handleLine(pendingLen > 0 ? Buffer.concat([...pending, piece]) : piece)) {
            progressed = true;
          }
          dropping = false;
          pending = [];
          pendingLen = 0;
        }
      }
      // The server ended the response; a partial last line is discarded and replayed on resume.
      return { progressed, reason: this.idled ? 'idle' : 'ended' };
    } catch (e) {
      if (isCairnError(e) && e.code === 'CAIRN_ERR_UNAUTHENTICATED') throw e;
      return { progressed, reason: e instanceof SinkError ? 'sink_error' : this.idled ? 'idle' : 'disconnected' };
    } finally {
      this.req = undefined;
    }
  }

  private skip(reason: string): void {
    this.stats.skipped++;
    this.opts.onSkip?.(reason);
  }

  /** Parse, de-duplicate and deliver one line; true when it was new. */
  private async handleLine(buf: Buffer): Promise<boolean> {
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 13) end--;
    if (end === 0) return false;
    let rec: SpacesRecord;
    try {
      rec = parseSpacesLine(buf.toString('utf8', 0, end), this.opts.parse);
    } catch (e) {
      if (!isCairnError(e)) throw e;
      this.skip(ingestReasonOf(e));
      return false;
    }
    if (this.seen.has(rec.recordUid)) {
      this.stats.duplicates++;
      return false;
    }
    if (rec.keepAlive) {
      this.stats.keepAlives++;
    } else {
      try {
        await this.opts.onRecord(rec);
      } catch (e) {
        throw new SinkError(e);
      }
      this.stats.delivered++;
    }
    this.seen.add(rec.recordUid);
    if (this.last === undefined || rec.recordTimestamp > this.last) this.last = rec.recordTimestamp;
    return true;
  }
}

/** The sink threw: reconnect and replay from the checkpoint. */
class SinkError extends Error {
  constructor(readonly inner: unknown) {
    super('firehose sink failed');
  }
}
