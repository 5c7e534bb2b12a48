/**
 * Audit chain tamper tests on both engines: altered, deleted, inserted, reordered and truncated
 * events, forged checkpoints; pruning keeps what remains verifiable; denied attempts recorded.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx, eventHash, canonOf } from '../src/privacy/index.ts';
import { FakeClock, DAY_MS } from '../src/kernel/clock.ts';
import type { CairnApp } from '../src/app.ts';
import type { Executor } from '../src/storage/index.ts';

const sys = systemCtx('test');

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`audit chain on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let orgId: string;
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    /** Run raw SQL on the org's region store, as an attacker with database access would. */
    const raw = (sql: string, params: unknown[] = []) => c.core.directory.storeOf(orgId).then((db: Executor) => db.run(sql, params));
    const verify = () => c.core.directory.storeOf(orgId).then((db) => c.core.audit.verify(db, orgId));

    async function fresh(checkpointEvery = 5): Promise<void> {
      if (c) await c.close();
      if (setup) await setup.cleanup();
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup, { auditCheckpointEvery: checkpointEvery }, { clock });
      orgId = (await c.services.tenancy.createOrg(sys, { name: 'Audited', country: 'NL' })).id;
      for (let i = 0; i < 11; i++) {
        await c.services.tenancy.createSite(sys, orgId, { name: `S${i}` });
        clock.advance(1000);
      }
    }
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('an untouched chain verifies, with its signed checkpoints', { skip }, async () => {
      await fresh();
      const r = await verify();
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.eventsChecked, 12);
      assert.equal(r.checkpointsChecked, 2);
    });

    test('detects an altered event and names it', { skip }, async () => {
      await fresh();
      await raw("UPDATE audit_events SET canon = replace(canon, 'site.create', 'site.view') WHERE org_id = $1 AND seq = 4", [orgId]);
      const r = await verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.seq, 4);
      assert.match(r.firstBad!.reason, /altered/);
    });

    test('detects an altered event even when its hash was recomputed', { skip }, async () => {
      await fresh();
      const db = await c.core.directory.storeOf(orgId);
      const rows = await db.all<{ canon: string; hash: string }>('SELECT canon, hash FROM audit_events WHERE org_id = $1 AND seq IN (2, 3) ORDER BY seq', [orgId]);
      const forged = rows[1]!.canon.replace('\x1fok\x1f', '\x1fdenied\x1f');
      await raw('UPDATE audit_events SET canon = $3, hash = $4 WHERE org_id = $1 AND seq = $2', [orgId, 3, forged, eventHash(rows[0]!.hash, orgId, forged)]);
      const r = await verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.seq, 4, 'the next event no longer links');
    });

    test('detects an edit even when every later hash and the head were recomputed (signed range)', { skip }, async () => {
      await fresh();
      const db = await c.core.directory.storeOf(orgId);
      const rows = await db.all<{ seq: number; canon: string }>('SELECT seq, canon FROM audit_events WHERE org_id = $1 ORDER BY seq', [orgId]);
      let prev = '0'.repeat(64);
      for (const r of rows) {
        const canon = Number(r.seq) === 3 ? r.canon.replace('site.create', 'site.read') : r.canon;
        prev = eventHash(prev, orgId, canon);
        await raw('UPDATE audit_events SET canon = $3, hash = $4 WHERE org_id = $1 AND seq = $2', [orgId, r.seq, canon, prev]);
      }
      await raw('UPDATE audit_heads SET hash = $2 WHERE org_id = $1', [orgId, prev]);
      const r = await verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.seq, 5, 'the first signed checkpoint no longer matches');
      assert.match(r.firstBad!.reason, /signed checkpoint/);
    });

    test('a forged time column cannot get a recent event pruned', { skip }, async () => {
      await fresh();
      await raw('UPDATE audit_events SET at_ms = 0 WHERE org_id = $1 AND seq <= 6', [orgId]);
      const db = await c.core.directory.storeOf(orgId);
      assert.equal(await c.core.audit.prune(db, orgId, clock.nowMs() - 183 * DAY_MS, 100), 0);
      assert.equal((await verify()).eventsChecked, 12);
    });

    test('detects a deleted event', { skip }, async () => {
      await fresh();
      await raw('DELETE FROM audit_events WHERE org_id = $1 AND seq = 6', [orgId]);
      const r = await verify();
      assert.equal(r.firstBad?.seq, 6);
      assert.match(r.firstBad!.reason, /missing/);
    });

    test('detects an inserted event', { skip }, async () => {
      await fresh();
      await raw('UPDATE audit_events SET seq = seq + 1000 WHERE org_id = $1 AND seq >= 7', [orgId]);
      await raw('UPDATE audit_events SET seq = seq - 999 WHERE org_id = $1 AND seq >= 1007', [orgId]);
      await raw("INSERT INTO audit_events (org_id, seq, at_ms, canon, hash) VALUES ($1, 7, 1, $2, $3)", [orgId, canonOf({ seq: 7, atMs: 1, actor: 'user:x', action: 'site.create', target: 'site:x', requestId: 'r', outcome: 'ok', details: '{}' }), 'f'.repeat(64)]);
      const r = await verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.seq, 7);
    });

    test('detects reordered events', { skip }, async () => {
      await fresh();
      await raw('UPDATE audit_events SET seq = -1 WHERE org_id = $1 AND seq = 8', [orgId]);
      await raw('UPDATE audit_events SET seq = 8 WHERE org_id = $1 AND seq = 9', [orgId]);
      await raw('UPDATE audit_events SET seq = 9 WHERE org_id = $1 AND seq = -1', [orgId]);
      const r = await verify();
      assert.equal(r.firstBad?.seq, 8);
    });

    test('detects truncation of the newest events, even with the head rewritten', { skip }, async () => {
      await fresh();
      await raw('DELETE FROM audit_events WHERE org_id = $1 AND seq > 10', [orgId]);
      let r = await verify();
      assert.equal(r.ok, false);
      assert.equal(r.firstBad?.seq, 11);
      const db = await c.core.directory.storeOf(orgId);
      const last = (await db.all<{ hash: string }>('SELECT hash FROM audit_events WHERE org_id = $1 AND seq = 10', [orgId]))[0]!;
      await raw('UPDATE audit_heads SET seq = 10, hash = $2 WHERE org_id = $1', [orgId, last.hash]);
      await raw('DELETE FROM audit_events WHERE org_id = $1 AND seq > 7', [orgId]);
      await raw('UPDATE audit_heads SET seq = 7, hash = (SELECT hash FROM audit_events WHERE org_id = $1 AND seq = 7) WHERE org_id = $1', [orgId]);
      r = await verify();
      assert.equal(r.ok, false, 'a signed checkpoint at seq 10 proves events are missing');
      assert.equal(r.firstBad?.seq, 8);
      assert.match(r.firstBad!.reason, /truncated/);
    });

    test('periodic checkpoints sign the head of every chain that grew, once', { skip }, async () => {
      await fresh(1000);
      const db = await c.core.directory.storeOf(orgId);
      assert.equal(await c.core.audit.checkpointAll(c.core.directory, (r) => c.core.stores.region(r)), 1);
      assert.equal(await c.core.audit.checkpointAll(c.core.directory, (r) => c.core.stores.region(r)), 0, 'nothing new, nothing signed');
      const cps = await db.all<{ seq: number }>('SELECT seq FROM audit_checkpoints WHERE org_id = $1', [orgId]);
      assert.deepEqual(cps.map((x) => Number(x.seq)), [12]);
      await raw('DELETE FROM audit_events WHERE org_id = $1 AND seq = 12', [orgId]);
      await raw('UPDATE audit_heads SET seq = 11, hash = (SELECT hash FROM audit_events WHERE org_id = $1 AND seq = 11) WHERE org_id = $1', [orgId]);
      assert.equal((await verify()).firstBad?.seq, 12, 'the signed periodic checkpoint exposes the truncation');
    });

    test('detects a forged checkpoint signature', { skip }, async () => {
      await fresh();
      await raw("UPDATE audit_checkpoints SET range_digest = $2 WHERE org_id = $1 AND seq = 5", [orgId, 'a'.repeat(64)]);
      const r = await verify();
      assert.equal(r.ok, false);
      assert.match(r.firstBad!.reason, /signature/);
    });

    test('prunes events past 6 months in bounded batches and what remains still verifies', { skip }, async () => {
      await fresh(3);
      clock.advance(200 * DAY_MS);
      await c.services.tenancy.createSite(sys, orgId, { name: 'recent' });
      const db = await c.core.directory.storeOf(orgId);
      const n = await c.core.audit.prune(db, orgId, clock.nowMs() - 183 * DAY_MS, 4);
      assert.equal(n, 12);
      const r = await verify();
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.firstSeq, 13);
      await raw("UPDATE audit_anchors SET seq = 11 WHERE org_id = $1", [orgId]);
      assert.equal((await verify()).ok, false, 'a tampered prune anchor is detected');
    });

    test('writes the event in the same transaction as the change: a failed change leaves no event', { skip }, async () => {
      await fresh();
      const before = (await verify()).lastSeq;
      await assert.rejects(c.services.tenancy.createZone(sys, orgId, '01900000-0000-7000-8000-00000000dead', { name: 'x', polygon: [[0, 0], [1, 0], [1, 1]] }));
      assert.equal((await verify()).lastSeq, before);
    });
  });
}

test('cairn audit verify names the first bad event and exits 3', async () => {
  const setup = sqliteSetup();
  const cfg = setup.config();
  const c = await makeApp(setup);
  const org = await c.services.tenancy.createOrg(sys, { name: 'CLI', country: 'DE' });
  await c.services.tenancy.createSite(sys, org.id, { name: 'A' });
  const db = await c.core.directory.storeOf(org.id);
  await db.run("UPDATE audit_events SET canon = replace(canon, 'site:', 'site:forged') WHERE org_id = $1 AND seq = 2", [org.id]);
  await c.close();
  const env = { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent' };
  let code = 0;
  let stdout = '';
  try {
    stdout = execFileSync(process.execPath, ['dist/main.js', 'audit', 'verify', '--org', org.id, '--json'], { env, encoding: 'utf8' });
  } catch (e) {
    code = (e as { status: number }).status;
    stdout = (e as { stdout: string }).stdout;
  }
  assert.equal(code, 3);
  const r = JSON.parse(stdout);
  assert.equal(r.ok, false);
  assert.equal(r.firstBad.seq, 2);
  await setup.cleanup();
});
