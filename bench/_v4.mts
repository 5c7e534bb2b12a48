import Database from 'better-sqlite3';
import { hash } from 'node:crypto';
const db = new Database(':memory:');
db.exec('CREATE TABLE e (org_id TEXT, seq INTEGER, at_ms INTEGER, action TEXT, outcome TEXT, canon TEXT, hash TEXT, PRIMARY KEY (org_id, seq)) WITHOUT ROWID');
const ins = db.prepare('INSERT INTO e VALUES (?, ?, ?, ?, ?, ?, ?)');
const org = '01900000-0000-7000-8000-000000000001';
const N = 400000;
db.transaction(() => { for (let i = 1; i <= N; i++) ins.run(org, i, 1700000000000 + i, 'device.report', 'ok', `1700000000000\x1ftoken:01900000-0000-7000-8000-000000000001\x1fdevice.report\x1forg:${org}\x1freq-${i}\x1fok\x1f{"count":1000}`, 'b'.repeat(64)); })();
const q = db.prepare(`SELECT COUNT(*) AS n, group_concat(canon, char(30)) AS body FROM (SELECT canon FROM e WHERE org_id = ? AND seq > ? AND seq <= ? ORDER BY seq)`);
for (const B of [1000, 5000]) {
  let t = performance.now(); let n = 0;
  for (let a = 0; a < N; a += B) { const r = q.get(org, a, a + B) as { n: number; body: string }; n += r.n; hash('sha256', r.body, 'hex'); }
  console.log('block', B, 'rows/s', Math.round(n / ((performance.now() - t) / 1000)));
}
const st = db.prepare('SELECT seq, canon, hash FROM e WHERE org_id = ? ORDER BY seq').raw(true);
let t = performance.now(); let prev = '0'.repeat(64); let n = 0;
for (const r of st.iterate(org) as Iterable<[number, string, string]>) { prev = hash('sha256', prev + '\x1f' + org + '\x1f' + r[0] + '\x1f' + r[1], 'hex'); n++; }
console.log('per-event rows/s', Math.round(n / ((performance.now() - t) / 1000)));
