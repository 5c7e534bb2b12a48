/**
 * The e-mail side of threat analysis (R-ATP-5, R-DATA-10) in one service: per-org settings, the
 * decision (scan, then the org's policy: quarantine, deliver with warning, or pass), the SMTP
 * relay and the IMAP watchers (started by `serve`, stopped with the app), and the quarantine.
 * The same `inspect` runs for the relay, the watcher and `cairn mail scan`.
 */
import { readFileSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Core, Ctx, RetentionService } from '../../privacy/index.ts';
import { scanMessage, summarise } from './analyze.ts';
import { parseHostPort, SmtpUpstream, type Upstream } from './deliver.ts';
import { ImapOps, ImapWatcher } from './imap.ts';
import { purgeQuarantine, Quarantine } from './quarantine.ts';
import { SmtpRelay } from './relay.ts';
import { stampMessage } from './rewrite.ts';
import type { ScanDeps } from './scanner.ts';
import { MailSettings } from './settings.ts';
import { quarantineSubjectHandler } from './subject-data.ts';
import type { MailAction, MailPolicy, MessageVerdict, VerdictState } from './types.ts';

/** The context the relay and the watchers act under (audited as `system:smtp-relay` / `system:imap-watcher`). */
function machineCtx(id: 'smtp-relay' | 'imap-watcher'): Ctx {
  return { actor: { kind: 'system', id }, bindings: [], requestId: newId() };
}

/**
 * What the org's policy does with a message of this state: malicious → `maliciousAction`,
 * suspicious or not fully scanned → `suspiciousAction`, clean → pass.
 * @example actionFor('unknown', { maliciousAction: 'quarantine', suspiciousAction: 'deliver-with-warning', language: 'en' }) === 'deliver-with-warning'
 */
export function actionFor(state: VerdictState, p: MailPolicy): MailAction {
  return state === 'malicious' ? p.maliciousAction : state === 'clean' ? 'pass' : p.suspiciousAction;
}

/** A scanned message and what the org's policy does with it. Subject and addresses are R-DATA-10. */
export interface Inspection {
  verdict: MessageVerdict;
  action: MailAction;
  policy: MailPolicy;
  subject: string | null;
  to: string[];
  from: string | null;
}

/** Counters since start (bench and tests; no personal data). */
export interface MailStats {
  received: number;
  quarantined: number;
  warned: number;
  passed: number;
  malformed: number;
  failed: number;
}

export class EmailService {
  readonly settings: MailSettings;
  readonly quarantine: Quarantine;
  readonly stats: MailStats = { received: 0, quarantined: 0, warned: 0, passed: 0, malformed: 0, failed: 0 };
  private upstreamInstance: Upstream | null | undefined;
  private relay: SmtpRelay | null = null;
  private readonly watchers = new Map<string, ImapWatcher>();
  private watching = false;

  /**
   * `scan` returns the file and list services (`() => services.threat` in app.ts: a thunk, so the
   * two can be wired in the same object literal). Registers the `quarantine` retention purger.
   */
  constructor(
    private readonly core: Core,
    private readonly scan: () => ScanDeps,
    retention: Pick<RetentionService, 'register'>,
  ) {
    retention.register('quarantine', purgeQuarantine);
    core.subjects.register(quarantineSubjectHandler(core));
    this.settings = new MailSettings(core);
    const imapOps = new ImapOps((orgId) => this.settings.imapAccount(orgId));
    this.quarantine = new Quarantine(core, this.settings, { upstream: () => this.upstream(), imap: imapOps });
    this.settings.onChange = (orgId) => {
      if (this.watching) void this.restartWatcher(orgId);
    };
  }

  /** The next hop from `smtpUpstream`, or null when none is configured. */
  upstream(): Upstream | null {
    if (this.upstreamInstance === undefined) {
      const cfg = this.core.cfg;
      this.upstreamInstance = cfg.smtpUpstream ? new SmtpUpstream(parseHostPort(cfg.smtpUpstream, 'smtpUpstream (CAIRN_SMTP_UPSTREAM)'), { tlsVerify: cfg.smtpUpstreamTlsVerify }) : null;
    }
    return this.upstreamInstance;
  }

