/**
 * Access checks. Every service call starts here: resolve the org's store, work out the caller's
 * roles in that org (a support user only while the org's grant is active and unexpired), ask the
 * resource's policy. A refusal is audited on the org's chain and surfaces as "not found or no
 * access", the same answer as for a record that does not exist.
 */
import { notFoundOrNoAccess } from '../../kernel/errors.ts';
import type { Clock } from '../../kernel/clock.ts';
import { reposFor, type Database } from '../../storage/index.ts';
import type { AuditService } from '../audit/index.ts';
import { isSystem, type Ctx, type Role } from '../context.ts';
import type { OrgDirectory } from '../tenancy/directory.ts';
import { POLICIES, type ActionOf, type Resource } from './policies/index.ts';
import type { RoleView, Target } from './policy.ts';

export class AccessService {
  constructor(
    private readonly directory: OrgDirectory,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /** The caller's roles in an org (support only under an active grant). */
  async view(ctx: Ctx, orgId: string, db: Database): Promise<RoleView> {
    const orgRoles = new Set<Role>();
    const anyRoles = new Set<Role>();
    const bySite = new Map<string, Set<Role>>();
    for (const b of ctx.bindings) {
      if (b.orgId !== orgId) continue;
      anyRoles.add(b.role);
      if (b.siteId === null) orgRoles.add(b.role);
      else {
        const s = bySite.get(b.siteId) ?? new Set<Role>();
        s.add(b.role);
        bySite.set(b.siteId, s);
      }
    }
    if (ctx.operatorRole === 'support' && (await this.grantActive(db, orgId))) {
      orgRoles.add('support');
      anyRoles.add('support');
    }
    return {
      orgRoles,
      anyRoles,
      siteRoles: (siteId) => new Set([...orgRoles, ...(bySite.get(siteId) ?? [])]),
    };
  }

  async grantActive(db: Database, orgId: string): Promise<boolean> {
    const g = await reposFor(db).identity.getGrant(orgId);
    return !!g && g.revoked_at === null && g.expires_at > this.clock.nowMs();
  }

  /**
   * Whether the caller may do `action` on `resource`, without auditing a refusal (listings that
   * skip what the caller cannot see). Returns the org's store, the caller's view and the answer.
   */
  async check<R extends Resource>(ctx: Ctx, resource: R, action: ActionOf<R>, target: Target): Promise<{ db: Database; view: RoleView; allowed: boolean }> {
    const db = await this.directory.storeOf(target.orgId);
    const view = await this.view(ctx, target.orgId, db);
    return { db, view, allowed: isSystem(ctx) || AccessService.allows(view, resource, action, target) };
  }

  /**
   * Check `action` on `resource` for the caller; returns the org's store and the caller's view.
   * Refusals are audited (outcome `denied`) and thrown as CAIRN_ERR_NOT_FOUND.
   */
  async enforce<R extends Resource>(ctx: Ctx, resource: R, action: ActionOf<R>, target: Target, targetLabel?: string): Promise<{ db: Database; view: RoleView }> {
    const { db, view, allowed } = await this.check(ctx, resource, action, target);
    if (!allowed) {
      await this.audit.recordDenied(db, ctx, target.orgId, `${resource}.${action}`, targetLabel ?? (target.siteId ? `site:${target.siteId}` : `org:${target.orgId}`));
      throw notFoundOrNoAccess();
    }
    return { db, view };
  }

  /** Whether the caller could do `action` (no audit; for filtering lists and UI hints). */
  static allows<R extends Resource>(view: RoleView, resource: R, action: ActionOf<R>, target: Target): boolean {
    const rule = (POLICIES[resource] as Record<string, (v: RoleView, t: Target) => boolean>)[action];
    return !!rule && rule(view, target);
  }
}
