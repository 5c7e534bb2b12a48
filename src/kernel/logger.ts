/**
 * Structured JSON logs (pino) that never carry personal data in clear (R-SEC-2).
 * Two layers: keys known to hold personal data are replaced by "[redacted]", and every string is
 * scrubbed of anything shaped like a MAC address, an e-mail address, an IP address or a keyed
 * pseudonym (32 hex digits: a log line cannot be erased when its subject is). Request
 * logs carry the method, route, status and request id, never the client address.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/** Keys whose values are personal data or secrets wherever they appear in a log object. */
const PERSONAL_KEYS = new Set([
  'password', 'newpassword', 'secret', 'token', 'authorization', 'cookie', 'set-cookie',
  'email', 'mail', 'username', 'user', 'name', 'mac', 'macaddress', 'clientmac', 'ip', 'ipaddress',
  'clientip', 'remoteaddress', 'remoteport', 'hostname', 'host', 'x-forwarded-for', 'masterkey',
  'x-mist-signature-v2', 'sharedsecret',
]);

const MAC_RE = /\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b/gi;
const EMAIL_RE = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/gi;
const IPV4_RE = /\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b/g;
const IPV6_RE = /\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}\b|(?:[0-9a-f]{1,4}:){1,7}:|::(?:[0-9a-f]{1,4}:?){1,7}/gi;
const BARE_MAC_RE = /\b[0-9a-f]{12}\b/gi;
/** A keyed pseudonym (32 hex digits): logs outlive erasure (R-PRIV-4), so pseudonyms stay out of them too. */
const PSEUDONYM_RE = /\b[0-9a-f]{32}\b/gi;
/** The server's own bind addresses are nobody's personal data (they show where Cairn listens). */
const LOOPBACK = new Set(['127.0.0.1', '0.0.0.0']);

/** Replace MAC-, e-mail- and IP-shaped substrings. @example scrubString('from 10.0.0.1') === 'from [ip]' */
export function scrubString(s: string): string {
  return s
    .replace(EMAIL_RE, '[email]')
    .replace(MAC_RE, '[mac]')
    .replace(IPV6_RE, (m) => (m.length >= 3 && m.includes(':') ? '[ip]' : m))
    .replace(IPV4_RE, (m) => (LOOPBACK.has(m) ? m : '[ip]'))
    .replace(PSEUDONYM_RE, '[pseudonym]')
    .replace(BARE_MAC_RE, (m) => (/[a-f]/i.test(m) && /\d/.test(m) ? '[mac]' : m));
}

/** Keys whose values pino's own serializers (below, each scrubbing) turn into small objects. */
const SERIALIZED = new Set(['req', 'res', 'err']);

/**
 * Deep copy of a log object with personal keys redacted and strings scrubbed. Only plain objects
 * and arrays are walked; bytes and class instances are summarised, never copied.
 */
export function scrub(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') return scrubString(value);
  if (Array.isArray(value)) return value.length > 100 ? `[array ${value.length}]` : value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) {
    return { type: value.name, message: scrubString(value.message), stack: value.stack ? scrubString(value.stack) : undefined, code: (value as { code?: unknown }).code };
  }
  if (ArrayBuffer.isView(value)) return `[bytes ${value.byteLength}]`;
  if (value && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `[${(value as object).constructor?.name ?? 'object'}]`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = PERSONAL_KEYS.has(k.toLowerCase()) ? '[redacted]' : scrub(v, depth + 1);
    }
    return out;
  }
  return value;
}

export interface LoggerOptions {
  level?: string;
  /** Where lines go (tests pass a stream to inspect them); default stdout. */
  destination?: DestinationStream;
}

/** The Cairn logger. Every line passes through `scrub`. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      base: { service: 'cairn' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (obj) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj)) out[k] = SERIALIZED.has(k) ? v : PERSONAL_KEYS.has(k.toLowerCase()) ? '[redacted]' : scrub(v, 1);
          return out;
        },
      },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrubString(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (e: Error) => scrub(e),
        req: (req: { method?: string; url?: string; id?: string; routeOptions?: { url?: string } }) => ({
          method: req.method,
          route: req.routeOptions?.url,
          url: req.url ? scrubString(req.url.split('?')[0] ?? '') : undefined,
          id: req.id,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
    },
    opts.destination,
  );
}

/** A logger that writes nothing (CLI commands that print JSON, quiet tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
