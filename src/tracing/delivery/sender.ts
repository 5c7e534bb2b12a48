/**
 * The wire side of delivery: one webhook POST (node:http/https over keep-alive agents) or one
 * e-mail (nodemailer SMTP), each bounded in time and reported as an {@link Outcome}: a code a
 * person can act on (`http_503`, `timeout`, `connect_refused`, `smtp_550`), never a message text
 * or an address, and whether trying again can help. Targets on loopback, private or link-local
 * addresses are refused unless the operator allowed them (`deliveryAllowPrivateTargets`); the
 * check runs on the addresses actually connected to, so a DNS name cannot be re-pointed inward.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { createTransport } from 'nodemailer';

/** What became of one attempt. */
export interface Outcome {
  ok: boolean;
  /** HTTP status or SMTP reply code, when the other side answered. */
  status: number | null;
  /** Failure code (`http_500`, `timeout`, `connect_refused`, `dns`, `private_target`, `smtp_550`, …). */
  error: string | null;
  /** True when another attempt cannot succeed as things stand (4xx, 5xx SMTP, refused target). */
  permanent: boolean;
  /** The receiver asked to wait this long (HTTP Retry-After), ms. */
  retryAfterMs?: number;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
}

/**
 * True for addresses a tenant must not make the server reach by default: loopback, private,
 * carrier-grade NAT, link-local, unspecified, multicast and reserved ranges (IPv4, IPv6, and IPv4
 * mapped into IPv6).
 *
 * @example isPrivateAddress('169.254.169.254') === true; isPrivateAddress('192.0.2.1') === false
 */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || a >= 224 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 198 && (b === 18 || b === 19));
  }
  if (v === 6) {
    const s = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return s === '::' || s === '::1' || /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || s.startsWith('ff');
  }
  return true;
}

class PrivateTargetError extends Error {
  readonly code = 'EPRIVATE';
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for sockets that drops refused addresses (and fails when none is left). */
function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number }, cb: LookupCb): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addrs) => {
      if (err) return cb(err, []);
      const ok = (addrs as LookupAddress[]).filter((a) => allowPrivate || !isPrivateAddress(a.address));
      if (ok.length === 0) return cb(new PrivateTargetError('refused target'), []);
      if (options.all) cb(null, ok);
      else cb(null, ok[0]!.address, ok[0]!.family);
    });
  };
}

/** Map a socket or library error to an outcome code. */
function codeOf(e: unknown): string {
  const code = (e as { code?: string }).code ?? '';
  if (code === 'EPRIVATE') return 'private_target';
  if (code === 'ECONNREFUSED') return 'connect_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection_reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EDNS') return 'dns';
  if (code === 'ETIMEDOUT' || code === 'ETIMEOUT' || code === 'TIMEOUT') return 'timeout';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'ETLS' || code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'tls';
  if (code === 'EAUTH') return 'smtp_auth';
  return 'error';
}

