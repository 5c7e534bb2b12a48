/**
 * IMAP watching (R-ATP-5): one watcher per org with an enabled mailbox keeps a connection open
 * (imapflow), waits in IDLE for new mail (with a poll every `pollSeconds` as the fallback when the
 * server has no IDLE or an event is missed), scans each new message the same way the relay does
 * and, by the org's policy, moves it to the quarantine folder (created when missing) and records
 * a quarantine entry, or marks it with a `$CairnSuspicious`/`$CairnMalicious`/`$CairnUnscanned`
 * keyword. Where it got to (UIDVALIDITY and last UID) is stored, so a restart neither rescans nor
 * skips mail. Messages released from quarantine come back marked `$CairnReleased` and are left alone.
 */
import { ImapFlow } from 'imapflow';
import { CairnError } from '../../kernel/errors.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { ImapQuarantineOps } from './quarantine.ts';
import type { ImapAccount } from './settings.ts';
import type { MailAction, MessageVerdict } from './types.ts';

export const RELEASED_KEYWORD = '$CairnReleased';
const STATE_KEYWORDS: Record<string, string> = { malicious: '$CairnMalicious', suspicious: '$CairnSuspicious', unknown: '$CairnUnscanned' };

/** What the watcher needs from the service. */
export interface WatcherDeps {
  /** Scan a message and apply the org's policy (never throws for a broken message). */
  decide(orgId: string, raw: Buffer, sizeBytes: number): Promise<{ action: MailAction; verdict: MessageVerdict; subject: string | null; sender: string; recipients: string[] }>;
  /** Record the quarantine entry of a message the watcher moved. */
  hold(orgId: string, raw: Buffer, d: Awaited<ReturnType<WatcherDeps['decide']>>, at: { folder: string; uid: number | null; uidValidity: string | null }): Promise<void>;
  cursor(orgId: string): Promise<{ uidValidity: string; lastUid: number } | null>;
  saveCursor(orgId: string, uidValidity: string, lastUid: number): Promise<void>;
  log: Logger;
  pollSeconds: number;
  maxMessageBytes: number;
}

/** Options every connection of ours uses: no protocol logging (it would carry addresses), bounded waits. */
function client(a: ImapAccount, extra: Partial<ConstructorParameters<typeof ImapFlow>[0]> = {}): ImapFlow {
  return new ImapFlow({
    host: a.host,
    port: a.port,
    secure: a.tls,
    auth: { user: a.user, pass: a.password },
    logger: false,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 5 * 60_000,
    clientInfo: { name: 'Cairn' },
    ...extra,
  });
}

/**
 * Watches one org's mailbox until `stop()`. Reconnects with back-off (1 s doubling to 60 s) when
 * the server goes away; a failing message is logged with its UID only and retried on the next pass.
 */
export class ImapWatcher {
  private conn: ImapFlow | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  private uidValidity = '';
  private lastUid = 0;
  private loop: Promise<void> | undefined;
  /** Completed passes over the mailbox (tests and the dashboard can watch progress). */
  passes = 0;
  /** The last connection or pass error (code only; never content). */
  lastError: string | null = null;

