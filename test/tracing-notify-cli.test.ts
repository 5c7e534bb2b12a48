/**
 * `cairn notify` as a real process on a prepared store: candidates, draft, approve and send
 * through the same service and audit as the API (actor system:cli), the mail arriving at a real
 * local SMTP sink once even when `send` is run again, the text and JSON outputs, templates and a
 * person's language. No address is printed or audited.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { parseNativeBatch, type NativeObservation } from '../src/ingest/index.ts';
import { startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';

const setup = sqliteSetup();
const cfg = setup.config();
const sys = systemCtx('test');
const T0 = Date.UTC(2026, 1, 2, 9);
const MIN = 60_000;
const EMAIL = 'cli.contact@notice.example';
let orgId = '', caseId = '', channelId = '', personId = '';
let sink: SmtpSink;

/** Run the bundled CLI without blocking this process (the SMTP sink lives here). */
function cairn(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['dist/main.js', ...args], { env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, CAIRN_MASTER_KEY: cfg.masterKey!, CAIRN_LOG_LEVEL: 'silent', CAIRN_DELIVERY_ALLOW_PRIVATE_TARGETS: 'true' } });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

before(async () => {
  sink = await startSmtpSink();
  const c = await makeApp(setup);
  const { tenancy, ingest, people, delivery, proximity } = c.services;
  orgId = (await tenancy.createOrg(sys, { name: 'CLI notices', country: 'NL' })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ', timezone: 'Europe/Amsterdam' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 40, heightM: 20 })).id;
  await tenancy.createZone(sys, orgId, floorId, { name: 'Lab', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] });
  await ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
  const obs: NativeObservation[] = [];
  for (let t = T0; t < T0 + 30 * MIN; t += 20_000) {
    obs.push({ kind: 'ble-badge', idType: 'badge', deviceId: 'cli-index', atMs: t, x: 5, y: 5, floorId, accuracyM: 0.5 });
    obs.push({ kind: 'ble-badge', idType: 'badge', deviceId: 'cli-contact', atMs: t + 1000, x: 6, y: 5, floorId, accuracyM: 0.5 });
  }
  await ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: obs }) });
  await people.setEnabled(sys, orgId, true);
  personId = (await people.create(sys, orgId, { personId: 'cli-emp-1', name: 'Cleo Contact', email: EMAIL, badges: ['cli-contact'] })).id;
  channelId = (await delivery.channels.create(sys, orgId, { kind: 'email', name: 'Notices', topics: ['contact-notices'], email: { host: '127.0.0.1', port: sink.port, tls: 'none', from: 'safety@notice.example', to: ['safety@notice.example'] } })).id;
  caseId = (await proximity.trace(sys, orgId, { badge: 'cli-index', fromMs: T0, toMs: T0 + 60 * MIN, purpose: 'Exposure check for incident 4' })).id;
  await c.close();
});
after(async () => {
  await sink?.close();
  await setup.cleanup();
});

test('cairn notify: candidates, draft, approve, send once (a second send sends nothing), show; audited as the CLI', async () => {
  const cand = await cairn(['notify', 'candidates', '--org', orgId, '--case', caseId, '--json']);
  assert.equal(cand.code, 0, cand.stderr);
  assert.deepEqual(JSON.parse(cand.stdout).linked.map((p: { personId: string }) => p.personId), [personId]);
  const lang = await cairn(['notify', 'language', '--org', orgId, '--person', personId, '--lang', 'nl']);
  assert.equal(lang.code, 0, lang.stderr);
  assert.match(lang.stdout, /: nl/);
  const draft = await cairn(['notify', 'draft', '--org', orgId, '--case', caseId, '--channel', channelId, '--json']);
  assert.equal(draft.code, 0, draft.stderr);
  const batch = JSON.parse(draft.stdout);
  assert.equal(batch.state, 'draft');
  assert.equal(batch.notices[0].language, 'nl');
  const approve = await cairn(['notify', 'approve', '--org', orgId, '--notice', batch.id]);
  assert.equal(approve.code, 0, approve.stderr);
  assert.match(approve.stdout, /: approved; 1 recipient/);
  const send = await cairn(['notify', 'send', '--org', orgId, '--notice', batch.id, '--json']);
  assert.equal(send.code, 0, send.stderr);
  const sent = JSON.parse(send.stdout);
  assert.equal(sent.state, 'sent');
  assert.equal(sent.notices[0].status, 'delivered');
  assert.deepEqual((await sink.waitFor(1))[0]!.to, [EMAIL]);
  const again = await cairn(['notify', 'send', '--org', orgId, '--notice', batch.id]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(sink.messages.length, 1, 'a second send notifies no one twice');
  const show = await cairn(['notify', 'show', '--org', orgId, '--notice', batch.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`person ${personId}  nl  delivered`));
  for (const r of [cand, draft, approve, send, again, show]) assert.ok(!r.stdout.includes(EMAIL) && !r.stdout.includes('Cleo'), 'no identity printed');
  const list = await cairn(['notify', 'list', '--org', orgId, '--json']);
  assert.deepEqual(JSON.parse(list.stdout).map((b: { id: string; state: string }) => [b.id, b.state]), [[batch.id, 'sent']]);

  const c = await makeApp(setup);
  try {
    const events = await c.services.auditQueries.list(sys, orgId, { limit: 500 });
    const mine = events.filter((e) => e.action.startsWith('notice.') && e.target === `notice:${batch.id}`);
    assert.deepEqual([...new Set(mine.map((e) => e.action))].sort(), ['notice.approve', 'notice.draft', 'notice.send', 'notice.view']);
    assert.ok(mine.every((e) => e.actor === 'system:cli' && e.details.purpose === 'Exposure check for incident 4'));
    assert.ok(!JSON.stringify(events).includes(EMAIL));
  } finally {
    await c.close();
  }
});

test('cairn notify template: a checked template per language, reset to the default, the default language', async () => {
  const body = join(cfg.dataDir, 'body.txt');
  writeFileSync(body, 'You were near another device for {{duration}} in {{zones}}, on {{date}}.\n');
  const set = await cairn(['notify', 'template', '--org', orgId, '--lang', 'en', '--subject', 'Contact on {{date}}', '--body-file', body, '--default-language', 'nl']);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /default language nl; custom templates: en/);
  const show = await cairn(['notify', 'templates', '--org', orgId]);
  assert.match(show.stdout, /subject: Contact on \{\{date\}\}/);
  writeFileSync(body, 'Someone you met tested positive.\n');
  const bad = await cairn(['notify', 'template', '--org', orgId, '--lang', 'en', '--subject', 'Contact', '--body-file', body]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /health information/);
  const reset = await cairn(['notify', 'template', '--org', orgId, '--lang', 'en', '--reset', '--json']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal(JSON.parse(reset.stdout).templates.en.custom, false);
});
