/** Users, role bindings, sessions, machine tokens, support grants; and operator staff (control store). */
import type { Executor } from '../db.ts';

export interface UserRow {
  id: string;
  org_id: string;
  /** Keyed HMAC of the normalised e-mail: finds the account at login without storing the address. */
  email_lookup: string;
  /** R-DATA personal: e-mail, encrypted under the org data key; kept while the account exists. */
  email_enc: Buffer;
  /** R-DATA personal: display name, encrypted under the org data key. */
  name_enc: Buffer | null;
  password_hash: string;
  disabled: number;
  created_at: number;
}
export interface RoleBindingRow {
  id: string;
  org_id: string;
  user_id: string;
  site_id: string | null;
  role: string;
  created_at: number;
}
export interface SessionRow {
  id_hash: string;
  user_id: string;
  org_id: string | null;
  expires_at: number;
  created_at: number;
}
export interface TokenRow {
  id: string;
  org_id: string;
  name: string;
  role: string;
  site_id: string | null;
  secret_hash: string;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  created_at: number;
}
export interface GrantRow {
  org_id: string;
  granted_at: number;
  expires_at: number;
  revoked_at: number | null;
  granted_by: string;
}
export interface OperatorUserRow {
  id: string;
  email_lookup: string;
  email_enc: Buffer;
  password_hash: string;
  role: string;
  disabled: number;
  created_at: number;
}

export class IdentityRepo {
  constructor(private readonly x: Executor) {}

