/**
 * Delivery (issue 4; notices will reuse it): a durable outgoing queue in each region's store.
 * A producer enqueues a message inside its own transaction (so an alert and its deliveries commit
 * together), one row per subscribed channel, payload encrypted under the org key; after the
 * commit it calls `kick()`, and the sender posts at once (or, for rows it enqueued already
 * claimed, `sendNow()`, which skips the claim: one write-lock wait less on the alert path). Each
 * attempt is recorded (time, duration, outcome code); a failure is retried with exponential back-off and jitter
 * (`deliveryRetryBaseSeconds` doubling, at most an hour, Retry-After honoured) up to
 * `deliveryMaxAttempts`, a permanent refusal (4xx, SMTP 5xx, refused target) is not. A sender
 * claims a row with a lease before sending, so a restart (or a second process) resumes pending
 * rows without sending one twice at the same time; receivers de-duplicate on `X-Cairn-Delivery`.
 */
import { notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import type { Core, Ctx, RetentionService } from '../../privacy/index.ts';
import { DeliveryRepo, type Database, type Executor, type QueueRow } from '../../storage/index.ts';
import { ChannelService } from './channels.ts';
import { WebhookClient, sendMail, type Outcome } from './sender.ts';
import { signatureHeaders } from './signing.ts';

/** A message for the channels subscribed to its topic. Personal data possible in `body` and `email`. */
export interface DeliveryMessage {
  topic: string;
  /** The site it is about: channels bound to another site skip it. */
  siteId: string | null;
  /** What produced it (an alert id), for look-ups. */
  sourceId: string | null;
  /** Webhook body, sent as JSON. */
  body: unknown;
  /** E-mail rendering; `to` replaces the channel's recipients (a notice to one person); `language` becomes Content-Language. */
  email: { subject: string; text: string; to?: string[]; language?: string };
  /**
   * Whom a message to one person is for, by reference (a notice's person id): the topic's
   * resolver (`registerRecipients`) turns it into an address only when the message is sent, so
   * the queued payload holds no address.
   */
  recipient?: string;
}

/**
 * Turns a queued message's `recipient` into where it goes, at send time: the e-mail addresses
 * (`to`), or the webhook body to post instead of the stored one. null: the recipient is gone
 * (erased, no address), and the delivery is cancelled as `recipient_gone`. Personal: the answer
 * lives in memory for one attempt only.
 */
export type RecipientResolver = (x: Executor, orgId: string, recipient: string, kind: 'webhook' | 'email', body: unknown) => Promise<{ to?: string[]; body?: unknown } | null>;

export interface AttemptView {
  attempt: number;
  at: string;
  durationMs: number;
  ok: boolean;
  status: number | null;
  error: string | null;
}

export interface DeliveryView {
  id: string;
  channelId: string;
  topic: string;
  sourceId: string | null;
  state: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: number;
  nextAt: string | null;
  createdAt: string;
  doneAt: string | null;
  lastError: string | null;
  attemptLog: AttemptView[];
}

interface Stored {
  body: unknown;
  email: DeliveryMessage['email'];
  recipient?: string;
}

const PAYLOAD_FIELD = 'delivery_queue.payload';
const MAX_BACKOFF_MS = 3_600_000;
const BATCH = 32;
const PARALLEL = 8;
const POLL_MS = 1_000;

/**
 * Wait before attempt `attempt + 1` after `attempt` failed: `baseMs · 2^(attempt−1)`, at most an
 * hour, times a jitter factor in [0.8, 1.2).
 *
 * @example retryDelayMs(3, 2000, 0.5) === 8000
 */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random()): number {
  const raw = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + 0.4 * random));
}

export class DeliveryService {
  readonly channels: ChannelService;
  private readonly topics = new Set<string>(['ping']);
  private readonly resolvers = new Map<string, RecipientResolver>();
  private readonly webhooks: WebhookClient;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private again = false;
  /** Sends started by `sendNow`, not yet settled. */
  private readonly direct = new Set<Promise<boolean>>();
  private stopped = false;
  /** Called after each attempt (tests and benchmarks watch deliveries; no identifiers). */
  onAttempt: ((d: { id: string; orgId: string; topic: string; ok: boolean; attempt: number }) => void) | undefined;

