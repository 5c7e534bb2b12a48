/**
 * Delivery storage (issue 4): an org's outgoing channels (webhook, e-mail), the durable queue of
 * messages to send and every attempt made. Targets, secrets, recipients and payloads are
 * AES-256-GCM ciphertext under the org key; attempts keep only outcome codes. The queue is read
 * across orgs by the sender (due rows of a store), claimed row by row with a lease so two
 * processes never send the same row at once.
 */
import type { Executor } from '../db.ts';

export interface ChannelRow {
  id: string;
  org_id: string;
  /** 'webhook' | 'email'. */
  kind: string;
  name: string;
  enabled: number;
  /** JSON array of topics (`occupancy-alerts`, …). */
  topics: string;
  /** Only messages about this site; null: every site. */
  site_id: string | null;
  /** JSON: what is not secret (SMTP host, port, TLS mode; webhook format). */
  config: string;
  /** AES-GCM JSON: webhook URL and signing secret, or SMTP account, sender and recipients (personal). */
  secrets_enc: Buffer;
  created_at: number;
  updated_at: number;
}

/** A queued message (class `location` with the alerts it carries). `payload_enc`: AES-GCM JSON. */
export interface QueueRow {
  id: string;
  org_id: string;
  channel_id: string;
  topic: string;
  source_id: string | null;
  payload_enc: Buffer;
  /** 'pending' | 'delivered' | 'failed' | 'cancelled'. */
  state: string;
  attempts: number;
  next_at: number;
  created_at: number;
  done_at: number | null;
  /** The last failure as a code (`http_503`, `timeout`, `smtp_450`); never a message text. */
  last_error: string | null;
}

export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  org_id: string;
  at_ms: number;
  duration_ms: number;
  ok: number;
  status: number | null;
  error: string | null;
}

const CHANNEL_COLS = 'id, org_id, kind, name, enabled, topics, site_id, config, secrets_enc, created_at, updated_at';
const QUEUE_COLS = 'id, org_id, channel_id, topic, source_id, payload_enc, state, attempts, next_at, created_at, done_at, last_error';
/** The queue without its payload (listings). */
const QUEUE_LIST_COLS = 'id, org_id, channel_id, topic, source_id, state, attempts, next_at, created_at, done_at, last_error';

export class DeliveryRepo {
  constructor(private readonly x: Executor) {}

  // ---- channels ---------------------------------------------------------------------------

