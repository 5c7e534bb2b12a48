/**
 * Identity: users (argon2id passwords, e-mail encrypted under the org key and found at login by a
 * keyed lookup hash), dashboard sessions, machine tokens (stored hashed, shown once, scoped to a
 * role and optionally a site, expiring), operator staff, and the support grant (R-SEC-4).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId, isId } from '../../kernel/ids.ts';
import { DAY_MS, HOUR_MS, toIso } from '../../kernel/clock.ts';
import { controlRepo, reposFor, type Database, type TokenRow } from '../../storage/index.ts';
import { ROLES, type Binding, type Ctx, type Role } from '../context.ts';
import type { Core } from '../core.ts';
import { checkPasswordPolicy, dummyHash, hashPassword, verifyPassword } from './passwords.ts';

export interface User {
  id: string;
  orgId: string;
  email: string;
  name: string | null;
  disabled: boolean;
  roles: { role: Role; siteId: string | null }[];
  createdAt: string;
}
export interface TokenInfo {
  id: string;
  orgId: string;
  name: string;
  role: Role;
  siteId: string | null;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}
export interface SupportGrant {
  orgId: string;
  active: boolean;
  grantedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const ORG_ROLES: Role[] = ['org_admin', 'site_admin', 'privacy_officer', 'observer'];
const TOKEN_ROLES: Role[] = ['sensor', 'observer', 'org_admin', 'privacy_officer', 'site_admin'];

/** Session cookie value: `<store>.<secret>`; the store (region or control) says where to look. */
function splitSession(value: string): { store: string; secret: string } | null {
  const m = /^([a-z][a-z0-9]{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  return m ? { store: m[1]!, secret: m[2]! } : null;
}

/** Token: `cairn_<region>_<32 hex id>_<secret>`. */
function splitToken(value: string): { region: string; id: string; secret: string } | null {
  const m = /^cairn_([a-z][a-z0-9]{1,15})_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const h = m[2]!;
  return { region: m[1]!, id: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`, secret: m[3]! };
}

export interface LoginResult {
  sessionValue: string;
  expiresAtMs: number;
  ctx: Ctx;
}

export class IdentityService {
  constructor(private readonly core: Core) {}

  private emailLookup(email: string): string {
    return this.core.keys.lookupHash('email', email);
  }

  private validEmail(email: string): string {
    const e = email.trim();
    if (e.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e)) throw new CairnError('CAIRN_ERR_VALIDATION', 'email is not a valid e-mail address.', { field: 'email' });
    return e;
  }

  /** Refuse an e-mail address already used by any account in any store. */
  private async assertEmailFree(lookup: string): Promise<void> {
    if (await controlRepo(this.core.stores.control).getOperatorByLookup(lookup)) throw new CairnError('CAIRN_ERR_CONFLICT', 'An account with this e-mail address exists.', { field: 'email' });
    for (const r of this.core.stores.regions) {
      if (await reposFor(this.core.stores.region(r)).identity.getUserByLookup(lookup)) throw new CairnError('CAIRN_ERR_CONFLICT', 'An account with this e-mail address exists.', { field: 'email' });
    }
  }

  // ---- users --------------------------------------------------------------------------

  async createUser(ctx: Ctx, orgId: string, input: { email: string; name?: string; password: string; roles: { role: Role; siteId?: string | null }[] }): Promise<User> {
    const { db } = await this.core.access.enforce(ctx, 'user', 'create', { orgId });
    const email = this.validEmail(input.email);
    checkPasswordPolicy(input.password);
    if (input.roles.length === 0) throw new CairnError('CAIRN_ERR_VALIDATION', 'A user needs at least one role.', { field: 'roles' });
    for (const r of input.roles) {
      if (!ORG_ROLES.includes(r.role)) throw new CairnError('CAIRN_ERR_VALIDATION', `Users can hold ${ORG_ROLES.join(', ')}; sensors use tokens and support is operator staff.`, { field: 'roles' });
      if (r.role === 'org_admin' && r.siteId) throw new CairnError('CAIRN_ERR_VALIDATION', 'org_admin is an org-wide role.', { field: 'roles' });
    }
    const lookup = this.emailLookup(email);
    await this.assertEmailFree(lookup);
    const hash = await hashPassword(input.password);
    const now = this.core.clock.nowMs();
    const id = newId(now);
    await db.tx(async (x) => {
      const r = reposFor(x);
      for (const b of input.roles) if (b.siteId && !(await r.tenancy.getSite(orgId, b.siteId))) throw new CairnError('CAIRN_ERR_VALIDATION', 'A role names a site that does not exist in this org.', { field: 'roles' });
      await r.identity.insertUser({ id, org_id: orgId, email_lookup: lookup, email_enc: await this.core.keys.encrypt(x, orgId, 'users.email', email), name_enc: await this.core.keys.encryptOptional(x, orgId, 'users.name', input.name), password_hash: hash, disabled: 0, created_at: now });
      for (const b of input.roles) await r.identity.insertBinding({ id: newId(now), org_id: orgId, user_id: id, site_id: b.siteId ?? null, role: b.role, created_at: now });
      await this.core.audit.record(x, ctx, orgId, 'user.create', `user:${id}`, { roles: input.roles.map((b) => b.role) });
    });
    return this.getUser(ctx, orgId, id, false);
  }

  /** A user with decrypted e-mail (a personal-data read: audited). */
  async getUser(ctx: Ctx, orgId: string, userId: string, audit = true): Promise<User> {
    const { db } = await this.core.access.enforce(ctx, 'user', 'read', { orgId }, `user:${userId}`);
    const user = await this.loadUser(db, orgId, userId);
    if (audit) await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'user.read', `user:${userId}`));
    return user;
  }

  private async loadUser(db: Database, orgId: string, userId: string): Promise<User> {
    const r = reposFor(db);
    const row = isId(userId) ? await r.identity.getUser(userId) : undefined;
    if (!row || row.org_id !== orgId) throw notFoundOrNoAccess();
    const roles = (await r.identity.bindingsOfUser(userId)).map((b) => ({ role: b.role as Role, siteId: b.site_id }));
    return { id: row.id, orgId, email: await this.core.keys.decrypt(db, orgId, 'users.email', row.email_enc), name: await this.core.keys.decryptOptional(db, orgId, 'users.name', row.name_enc), disabled: row.disabled === 1, roles, createdAt: toIso(row.created_at) };
  }

  async listUsers(ctx: Ctx, orgId: string): Promise<User[]> {
    const { db } = await this.core.access.enforce(ctx, 'user', 'list', { orgId });
    const rows = await reposFor(db).identity.listUsers(orgId);
    const out: User[] = [];
    for (const u of rows) out.push(await this.loadUser(db, orgId, u.id));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'user.list', `org:${orgId}`, { count: out.length }));
    return out;
  }

  async setUserDisabled(ctx: Ctx, orgId: string, userId: string, disabled: boolean): Promise<User> {
    const { db } = await this.core.access.enforce(ctx, 'user', 'update', { orgId }, `user:${userId}`);
    await db.tx(async (x) => {
      const r = reposFor(x).identity;
      const row = isId(userId) ? await r.getUser(userId) : undefined;
      if (!row || row.org_id !== orgId) throw notFoundOrNoAccess();
      await r.setUserDisabled(orgId, userId, disabled);
      if (disabled) await r.deleteSessionsOfUser(userId);
      await this.core.audit.record(x, ctx, orgId, disabled ? 'user.disable' : 'user.enable', `user:${userId}`);
    });
    return this.loadUser(db, orgId, userId);
  }

  /** Create operator staff (support role) in the control store; CLI only. */
  async createOperator(ctx: Ctx, input: { email: string; password: string }): Promise<{ id: string }> {
    if (ctx.actor.kind !== 'system') throw notFoundOrNoAccess();
    const email = this.validEmail(input.email);
    checkPasswordPolicy(input.password);
    const lookup = this.emailLookup(email);
    await this.assertEmailFree(lookup);
    const id = newId();
    await controlRepo(this.core.stores.control).insertOperator({ id, email_lookup: lookup, email_enc: this.core.keys.encryptServer('operator.email', email), password_hash: await hashPassword(input.password), role: 'support', disabled: 0, created_at: this.core.clock.nowMs() });
    return { id };
  }

  // ---- sessions -----------------------------------------------------------------------

  /**
   * Check an e-mail and password; on success open a session. Failures say only "wrong e-mail or
   * password", take the same time whether or not the account exists, and are audited on the
   * account's org when there is one.
   */
  async login(email: string, password: string, requestId: string): Promise<LoginResult> {
    const lookup = this.emailLookup(email);
    const now = this.core.clock.nowMs();
    const expires = now + this.core.cfg.sessionTtlHours * HOUR_MS;
    const secret = randomBytes(32).toString('base64url');
    const op = await controlRepo(this.core.stores.control).getOperatorByLookup(lookup);
    if (op) {
      if (!(await verifyPassword(op.password_hash, password)) || op.disabled) throw new CairnError('CAIRN_ERR_BAD_CREDENTIALS');
      await reposFor(this.core.stores.control).identity.insertSession({ id_hash: sha256(secret), user_id: op.id, org_id: null, expires_at: expires, created_at: now });
      return { sessionValue: `control.${secret}`, expiresAtMs: expires, ctx: { actor: { kind: 'operator', id: op.id }, bindings: [], requestId, operatorRole: 'support' } };
    }
    for (const region of this.core.stores.regions) {
      const db = this.core.stores.region(region);
      const user = await reposFor(db).identity.getUserByLookup(lookup);
      if (!user) continue;
      const ok = (await verifyPassword(user.password_hash, password)) && user.disabled === 0;
      const ctx: Ctx = { actor: { kind: 'user', id: user.id }, bindings: await this.bindingsOf(db, user.id), requestId };
      if (!ok) {
        await db.tx((x) => this.core.audit.record(x, ctx, user.org_id, 'auth.login', `user:${user.id}`, {}, 'denied'));
        throw new CairnError('CAIRN_ERR_BAD_CREDENTIALS');
      }
      await db.tx(async (x) => {
        await reposFor(x).identity.insertSession({ id_hash: sha256(secret), user_id: user.id, org_id: user.org_id, expires_at: expires, created_at: now });
        await this.core.audit.record(x, ctx, user.org_id, 'auth.login', `user:${user.id}`);
      });
      return { sessionValue: `${region}.${secret}`, expiresAtMs: expires, ctx };
    }
    await verifyPassword(await dummyHash(), password);
    throw new CairnError('CAIRN_ERR_BAD_CREDENTIALS');
  }

  private async bindingsOf(db: Database, userId: string): Promise<Binding[]> {
    return (await reposFor(db).identity.bindingsOfUser(userId)).map((b) => ({ role: b.role as Role, orgId: b.org_id, siteId: b.site_id }));
  }

  /** The context of a session cookie, or null if it is unknown, expired or its user disabled. */
  async fromSession(value: string, requestId: string): Promise<Ctx | null> {
    const s = splitSession(value);
    if (!s) return null;
    const db = s.store === 'control' ? this.core.stores.control : this.core.stores.regions.includes(s.store) ? this.core.stores.region(s.store) : null;
    if (!db) return null;
    const r = reposFor(db).identity;
    const row = await r.getSession(sha256(s.secret));
    if (!row || row.expires_at <= this.core.clock.nowMs()) return null;
    if (s.store === 'control') {
      const op = await controlRepo(db).getOperator(row.user_id);
      if (!op || op.disabled) return null;
      return { actor: { kind: 'operator', id: op.id }, bindings: [], requestId, operatorRole: 'support' };
    }
    const user = await r.getUser(row.user_id);
    if (!user || user.disabled) return null;
    return { actor: { kind: 'user', id: user.id }, bindings: await this.bindingsOf(db, user.id), requestId };
  }

  async logout(value: string): Promise<void> {
    const s = splitSession(value);
    if (!s) return;
    const db = s.store === 'control' ? this.core.stores.control : this.core.stores.regions.includes(s.store) ? this.core.stores.region(s.store) : null;
    if (db) await reposFor(db).identity.deleteSession(sha256(s.secret));
  }

  // ---- machine tokens -----------------------------------------------------------------

  /** Issue a token; the secret is in the result once and stored only as a hash. */
  async createToken(ctx: Ctx, orgId: string, input: { name: string; role: Role; siteId?: string | null; expiresInDays?: number }): Promise<TokenInfo & { token: string }> {
    const { db } = await this.core.access.enforce(ctx, 'token', 'create', { orgId });
    if (!TOKEN_ROLES.includes(input.role)) throw new CairnError('CAIRN_ERR_VALIDATION', `A token role is one of ${TOKEN_ROLES.join(', ')}.`, { field: 'role' });
    const days = input.expiresInDays ?? 90;
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new CairnError('CAIRN_ERR_VALIDATION', 'expiresInDays must be 1-365.', { field: 'expiresInDays' });
    const name = input.name.trim();
    if (!name || name.length > 100) throw new CairnError('CAIRN_ERR_VALIDATION', 'name must be 1-100 characters.', { field: 'name' });
    const now = this.core.clock.nowMs();
    const id = newId(now);
    const secret = randomBytes(32).toString('base64url');
    const row: TokenRow = { id, org_id: orgId, name, role: input.role, site_id: input.siteId ?? null, secret_hash: sha256(secret), expires_at: now + days * DAY_MS, revoked_at: null, last_used_at: null, created_at: now };
    await db.tx(async (x) => {
      const r = reposFor(x);
      if (row.site_id && !(await r.tenancy.getSite(orgId, row.site_id))) throw new CairnError('CAIRN_ERR_VALIDATION', 'siteId names a site that does not exist in this org.', { field: 'siteId' });
      await r.identity.insertToken(row);
      await this.core.audit.record(x, ctx, orgId, 'token.create', `token:${id}`, { role: row.role, siteId: row.site_id, expiresInDays: days });
    });
    const region = (await this.core.directory.regionOf(orgId))!;
    return { ...tokenOut(row), token: `cairn_${region}_${id.replace(/-/g, '')}_${secret}` };
  }

  async listTokens(ctx: Ctx, orgId: string): Promise<TokenInfo[]> {
    const { db } = await this.core.access.enforce(ctx, 'token', 'list', { orgId });
    return (await reposFor(db).identity.listTokens(orgId)).map(tokenOut);
  }

  async revokeToken(ctx: Ctx, orgId: string, tokenId: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'token', 'revoke', { orgId }, `token:${tokenId}`);
    await db.tx(async (x) => {
      if ((await reposFor(x).identity.revokeToken(orgId, tokenId, this.core.clock.nowMs())) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'token.revoke', `token:${tokenId}`);
    });
  }

  /** The context of a bearer token; throws CAIRN_ERR_TOKEN_EXPIRED for an expired one, null if unknown. */
  async fromToken(value: string, requestId: string): Promise<Ctx | null> {
    const t = splitToken(value);
    if (!t || !this.core.stores.regions.includes(t.region)) return null;
    const db = this.core.stores.region(t.region);
    const row = await reposFor(db).identity.getToken(t.id);
    if (!row) return null;
    const a = Buffer.from(row.secret_hash, 'hex');
    const b = Buffer.from(sha256(t.secret), 'hex');
    if (a.length !== b.length || !timingSafeEqual(a, b) || row.revoked_at !== null) return null;
    const now = this.core.clock.nowMs();
    if (row.expires_at <= now) throw new CairnError('CAIRN_ERR_TOKEN_EXPIRED');
    if (row.last_used_at === null || now - row.last_used_at > 60_000) await reposFor(db).identity.touchToken(row.id, now);
    return { actor: { kind: 'token', id: row.id }, bindings: [{ role: row.role as Role, orgId: row.org_id, siteId: row.site_id }], requestId };
  }

  // ---- support grant (R-SEC-4) -------------------------------------------------------

  async getSupportGrant(ctx: Ctx, orgId: string): Promise<SupportGrant> {
    const { db } = await this.core.access.enforce(ctx, 'supportGrant', 'read', { orgId });
    return this.grantOut(orgId, await reposFor(db).identity.getGrant(orgId));
  }

  /** Renew (or re-enable) the grant for `days` from now. */
  async renewSupportGrant(ctx: Ctx, orgId: string, days: number): Promise<SupportGrant> {
    const { db } = await this.core.access.enforce(ctx, 'supportGrant', 'update', { orgId });
    if (!Number.isInteger(days) || days < 1 || days > 365) throw new CairnError('CAIRN_ERR_VALIDATION', 'days must be 1-365.', { field: 'days' });
    const now = this.core.clock.nowMs();
    const g = { org_id: orgId, granted_at: now, expires_at: now + days * DAY_MS, revoked_at: null, granted_by: `${ctx.actor.kind}:${ctx.actor.id}` };
    await db.tx(async (x) => {
      await reposFor(x).identity.upsertGrant(g);
      await this.core.audit.record(x, ctx, orgId, 'support_grant.renew', `org:${orgId}`, { days });
    });
    return this.grantOut(orgId, g);
  }

  async revokeSupportGrant(ctx: Ctx, orgId: string): Promise<SupportGrant> {
    const { db } = await this.core.access.enforce(ctx, 'supportGrant', 'update', { orgId });
    await db.tx(async (x) => {
      await reposFor(x).identity.revokeGrant(orgId, this.core.clock.nowMs());
      await this.core.audit.record(x, ctx, orgId, 'support_grant.revoke', `org:${orgId}`);
    });
    return this.grantOut(orgId, await reposFor(db).identity.getGrant(orgId));
  }

  private grantOut(orgId: string, g: { granted_at: number; expires_at: number; revoked_at: number | null } | undefined): SupportGrant {
    if (!g) return { orgId, active: false, grantedAt: null, expiresAt: null, revokedAt: null };
    return { orgId, active: g.revoked_at === null && g.expires_at > this.core.clock.nowMs(), grantedAt: toIso(g.granted_at), expiresAt: toIso(g.expires_at), revokedAt: g.revoked_at === null ? null : toIso(g.revoked_at) };
  }

  /** Sessions past their expiry, deleted in bounded batches (housekeeping, not a data class). */
  async purgeExpiredSessions(limit: number): Promise<number> {
    let n = 0;
    for (const db of this.core.stores.all()) n += await reposFor(db).identity.deleteExpiredSessions(this.core.clock.nowMs(), limit);
    return n;
  }
}

function tokenOut(r: TokenRow): TokenInfo {
  return { id: r.id, orgId: r.org_id, name: r.name, role: r.role as Role, siteId: r.site_id, expiresAt: toIso(r.expires_at), revokedAt: r.revoked_at === null ? null : toIso(r.revoked_at), lastUsedAt: r.last_used_at === null ? null : toIso(r.last_used_at), createdAt: toIso(r.created_at) };
}

export { ROLES };
