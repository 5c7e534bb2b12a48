import Database from 'better-sqlite3';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from 'node:crypto';
const dir = readdirSync(tmpdir()).filter((d) => d.startsWith('v-')).map((d) => join(tmpdir(), d)).at(-1)!;
const db = new Database(join(dir, 'eu.sqlite'), { readonly: true });
const org = (db.prepare('SELECT org_id FROM audit_events LIMIT 1').get() as { org_id: string }).org_id;
const max = (db.prepare('SELECT MAX(seq) m FROM audit_events WHERE org_id = ?').get(org) as { m: number }).m;
const q = db.prepare(`SELECT COUNT(*) AS n, group_concat(seq || char(31) || at_ms || char(31) || actor || char(31) || action || char(31) || target || char(31) || request_id || char(31) || outcome || char(31) || details || char(31) || prev_hash || char(31) || hash, char(30)) AS body FROM (SELECT * FROM audit_events WHERE org_id = ? AND seq > ? AND seq <= ? ORDER BY seq)`);
for (const B of [1000, 5000]) {
  let t = performance.now(); let n = 0;
  for (let a = 0; a < max; a += B) { const r = q.get(org, a, a + B) as { n: number; body: string }; n += r.n; hash('sha256', r.body, 'hex'); }
  console.log('block', B, 'rows/s', Math.round(n / ((performance.now() - t) / 1000)));
}