  /**
   * Scan a message for an org and pick the action. `malformed: 'verdict'` turns broken MIME into
   * an `unknown` verdict (the watcher cannot refuse mail that is already in the mailbox); the
   * relay lets CAIRN_ERR_MIME_MALFORMED through to refuse the message.
   */
  async inspect(orgId: string, raw: Buffer, opts: { malformed: 'throw' | 'verdict'; sizeBytes?: number } = { malformed: 'throw' }): Promise<Inspection> {
    const cfg = this.core.cfg;
    const limits = { maxMessageBytes: cfg.smtpMaxMessageBytes, timeoutMs: cfg.smtpScanTimeoutMs };
    let verdict: MessageVerdict;
    let subject: string | null = null;
    let to: string[] = [];
    let from: string | null = null;
    if ((opts.sizeBytes ?? raw.length) > limits.maxMessageBytes) {
      const reasons = [{ source: 'limits' as const, code: 'MESSAGE_TOO_LARGE', score: 0, incomplete: true, message: `Not scanned: the message is larger than ${limits.maxMessageBytes} bytes.` }];
      verdict = { ...summarise(reasons), reasons, attachments: [], linkHosts: [], durationMs: 0 };
    } else {
      try {
        const s = await scanMessage(orgId, raw, this.scan(), limits);
        verdict = s.verdict;
        subject = s.top?.subject ?? null;
        to = s.top?.to ?? [];
        from = s.top?.from ?? null;
      } catch (e) {
        if (!(e instanceof CairnError) || e.code !== 'CAIRN_ERR_MIME_MALFORMED') throw e;
        this.stats.malformed++;
        if (opts.malformed === 'throw') throw e;
        const reasons = [{ source: 'mime' as const, code: 'MIME_MALFORMED', score: 0, incomplete: true, message: e.message }];
        verdict = { ...summarise(reasons), reasons, attachments: [], linkHosts: [], durationMs: 0 };
      }
    }
    const policy = await this.settings.policyOf(orgId);
    return { verdict, action: actionFor(verdict.state, policy), policy, subject, to, from };
  }

  /** The relay's handler: scan, then quarantine or send on (stamped) to the upstream. */
  private async relayMessage(orgId: string, raw: Buffer, env: { from: string; to: string[] }): Promise<string> {
    this.stats.received++;
    const d = await this.inspect(orgId, raw, { malformed: 'throw' });
    const log = { orgId, action: d.action, state: d.verdict.state, score: d.verdict.score, sizeBytes: raw.length, scanMs: d.verdict.durationMs };
    if (d.action === 'quarantine') {
      const ids = await this.quarantine.hold(machineCtx('smtp-relay'), orgId, { source: 'smtp', raw, sender: env.from, recipients: env.to, subject: d.subject, verdict: d.verdict });
      this.stats.quarantined++;
      this.core.log.info(log, 'mail quarantined');
      return `OK: accepted (${ids[0]})`;
    }
    const upstream = this.upstream();
    if (!upstream) throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', 'No upstream mail server is configured.');
    const refused = await upstream.send(env.from, env.to, stampMessage(raw, { state: d.verdict.state, score: d.verdict.score, lang: d.policy.language, warn: d.action === 'deliver-with-warning' }));
    if (d.action === 'deliver-with-warning' && d.verdict.state !== 'clean') this.stats.warned++;
    else this.stats.passed++;
    this.core.log.info({ ...log, refusedRecipients: refused }, 'mail relayed');
    return 'OK: delivered';
  }

