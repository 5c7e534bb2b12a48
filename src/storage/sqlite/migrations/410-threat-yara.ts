/** Org YARA rules (threat analysis): rule sources an org adds to the bundled set. Not personal data. */
import type { Migration } from '../../db.ts';

export const THREAT_YARA_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 410,
    name: 'org YARA rules',
    sql: `
CREATE TABLE threat_yara_rules (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX threat_yara_rules_org ON threat_yara_rules(org_id);
`,
  },
];
