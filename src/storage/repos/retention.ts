/** Per-org retention overrides and the bounded purges of each data class's table. */
import type { Executor } from '../db.ts';

export class RetentionRepo {
  constructor(private readonly x: Executor) {}
  list(orgId: string): Promise<{ data_class: string; days: number; updated_at: number }[]> {
    return this.x.all('SELECT data_class, days, updated_at FROM retention_policies WHERE org_id = $1 ORDER BY data_class', [orgId]);
  }
  async set(orgId: string, dataClass: string, days: number, atMs: number): Promise<void> {
    await this.x.run('INSERT INTO retention_policies (org_id, data_class, days, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (org_id, data_class) DO UPDATE SET days = excluded.days, updated_at = excluded.updated_at', [orgId, dataClass, days, atMs]);
  }
  async unset(orgId: string, dataClass: string): Promise<void> {
    await this.x.run('DELETE FROM retention_policies WHERE org_id = $1 AND data_class = $2', [orgId, dataClass]);
  }
}