  constructor(
    private readonly core: Core,
    retention: RetentionService,
  ) {
    this.channels = new ChannelService(core, () => this.topics);
    this.webhooks = new WebhookClient({ timeoutMs: core.cfg.deliveryTimeoutSeconds * 1000, allowPrivate: core.cfg.deliveryAllowPrivateTargets });
    retention.register('location', (x, orgId, before, limit) => new DeliveryRepo(x).purge(orgId, before, limit));
  }

  /** Let channels subscribe to `topic` (each producer registers its own, e.g. `occupancy-alerts`). */
  registerTopic(topic: string): void {
    this.topics.add(topic);
  }

  /** Let `topic`'s messages name their recipient by reference, resolved by `resolve` at send time. */
  registerRecipients(topic: string, resolve: RecipientResolver): void {
    this.resolvers.set(topic, resolve);
  }

  /**
   * Queue `msg` for every enabled channel of the org subscribed to its topic (and site), inside
   * the producer's transaction. Returns the delivery ids; call `kick()` after the commit.
   *
   * @example const ids = await db.tx((x) => delivery.enqueue(x, orgId, msg)); delivery.kick();
   */
  async enqueue(x: Executor, orgId: string, msg: DeliveryMessage): Promise<string[]> {
    return (await this.insert(x, orgId, await this.subscribed(x, orgId, msg), msg, false)).map((r) => r.id);
  }

  /**
   * Like `enqueue`, but the rows are claimed by this process at once: after the commit the
   * producer hands them to `sendNow`, which sends without another trip through the store's
   * write lock (the alert path). A process that dies first leaves them due when the claim lapses.
   */
  async enqueueClaimed(x: Executor, orgId: string, msg: DeliveryMessage): Promise<QueueRow[]> {
    return this.insert(x, orgId, await this.subscribed(x, orgId, msg), msg, true);
  }

  /** Send rows from `enqueueClaimed` now (after the producer's commit), in the background. */
  sendNow(db: Database, rows: readonly QueueRow[]): void {
    if (this.stopped) return;
    for (const row of rows) {
      const p = this.attempt(db, row, true)
        .catch((e: unknown) => {
          this.core.log.error({ err: e, delivery: row.id }, 'delivery attempt failed');
          return false;
        })
        .finally(() => this.direct.delete(p));
      this.direct.add(p);
    }
  }

  private async subscribed(x: Executor, orgId: string, msg: DeliveryMessage): Promise<string[]> {
    const channels = await new DeliveryRepo(x).listChannels(orgId);
    return channels.filter((c) => c.enabled === 1 && (JSON.parse(c.topics) as string[]).includes(msg.topic) && (c.site_id === null || msg.siteId === null || c.site_id === msg.siteId)).map((c) => c.id);
  }

  /** Queue `msg` for one channel (a test message, a notice sent through a chosen channel). */
  async enqueueTo(x: Executor, orgId: string, channelId: string, msg: DeliveryMessage): Promise<string> {
    return (await this.insert(x, orgId, [channelId], msg, false))[0]!.id;
  }

  private async insert(x: Executor, orgId: string, channelIds: string[], msg: DeliveryMessage, claimed: boolean): Promise<QueueRow[]> {
    if (channelIds.length === 0) return [];
    const now = this.core.clock.nowMs();
    const rows: QueueRow[] = [];
    const stored: Stored = { body: msg.body, email: msg.email, ...(msg.recipient !== undefined ? { recipient: msg.recipient } : {}) };
    for (const channelId of channelIds) {
      rows.push({
        id: newId(now),
        org_id: orgId,
        channel_id: channelId,
        topic: msg.topic,
        source_id: msg.sourceId,
        payload_enc: await this.core.keys.encrypt(x, orgId, PAYLOAD_FIELD, JSON.stringify(stored)),
        state: 'pending',
        attempts: 0,
        next_at: claimed ? now + this.leaseMs : now,
        created_at: now,
        done_at: null,
        last_error: null,
      });
    }
    await new DeliveryRepo(x).enqueue(rows);
    return rows;
  }

