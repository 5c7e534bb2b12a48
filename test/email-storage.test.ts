/**
 * The e-mail tables on both engines (SQLite and PostgreSQL): settings with the encrypted IMAP
 * account and the domain index, quarantine rows held, paged newest first, narrowed to one
 * recipient, released (body dropped), deleted and purged in bounded batches.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { DAY_MS, FakeClock } from '../src/kernel/clock.ts';
import { purgeQuarantine, type MessageVerdict } from '../src/threat/email/index.ts';
import type { CairnApp } from '../src/app.ts';

const sys = systemCtx('test');
const verdict: MessageVerdict = { score: 10, state: 'malicious', complete: true, reasons: [{ source: 'attachment', code: 'ATTACHMENT_MALICIOUS', score: 10, message: 'x', part: '2' }], attachments: [], linkHosts: [], durationMs: 1 };

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`e-mail storage (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup | undefined;
    let c: CairnApp | undefined;
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    test('settings, domains and the quarantine round-trip', { skip }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const clock = new FakeClock(Date.UTC(2025, 0, 1));
      c = await makeApp(setup, {}, { clock });
      const orgId = (await c.services.tenancy.createOrg(sys, { name: 'Store', country: 'DE' })).id;
      const s = await c.services.mail.settings.set(sys, orgId, { domains: ['store.example'], suspiciousAction: 'quarantine', imap: { host: 'imap.store.example', port: 143, tls: false, user: 'box@store.example', password: 'pw', enabled: true } });
      assert.deepEqual([s.domains, s.suspiciousAction, s.imap.user, s.imap.passwordSet, s.imap.enabled], [['store.example'], 'quarantine', 'box@store.example', true, true]);
      assert.equal(await c.services.mail.settings.orgOfDomain('store.example'), orgId);
      const account = await c.services.mail.settings.imapAccount(orgId);
      assert.equal(account?.password, 'pw');
      await c.services.mail.settings.saveImapCursor(orgId, '12345678901', 42);
      assert.deepEqual(await c.services.mail.settings.imapCursor(orgId), { uidValidity: '12345678901', lastUid: 42 });

      const q = c.services.mail.quarantine;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1000);
        ids.push(...(await q.hold(sys, orgId, { source: 'smtp', raw: Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), sender: i === 0 ? '' : 's@x.example', recipients: [i % 2 ? 'odd@store.example' : 'even@store.example'], subject: `m${i}`, verdict })));
      }
      const all = await q.list(sys, orgId, { limit: 2 });
      assert.deepEqual(all.map((e) => e.subject), ['m4', 'm3']);
      const next = await q.list(sys, orgId, { limit: 10, before: all[1]!.id });
      assert.deepEqual(next.map((e) => e.subject), ['m2', 'm1', 'm0']);
      assert.equal(next[2]!.sender, null, 'the null sender');
      const p = await q.preview(sys, orgId, ids[1]!);
      assert.match(p.text, /body 1/);
      assert.deepEqual(p.reasons.map((r) => r.code), ['ATTACHMENT_MALICIOUS']);
      assert.equal(await q.delete(sys, orgId, ids[0]!), undefined);

      clock.advance(31 * DAY_MS);
      const db = await c.core.directory.storeOf(orgId);
      const purged = await db.tx((x) => purgeQuarantine(x, orgId, clock.nowMs() - 30 * DAY_MS, 3));
      assert.equal(purged, 3, 'bounded batch');
      assert.equal((await q.list(sys, orgId)).length, 1);
    });
  });
}
