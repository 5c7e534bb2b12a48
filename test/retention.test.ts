/**
 * Retention with a fake clock: after a purge nothing older than policy survives and nothing
 * younger is lost, for device data (60 days by default, and an org's own setting) and the audit
 * log (6 months), in batches smaller than the data; each purge is audited.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { FakeClock, DAY_MS, HOUR_MS } from '../src/kernel/clock.ts';
import { reposFor } from '../src/storage/index.ts';

const setup = sqliteSetup();
after(() => setup.cleanup());

test('purges exactly what is past policy, in bounded batches, and audits each purge', async () => {
  const start = Date.UTC(2026, 0, 1);
  const clock = new FakeClock(start);
  const c = await makeApp(setup, { retentionBatchRows: 7 }, { clock });
  const sys = systemCtx('test');
  const a = await c.services.tenancy.createOrg(sys, { name: 'A', country: 'NL' });
  const b = await c.services.tenancy.createOrg(sys, { name: 'B', country: 'US' });
  const mac = (i: number) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
  // One device a day for 100 days in both orgs; each seen only on its day.
  for (let d = 0; d < 100; d++) {
    for (const org of [a, b]) await c.services.devices.report(sys, org.id, [{ mac: mac(d), kind: 'wifi', seenAtMs: start + d * DAY_MS + HOUR_MS }]);
  }
  clock.set(start + 100 * DAY_MS);
  await c.services.retention.set(sys, b.id, 'device', 30);
  await assert.rejects(c.services.retention.set(sys, b.id, 'device', 5000), /between/);
  await assert.rejects(c.services.retention.set(sys, b.id, 'audit', 30), /between 183/);

  const reports = await c.services.retention.runAll(sys);
  const byOrg = new Map(reports.map((r) => [r.orgId, r.purged]));
  // A keeps 60 days: devices last seen at day 40..99 stay (day 40 at 40d+1h is younger than the cut at day 40).
  assert.equal(byOrg.get(a.id)?.device, 40);
  assert.equal(byOrg.get(b.id)?.device, 70);
  for (const [org, days] of [[a, 60], [b, 30]] as const) {
    const db = await c.core.directory.storeOf(org.id);
    const rows = await reposFor(db).devices.list(org.id, null, 1000, '');
    const cutoff = clock.nowMs() - days * DAY_MS;
    assert.equal(rows.filter((r) => r.last_seen < cutoff).length, 0, 'nothing older than policy survives');
    assert.equal(rows.length, days, 'nothing younger is lost');
  }
  const events = await c.services.auditQueries.list(sys, a.id, { limit: 1000 });
  const purge = events.find((e) => e.action === 'retention.purge');
  assert.deepEqual(purge?.details, { purged: { device: 40 } });

  // Audit: 6 months. Move 200 days on; the 100 days of report events age out, the chain verifies.
  clock.advance(200 * DAY_MS);
  await c.services.tenancy.createSite(sys, a.id, { name: 'new' });
  const before = await c.services.auditQueries.verify(sys, a.id);
  await c.services.retention.runAll(sys);
  const afterV = await c.services.auditQueries.verify(sys, a.id);
  assert.equal(afterV.ok, true, JSON.stringify(afterV));
  assert.ok(afterV.firstSeq! > before.firstSeq!, 'old audit events were pruned');
  const db = await c.core.directory.storeOf(a.id);
  const oldest = (await reposFor(db).audit.page(a.id, 0, 1))[0]!;
  assert.ok(oldest.at_ms >= clock.nowMs() - 183 * DAY_MS, 'no audit event older than 6 months remains');
  await c.close();
});