  constructor(
    readonly account: ImapAccount,
    private readonly deps: WatcherDeps,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const c = this.conn;
    if (c) {
      await Promise.race([c.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      c.close();
    }
    await this.loop;
    await this.chain;
  }

  private async run(): Promise<void> {
    let backoff = 1000;
    while (!this.stopped) {
      try {
        await this.session();
        backoff = 1000;
      } catch (e) {
        this.lastError = (e as { code?: string }).code ?? (e as Error).message.slice(0, 200);
        this.deps.log.warn({ orgId: this.account.orgId, code: 'CAIRN_ERR_MAIL_UPSTREAM', reason: this.lastError }, 'IMAP watcher: connection failed');
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = null;
      backoff = Math.min(backoff * 2, 60_000);
    }
  }

  /** One connection: open the mailbox, pass over new mail on every EXISTS and every poll tick, until it closes. */
  private async session(): Promise<void> {
    const a = this.account;
    const c = client(a, { autoIdleDelay: 1000, maxIdleTime: this.deps.pollSeconds * 1000 });
    c.on('error', (e: Error & { code?: string }) => {
      this.lastError = e.code ?? 'error';
    });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await c.connect();
    this.conn = c;
    let tick: NodeJS.Timeout | undefined;
    try {
      await c.mailboxCreate(a.quarantineFolder);
      const mb = await c.mailboxOpen(a.mailbox);
      const validity = mb.uidValidity.toString();
      const saved = await this.deps.cursor(a.orgId);
      this.uidValidity = validity;
      if (saved && saved.uidValidity === validity) this.lastUid = saved.lastUid;
      else {
        // First watch of this mailbox (or it was recreated): mail from now on, nothing older.
        this.lastUid = Math.max(0, mb.uidNext - 1);
        await this.deps.saveCursor(a.orgId, validity, this.lastUid);
      }
      c.on('exists', () => this.kick());
      tick = setInterval(() => this.kick(), this.deps.pollSeconds * 1000);
      tick.unref();
      this.kick();
      if (this.stopped) c.close();
      await closed;
    } finally {
      clearInterval(tick);
      this.conn = null;
      c.close();
    }
  }

  /** Queue a pass (at most one waiting behind the running one). */
  private kick(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    this.chain = this.chain
      .then(async () => {
        this.queued = false;
        await this.pass();
      })
      .catch((e: unknown) => {
        this.lastError = (e as { code?: string }).code ?? (e as Error).message.slice(0, 200);
        this.deps.log.warn({ orgId: this.account.orgId, reason: this.lastError }, 'IMAP watcher: pass failed');
      });
  }

  /** Scan every message with a UID above the cursor, oldest first (at most 200 per pass). */
  private async pass(): Promise<void> {
    const c = this.conn;
    if (!c || !c.usable || this.stopped) return;
    const a = this.account;
    const found = (await c.search({ uid: `${this.lastUid + 1}:*` }, { uid: true })) || [];
    const uids = found.filter((u) => u > this.lastUid).sort((x, y) => x - y).slice(0, 200);
    for (const uid of uids) {
      if (this.stopped || !c.usable) return;
      const head = await c.fetchOne(String(uid), { uid: true, flags: true, size: true }, { uid: true });
      if (head && !head.flags?.has(RELEASED_KEYWORD)) {
        const size = head.size ?? 0;
        const raw = size > this.deps.maxMessageBytes ? Buffer.alloc(0) : ((await c.fetchOne(String(uid), { uid: true, source: true }, { uid: true })) || {}).source ?? Buffer.alloc(0);
        const d = await this.deps.decide(a.orgId, raw, size);
        if (d.action === 'quarantine') {
          const moved = await c.messageMove(String(uid), a.quarantineFolder, { uid: true });
          if (!moved) throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', `The IMAP server did not move UID ${uid}.`);
          await this.deps.hold(a.orgId, raw, d, { folder: a.quarantineFolder, uid: moved.uidMap?.get(uid) ?? null, uidValidity: moved.uidValidity?.toString() ?? null });
        } else if (d.action === 'deliver-with-warning' && STATE_KEYWORDS[d.verdict.state]) {
          await c.messageFlagsAdd(String(uid), [STATE_KEYWORDS[d.verdict.state]!], { uid: true });
        }
      }
      this.lastUid = uid;
      await this.deps.saveCursor(a.orgId, this.uidValidity, uid);
    }
    this.passes++;
  }
}

/**
 * Release and delete for messages the watcher quarantined: a short connection of its own that
 * moves the message back to the watched mailbox marked `$CairnReleased` (or appends the stored
 * copy when it is no longer in the folder), or expunges it from the quarantine folder.
 */
export class ImapOps implements ImapQuarantineOps {
  constructor(private readonly accountOf: (orgId: string) => Promise<ImapAccount | null>) {}

  private async with<T>(orgId: string, fn: (c: ImapFlow, a: ImapAccount) => Promise<T>): Promise<T> {
    const a = await this.accountOf(orgId);
    if (!a) throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', 'The org has no enabled IMAP mailbox to return the message to.');
    const c = client(a, { disableAutoIdle: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (e) {
      throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', `The IMAP server is not reachable (${(e as { code?: string }).code ?? 'connect failed'}).`);
    }
    try {
      return await fn(c, a);
    } finally {
      await c.logout().catch(() => c.close());
    }
  }

  /** True when `at.uid` still names the message in the folder (same UIDVALIDITY). */
  private async present(c: ImapFlow, at: { folder: string; uid: number | null; uidValidity: string | null }): Promise<boolean> {
    if (at.uid === null) return false;
    const mb = await c.mailboxOpen(at.folder).catch(() => null);
    if (!mb || (at.uidValidity !== null && mb.uidValidity.toString() !== at.uidValidity)) return false;
    const found = (await c.search({ uid: String(at.uid) }, { uid: true })) || [];
    return found.includes(at.uid);
  }

  async restore(orgId: string, at: { folder: string; uid: number | null; uidValidity: string | null }, raw: Buffer): Promise<void> {
    await this.with(orgId, async (c, a) => {
      if (await this.present(c, at)) {
        await c.messageFlagsAdd(String(at.uid), [RELEASED_KEYWORD], { uid: true });
        await c.messageMove(String(at.uid), a.mailbox, { uid: true });
      } else {
        await c.append(a.mailbox, raw, [RELEASED_KEYWORD]);
      }
    });
  }

  async remove(orgId: string, at: { folder: string; uid: number | null; uidValidity: string | null }): Promise<void> {
    await this.with(orgId, async (c) => {
      if (await this.present(c, at)) await c.messageDelete(String(at.uid), { uid: true });
    });
  }
}