  /** Send what is due now, soon (after the producer's commit). Coalesces calls. */
  kick(): void {
    if (this.stopped) return;
    if (this.loop) {
      this.again = true;
      return;
    }
    this.loop = (async () => {
      try {
        do {
          this.again = false;
          await this.runDue();
        } while (this.again && !this.stopped);
      } catch (e) {
        this.core.log.error({ err: e }, 'delivery run failed');
      } finally {
        this.loop = undefined;
      }
    })();
  }

  /** Wait until no send is in progress (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.loop || this.direct.size > 0) {
      if (this.loop) await this.loop;
      await Promise.all([...this.direct]);
    }
  }

  /** Start polling for due rows (retries, rows left by a restart) every second. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.idle();
    this.webhooks.close();
  }

  /** One pass over every region store: send the rows due now. Returns how many attempts were made. */
  async runDue(): Promise<number> {
    let n = 0;
    for (const region of this.core.stores.regions) {
      const db = this.core.stores.region(region);
      for (;;) {
        const now = this.core.clock.nowMs();
        const due = await new DeliveryRepo(db).due(now, BATCH);
        if (due.length === 0) break;
        for (let i = 0; i < due.length; i += PARALLEL) {
          const results = await Promise.all(
            due.slice(i, i + PARALLEL).map((r) =>
              this.attempt(db, r).catch((e: unknown) => {
                // The row stays claimed until its lease ends, then it is due again.
                this.core.log.error({ err: e, delivery: r.id }, 'delivery attempt failed');
                return false;
              }),
            ),
          );
          n += results.filter(Boolean).length;
        }
        if (due.length < BATCH || this.stopped) break;
      }
    }
    return n;
  }

  /** Claim, send and settle one row; false when another sender had it. */
  /** How long a claim holds a row (a send's time budget and a margin), ms. */
  private get leaseMs(): number {
    return this.core.cfg.deliveryTimeoutSeconds * 1000 + 30_000;
  }

  private async attempt(db: Database, row: QueueRow, claimed = false): Promise<boolean> {
    const { cfg, clock } = this.core;
    const start = clock.nowMs();
    // Writes go through transactions: on SQLite a bare statement would join whichever transaction is open.
    if (!claimed && !(await db.tx((x) => new DeliveryRepo(x).claim(row.id, row.next_at, start + this.leaseMs)))) return false;
    const channel = await this.channels.load(db, row.org_id, row.channel_id);
    if (!channel || !channel.enabled) {
      await db.tx((x) => new DeliveryRepo(x).cancel(row.id, start, channel ? 'channel_disabled' : 'channel_removed'));
      return false;
    }
    const stored = JSON.parse(await this.core.keys.decrypt(db, row.org_id, PAYLOAD_FIELD, row.payload_enc)) as Stored;
    if (stored.recipient !== undefined) {
      const resolve = this.resolvers.get(row.topic);
      const r = resolve ? await resolve(db, row.org_id, stored.recipient, channel.webhook ? 'webhook' : 'email', stored.body) : null;
      if (!r) {
        await db.tx((x) => new DeliveryRepo(x).cancel(row.id, start, 'recipient_gone'));
        return false;
      }
      if (r.body !== undefined) stored.body = r.body;
      if (r.to !== undefined) stored.email = { ...stored.email, to: r.to };
    }
    const attempt = row.attempts + 1;
    const t0 = performance.now();
    let outcome: Outcome;
    if (channel.webhook) {
      const body = JSON.stringify(stored.body);
      outcome = await this.webhooks.post(channel.webhook.url, body, {
        ...signatureHeaders(body, channel.webhook.secret, clock.nowMs()),
        'X-Cairn-Delivery': row.id,
        'X-Cairn-Topic': row.topic,
        'X-Cairn-Attempt': String(attempt),
      });
    } else {
      const e = channel.email!;
      outcome = await sendMail(e.target, { from: e.from, to: stored.email.to ?? e.to, subject: stored.email.subject, text: stored.email.text, id: row.id, ...(stored.email.language ? { language: stored.email.language } : {}) }, { timeoutMs: cfg.deliveryTimeoutSeconds * 1000, allowPrivate: cfg.deliveryAllowPrivateTargets });
    }
    const durationMs = Math.round(performance.now() - t0);
    const now = clock.nowMs();
    const giveUp = !outcome.ok && (outcome.permanent || attempt >= cfg.deliveryMaxAttempts);
    const state = outcome.ok ? 'delivered' : giveUp ? 'failed' : 'pending';
    const nextAt = state === 'pending' ? now + Math.min(MAX_BACKOFF_MS, Math.max(retryDelayMs(attempt, cfg.deliveryRetryBaseSeconds * 1000), outcome.retryAfterMs ?? 0)) : now;
    await db.tx((x) =>
      new DeliveryRepo(x).settle(
        { delivery_id: row.id, attempt, org_id: row.org_id, at_ms: start, duration_ms: durationMs, ok: outcome.ok ? 1 : 0, status: outcome.status, error: outcome.error },
        state,
        nextAt,
        state === 'pending' ? null : now,
        outcome.error,
      ),
    );
    this.onAttempt?.({ id: row.id, orgId: row.org_id, topic: row.topic, ok: outcome.ok, attempt });
    return true;
  }

