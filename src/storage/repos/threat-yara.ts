/** Org YARA rule sources (threat analysis). */
import type { Executor } from '../db.ts';

export interface YaraRuleRow {
  id: string;
  org_id: string;
  name: string;
  source: string;
  created_at: number;
  created_by: string;
}

export class YaraRulesRepo {
  constructor(private readonly x: Executor) {}
  list(orgId: string): Promise<YaraRuleRow[]> {
    return this.x.all<YaraRuleRow>('SELECT id, org_id, name, source, created_at, created_by FROM threat_yara_rules WHERE org_id = $1 ORDER BY created_at, id', [orgId]);
  }
  async insert(r: YaraRuleRow): Promise<void> {
    await this.x.run('INSERT INTO threat_yara_rules (id, org_id, name, source, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)', [r.id, r.org_id, r.name, r.source, r.created_at, r.created_by]);
  }
  async delete(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM threat_yara_rules WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
}

export function yaraRulesRepo(x: Executor): YaraRulesRepo {
  return new YaraRulesRepo(x);
}
