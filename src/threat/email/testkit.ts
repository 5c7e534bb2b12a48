/**
 * Test-only helpers for the e-mail side: a real SMTP sink (another smtp-server standing in for the
 * organisation's mail server), a real Dovecot IMAP server started as the test's own process (temp
 * config, passwd-file auth, temp maildir, 127.0.0.1 on a free port, no system changes), and a
 * message builder (nodemailer's MailComposer). Nothing in the product imports this file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { SMTPServer } from 'smtp-server';
import { ImapFlow } from 'imapflow';

/** Build a raw RFC 5322 message. */
export function buildMail(o: Mail.Options): Promise<Buffer> {
  return new MailComposer({ date: new Date('2025-01-02T03:04:05Z'), ...o }).compile().build();
}

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

export interface SmtpSink {
  port: number;
  /** `127.0.0.1:port`, for `smtpUpstream`. */
  address: string;
  messages: SinkMessage[];
  /** Resolves once `n` messages arrived (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<SinkMessage[]>;
  close(): Promise<void>;
}

/** A real SMTP server on a free loopback port that keeps every message in memory. */
export async function startSmtpSink(opts: { refuse?: (rcpt: string) => boolean } = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onRcptTo: (a, _s, cb) => (opts.refuse?.(a.address) ? cb(Object.assign(new Error('no such user'), { responseCode: 550 })) : cb()),
    onData: (stream, session, cb) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        for (const w of waiters.splice(0)) w();
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    messages,
    async waitFor(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > until) throw new Error(`SMTP sink: ${messages.length} of ${n} messages after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return messages.slice(0, n);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const DOVECOT_PATHS = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

/** The dovecot binary, or null. */
export function dovecotBinary(): string | null {
  for (const p of DOVECOT_PATHS) if (existsSync(p)) return p;
  const w = spawnSync('sh', ['-c', 'command -v dovecot'], { encoding: 'utf8' });
  return w.status === 0 && w.stdout.trim() ? w.stdout.trim() : null;
}

/**
 * Skip reason for the Dovecot tests: false when dovecot is installed; under CI a missing dovecot
 * fails loudly instead (CI installs `dovecot-imapd`).
 */
export function dovecotSkip(): string | false {
  if (dovecotBinary()) return false;
  const why = 'dovecot is not installed (Debian package dovecot-imapd)';
  if (process.env.CI) throw new Error(`CI must run the IMAP tests: ${why}`);
  console.warn(`\n*** IMAP tests against Dovecot SKIPPED: ${why} ***\n`);
  return `IMAP tests skipped: ${why}`;
}

export interface Dovecot {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A connected IMAP client for the test's own checks (logged out by `stop`). */
  client(): Promise<ImapFlow>;
  /** Deliver a message the way a mail server would (IMAP APPEND). */
  append(folder: string, raw: Buffer): Promise<void>;
  /** UIDs, flags and sources of the messages in a folder ([] when it does not exist). */
  list(folder: string): Promise<{ uid: number; flags: string[]; raw: Buffer }[]>;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts Dovecot (IMAP only) as a child process on a free 127.0.0.1 port: its own base, state and
 * mail directories under a temp dir, one passwd-file user, plaintext auth without TLS (loopback
 * only). As root, mail is stored as `nobody` (Dovecot refuses uid 0 for mail). `noIdle` leaves
 * IDLE out of the advertised capabilities.
 */
export async function startDovecot(opts: { noIdle?: boolean } = {}): Promise<Dovecot> {
  const bin = dovecotBinary();
  if (!bin) throw new Error('dovecot is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-dovecot-'));
  chmodSync(dir, 0o755);
  for (const d of ['base', 'state', 'mail']) mkdirSync(join(dir, d));
  const port = await freePort();
  const user = 'watch@example.test';
  const password = 'dovecot-test-password';
  const me = userInfo();
  const root = me.uid === 0;
  const uid = root ? 65534 : me.uid;
  const gid = root ? 65534 : me.gid;
  if (root) chownSync(join(dir, 'mail'), uid, gid);
  writeFileSync(join(dir, 'passwd'), `${user}:{PLAIN}${password}\n`);
  writeFileSync(
    join(dir, 'dovecot.conf'),
    [
      'protocols = imap',
      'listen = 127.0.0.1',
      `base_dir = ${dir}/base`,
      `state_dir = ${dir}/state`,
      `instance_name = cairn-test-${port}`,
      'ssl = no',
      'disable_plaintext_auth = no',
      'auth_mechanisms = plain login',
      `log_path = ${dir}/dovecot.log`,
      `mail_location = maildir:${dir}/mail/%u`,
      `mail_uid = ${uid}`,
      `mail_gid = ${gid}`,
      'first_valid_uid = 0',
      'first_valid_gid = 0',
      ...(root ? [] : [`default_internal_user = ${me.username}`, `default_login_user = ${me.username}`, `default_internal_group = ${me.username}`]),
      `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u ${dir}/passwd\n}`,
      `userdb {\n  driver = static\n  args = uid=${uid} gid=${gid} home=${dir}/mail/%u\n}`,
      `service imap-login {\n  chroot =\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}`,
      'service anvil {\n  chroot =\n}',
      'protocol imap {\n  mail_max_userip_connections = 100\n}',
      // Without IDLE in the capability list a client has to poll (the watcher's fallback).
      ...(opts.noIdle ? ['imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE UIDPLUS MOVE NAMESPACE CHILDREN'] : []),
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const readLog = (): string => {
    try {
      return readFileSync(join(dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  };
  // Ready when the greeting arrives.
  const until = Date.now() + 15_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('* OK'));
      });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) break;
    if (child.exitCode !== null || Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`dovecot did not start: ${output}${readLog()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const clients: ImapFlow[] = [];
  const client = async (): Promise<ImapFlow> => {
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  let own: ImapFlow | undefined;
  const mine = async (): Promise<ImapFlow> => (own && own.usable ? own : (own = await client()));
  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    client,
    async append(folder, raw) {
      await (await mine()).append(folder, raw);
    },
    async list(folder) {
      const c = await mine();
      const exists = (await c.list()).some((m) => m.path === folder);
      if (!exists) return [];
      const out: { uid: number; flags: string[]; raw: Buffer }[] = [];
      const st = await c.status(folder, { messages: true });
      if (!st || !st.messages) return out;
      const lock = await c.getMailboxLock(folder);
      try {
        await c.noop();
        for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true })) out.push({ uid: m.uid, flags: [...(m.flags ?? [])], raw: m.source ?? Buffer.alloc(0) });
        return out;
      } finally {
        lock.release();
      }
    },
    log: readLog,
    async stop() {
      for (const c of clients) await c.logout().catch(() => c.close());
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
