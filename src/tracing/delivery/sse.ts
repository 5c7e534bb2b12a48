/**
 * Server-sent events for live views (dashboards, wall screens): one `text/event-stream` response
 * per subscriber, named events with JSON data and increasing ids, a comment line as heartbeat so
 * proxies keep the connection, and a bound on what a slow reader may leave buffered (beyond it
 * the stream is closed; the browser's EventSource reconnects and gets a fresh snapshot). Works on
 * any Node `ServerResponse`-like writable; the HTTP layer hands it the raw response.
 */

/** The part of a Node response a stream writes to. */
export interface SseTarget {
  writeHead(status: number, headers: Record<string, string>): unknown;
  write(chunk: string): boolean;
  end(): unknown;
  readonly writableLength: number;
  on(event: 'close', cb: () => void): unknown;
}

export interface SseOptions {
  /** Heartbeat interval, ms (default 15 s). */
  heartbeatMs?: number;
  /** Close after this many events (a client that wants one snapshot asks for 1). */
  maxEvents?: number;
  /** Close when more than this is buffered for a slow reader, bytes (default 1 MiB). */
  maxBufferedBytes?: number;
}

/** One open event stream. */
export class SseStream {
  private seq = 0;
  private closed = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onClosed: (() => void)[] = [];

  constructor(
    private readonly res: SseTarget,
    private readonly opts: SseOptions = {},
  ) {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': cairn live stream\n\n');
    this.heartbeat = setInterval(() => this.comment('heartbeat'), opts.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
    res.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Run `cb` once the stream closes (either side). */
  whenClosed(cb: () => void): void {
    if (this.closed) cb();
    else this.onClosed.push(cb);
  }

  /**
   * Send one event; false when the stream is (now) closed.
   *
   * @example stream.send('occupancy', { zones: [...] })
   */
  send(event: string, data: unknown): boolean {
    if (this.closed) return false;
    if (this.res.writableLength > (this.opts.maxBufferedBytes ?? 1_048_576)) {
      this.close();
      return false;
    }
    this.seq++;
    this.res.write(`id: ${this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    if (this.opts.maxEvents !== undefined && this.seq >= this.opts.maxEvents) {
      this.close();
      return false;
    }
    return true;
  }

  private comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    try {
      this.res.end();
    } catch {
      // already gone
    }
    for (const cb of this.onClosed.splice(0)) cb();
  }
}
