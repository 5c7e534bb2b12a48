/**
 * The next hop (R-ATP-5): relayed and released mail goes to the configured upstream SMTP server
 * (host:port) through nodemailer's SMTP transport, as raw bytes with an explicit envelope, over a
 * small connection pool; STARTTLS is used when the upstream offers it. A refusal from upstream
 * keeps its SMTP code so the relay can pass a permanent failure back to the sender.
 */
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { CairnError } from '../../kernel/errors.ts';

/**
 * `host:port` (or `[v6]:port`) → parts; throws CAIRN_ERR_CONFIG naming `key` otherwise.
 * @example parseHostPort('mx.internal:25', 'smtpUpstream') // { host: 'mx.internal', port: 25 }
 */
export function parseHostPort(s: string, key: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration ${key}: expected host:port, got ${JSON.stringify(s)}`, { key });
  return { host: (m[1] ?? m[2])!, port };
}

/** A delivery refused or failed: `permanent` when upstream answered 5xx. */
export class DeliveryError extends CairnError {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly smtpCode: number | undefined,
  ) {
    super('CAIRN_ERR_MAIL_UPSTREAM', message, { permanent, ...(smtpCode ? { smtpCode } : {}) });
  }
}

export interface Upstream {
  /** Deliver `raw` to `to` with envelope sender `from` ('' = null sender); resolves with how many recipients upstream refused. */
  send(from: string, to: readonly string[], raw: Buffer): Promise<number>;
  close(): void;
}

/** nodemailer SMTP pool to one upstream. */
export class SmtpUpstream implements Upstream {
  private readonly transport: Transporter<SMTPPool.SentMessageInfo>;
  constructor(target: { host: string; port: number }, opts: { tlsVerify: boolean; maxConnections?: number }) {
    this.transport = createTransport({
      host: target.host,
      port: target.port,
      secure: false,
      pool: true,
      maxConnections: opts.maxConnections ?? 4,
      maxMessages: 1000,
      tls: { rejectUnauthorized: opts.tlsVerify },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      logger: false,
      debug: false,
    });
  }

  async send(from: string, to: readonly string[], raw: Buffer): Promise<number> {
    let info: SMTPPool.SentMessageInfo;
    try {
      info = await this.transport.sendMail({ envelope: { from, to: [...to] }, raw });
    } catch (e) {
      const err = e as Error & { responseCode?: number; code?: string };
      const code = typeof err.responseCode === 'number' ? err.responseCode : undefined;
      throw new DeliveryError(`Upstream delivery failed: ${code ? `${code} ` : ''}${(err.code ?? '').toString()}`.trim(), code !== undefined && code >= 500, code);
    }
    // Some recipients refused, others accepted: the message went out, so this is not an error.
    const rejected = (info.rejected ?? []).length;
    if (rejected === to.length) throw new DeliveryError(`Upstream refused every recipient (${rejected}).`, true, 550);
    return rejected;
  }

  close(): void {
    this.transport.close();
  }
}
