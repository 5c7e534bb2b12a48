/**
 * Test-only: a real HTTP webhook receiver on a free loopback port that keeps every request
 * (headers, raw body, arrival time) and answers with a status the test chooses per request (a
 * run of 503s, a 410, a slow answer). Tests and benchmarks post to it instead of mocking the
 * sender. Nothing in the product imports this file.
 */
import http from 'node:http';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Arrival (wall clock, `performance.now()` ms). */
  atPerfMs: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Status (and optional Retry-After seconds) for request number `n` (0-based); default 200. */
  answer: (n: number, req: ReceivedRequest) => { status: number; retryAfterSeconds?: number; delayMs?: number };
  /** Called on each request as it arrives (benchmarks time it). */
  onRequest?: (req: ReceivedRequest) => void;
  /** Resolves once `n` requests arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  const r: WebhookReceiver = {
    url: '',
    requests,
    answer: () => ({ status: 200 }),
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (requests.length < n) {
        if (Date.now() > until) throw new Error(`webhook receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return requests.slice(0, n);
    },
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: ReceivedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), atPerfMs: performance.now() };
      const n = requests.length;
      requests.push(got);
      r.onRequest?.(got);
      for (const w of waiters.splice(0)) w();
      const a = r.answer(n, got);
      const send = () => {
        res.writeHead(a.status, a.retryAfterSeconds !== undefined ? { 'retry-after': String(a.retryAfterSeconds) } : {});
        res.end('{}');
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  r.url = `http://127.0.0.1:${port}/hooks/cairn`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}
