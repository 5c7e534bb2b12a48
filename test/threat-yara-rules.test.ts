/**
 * Org YARA rules: an org's rule adds to the bundled set and changes the verdict of a file it
 * matches (even one already cached); rules that do not compile, or would scan slowly, are refused
 * with a code; removing the rule restores the earlier verdict; every change is audited.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';

const setup = sqliteSetup();
after(() => setup.cleanup());

test('an org rule raises the verdict of a matching file; bad rules are refused; removal restores it', async () => {
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  const org = await c.services.tenancy.createOrg(sys, { name: 'Yara', country: 'NL' });
  const other = await c.services.tenancy.createOrg(sys, { name: 'Other', country: 'NL' });
  const file = Buffer.from('quarterly report\nproject NIGHTJAR-7 exfiltration staging area\n');
  const before = await c.services.threat.files.scanBuffer(org.id, file, { name: 'report.txt' });
  assert.ok(before.score < 4, `clean at first (${before.score})`);

  await assert.rejects(c.services.threat.yara.add(sys, org.id, { name: 'broken', source: 'rule x { condition: $missing }' }), (e: Error & { code?: string }) => e.code === 'CAIRN_ERR_VALIDATION');
  await assert.rejects(c.services.threat.yara.add(sys, org.id, { name: 'slow', source: 'rule slow { strings: $a = /[a-z]+/ condition: $a }' }), /slow pattern/);
  await assert.rejects(c.services.threat.yara.add(sys, org.id, { name: 'loop', source: 'rule loop { condition: for all i in (0..filesize) : ( uint8(i) == 0 ) }' }), /slow loop/);

  const rule = await c.services.threat.yara.add(sys, org.id, { name: 'nightjar', source: 'rule nightjar_campaign { meta: score = 9 strings: $a = "NIGHTJAR-7" condition: $a }' });
  const after1 = await c.services.threat.files.scanBuffer(org.id, file, { name: 'report.txt' });
  assert.ok(after1.score >= 7, `the org rule makes it a recommended block (${after1.score})`);
  assert.ok(JSON.stringify(after1.reasons).includes('nightjar_campaign'), 'the reason names the rule');
  const elsewhere = await c.services.threat.files.scanBuffer(other.id, file, { name: 'report.txt' });
  assert.ok(elsewhere.score < 4, 'another org is not affected');

  await c.services.threat.yara.remove(sys, org.id, rule.id);
  const after2 = await c.services.threat.files.scanBuffer(org.id, file, { name: 'report.txt' });
  assert.equal(after2.score, before.score, 'removing the rule restores the verdict');
  const actions = (await c.services.auditQueries.list(sys, org.id, { limit: 100 })).map((e) => e.action);
  assert.ok(actions.includes('threat.yara.add') && actions.includes('threat.yara.remove'));
  await c.close();
});