  async insertUser(u: UserRow): Promise<void> {
    await this.x.run('INSERT INTO users (id, org_id, email_lookup, email_enc, name_enc, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [u.id, u.org_id, u.email_lookup, u.email_enc, u.name_enc, u.password_hash, u.disabled, u.created_at]);
  }
  getUser(id: string): Promise<UserRow | undefined> {
    return this.x.get<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
  }
  getUserByLookup(lookup: string): Promise<UserRow | undefined> {
    return this.x.get<UserRow>('SELECT * FROM users WHERE email_lookup = $1', [lookup]);
  }
  listUsers(orgId: string): Promise<UserRow[]> {
    return this.x.all<UserRow>('SELECT * FROM users WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
  }
  async setUserDisabled(orgId: string, id: string, disabled: boolean): Promise<number> {
    return (await this.x.run('UPDATE users SET disabled = $3 WHERE org_id = $1 AND id = $2', [orgId, id, disabled ? 1 : 0])).changes;
  }
  async setPassword(id: string, hash: string): Promise<void> {
    await this.x.run('UPDATE users SET password_hash = $2 WHERE id = $1', [id, hash]);
  }

  async insertBinding(b: RoleBindingRow): Promise<void> {
    await this.x.run('INSERT INTO role_bindings (id, org_id, user_id, site_id, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [b.id, b.org_id, b.user_id, b.site_id, b.role, b.created_at]);
  }
  bindingsOfUser(userId: string): Promise<RoleBindingRow[]> {
    return this.x.all<RoleBindingRow>('SELECT * FROM role_bindings WHERE user_id = $1 ORDER BY created_at', [userId]);
  }
  async deleteBindings(orgId: string, userId: string): Promise<void> {
    await this.x.run('DELETE FROM role_bindings WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
  }

  async insertSession(s: SessionRow): Promise<void> {
    await this.x.run('INSERT INTO sessions (id_hash, user_id, org_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [s.id_hash, s.user_id, s.org_id, s.expires_at, s.created_at]);
  }
  getSession(idHash: string): Promise<SessionRow | undefined> {
    return this.x.get<SessionRow>('SELECT * FROM sessions WHERE id_hash = $1', [idHash]);
  }
  async deleteSession(idHash: string): Promise<void> {
    await this.x.run('DELETE FROM sessions WHERE id_hash = $1', [idHash]);
  }
  async deleteSessionsOfUser(userId: string): Promise<void> {
    await this.x.run('DELETE FROM sessions WHERE user_id = $1', [userId]);
  }
  async deleteExpiredSessions(nowMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions WHERE expires_at <= $1 LIMIT $2)', [nowMs, limit])).changes;
  }

  async insertToken(t: TokenRow): Promise<void> {
    await this.x.run('INSERT INTO tokens (id, org_id, name, role, site_id, secret_hash, expires_at, revoked_at, last_used_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)', [t.id, t.org_id, t.name, t.role, t.site_id, t.secret_hash, t.expires_at, t.revoked_at, t.last_used_at, t.created_at]);
  }
  getToken(id: string): Promise<TokenRow | undefined> {
    return this.x.get<TokenRow>('SELECT * FROM tokens WHERE id = $1', [id]);
  }
  listTokens(orgId: string): Promise<TokenRow[]> {
    return this.x.all<TokenRow>('SELECT * FROM tokens WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
  }
  async revokeToken(orgId: string, id: string, atMs: number): Promise<number> {
    return (await this.x.run('UPDATE tokens SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL', [orgId, id, atMs])).changes;
  }
  async touchToken(id: string, atMs: number): Promise<void> {
    await this.x.run('UPDATE tokens SET last_used_at = $2 WHERE id = $1', [id, atMs]);
  }

  async upsertGrant(g: GrantRow): Promise<void> {
    await this.x.run(
      'INSERT INTO support_grants (org_id, granted_at, expires_at, revoked_at, granted_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET granted_at = excluded.granted_at, expires_at = excluded.expires_at, revoked_at = excluded.revoked_at, granted_by = excluded.granted_by',
      [g.org_id, g.granted_at, g.expires_at, g.revoked_at, g.granted_by],
    );
  }
  getGrant(orgId: string): Promise<GrantRow | undefined> {
    return this.x.get<GrantRow>('SELECT * FROM support_grants WHERE org_id = $1', [orgId]);
  }
  async revokeGrant(orgId: string, atMs: number): Promise<number> {
    return (await this.x.run('UPDATE support_grants SET revoked_at = $2 WHERE org_id = $1 AND revoked_at IS NULL', [orgId, atMs])).changes;
  }
}

/** Control-store records: the org directory and the operator's own staff. */
export class ControlRepo {
  constructor(private readonly x: Executor) {}
  async registerOrg(orgId: string, region: string, atMs: number): Promise<void> {
    await this.x.run('INSERT INTO org_directory (org_id, region, created_at) VALUES ($1, $2, $3)', [orgId, region, atMs]);
  }
  regionOf(orgId: string): Promise<{ region: string } | undefined> {
    return this.x.get<{ region: string }>('SELECT region FROM org_directory WHERE org_id = $1', [orgId]);
  }
  listDirectory(): Promise<{ org_id: string; region: string; created_at: number }[]> {
    return this.x.all('SELECT org_id, region, created_at FROM org_directory ORDER BY created_at, org_id');
  }
  async unregisterOrg(orgId: string): Promise<void> {
    await this.x.run('DELETE FROM org_directory WHERE org_id = $1', [orgId]);
  }
  async insertOperator(u: OperatorUserRow): Promise<void> {
    await this.x.run('INSERT INTO operator_users (id, email_lookup, email_enc, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [u.id, u.email_lookup, u.email_enc, u.password_hash, u.role, u.disabled, u.created_at]);
  }
  getOperator(id: string): Promise<OperatorUserRow | undefined> {
    return this.x.get<OperatorUserRow>('SELECT * FROM operator_users WHERE id = $1', [id]);
  }
  getOperatorByLookup(lookup: string): Promise<OperatorUserRow | undefined> {
    return this.x.get<OperatorUserRow>('SELECT * FROM operator_users WHERE email_lookup = $1', [lookup]);
  }
  getSetting(key: string): Promise<{ value: string } | undefined> {
    return this.x.get<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key]);
  }
  async setSetting(key: string, value: string): Promise<void> {
    await this.x.run('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
