/**
 * The caller's context, first argument of every service call: who acts (actor), with which role
 * bindings, under which request id. Services check access with it before touching data and
 * write it into the audit event of every change.
 */
import { newId } from '../kernel/ids.ts';

export const ROLES = ['org_admin', 'site_admin', 'privacy_officer', 'observer', 'sensor', 'support'] as const;
export type Role = (typeof ROLES)[number];

/** A role held for a whole org (`siteId: null`) or for one site. */
export interface Binding {
  role: Role;
  orgId: string;
  siteId: string | null;
}

export type ActorKind = 'user' | 'token' | 'operator' | 'system';
export interface Actor {
  kind: ActorKind;
  /** Record id of the user, token or operator; `cli`/`scheduler` for system. Never an e-mail. */
  id: string;
}

export interface Ctx {
  actor: Actor;
  bindings: Binding[];
  requestId: string;
  /** Operator staff with the support role: sees a tenant only under that tenant's active grant. */
  operatorRole?: 'support';
}

/** The actor as written into audit events: `user:<id>`, `token:<id>`, `operator:<id>`, `system:<id>`. */
export function actorString(a: Actor): string {
  return `${a.kind}:${a.id}`;
}

/** Context of the server itself (scheduler, CLI): full access, still audited. */
export function systemCtx(id: 'cli' | 'scheduler' | 'bootstrap' | 'test' = 'cli', requestId = newId()): Ctx {
  return { actor: { kind: 'system', id }, bindings: [], requestId };
}

export function isSystem(ctx: Ctx): boolean {
  return ctx.actor.kind === 'system';
}