  async insertChannel(c: ChannelRow): Promise<void> {
    await this.x.run(`INSERT INTO delivery_channels (${CHANNEL_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
      c.id, c.org_id, c.kind, c.name, c.enabled, c.topics, c.site_id, c.config, c.secrets_enc, c.created_at, c.updated_at,
    ]);
  }
  async updateChannel(c: ChannelRow): Promise<void> {
    await this.x.run('UPDATE delivery_channels SET name = $3, enabled = $4, topics = $5, site_id = $6, config = $7, secrets_enc = $8, updated_at = $9 WHERE org_id = $1 AND id = $2', [
      c.org_id, c.id, c.name, c.enabled, c.topics, c.site_id, c.config, c.secrets_enc, c.updated_at,
    ]);
  }
  getChannel(orgId: string, id: string): Promise<ChannelRow | undefined> {
    return this.x.get<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM delivery_channels WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  listChannels(orgId: string): Promise<ChannelRow[]> {
    return this.x.all<ChannelRow>(`SELECT ${CHANNEL_COLS} FROM delivery_channels WHERE org_id = $1 ORDER BY created_at, id`, [orgId]);
  }
  async deleteChannel(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM delivery_channels WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }

  // ---- queue ------------------------------------------------------------------------------

  async enqueue(rows: readonly QueueRow[]): Promise<void> {
    for (const q of rows) {
      await this.x.run(`INSERT INTO delivery_queue (${QUEUE_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
        q.id, q.org_id, q.channel_id, q.topic, q.source_id, q.payload_enc, q.state, q.attempts, q.next_at, q.created_at, q.done_at, q.last_error,
      ]);
    }
  }
  /** Pending rows of this store due at `nowMs`, soonest first (any org). */
  due(nowMs: number, limit: number): Promise<QueueRow[]> {
    return this.x.all<QueueRow>(`SELECT ${QUEUE_COLS} FROM delivery_queue WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT $2`, [nowMs, limit]);
  }
  /** When the next pending row of this store is due, or undefined when none is pending. */
  async nextDue(): Promise<number | undefined> {
    const r = await this.x.get<{ t: number | null }>("SELECT MIN(next_at) AS t FROM delivery_queue WHERE state = 'pending'");
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  }
  /** Take a due row for sending until `leaseUntilMs` (a crash mid-send leaves it due again then); false when another sender took it. */
  async claim(id: string, seenNextAt: number, leaseUntilMs: number): Promise<boolean> {
    return (await this.x.run("UPDATE delivery_queue SET next_at = $3 WHERE id = $1 AND state = 'pending' AND next_at = $2", [id, seenNextAt, leaseUntilMs])).changes === 1;
  }
  /** Record an attempt and the row's new state in one go (the caller's transaction). */
  async settle(a: AttemptRow, state: string, nextAt: number, doneAt: number | null, lastError: string | null): Promise<void> {
    await this.x.run('INSERT INTO delivery_attempts (delivery_id, attempt, org_id, at_ms, duration_ms, ok, status, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
      a.delivery_id, a.attempt, a.org_id, a.at_ms, a.duration_ms, a.ok, a.status, a.error,
    ]);
    await this.x.run('UPDATE delivery_queue SET state = $2, attempts = $3, next_at = $4, done_at = $5, last_error = $6 WHERE id = $1', [a.delivery_id, state, a.attempt, nextAt, doneAt, lastError]);
  }
  /** Stop a pending row without an attempt (its channel was removed or switched off). */
  async cancel(id: string, atMs: number, reason: string): Promise<void> {
    await this.x.run("UPDATE delivery_queue SET state = 'cancelled', done_at = $2, last_error = $3 WHERE id = $1 AND state = 'pending'", [id, atMs, reason]);
  }
  getDelivery(orgId: string, id: string): Promise<QueueRow | undefined> {
    return this.x.get<QueueRow>(`SELECT ${QUEUE_COLS} FROM delivery_queue WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  /** An org's deliveries, newest first, without payloads; optionally one channel, state or source. */
  listDeliveries(orgId: string, q: { channelId: string | null; state: string | null; sourceId: string | null; limit: number }): Promise<Omit<QueueRow, 'payload_enc'>[]> {
    const where = ['org_id = $1'];
    const p: unknown[] = [orgId];
    for (const [col, v] of [['channel_id', q.channelId], ['state', q.state], ['source_id', q.sourceId]] as const) {
      if (v === null) continue;
      p.push(v);
      where.push(`${col} = $${p.length}`);
    }
    p.push(q.limit);
    return this.x.all(`SELECT ${QUEUE_LIST_COLS} FROM delivery_queue WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $${p.length}`, p);
  }
  /** The attempts of some deliveries, in order. */
  async attemptsOf(orgId: string, ids: readonly string[]): Promise<AttemptRow[]> {
    if (ids.length === 0) return [];
    const marks = ids.map((_, i) => `$${i + 2}`).join(', ');
    return this.x.all<AttemptRow>(`SELECT delivery_id, attempt, org_id, at_ms, duration_ms, ok, status, error FROM delivery_attempts WHERE org_id = $1 AND delivery_id IN (${marks}) ORDER BY delivery_id, attempt`, [orgId, ...ids]);
  }
  /** Delete at most `limit` queue rows (with their attempts) created before `beforeMs`; returns rows deleted. */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const ids = (await this.x.all<{ id: string }>('SELECT id FROM delivery_queue WHERE org_id = $1 AND created_at < $2 ORDER BY created_at LIMIT $3', [orgId, beforeMs, limit])).map((r) => r.id);
    if (ids.length === 0) return 0;
    const marks = ids.map((_, i) => `$${i + 2}`).join(', ');
    const a = (await this.x.run(`DELETE FROM delivery_attempts WHERE org_id = $1 AND delivery_id IN (${marks})`, [orgId, ...ids])).changes;
    return a + (await this.x.run(`DELETE FROM delivery_queue WHERE org_id = $1 AND id IN (${marks})`, [orgId, ...ids])).changes;
  }
}
