/**
 * The quarantine API (R-ATP-5, R-DATA-10): org admins list, preview, release and delete every
 * message; any person of the org only messages addressed to their own e-mail address (matched
 * case-insensitively through the org's keyed pseudonym), everything else is "not found or no
 * access" and audited as denied. Release delivers to the original recipient through a real SMTP
 * upstream. The relay settings API keeps the IMAP password write-only and refuses bad and taken
 * domains. Quarantined mail is purged after its retention period.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { login, makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { DAY_MS, FakeClock } from '../src/kernel/clock.ts';
import { EICAR } from '../src/threat/files/index.ts';
import { buildMail, startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import { scanMessage, standaloneScanner } from '../src/threat/email/index.ts';
import type { CairnApp } from '../src/app.ts';

const setup = sqliteSetup();
const sys = systemCtx('test');
const clock = new FakeClock(Date.now());
let c: CairnApp;
let sink: SmtpSink;
let orgId: string;
let otherOrg: string;
const cookies: Record<string, string> = {};
const userIds: Record<string, string> = {};
const ids: Record<string, string> = {};

async function hold(to: string, subject: string): Promise<string> {
  const raw = await buildMail({ from: 'evil@outside.example', to, subject, text: `Body of ${subject}`, html: `<p>Body of ${subject}</p><script>alert(1)</script>`, attachments: [{ filename: 'invoice.com', content: EICAR }] });
  const { verdict } = await scanMessage(orgId, raw, standaloneScanner());
  const [id] = await c.services.mail.quarantine.hold(sys, orgId, { source: 'smtp', raw, sender: 'evil@outside.example', recipients: [to], subject, verdict });
  return id!;
}

const api = (who: string, method: 'GET' | 'POST' | 'DELETE' | 'PUT', path: string, payload?: unknown) =>
  c.app.inject({ method, url: `/api/v1/orgs/${orgId}${path}`, headers: { cookie: cookies[who]! }, ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });

before(async () => {
  sink = await startSmtpSink();
  c = await makeApp(setup, { smtpUpstream: sink.address }, { clock });
  orgId = (await c.services.tenancy.createOrg(sys, { name: 'Corp', country: 'NL' })).id;
  otherOrg = (await c.services.tenancy.createOrg(sys, { name: 'Other', country: 'NL' })).id;
  for (const [who, email, role] of [['admin', 'admin@corp.example', 'org_admin'], ['alice', 'Alice@corp.example', 'observer'], ['bob', 'bob@corp.example', 'site_admin'], ['officer', 'officer@corp.example', 'privacy_officer']] as const) {
    const site = role === 'site_admin' ? (await c.services.tenancy.createSite(sys, orgId, { name: 'HQ' })).id : null;
    userIds[who] = (await c.services.identity.createUser(sys, orgId, { email, password: 'quarantine-pass-123', roles: [{ role, siteId: site }] })).id;
    cookies[who] = await login(c, email, 'quarantine-pass-123');
  }
  ids.alice = await hold('alice@CORP.example', 'For Alice');
  ids.carol = await hold('carol@corp.example', 'For Carol');
});

after(async () => {
  await c?.close();
  await sink?.close();
  await setup.cleanup();
});

test('the recipient lists and previews only her own quarantined mail; the preview holds no active content', async () => {
  const list = await api('alice', 'GET', '/threat/quarantine');
  assert.equal(list.statusCode, 200, list.body);
  const entries = list.json() as { id: string; subject: string; recipient: string; state: string }[];
  assert.deepEqual(entries.map((e) => [e.id, e.subject, e.recipient, e.state]), [[ids.alice, 'For Alice', 'alice@CORP.example', 'malicious']]);
  const p = await api('alice', 'GET', `/threat/quarantine/${ids.alice}`);
  assert.equal(p.statusCode, 200, p.body);
  const prev = p.json() as { text: string; headers: { name: string; value: string }[]; attachments: { name: string; state: string }[]; html?: string };
  assert.match(prev.text, /Body of For Alice/);
  assert.ok(!p.body.includes('<script>') && !p.body.includes('alert(1)'), 'no HTML, no script');
  assert.equal(prev.html, undefined);
  assert.ok(prev.headers.some((h) => h.name === 'Subject' && h.value === 'For Alice'));
  assert.deepEqual(prev.attachments.map((a) => [a.name, a.state]), [['invoice.com', 'malicious']]);
  const other = await api('alice', 'GET', `/threat/quarantine/${ids.carol}`);
  assert.equal(other.statusCode, 404);
  assert.equal(other.json().error.message, 'Not found or no access.');
  assert.ok(!other.body.includes('For Carol'));
});

test('someone else of the org sees none of it; a privacy officer neither; the admin sees everything', async () => {
  assert.deepEqual((await api('bob', 'GET', '/threat/quarantine')).json(), []);
  assert.deepEqual((await api('officer', 'GET', '/threat/quarantine')).json(), []);
  for (const [m, path] of [['GET', `/threat/quarantine/${ids.alice}`], ['POST', `/threat/quarantine/${ids.alice}/release`], ['DELETE', `/threat/quarantine/${ids.alice}`]] as const) {
    const r = await api('bob', m, path);
    assert.equal(r.statusCode, 404, `${m} ${path}`);
  }
  const all = (await api('admin', 'GET', '/threat/quarantine')).json() as { id: string }[];
  assert.deepEqual(all.map((e) => e.id).sort(), [ids.alice, ids.carol].sort());
  assert.equal((await api('admin', 'GET', `/threat/quarantine/${ids.carol}`)).statusCode, 200);
  const crossTenant = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${otherOrg}/threat/quarantine`, headers: { cookie: cookies.admin! } });
  assert.equal(crossTenant.statusCode, 404);
  const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
  assert.ok(events.some((e) => e.outcome === 'denied' && e.action === 'quarantine.preview' && e.actor === `user:${userIds.bob}`), 'bob\'s attempt is audited as denied');
  assert.ok(events.some((e) => e.action === 'quarantine.list' && e.actor === `user:${userIds.alice}` && (e.details as { scope?: string }).scope === 'own'));
});

test('the recipient releases her own message: it goes to her through the upstream, marked released; then deletes it', async () => {
  const r = await api('alice', 'POST', `/threat/quarantine/${ids.alice}/release`);
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().status, 'released');
  const [m] = await sink.waitFor(1);
  assert.deepEqual(m!.to.map((a) => a.toLowerCase()), ['alice@corp.example']);
  assert.equal(m!.from, 'evil@outside.example');
  assert.match(m!.raw.toString('latin1'), /X-Cairn-Verdict: malicious\r\nX-Cairn-Score: 10\.0\r\nX-Cairn-Released: Released from Cairn quarantine\.\r\n/);
  const again = await api('alice', 'POST', `/threat/quarantine/${ids.alice}/release`);
  assert.equal(again.statusCode, 409);
  const previewAfter = (await api('alice', 'GET', `/threat/quarantine/${ids.alice}`)).json() as { text: string; status: string };
  assert.equal(previewAfter.status, 'released');
  assert.equal(previewAfter.text, '', 'the body is dropped once released');
  assert.equal((await api('alice', 'DELETE', `/threat/quarantine/${ids.alice}`)).statusCode, 204);
  assert.equal((await api('alice', 'GET', `/threat/quarantine/${ids.alice}`)).statusCode, 404);
  const actions = (await c.services.auditQueries.list(sys, orgId, { limit: 1000 })).filter((e) => e.actor === `user:${userIds.alice}` && e.outcome === 'ok').map((e) => e.action);
  for (const a of ['quarantine.list', 'quarantine.preview', 'quarantine.release', 'quarantine.delete']) assert.ok(actions.includes(a), `${a} audited`);
});

test('settings: admins set domains, policy, language and the IMAP account; the password is write-only; bad and taken domains are refused', async () => {
  const put = await api('admin', 'PUT', '/threat/email/settings', { domains: ['Corp.Example', 'mail.corp.example'], maliciousAction: 'deliver-with-warning', language: 'nl', imap: { host: 'imap.corp.example', port: 993, user: 'scanner@corp.example', password: 'secret-imap-pass' } });
  assert.equal(put.statusCode, 200, put.body);
  const s = put.json() as { domains: string[]; language: string; maliciousAction: string; imap: { user: string; passwordSet: boolean; enabled: boolean } };
  assert.deepEqual(s.domains, ['corp.example', 'mail.corp.example']);
  assert.deepEqual([s.language, s.maliciousAction, s.imap.user, s.imap.passwordSet, s.imap.enabled], ['nl', 'deliver-with-warning', 'scanner@corp.example', true, false]);
  const get = await api('admin', 'GET', '/threat/email/settings');
  assert.equal(get.statusCode, 200);
  assert.ok(!get.body.includes('secret-imap-pass'));
  assert.equal((await api('officer', 'GET', '/threat/email/settings')).statusCode, 200);
  assert.equal((await api('officer', 'PUT', '/threat/email/settings', { language: 'en' })).statusCode, 404);
  const badDomain = await api('admin', 'PUT', '/threat/email/settings', { domains: ['not a domain'] });
  assert.equal(badDomain.statusCode, 400);
  assert.equal(badDomain.json().error.code, 'CAIRN_ERR_VALIDATION');
  const badAction = await api('admin', 'PUT', '/threat/email/settings', { maliciousAction: 'drop' });
  assert.equal(badAction.statusCode, 400);
  const taken = await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${otherOrg}/threat/email/settings`, headers: { cookie: cookies.admin! }, payload: { domains: ['corp.example'] } });
  assert.equal(taken.statusCode, 404, 'another org is not the admin\'s');
  await assert.rejects(c.services.mail.settings.set(sys, otherOrg, { domains: ['corp.example'] }), (e: { code?: string }) => e.code === 'CAIRN_ERR_CONFLICT');
  assert.equal(await c.services.mail.settings.orgOfDomain('MAIL.corp.example.'), orgId);
});

test('quarantined mail is purged once it is older than the quarantine retention (30 days)', async () => {
  const policy = (await c.services.retention.list(sys, orgId)).find((p) => p.dataClass === 'quarantine')!;
  assert.deepEqual([policy.days, policy.enforced], [30, true]);
  clock.advance(29 * DAY_MS);
  assert.equal((await c.services.retention.runForOrg(sys, orgId)).purged.quarantine, undefined);
  clock.advance(2 * DAY_MS);
  assert.equal((await c.services.retention.runForOrg(sys, orgId)).purged.quarantine, 1);
  assert.deepEqual(await c.services.mail.quarantine.list(sys, orgId), []);
});
