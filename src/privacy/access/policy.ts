/**
 * Policy building blocks. A policy file per resource maps each action to a rule over the caller's
 * roles in the target org (and site). Rules are pure and synchronous; `AccessService` resolves
 * the caller's roles (including a support grant) before asking them.
 */
import type { Role } from '../context.ts';

export interface Target {
  orgId: string;
  siteId?: string | null;
}

/** The caller's roles as seen from one org. */
export interface RoleView {
  /** Roles held for the whole org (including `support` under an active grant). */
  orgRoles: ReadonlySet<Role>;
  /** Roles that apply at a site: org-wide roles plus roles bound to that site. */
  siteRoles(siteId: string): ReadonlySet<Role>;
  /** Every role held anywhere in the org. */
  anyRoles: ReadonlySet<Role>;
}

export type Rule = (v: RoleView, t: Target) => boolean;

/** Allowed when the caller holds one of `roles` for the whole org. */
export const orgWide =
  (...roles: Role[]): Rule =>
  (v) =>
    roles.some((r) => v.orgRoles.has(r));

/** Allowed when the caller holds one of `roles` at the target site (or org-wide). */
export const atSite =
  (...roles: Role[]): Rule =>
  (v, t) =>
    t.siteId ? roles.some((r) => v.siteRoles(t.siteId!).has(r)) : roles.some((r) => v.orgRoles.has(r));

/** Allowed when the caller holds one of `roles` anywhere in the org (listing, then filtered). */
export const anywhere =
  (...roles: Role[]): Rule =>
  (v) =>
    roles.some((r) => v.anyRoles.has(r));

export const anyOf =
  (...rules: Rule[]): Rule =>
  (v, t) =>
    rules.some((r) => r(v, t));

export type Policy<A extends string> = Record<A, Rule>;

/** Roles that may read the tenancy tree (never sensors: they only ingest). */
export const READERS: Role[] = ['org_admin', 'site_admin', 'privacy_officer', 'observer', 'support'];