/** Keep-alive agents for webhooks (one pair per delivery service). */
export class WebhookClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly opts: SendOptions) {
    const lookup = guardedLookup(opts.allowPrivate);
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16, lookup } as http.AgentOptions);
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16, lookup } as https.AgentOptions);
  }

  /**
   * POST `body` (JSON) to `url` with `headers`. 2xx is delivered; 408, 425, 429 and 5xx may be
   * retried (honouring Retry-After); other 4xx are permanent.
   *
   * @example await client.post('https://hooks.example/cairn', '{"topic":"ping"}', signatureHeaders(…))
   */
  post(url: string, body: string, headers: Record<string, string>): Promise<Outcome> {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return Promise.resolve({ ok: false, status: null, error: 'bad_url', permanent: true });
    }
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.opts.allowPrivate && isPrivateAddress(host)) return Promise.resolve({ ok: false, status: null, error: 'private_target', permanent: true });
    const secure = u.protocol === 'https:';
    const lib = secure ? https : http;
    const payload = Buffer.from(body);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const done = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = lib.request(
        u,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { 'content-type': 'application/json', 'content-length': String(payload.length), 'user-agent': 'Cairn-webhook', ...headers },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let seen = 0;
          res.on('data', (c: Buffer) => {
            seen += c.length;
            if (seen > 65_536) res.destroy();
          });
          res.on('error', () => undefined);
          res.on('close', () => {
            if (status >= 200 && status < 300) return done({ ok: true, status, error: null, permanent: false });
            const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
            const ra = Number(res.headers['retry-after']);
            done({ ok: false, status, error: `http_${status}`, permanent: !retryable, ...(Number.isFinite(ra) && ra >= 0 ? { retryAfterMs: ra * 1000 } : {}) });
          });
          res.resume();
        },
      );
      const timer = setTimeout(() => {
        req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
      }, this.opts.timeoutMs);
      req.on('error', (e) => done({ ok: false, status: null, error: codeOf(e), permanent: codeOf(e) === 'private_target' }));
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** An SMTP server an org sends through. */
export interface SmtpTarget {
  host: string;
  port: number;
  /** `tls`: implicit TLS (465); `starttls`: upgrade required; `none`: plain (a local relay). */
  tls: 'tls' | 'starttls' | 'none';
  tlsVerify: boolean;
  user?: string;
  password?: string;
}

/** One message to send. Personal: `from` and `to` (e-mail addresses), `subject`, `text`. */
export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  /** `Message-ID` seed: the delivery id, so a receiver can drop a retried duplicate. */
  id: string;
  /** Content-Language of the text (`en`, `nl`), when known. */
  language?: string;
}

function resolveGuarded(host: string, allowPrivate: boolean): Promise<string> {
  if (isIP(host)) return allowPrivate || !isPrivateAddress(host) ? Promise.resolve(host) : Promise.reject(new PrivateTargetError('refused target'));
  return new Promise((resolve, reject) => {
    guardedLookup(allowPrivate)(host, { all: false }, (err, address) => (err ? reject(err) : resolve(address as string)));
  });
}

/**
 * Send one e-mail through `target` (connection per message; alerts are rare). A 5xx reply is
 * permanent; 4xx, network and time-outs may be retried.
 *
 * @example await sendMail({ host: 'smtp.example', port: 587, tls: 'starttls', tlsVerify: true }, msg, { timeoutMs: 10_000, allowPrivate: false })
 */
export async function sendMail(target: SmtpTarget, msg: MailMessage, opts: SendOptions): Promise<Outcome> {
  let address: string;
  try {
    address = await resolveGuarded(target.host, opts.allowPrivate);
  } catch (e) {
    return { ok: false, status: null, error: codeOf(e), permanent: codeOf(e) === 'private_target' };
  }
  const transport = createTransport({
    host: address,
    port: target.port,
    secure: target.tls === 'tls',
    requireTLS: target.tls === 'starttls',
    ignoreTLS: target.tls === 'none',
    tls: { rejectUnauthorized: target.tlsVerify, servername: isIP(target.host) ? undefined : target.host },
    ...(target.user ? { auth: { user: target.user, pass: target.password ?? '' } } : {}),
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
    logger: false,
    debug: false,
  });
  try {
    await transport.sendMail({ from: msg.from, to: msg.to, subject: msg.subject, text: msg.text, messageId: `<${msg.id}@cairn.invalid>`, headers: { 'X-Cairn-Delivery': msg.id, ...(msg.language ? { 'Content-Language': msg.language } : {}) } });
    return { ok: true, status: 250, error: null, permanent: false };
  } catch (e) {
    const rc = (e as { responseCode?: number }).responseCode;
    if (typeof rc === 'number') return { ok: false, status: rc, error: `smtp_${rc}`, permanent: rc >= 500 };
    const code = codeOf(e);
    return { ok: false, status: null, error: code, permanent: code === 'smtp_auth' || code === 'private_target' };
  } finally {
    transport.close();
  }
}