  /** Start the SMTP relay (when `smtpRelay` is on) and a watcher per enabled IMAP mailbox. */
  async start(): Promise<{ smtp: { host: string; port: number } | null; imapWatchers: number }> {
    const cfg = this.core.cfg;
    if (cfg.smtpRelay && !this.relay) {
      if (!this.upstream()) throw new CairnError('CAIRN_ERR_CONFIG', 'Invalid configuration smtpUpstream (CAIRN_SMTP_UPSTREAM): the SMTP relay needs a next hop (host:port).', { key: 'smtpUpstream' });
      const tls = cfg.tlsCert && cfg.tlsKey ? { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) } : undefined;
      const relay = new SmtpRelay({
        host: cfg.smtpHost,
        port: cfg.smtpPort,
        maxMessageBytes: cfg.smtpMaxMessageBytes,
        ...(tls ? { tls } : {}),
        orgOfDomain: (d) => this.settings.orgOfDomain(d),
        handle: (orgId, raw, env) =>
          this.relayMessage(orgId, raw, env).catch((e: unknown) => {
            if (!(e instanceof CairnError) || e.code !== 'CAIRN_ERR_MIME_MALFORMED') this.stats.failed++;
            throw e;
          }),
        log: this.core.log,
      });
      await relay.listen();
      this.relay = relay;
    }
    this.watching = true;
    for (const a of await this.settings.imapAccounts()) if (!this.watchers.has(a.orgId)) this.startWatcher(a);
    return { smtp: this.relay?.bound ?? null, imapWatchers: this.watchers.size };
  }

  /** Where the relay listens, or null. */
  get relayAddress(): { host: string; port: number } | null {
    return this.relay?.bound ?? null;
  }

  /** The running watcher of an org (tests, status). */
  watcher(orgId: string): ImapWatcher | undefined {
    return this.watchers.get(orgId);
  }

  private startWatcher(account: NonNullable<Awaited<ReturnType<MailSettings['imapAccount']>>>): void {
    const w = new ImapWatcher(account, {
      log: this.core.log,
      pollSeconds: this.core.cfg.imapPollSeconds,
      maxMessageBytes: this.core.cfg.smtpMaxMessageBytes,
      cursor: (orgId) => this.settings.imapCursor(orgId),
      saveCursor: (orgId, v, uid) => this.settings.saveImapCursor(orgId, v, uid),
      decide: async (orgId, raw, sizeBytes) => {
        this.stats.received++;
        const d = await this.inspect(orgId, raw, { malformed: 'verdict', sizeBytes });
        if (d.action === 'deliver-with-warning' && d.verdict.state !== 'clean') this.stats.warned++;
        else if (d.action !== 'quarantine') this.stats.passed++;
        this.core.log.info({ orgId, action: d.action, state: d.verdict.state, score: d.verdict.score, sizeBytes }, 'IMAP message scanned');
        const recipients = account.user.includes('@') ? [account.user] : d.to.slice(0, 1);
        return { action: d.action, verdict: d.verdict, subject: d.subject, sender: d.from ?? '', recipients: recipients.length ? recipients : [account.user] };
      },
      hold: async (orgId, raw, d, at) => {
        await this.quarantine.hold(machineCtx('imap-watcher'), orgId, { source: 'imap', raw, sender: d.sender, recipients: d.recipients, subject: d.subject, verdict: d.verdict, imap: at });
        this.stats.quarantined++;
      },
    });
    this.watchers.set(account.orgId, w);
    w.start();
  }

  private async restartWatcher(orgId: string): Promise<void> {
    const old = this.watchers.get(orgId);
    this.watchers.delete(orgId);
    await old?.stop();
    const a = await this.settings.imapAccount(orgId);
    if (a && this.watching && !this.watchers.has(orgId)) this.startWatcher(a);
  }

  /** Stop the relay and every watcher; close the upstream pool. */
  async stop(): Promise<void> {
    this.watching = false;
    const relay = this.relay;
    this.relay = null;
    await Promise.all([relay?.close(), ...[...this.watchers.values()].map((w) => w.stop())]);
    this.watchers.clear();
    this.upstreamInstance?.close();
    this.upstreamInstance = undefined;
  }
}