  /** An org's deliveries with their attempts, newest first. */
  async list(ctx: Ctx, orgId: string, q: { channelId?: string; state?: string; sourceId?: string; limit?: number } = {}): Promise<DeliveryView[]> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'read', { orgId });
    const repo = new DeliveryRepo(db);
    const rows = await repo.listDeliveries(orgId, { channelId: q.channelId ?? null, state: q.state ?? null, sourceId: q.sourceId ?? null, limit: Math.min(Math.max(q.limit ?? 100, 1), 1000) });
    const attempts = await repo.attemptsOf(orgId, rows.map((r) => r.id));
    const by = new Map<string, AttemptView[]>();
    for (const a of attempts) {
      const l = by.get(a.delivery_id) ?? [];
      l.push({ attempt: a.attempt, at: toIso(a.at_ms), durationMs: a.duration_ms, ok: a.ok === 1, status: a.status, error: a.error });
      by.set(a.delivery_id, l);
    }
    return rows.map((r) => ({
      id: r.id,
      channelId: r.channel_id,
      topic: r.topic,
      sourceId: r.source_id,
      state: r.state as DeliveryView['state'],
      attempts: r.attempts,
      nextAt: r.state === 'pending' ? toIso(r.next_at) : null,
      createdAt: toIso(r.created_at),
      doneAt: r.done_at === null ? null : toIso(r.done_at),
      lastError: r.last_error,
      attemptLog: by.get(r.id) ?? [],
    }));
  }

  /**
   * Send a `ping` through one channel now (what Mist's webhook ping does), audited. Returns the
   * delivery id; its outcome shows in `list`.
   */
  async test(ctx: Ctx, orgId: string, channelId: string): Promise<{ deliveryId: string }> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'manage', { orgId }, `delivery-channel:${channelId}`);
    const now = this.core.clock.nowMs();
    const id = await db.tx(async (x) => {
      if (!(await new DeliveryRepo(x).getChannel(orgId, channelId))) throw notFoundOrNoAccess();
      const deliveryId = await this.enqueueTo(x, orgId, channelId, {
        topic: 'ping',
        siteId: null,
        sourceId: null,
        body: { topic: 'ping', events: [{ name: 'ping', org_id: orgId, timestamp: Math.floor(now / 1000) }] },
        email: { subject: '[Cairn] Test message', text: `This is a test message from Cairn, sent ${toIso(now)} to check this delivery channel.\n` },
      });
      await this.core.audit.record(x, ctx, orgId, 'delivery.channel.test', `delivery-channel:${channelId}`, { deliveryId });
      return deliveryId;
    });
    this.kick();
    return { deliveryId: id };
  }
}
