/**
 * Syslog receivers over UDP (RFC 5426: one message per datagram) and TCP (RFC 6587 framing),
 * feeding controller association events (Aruba, hostapd) into the ingest pipeline for one org
 * and site. Lines are parsed as they arrive and committed in batches of up to 1 000
 * observations (or every `flushMs`). TCP senders are paused while too much is waiting
 * (back-pressure); UDP has no way to slow a sender, so datagrams beyond the limit are counted as
 * rejected (`backpressure`). Every refused line is counted by reason. Off unless a port is set.
 * The association events also go to the org's live session feed (`session-store.ts`), committed
 * with each flush: sessions are stored while open, so a restart resumes them.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CairnError, isCairnError } from '../../kernel/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Config } from '../../config.ts';
import type { Ctx } from '../../privacy/index.ts';
import { ingestReasonOf } from '../errors.ts';
import type { IngestService } from '../service.ts';
import type { PersonalField, RawObservation } from '../types.ts';
import type { SessionFeed } from '../session-store.ts';
import { associationToObservation, syslogAssociation } from './associations.ts';
import { SyslogFramer } from './framing.ts';
import { parseSyslogLine } from './syslog.ts';

export interface SyslogListenerOptions {
  host: string;
  /** UDP port; undefined: no UDP listener; 0: any free port. */
  udpPort?: number;
  /** TCP port; undefined: no TCP listener; 0: any free port. */
  tcpPort?: number;
  /** The org the controllers' lines belong to, and the site whose APs they name. */
  orgId: string;
  siteId: string | null;
  /** Longest wait before a partial batch is committed, ms (default 250). */
  flushMs?: number;
  /** Observations waiting beyond which TCP senders are paused and UDP datagrams refused (default 20 000). */
  maxPending?: number;
}

export interface SyslogListenerStats {
  lines: number;
  observations: number;
  rejected: number;
  batches: number;
  /** Association sessions opened (stored). */
  sessions: number;
}

const CTX: Ctx = { actor: { kind: 'system', id: 'syslog-listener' }, bindings: [], requestId: 'syslog-listener' };

/**
 * @example
 * const l = new SyslogListener(ingest, clock, log, { host: '0.0.0.0', udpPort: 514, tcpPort: 601, orgId, siteId });
 * const where = await l.start(); … await l.stop();
 */
export class SyslogListener {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private pending: RawObservation[] = [];
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private collect: PersonalField[] = [];
  private feed: SessionFeed | undefined;
  /** A session commit is queued and has not taken the feed's events yet (they count as on their way). */
  private feedQueued = false;
  readonly stats: SyslogListenerStats = { lines: 0, observations: 0, rejected: 0, batches: 0, sessions: 0 };

  constructor(
    private readonly ingest: IngestService,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: SyslogListenerOptions,
  ) {}

