/**
 * The IMAP watcher against a real Dovecot (R-ATP-5): the test starts Dovecot as its own process
 * (temp config, passwd-file auth, temp maildir, loopback), delivers mail by IMAP APPEND and checks
 * that the malicious message was moved to the quarantine folder (created by the watcher) and
 * recorded, that clean mail stays, that suspicious mail is marked, that a released message comes
 * back and stays, and that the polling fallback works on a server without IDLE. Skipped, loudly,
 * only where Dovecot is not installed and CI is not set.
 */
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { EICAR } from '../src/threat/files/index.ts';
import { buildMail, dovecotSkip, startDovecot, type Dovecot } from '../src/threat/email/testkit.ts';
import type { CairnApp } from '../src/app.ts';

const skip = dovecotSkip();
const sys = systemCtx('test');

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const subjects = async (dv: Dovecot, folder: string) => (await dv.list(folder)).map((m) => ({ subject: /\r\nSubject: ([^\r\n]*)/.exec('\r\n' + m.raw.toString('latin1'))?.[1] ?? '', flags: m.flags }));

async function watchedApp(dv: Dovecot, pollSeconds: number): Promise<{ c: CairnApp; orgId: string; setup: ReturnType<typeof sqliteSetup> & { dir: string } }> {
  const setup = sqliteSetup() as ReturnType<typeof sqliteSetup> & { dir: string };
  const c = await makeApp(setup, { imapPollSeconds: pollSeconds });
  const orgId = (await c.services.tenancy.createOrg(sys, { name: 'Watched', country: 'NL' })).id;
  await c.services.mail.settings.set(sys, orgId, { maliciousAction: 'quarantine', suspiciousAction: 'deliver-with-warning', imap: { enabled: true, host: dv.host, port: dv.port, tls: false, user: dv.user, password: dv.password, mailbox: 'INBOX', quarantineFolder: 'Quarantine' } });
  await c.services.mail.start();
  await until('the watcher to connect', async () => (c.services.mail.watcher(orgId)?.passes ?? 0) >= 1);
  return { c, orgId, setup };
}

describe('IMAP watcher against Dovecot', { skip }, () => {
  let dv: Dovecot;
  let c: CairnApp;
  let orgId: string;
  let setup: ReturnType<typeof sqliteSetup> & { dir: string };
  after(async () => {
    await c?.close();
    await dv?.stop();
    await setup?.cleanup();
  });

  test('moves malicious mail to the quarantine folder and records it; clean mail stays; suspicious mail is marked (IDLE)', async () => {
    dv = await startDovecot();
    // A long poll interval: within this test only IDLE can bring the new mail to the watcher.
    ({ c, orgId, setup } = await watchedApp(dv, 120));
    assert.deepEqual(await dv.list('Quarantine'), [], 'the watcher created the quarantine folder');
    await dv.append('INBOX', await buildMail({ from: 'friend@outside.example', to: dv.user, subject: 'Clean note', text: 'hello' }));
    await dv.append('INBOX', await buildMail({ from: 'evil@outside.example', to: dv.user, subject: 'Invoice EICAR', text: 'pay now', attachments: [{ filename: 'invoice.com', content: EICAR }] }));
    await dv.append('INBOX', await buildMail({ from: 'phish@outside.example', to: dv.user, subject: 'Bank', html: '<a href="https://login.elsewhere.example/">https://www.mybank.example/</a>' }));
    const q = await until('the EICAR mail in Quarantine', async () => {
      const s = await subjects(dv, 'Quarantine');
      return s.length === 1 && s;
    });
    assert.equal(q[0]!.subject, 'Invoice EICAR');
    const inbox = await until('the suspicious mail to be marked', async () => {
      const s = await subjects(dv, 'INBOX');
      return s.some((m) => m.flags.includes('$CairnSuspicious')) && s;
    });
    assert.deepEqual(inbox.map((m) => m.subject).sort(), ['Bank', 'Clean note']);
    assert.ok(!inbox.find((m) => m.subject === 'Clean note')!.flags.some((f) => f.startsWith('$Cairn')), 'clean mail is left as it was');
    const entries = await c.services.mail.quarantine.list(sys, orgId);
    assert.equal(entries.length, 1);
    assert.deepEqual([entries[0]!.source, entries[0]!.subject, entries[0]!.recipient, entries[0]!.state], ['imap', 'Invoice EICAR', dv.user, 'malicious']);
    const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
    assert.ok(events.some((e) => e.action === 'quarantine.hold' && e.actor === 'system:imap-watcher'));
    for (const f of readdirSync(setup.dir)) assert.ok(!readFileSync(join(setup.dir, f)).toString('latin1').includes(dv.password), `the IMAP password is not in ${f} in clear`);
  });

  test('a released message goes back to the mailbox marked $CairnReleased and is not quarantined again', async () => {
    const [entry] = await c.services.mail.quarantine.list(sys, orgId);
    await c.services.mail.quarantine.release(sys, orgId, entry!.id);
    const inbox = await until('the released mail in INBOX', async () => {
      const s = await subjects(dv, 'INBOX');
      return s.some((m) => m.subject === 'Invoice EICAR') && s;
    });
    assert.ok(inbox.find((m) => m.subject === 'Invoice EICAR')!.flags.includes('$CairnReleased'));
    assert.deepEqual(await dv.list('Quarantine'), []);
    const w = c.services.mail.watcher(orgId)!;
    const passes = w.passes;
    await dv.append('INBOX', await buildMail({ from: 'x@outside.example', to: dv.user, subject: 'Another', text: 'wake the watcher' }));
    await until('the watcher to pass over the mailbox again', async () => w.passes > passes);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await dv.list('Quarantine'), [], 'the released message stays in INBOX');
    assert.equal((await c.services.mail.quarantine.list(sys, orgId))[0]!.status, 'released');
  });

  test('the watcher resumes where it left off after a restart and the cursor survives', async () => {
    await c.services.mail.stop();
    await dv.append('INBOX', await buildMail({ from: 'evil@outside.example', to: dv.user, subject: 'While away', text: 'x', attachments: [{ filename: 'e.com', content: EICAR }] }));
    await c.services.mail.start();
    await until('the mail that arrived while stopped to be quarantined', async () => (await subjects(dv, 'Quarantine')).some((m) => m.subject === 'While away'));
    const held = (await c.services.mail.quarantine.list(sys, orgId)).filter((e) => e.status === 'held');
    assert.deepEqual(held.map((e) => e.subject), ['While away']);
    await c.services.mail.quarantine.delete(sys, orgId, held[0]!.id);
    await until('the deleted message to leave the quarantine folder', async () => (await dv.list('Quarantine')).length === 0);
  });
});

describe('IMAP watcher on a server without IDLE', { skip }, () => {
  let dv: Dovecot;
  let c: CairnApp;
  let setup: ReturnType<typeof sqliteSetup>;
  after(async () => {
    await c?.close();
    await dv?.stop();
    await setup?.cleanup();
  });

  test('falls back to polling and still quarantines', async () => {
    dv = await startDovecot({ noIdle: true });
    const probe = await dv.client();
    assert.ok(!probe.capabilities.has('IDLE'), 'the server does not offer IDLE');
    ({ c, setup } = await watchedApp(dv, 1));
    await dv.append('INBOX', await buildMail({ from: 'evil@outside.example', to: dv.user, subject: 'Polled EICAR', text: 'x', attachments: [{ filename: 'e.com', content: EICAR }] }));
    await until('the polled EICAR mail in Quarantine', async () => (await subjects(dv, 'Quarantine')).some((m) => m.subject === 'Polled EICAR'));
  });
});
