/**
 * The audit log: events (hash chain per org; each event's fields in one `canon` text), the chain
 * head, signed checkpoints over ranges of events, and prune anchors.
 */
import type { Executor } from '../db.ts';

export interface AuditEventRow {
  org_id: string;
  seq: number;
  at_ms: number;
  /** The event's fields joined by U+001F (see privacy/audit/chain.ts). */
  canon: string;
  hash: string;
}
export interface CheckpointRow {
  org_id: string;
  /** Last event the checkpoint covers. */
  seq: number;
  /** The range covered is (from_seq, seq]. */
  from_seq: number;
  /** Hash of the event at `seq`. */
  hash: string;
  /** SHA-256 over the org id and the canon of every event in the range. */
  range_digest: string;
  at_ms: number;
  key_id: string;
  signature: string;
}
export interface AnchorRow {
  org_id: string;
  seq: number;
  hash: string;
  at_ms: number;
  key_id: string;
  signature: string;
}
export interface HeadRow {
  seq: number;
  hash: string;
  checkpoint_seq: number;
}

export class AuditRepo {
  constructor(private readonly x: Executor) {}

  /** The chain head as stored (no lock): for verification and listings. */
  head(orgId: string): Promise<HeadRow | undefined> {
    return this.x.get<HeadRow>('SELECT seq, hash, checkpoint_seq FROM audit_heads WHERE org_id = $1', [orgId]);
  }

  /**
   * The chain head for appending, locked for the rest of the transaction on PostgreSQL. The head
   * row is created first (seq 0 at `genesis`) so that two first appends cannot both see "no head".
   */
  async lockHead(orgId: string, genesis: string): Promise<HeadRow> {
    if (this.x.engine === 'postgres') {
      await this.x.run('INSERT INTO audit_heads (org_id, seq, hash, checkpoint_seq) VALUES ($1, 0, $2, 0) ON CONFLICT (org_id) DO NOTHING', [orgId, genesis]);
      return (await this.x.get<HeadRow>('SELECT seq, hash, checkpoint_seq FROM audit_heads WHERE org_id = $1 FOR UPDATE', [orgId]))!;
    }
    return (await this.head(orgId)) ?? { seq: 0, hash: genesis, checkpoint_seq: 0 };
  }

  async setHead(orgId: string, seq: number, hash: string): Promise<void> {
    await this.x.run('INSERT INTO audit_heads (org_id, seq, hash, checkpoint_seq) VALUES ($1, $2, $3, 0) ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash', [orgId, seq, hash]);
  }

  async setCheckpointSeq(orgId: string, seq: number): Promise<void> {
    await this.x.run('UPDATE audit_heads SET checkpoint_seq = $2 WHERE org_id = $1 AND checkpoint_seq < $2', [orgId, seq]);
  }

  async insertEvents(rows: AuditEventRow[]): Promise<void> {
    await this.x.many(
      'INSERT INTO audit_events (org_id, seq, at_ms, canon, hash) VALUES ($1, $2, $3, $4, $5)',
      rows.map((r) => [r.org_id, r.seq, r.at_ms, r.canon, r.hash]),
    );
  }

  /** Events in seq order in (afterSeq, throughSeq], at most `limit`. */
  page(orgId: string, afterSeq: number, limit: number, throughSeq = Number.MAX_SAFE_INTEGER): Promise<AuditEventRow[]> {
    return this.x.all<AuditEventRow>('SELECT org_id, seq, at_ms, canon, hash FROM audit_events WHERE org_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4', [orgId, afterSeq, throughSeq, limit]);
  }

  /** Newest first, for the API listing. */
  recent(orgId: string, beforeSeq: number, limit: number): Promise<AuditEventRow[]> {
    return this.x.all<AuditEventRow>('SELECT org_id, seq, at_ms, canon, hash FROM audit_events WHERE org_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3', [orgId, beforeSeq, limit]);
  }

  /**
   * The events of (fromSeq, toSeq] as one string: their canon texts in seq order joined by U+001E,
   * built by the database (one value for the whole range, so checking a signed range costs one
   * hash over it instead of one row at a time).
   */
  async rangeBody(orgId: string, fromSeq: number, toSeq: number): Promise<{ count: number; body: string }> {
    const sql =
      this.x.engine === 'postgres'
        ? "SELECT COUNT(*) AS count, string_agg(canon, chr(30) ORDER BY seq) AS body FROM audit_events WHERE org_id = $1 AND seq > $2 AND seq <= $3"
        : 'SELECT COUNT(*) AS count, group_concat(canon, char(30)) AS body FROM (SELECT canon FROM audit_events WHERE org_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq)';
    const r = await this.x.get<{ count: number; body: string | null }>(sql, [orgId, fromSeq, toSeq]);
    return { count: Number(r?.count ?? 0), body: r?.body ?? '' };
  }