  /** Open the configured sockets; returns where they listen. */
  async start(): Promise<{ udp?: AddressInfo; tcp?: AddressInfo }> {
    const { eff } = await this.ingest.open(CTX, this.opts.orgId, this.opts.siteId);
    this.collect = [...(eff.collect.get('syslog') ?? [])];
    this.feed = this.ingest.sessions?.listenerFeed(this.opts.orgId, this.opts.siteId);
    const out: { udp?: AddressInfo; tcp?: AddressInfo } = {};
    if (this.opts.udpPort !== undefined) {
      const udp = createSocket(this.opts.host.includes(':') ? 'udp6' : 'udp4');
      udp.on('message', (msg) => {
        if (this.pending.length + this.inFlight >= this.maxPending) return this.refuse('backpressure');
        this.line(msg.toString('utf8'));
      });
      udp.on('error', (err) => this.log.error({ err }, 'syslog UDP listener failed'));
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.opts.udpPort, this.opts.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      this.udp = udp;
      out.udp = udp.address();
    }
    if (this.opts.tcpPort !== undefined) {
      const tcp = createServer((socket) => {
        this.sockets.add(socket);
        if (this.paused) socket.pause();
        const framer = new SyslogFramer({ onError: (e) => this.refuse(ingestReasonOf(e)) });
        socket.on('data', (chunk: Buffer) => {
          for (const m of framer.push(chunk)) this.line(m);
        });
        socket.on('end', () => {
          for (const m of framer.end()) this.line(m);
        });
        socket.on('error', () => undefined);
        socket.on('close', () => this.sockets.delete(socket));
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.opts.tcpPort, this.opts.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      this.tcp = tcp;
      out.tcp = tcp.address() as AddressInfo;
    }
    return out;
  }

  private get maxPending(): number {
    return this.opts.maxPending ?? 20_000;
  }

  private refuse(reason: string): void {
    this.stats.rejected++;
    this.ingest.countRejected('syslog', reason);
  }

  /** One message: association events become observations; other lines are ignored, bad ones counted. */
  private line(text: string): void {
    this.stats.lines++;
    try {
      const a = syslogAssociation(parseSyslogLine(text, { referenceMs: this.clock.nowMs() }), { collect: this.collect });
      if (!a) return;
      this.feed?.push(a);
      const o = associationToObservation(a);
      if (o) {
        this.pending.push(o);
        this.stats.observations++;
      } else if (a.idType === 'hashed') {
        return this.refuse('hashed_client');
      }
    } catch (e) {
      if (!isCairnError(e)) throw e;
      this.refuse(ingestReasonOf(e));
      return;
    }
    if (this.pending.length >= 1000 || (!this.feedQueued && (this.feed?.pending ?? 0) >= 1000)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 250);
    if (!this.paused && this.pending.length + this.inFlight >= this.maxPending) this.pause(true);
  }

  private pause(on: boolean): void {
    this.paused = on;
    for (const s of this.sockets) if (on) s.pause();
    else s.resume();
  }

  /** Commit what is waiting (in order, one batch at a time). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const observations = this.pending.splice(0, 1000);
      this.inFlight += observations.length;
      this.chain = this.chain
        .then(async () => {
          const { db, eff } = await this.ingest.open(CTX, this.opts.orgId, this.opts.siteId);
          await this.ingest.run(db, CTX, this.opts.orgId, eff, { source: 'syslog', observations, siteId: this.opts.siteId });
          this.stats.batches++;
        })
        .catch((err: unknown) => this.log.error({ err }, 'syslog batch failed'))
        .finally(() => {
          this.inFlight -= observations.length;
          if (this.paused && this.pending.length + this.inFlight < this.maxPending / 2) this.pause(false);
        });
    }
    const feed = this.feed;
    if (feed && feed.pending > 0 && !this.feedQueued) {
      this.feedQueued = true;
      this.chain = this.chain
        .then(async () => {
          this.feedQueued = false;
          const { db, eff } = await this.ingest.open(CTX, this.opts.orgId, this.opts.siteId);
          this.stats.sessions += (await feed.commit(db, CTX, eff)).opened;
        })
        .catch((err: unknown) => this.log.error({ err }, 'syslog association sessions failed'));
    }
    return this.chain;
  }

  /** Stop listening, then commit what was received. */
  async stop(): Promise<void> {
    if (this.udp) await new Promise<void>((r) => this.udp!.close(() => r()));
    this.udp = undefined;
    if (this.tcp) {
      const closed = new Promise<void>((r) => this.tcp!.close(() => r()));
      for (const s of this.sockets) s.destroy();
      await closed;
    }
    this.tcp = undefined;
    await this.flush();
  }
}

/**
 * The listener `cairn serve` runs, from the configuration: null when neither port is set.
 * Throws CAIRN_ERR_CONFIG when a port is set without the org the lines belong to.
 */
export function syslogListenerFromConfig(cfg: Pick<Config, 'syslogHost' | 'syslogUdpPort' | 'syslogTcpPort' | 'syslogOrg' | 'syslogSite'>, ingest: IngestService, clock: Clock, log: Logger): SyslogListener | null {
  if (cfg.syslogUdpPort < 0 && cfg.syslogTcpPort < 0) return null;
  if (!cfg.syslogOrg) throw new CairnError('CAIRN_ERR_CONFIG', 'Invalid configuration syslogOrg (CAIRN_SYSLOG_ORG): set the org whose controllers send syslog when a syslog port is set.', { key: 'syslogOrg' });
  return new SyslogListener(ingest, clock, log, {
    host: cfg.syslogHost,
    ...(cfg.syslogUdpPort >= 0 ? { udpPort: cfg.syslogUdpPort } : {}),
    ...(cfg.syslogTcpPort >= 0 ? { tcpPort: cfg.syslogTcpPort } : {}),
    orgId: cfg.syslogOrg,
    siteId: cfg.syslogSite ?? null,
  });
}
