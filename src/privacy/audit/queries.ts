/** Audit reads for people (API, CLI): listing and verifying an org's chain, behind access checks. */
import { toIso } from '../../kernel/clock.ts';
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import type { VerifyResult } from './service.ts';
import { parseCanon } from './chain.ts';

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  requestId: string;
  outcome: string;
  details: Record<string, unknown>;
  hash: string;
}

export class AuditQueries {
  constructor(private readonly core: Core) {}

  async list(ctx: Ctx, orgId: string, opts: { beforeSeq?: number; limit?: number }): Promise<AuditEvent[]> {
    const { db } = await this.core.access.enforce(ctx, 'audit', 'read', { orgId });
    const rows = await this.core.audit.list(db, orgId, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit ?? 100);
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'audit.read', `org:${orgId}`, { count: rows.length }));
    return rows.map((r) => {
      const f = parseCanon(r.canon);
      return { seq: r.seq, at: toIso(f.atMs), actor: f.actor, action: f.action, target: f.target, requestId: f.requestId, outcome: f.outcome, details: JSON.parse(f.details) as Record<string, unknown>, hash: r.hash };
    });
  }

  /** Verify the chain (signing a fresh checkpoint first only when it is intact). */
  async verify(ctx: Ctx, orgId: string): Promise<VerifyResult> {
    const { db } = await this.core.access.enforce(ctx, 'audit', 'verify', { orgId });
    const r = await this.core.audit.verify(db, orgId);
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'audit.verify', `org:${orgId}`, { ok: r.ok, eventsChecked: r.eventsChecked, firstBad: r.firstBad?.seq ?? null }, r.ok ? 'ok' : 'error'));
    return r;
  }

  async publicKeys(ctx: Ctx, orgId: string): Promise<{ id: string; publicKeyPem: string }[]> {
    const { db } = await this.core.access.enforce(ctx, 'audit', 'verify', { orgId });
    return this.core.audit.publicKeys(db);
  }
}
