/** The audit log: events (hash chain per org), the chain head, signed checkpoints, prune anchors. */
import type { Executor } from '../db.ts';

export interface AuditEventRow {
  org_id: string;
  seq: number;
  at_ms: number;
  actor: string;
  action: string;
  target: string;
  request_id: string;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
}
export interface CheckpointRow {
  org_id: string;
  seq: number;
  hash: string;
  at_ms: number;
  key_id: string;
  signature: string;
}

export const AUDIT_COLS = 'org_id, seq, at_ms, actor, action, target, request_id, outcome, details, prev_hash, hash';

export class AuditRepo {
  constructor(private readonly x: Executor) {}

  /** The chain head as stored (no lock): for verification and listings. */
  head(orgId: string): Promise<{ seq: number; hash: string } | undefined> {
    return this.x.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_heads WHERE org_id = $1', [orgId]);
  }

  /**
   * The chain head for appending, locked for the rest of the transaction on PostgreSQL. The head
   * row is created first (seq 0 at `genesis`) so that two first appends cannot both see "no head".
   */
  async lockHead(orgId: string, genesis: string): Promise<{ seq: number; hash: string }> {
    if (this.x.engine === 'postgres') {
      await this.x.run('INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING', [orgId, genesis]);
      return (await this.x.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_heads WHERE org_id = $1 FOR UPDATE', [orgId]))!;
    }
    return (await this.head(orgId)) ?? { seq: 0, hash: genesis };
  }
  async setHead(orgId: string, seq: number, hash: string): Promise<void> {
    await this.x.run('INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [orgId, seq, hash]);
  }
  async insertEvents(rows: AuditEventRow[]): Promise<void> {
    await this.x.many(
      `INSERT INTO audit_events (${AUDIT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      rows.map((r) => [r.org_id, r.seq, r.at_ms, r.actor, r.action, r.target, r.request_id, r.outcome, r.details, r.prev_hash, r.hash]),
    );
  }
  /** Events in seq order from `afterSeq` (exclusive), at most `limit`. */
  page(orgId: string, afterSeq: number, limit: number): Promise<AuditEventRow[]> {
    return this.x.all<AuditEventRow>(`SELECT ${AUDIT_COLS} FROM audit_events WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [orgId, afterSeq, limit]);
  }
  /** Newest first, for the API listing. */
  recent(orgId: string, beforeSeq: number, limit: number): Promise<AuditEventRow[]> {
    return this.x.all<AuditEventRow>(`SELECT ${AUDIT_COLS} FROM audit_events WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, [orgId, beforeSeq, limit]);
  }
  async insertCheckpoint(c: CheckpointRow): Promise<void> {
    await this.x.run('INSERT INTO audit_checkpoints (org_id, seq, hash, at_ms, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO NOTHING', [c.org_id, c.seq, c.hash, c.at_ms, c.key_id, c.signature]);
  }
  checkpoints(orgId: string): Promise<CheckpointRow[]> {
    return this.x.all<CheckpointRow>('SELECT * FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [orgId]);
  }
  anchor(orgId: string): Promise<CheckpointRow | undefined> {
    return this.x.get<CheckpointRow>('SELECT org_id, seq, hash, at_ms, key_id, signature FROM audit_anchors WHERE org_id = $1', [orgId]);
  }
  async setAnchor(c: CheckpointRow): Promise<void> {
    await this.x.run(
      'INSERT INTO audit_anchors (org_id, seq, hash, at_ms, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at_ms = excluded.at_ms, key_id = excluded.key_id, signature = excluded.signature',
      [c.org_id, c.seq, c.hash, c.at_ms, c.key_id, c.signature],
    );
  }
  /** The oldest `limit` events written before `beforeMs`, for bounded pruning. */
  oldestBefore(orgId: string, beforeMs: number, limit: number): Promise<{ seq: number; hash: string }[]> {
    return this.x.all('SELECT seq, hash FROM audit_events WHERE org_id = $1 AND at_ms < $2 ORDER BY seq LIMIT $3', [orgId, beforeMs, limit]);
  }
  async deleteThrough(orgId: string, seq: number): Promise<number> {
    return (await this.x.run('DELETE FROM audit_events WHERE org_id = $1 AND seq <= $2', [orgId, seq])).changes;
  }
  async deleteCheckpointsBelow(orgId: string, seq: number): Promise<void> {
    await this.x.run('DELETE FROM audit_checkpoints WHERE org_id = $1 AND seq < $2', [orgId, seq]);
  }
  /** Lowest and highest seq present, and how many events there are. */
  async seqBounds(orgId: string): Promise<{ min: number; max: number; count: number } | undefined> {
    const r = await this.x.get<{ min: number | null; max: number | null; count: number }>('SELECT MIN(seq) AS min, MAX(seq) AS max, COUNT(*) AS count FROM audit_events WHERE org_id = $1', [orgId]);
    return r && r.min !== null && r.max !== null ? { min: Number(r.min), max: Number(r.max), count: Number(r.count) } : undefined;
  }
  async count(orgId: string): Promise<number> {
    return (await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events WHERE org_id = $1', [orgId]))?.n ?? 0;
  }
}
