/**
 * The scanning SMTP relay (R-ATP-5), on `smtp-server`. It accepts mail only for domains an org
 * configured (one org per transaction), reads the message up to the size limit, and answers only
 * once the message is dealt with: quarantined, or accepted by the upstream. So the sender keeps
 * responsibility until then: an unreachable upstream gets 451 (try again later), an upstream
 * refusal 550, broken MIME 554 5.6.0 with CAIRN_ERR_MIME_MALFORMED, an oversized message 552
 * 5.3.4. Enhanced status codes are on. No AUTH (this is an inbound relay); STARTTLS only with the
 * server's certificate. Nothing it logs carries an address, a subject or content.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { CairnError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import { DeliveryError } from './deliver.ts';

/** What the relay hands a complete message to. Resolves with the text of the 250 reply. */
export type MessageHandler = (orgId: string, raw: Buffer, envelope: { from: string; to: string[] }) => Promise<string>;

export interface RelayOptions {
  host: string;
  port: number;
  maxMessageBytes: number;
  /** Recipients accepted per transaction. */
  maxRecipients?: number;
  /** Concurrent client connections. */
  maxClients?: number;
  tls?: { key: Buffer; cert: Buffer };
  orgOfDomain(domain: string): Promise<string | undefined>;
  handle: MessageHandler;
  log: Logger;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase().replace(/\.$/, '');
}

export class SmtpRelay {
  private readonly server: SMTPServer;
  /** Session id → org of its accepted recipients. */
  private readonly orgs = new Map<string, string>();
  private address: { host: string; port: number } | null = null;

  constructor(private readonly o: RelayOptions) {
    const log = o.log;
    this.server = new SMTPServer({
      name: 'cairn',
      banner: 'Cairn scanning relay',
      size: o.maxMessageBytes,
      rejectOversized: true,
      hideENHANCEDSTATUSCODES: false,
      authOptional: true,
      disabledCommands: o.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      hideSTARTTLS: !o.tls,
      ...(o.tls ? { key: o.tls.key, cert: o.tls.cert } : {}),
      logger: false,
      maxClients: o.maxClients ?? 200,
      socketTimeout: 120_000,
      closeTimeout: 5_000,
      onConnect: (session, cb) => {
        this.orgs.delete(session.id);
        cb();
      },
      onMailFrom: (_address, session, cb) => {
        this.orgs.delete(session.id);
        cb();
      },
      onRcptTo: (address, session, cb) => {
        void (async () => {
          if (session.envelope.rcptTo.length >= (o.maxRecipients ?? 100)) return cb(smtpError(452, 'Too many recipients in one message; send the rest separately.'));
          const orgId = await o.orgOfDomain(domainOf(address.address));
          if (!orgId) return cb(smtpError(550, 'Relay access denied: this server does not accept mail for that domain.'));
          const bound = this.orgs.get(session.id);
          if (bound && bound !== orgId) return cb(smtpError(451, 'Recipients of another organisation must be sent in a separate message.'));
          this.orgs.set(session.id, orgId);
          cb();
        })().catch((e: unknown) => {
          log.error({ err: e }, 'SMTP relay: recipient check failed');
          cb(smtpError(451, 'Temporary failure; try again later.'));
        });
      },
      onData: (stream, session, cb) => this.onData(stream, session, cb),
      onClose: (session) => {
        this.orgs.delete(session.id);
      },
    });
    this.server.on('error', (e: Error) => log.warn({ reason: (e as { code?: string }).code ?? e.message.slice(0, 100) }, 'SMTP relay: connection error'));
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, reply: (err?: Error | null, message?: string) => void): void {
    let answered = false;
    const cb = (err?: Error | null, message?: string): void => {
      if (answered) return;
      answered = true;
      reply(err, message);
    };
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= this.o.maxMessageBytes) chunks.push(c);
    });
    stream.on('error', () => cb(smtpError(451, 'The message could not be read; try again.')));
    stream.on('end', () => {
      const orgId = this.orgs.get(session.id);
      if (stream.sizeExceeded) {
        this.o.log.warn({ orgId, code: 'CAIRN_ERR_BODY_TOO_LARGE', sizeBytes: size, limitBytes: this.o.maxMessageBytes }, 'SMTP relay: message over the size limit refused');
        return cb(smtpError(552, `The message is larger than ${this.o.maxMessageBytes} bytes.`));
      }
      if (!orgId) return cb(smtpError(503, 'No valid recipients.'));
      const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) };
      this.o
        .handle(orgId, Buffer.concat(chunks, Math.min(size, this.o.maxMessageBytes)), envelope)
        .then((reply) => cb(null, reply))
        .catch((e: unknown) => {
          if (e instanceof CairnError && e.code === 'CAIRN_ERR_MIME_MALFORMED') {
            this.o.log.warn({ orgId, code: e.code, reason: e.details?.reason }, 'SMTP relay: malformed MIME refused');
            return cb(smtpError(554, `${e.code}: ${e.message}`));
          }
          if (e instanceof DeliveryError) {
            this.o.log.warn({ orgId, code: e.code, smtpCode: e.smtpCode, permanent: e.permanent }, 'SMTP relay: upstream delivery failed');
            return cb(e.permanent ? smtpError(550, `${e.code}: the next-hop server refused the message.`) : smtpError(451, `${e.code}: the next-hop server is not reachable; try again later.`));
          }
          this.o.log.error({ orgId, err: e }, 'SMTP relay: message handling failed');
          cb(smtpError(451, 'CAIRN_ERR_INTERNAL: temporary failure; try again later.'));
        });
    });
  }

  /** Start listening; resolves with the bound address (port 0 picks a free one). */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(new CairnError('CAIRN_ERR_CONFIG', `The SMTP relay cannot listen on ${this.o.host}:${this.o.port}: ${e.message}`));
      this.server.once('error', onError);
      this.server.listen(this.o.port, this.o.host, () => {
        this.server.off('error', onError);
        const a = this.server.server.address() as AddressInfo;
        this.address = { host: this.o.host, port: a.port };
        resolve(this.address);
      });
    });
  }

  get bound(): { host: string; port: number } | null {
    return this.address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