  async insertCheckpoint(c: CheckpointRow): Promise<void> {
    await this.x.run(
      'INSERT INTO audit_checkpoints (org_id, seq, from_seq, hash, range_digest, at_ms, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, seq) DO NOTHING',
      [c.org_id, c.seq, c.from_seq, c.hash, c.range_digest, c.at_ms, c.key_id, c.signature],
    );
  }
  checkpoints(orgId: string): Promise<CheckpointRow[]> {
    return this.x.all<CheckpointRow>('SELECT org_id, seq, from_seq, hash, range_digest, at_ms, key_id, signature FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq', [orgId]);
  }
  /** The newest checkpoint of an org (one row, not the whole list). */
  lastCheckpoint(orgId: string): Promise<CheckpointRow | undefined> {
    return this.x.get<CheckpointRow>('SELECT org_id, seq, from_seq, hash, range_digest, at_ms, key_id, signature FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq DESC LIMIT 1', [orgId]);
  }
  anchor(orgId: string): Promise<AnchorRow | undefined> {
    return this.x.get<AnchorRow>('SELECT org_id, seq, hash, at_ms, key_id, signature FROM audit_anchors WHERE org_id = $1', [orgId]);
  }
  async setAnchor(c: AnchorRow): Promise<void> {
    await this.x.run(
      'INSERT INTO audit_anchors (org_id, seq, hash, at_ms, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, at_ms = excluded.at_ms, key_id = excluded.key_id, signature = excluded.signature',
      [c.org_id, c.seq, c.hash, c.at_ms, c.key_id, c.signature],
    );
  }
  /** The oldest `limit` events written before `beforeMs`, for bounded pruning. */
  oldestBefore(orgId: string, beforeMs: number, limit: number): Promise<AuditEventRow[]> {
    return this.x.all<AuditEventRow>('SELECT org_id, seq, at_ms, canon, hash FROM audit_events WHERE org_id = $1 AND at_ms < $2 ORDER BY seq LIMIT $3', [orgId, beforeMs, limit]);
  }
  async deleteThrough(orgId: string, seq: number): Promise<number> {
    return (await this.x.run('DELETE FROM audit_events WHERE org_id = $1 AND seq <= $2', [orgId, seq])).changes;
  }
  /** Checkpoints whose range reaches at or below `seq` can no longer be checked whole. */
  async deleteCheckpointsFrom(orgId: string, seq: number): Promise<void> {
    await this.x.run('DELETE FROM audit_checkpoints WHERE org_id = $1 AND from_seq < $2', [orgId, seq]);
  }
  /** Everything of an org's audit log (tenant off-boarding only). */
  async deleteAllOfOrg(orgId: string): Promise<number> {
    const n = (await this.x.run('DELETE FROM audit_events WHERE org_id = $1', [orgId])).changes;
    for (const t of ['audit_heads', 'audit_checkpoints', 'audit_anchors']) await this.x.run(`DELETE FROM ${t} WHERE org_id = $1`, [orgId]);
    return n;
  }
  async count(orgId: string): Promise<number> {
    return (await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM audit_events WHERE org_id = $1', [orgId]))?.n ?? 0;
  }

  // ---- redaction (erasure of a data subject, R-PRIV-4) -----------------------------------------

  /** Events of an org whose canon contains any of `needles` (plain substrings), in seq order. */
  async containing(orgId: string, needles: readonly string[]): Promise<AuditEventRow[]> {
    const out = new Map<number, AuditEventRow>();
    for (let i = 0; i < needles.length; i += 50) {
      const part = needles.slice(i, i + 50);
      const rows = await this.x.all<AuditEventRow>(
        `SELECT org_id, seq, at_ms, canon, hash FROM audit_events WHERE org_id = $1 AND (${part.map((_, j) => `canon LIKE $${j + 2}`).join(' OR ')})`,
        [orgId, ...part.map((n) => `%${n.replace(/[%_\\]/g, '')}%`)],
      );
      for (const r of rows) out.set(Number(r.seq), r);
    }
    return [...out.values()].sort((a, b) => Number(a.seq) - Number(b.seq));
  }
  async setCanon(orgId: string, seq: number, canon: string): Promise<void> {
    await this.x.run('UPDATE audit_events SET canon = $3 WHERE org_id = $1 AND seq = $2', [orgId, seq, canon]);
  }
  redactions(orgId: string): Promise<RedactionRow[]> {
    return this.x.all<RedactionRow>('SELECT org_id, seq, at_ms, canon_digest, key_id, signature FROM audit_redactions WHERE org_id = $1 ORDER BY seq', [orgId]);
  }
  async putRedaction(r: RedactionRow): Promise<void> {
    await this.x.run(
      'INSERT INTO audit_redactions (org_id, seq, at_ms, canon_digest, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO UPDATE SET at_ms = excluded.at_ms, canon_digest = excluded.canon_digest, key_id = excluded.key_id, signature = excluded.signature',
      [r.org_id, r.seq, r.at_ms, r.canon_digest, r.key_id, r.signature],
    );
  }
  /** Re-sign a checkpoint whose range now holds redacted texts (same range, same end hash). */
  async resignCheckpoint(c: CheckpointRow): Promise<void> {
    await this.x.run('UPDATE audit_checkpoints SET range_digest = $3, at_ms = $4, key_id = $5, signature = $6 WHERE org_id = $1 AND seq = $2', [c.org_id, c.seq, c.range_digest, c.at_ms, c.key_id, c.signature]);
  }
}

/**
 * An event whose personal tokens were erased: its chain hash is unchanged, and the region's key
 * signs the hash together with the SHA-256 of the redacted canon.
 */
export interface RedactionRow {
  org_id: string;
  seq: number;
  at_ms: number;
  canon_digest: string;
  key_id: string;
  signature: string;
}
