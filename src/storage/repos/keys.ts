/** Wrapped org keys and the region's audit signing keys. */
import type { Executor } from '../db.ts';

export interface OrgKeyRow {
  id: string;
  org_id: string;
  purpose: 'data' | 'pseudonym';
  version: number;
  /** Key material wrapped by the master key; NULL once destroyed (crypto-shredding). */
  wrapped: Buffer | null;
  provider: string;
  status: 'active' | 'retired' | 'destroyed';
  created_at: number;
}
export interface SigningKeyRow {
  id: string;
  public_pem: string;
  private_wrapped: Buffer;
  created_at: number;
}

export class KeysRepo {
  constructor(private readonly x: Executor) {}
  async insert(k: OrgKeyRow): Promise<void> {
    await this.x.run('INSERT INTO org_keys (id, org_id, purpose, version, wrapped, provider, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [k.id, k.org_id, k.purpose, k.version, k.wrapped, k.provider, k.status, k.created_at]);
  }
  listForOrg(orgId: string): Promise<OrgKeyRow[]> {
    return this.x.all<OrgKeyRow>('SELECT * FROM org_keys WHERE org_id = $1 ORDER BY purpose, version', [orgId]);
  }
  async retireActive(orgId: string, purpose: string): Promise<void> {
    await this.x.run("UPDATE org_keys SET status = 'retired' WHERE org_id = $1 AND purpose = $2 AND status = 'active'", [orgId, purpose]);
  }
  async rewrap(id: string, wrapped: Buffer, provider: string): Promise<void> {
    await this.x.run('UPDATE org_keys SET wrapped = $2, provider = $3 WHERE id = $1', [id, wrapped, provider]);
  }
  async destroyAll(orgId: string): Promise<number> {
    return (await this.x.run("UPDATE org_keys SET wrapped = NULL, status = 'destroyed' WHERE org_id = $1", [orgId])).changes;
  }
  async insertSigningKey(k: SigningKeyRow): Promise<void> {
    await this.x.run('INSERT INTO signing_keys (id, public_pem, private_wrapped, created_at) VALUES ($1, $2, $3, $4)', [k.id, k.public_pem, k.private_wrapped, k.created_at]);
  }
  latestSigningKey(): Promise<SigningKeyRow | undefined> {
    return this.x.get<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at DESC, id DESC LIMIT 1');
  }
  async rewrapSigningKey(id: string, wrapped: Buffer): Promise<void> {
    await this.x.run('UPDATE signing_keys SET private_wrapped = $2 WHERE id = $1', [id, wrapped]);
  }
  listSigningKeys(): Promise<SigningKeyRow[]> {
    return this.x.all<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at, id');
  }
}
