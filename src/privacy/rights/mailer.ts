/**
 * E-mail to data subjects (R-PRIV-4): the verification code, the CCPA receipt confirmation and the
 * notice that a request was answered, in English or Dutch. Sent through the SMTP server Cairn
 * already knows (`smtpUpstream`, the organisation's mail server) with nodemailer; without one, a
 * request that needs e-mail is refused with CAIRN_ERR_FEATURE_DISABLED. Addresses and codes are
 * never logged: a failure surfaces as CAIRN_ERR_MAIL_UPSTREAM with the SMTP code only.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { CairnError } from '../../kernel/errors.ts';

export interface RightsMail {
  to: string;
  subject: string;
  text: string;
}

/** Where subject mail goes out; tests and other deployments can supply their own. */
export interface RightsMailer {
  send(m: RightsMail): Promise<void>;
  close(): void;
}

/** nodemailer over SMTP to `host:port` (STARTTLS when offered), from one sender address. */
export class SmtpRightsMailer implements RightsMailer {
  private readonly transport: Transporter;
  constructor(
    target: { host: string; port: number },
    private readonly from: string,
    tlsVerify: boolean,
  ) {
    this.transport = createTransport({ host: target.host, port: target.port, secure: false, tls: { rejectUnauthorized: tlsVerify }, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, logger: false, debug: false });
  }

  async send(m: RightsMail): Promise<void> {
    try {
      await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text, headers: { 'Auto-Submitted': 'auto-generated' } });
    } catch (e) {
      const code = (e as { responseCode?: number }).responseCode;
      throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', `The privacy e-mail could not be sent${code ? ` (SMTP ${code})` : ''}; try again later.`, code ? { smtpCode: code } : undefined);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * The mailer a server configuration gives: `smtpUpstream` (host:port) and `dsarMailFrom`;
 * undefined without an upstream.
 * @example rightsMailerFromConfig({ smtpUpstream: '127.0.0.1:2525', dsarMailFrom: 'privacy@example.org', smtpUpstreamTlsVerify: true })
 */
export function rightsMailerFromConfig(cfg: { smtpUpstream: string | undefined; dsarMailFrom: string; smtpUpstreamTlsVerify: boolean }): RightsMailer | undefined {
  if (!cfg.smtpUpstream) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(cfg.smtpUpstream.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration smtpUpstream: expected host:port, got ${JSON.stringify(cfg.smtpUpstream)}`, { key: 'smtpUpstream' });
  return new SmtpRightsMailer({ host: (m[1] ?? m[2])!, port }, cfg.dsarMailFrom, cfg.smtpUpstreamTlsVerify);
}
