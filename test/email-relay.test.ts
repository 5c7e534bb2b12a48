/**
 * The scanning SMTP relay end to end (R-ATP-5, R-DATA-10): a real SMTP client (nodemailer) sends
 * to the relay on loopback, a real SMTP server stands in for the organisation's mail server.
 * EICAR is quarantined and stored encrypted (the SQLite files hold neither its subject, its
 * recipient nor the EICAR bytes in clear), clean mail arrives stamped, suspicious mail arrives
 * with warning headers and a subject tag (English and Dutch), broken MIME and oversized mail are
 * refused with their codes and the relay keeps serving.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createTransport } from 'nodemailer';
import { makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { EICAR } from '../src/threat/files/index.ts';
import { buildMail, startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import type { CairnApp } from '../src/app.ts';

const FILES = new URL('../../shared/data/files/', import.meta.url).pathname;
const setup = sqliteSetup() as ReturnType<typeof sqliteSetup> & { dir: string };
const sys = systemCtx('test');
const logLines: string[] = [];
const dest = new Writable({
  write(chunk: Buffer, _e, cb) {
    logLines.push(chunk.toString());
    cb();
  },
});
let c: CairnApp;
let sink: SmtpSink;
let orgId: string;
let port: number;

const SUBJECT = 'Quarterly figures 7f3a91';
const RCPT = 'alice.quarantine@corp.example';

function client() {
  return createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, logger: false });
}

/** Send raw bytes; resolve with the server's reply or the SMTP error. */
async function send(raw: Buffer, to: string[] = ['bob@corp.example'], from = 'sender@outside.example'): Promise<{ ok: true; response: string } | { ok: false; code: number | undefined; response: string }> {
  const t = client();
  try {
    const info = await t.sendMail({ envelope: { from, to }, raw });
    return { ok: true, response: String(info.response) };
  } catch (e) {
    const err = e as { responseCode?: number; response?: string; message: string };
    return { ok: false, code: err.responseCode, response: err.response ?? err.message };
  } finally {
    t.close();
  }
}

before(async () => {
  sink = await startSmtpSink();
  c = await makeApp(setup, { logLevel: 'info', smtpRelay: true, smtpPort: 0, smtpUpstream: sink.address, smtpMaxMessageBytes: 300_000 }, { logDestination: dest as never });
  orgId = (await c.services.tenancy.createOrg(sys, { name: 'Corp', country: 'NL' })).id;
  await c.services.mail.settings.set(sys, orgId, { domains: ['corp.example', 'Sub.Corp.Example.'], maliciousAction: 'quarantine', suspiciousAction: 'deliver-with-warning', language: 'en' });
  const started = await c.services.mail.start();
  assert.ok(started.smtp);
  port = started.smtp.port;
});

after(async () => {
  await c?.close();
  await sink?.close().catch(() => undefined);
  await setup.cleanup();
});

test('clean mail is delivered to the upstream unchanged but for the verdict headers', async () => {
  const raw = await buildMail({ from: 'sender@outside.example', to: 'bob@corp.example', subject: 'Lunch', text: 'Tomorrow at noon? https://maps.example/x', attachments: [{ filename: 'menu.txt', content: 'soup' }] });
  const r = await send(raw, ['bob@corp.example', 'carol@sub.corp.example']);
  assert.ok(r.ok, JSON.stringify(r));
  assert.match(r.response, /^250 2\.6\.0 /);
  const [m] = await sink.waitFor(1);
  assert.deepEqual(m!.to, ['bob@corp.example', 'carol@sub.corp.example']);
  assert.equal(m!.from, 'sender@outside.example');
  const text = m!.raw.toString('latin1');
  assert.match(text, /^X-Cairn-Verdict: clean\r\nX-Cairn-Score: 0\.0\r\n/);
  assert.match(text, /\r\nSubject: Lunch\r\n/);
  const body = (b: Buffer) => b.subarray(b.indexOf('\r\n\r\n')).toString('latin1');
  assert.equal(body(m!.raw), body(raw), 'the body bytes are untouched');
});

test('an EICAR attachment is quarantined, stored encrypted, and never reaches the upstream', async () => {
  const before = sink.messages.length;
  const raw = await buildMail({ from: 'evil@outside.example', to: RCPT, subject: SUBJECT, text: 'see attached', attachments: [{ filename: 'invoice.com', content: EICAR }] });
  const r = await send(raw, [RCPT], 'evil@outside.example');
  assert.ok(r.ok, JSON.stringify(r));
  assert.match(r.response, /^250 /, 'accepted (the sender is not told)');
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(sink.messages.length, before, 'nothing was delivered');
  const list = await c.services.mail.quarantine.list(sys, orgId);
  const entry = list.find((e) => e.subject === SUBJECT);
  assert.ok(entry, 'held in quarantine');
  assert.equal(entry.recipient, RCPT);
  assert.equal(entry.sender, 'evil@outside.example');
  assert.equal(entry.state, 'malicious');
  assert.equal(entry.source, 'smtp');
  const preview = await c.services.mail.quarantine.preview(sys, orgId, entry.id);
  assert.match(preview.text, /see attached/);
  assert.deepEqual(preview.attachments.map((a) => [a.name, a.subtype, a.state]), [['invoice.com', 'eicar', 'malicious']]);

  // R-DATA-10: every byte on disk (SQLite files with their WAL) is searched for the message in clear.
  const b64 = Buffer.from(EICAR).toString('base64');
  const needles = [SUBJECT, RCPT, 'alice.quarantine', 'evil@outside.example', EICAR, b64.slice(0, 60), 'see attached'];
  const found: string[] = [];
  for (const f of readdirSync(setup.dir)) {
    const bytes = readFileSync(join(setup.dir, f));
    const latin = bytes.toString('latin1');
    const utf16 = bytes.toString('utf16le');
    for (const n of needles) if (latin.includes(n) || utf16.includes(n)) found.push(`${n} in ${f}`);
  }
  assert.deepEqual(found, []);
  const domainOnDisk = readdirSync(setup.dir).some((f) => readFileSync(join(setup.dir, f)).toString('latin1').includes('sub.corp.example'));
  assert.ok(domainOnDisk, 'control: the search does see what is stored in clear (the served domain)');
  assert.ok(!logLines.join('').includes(RCPT) && !logLines.join('').includes(SUBJECT), 'logs carry neither recipient nor subject');
  const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
  assert.ok(events.some((e) => e.action === 'quarantine.hold' && e.actor === 'system:smtp-relay'));
});

test('suspicious mail is delivered with warning headers and a subject tag, in the org\'s language', { skip: !existsSync(FILES + 'test_upx.exe') && 'shared/data/files is not present' }, async () => {
  const before = sink.messages.length;
  const upx = readFileSync(FILES + 'test_upx.exe');
  const raw = await buildMail({ from: 'sender@outside.example', to: 'bob@corp.example', subject: 'Tool', text: 'the packer build', attachments: [{ filename: 'tool.exe', content: upx }] });
  const r = await send(raw);
  assert.ok(r.ok, JSON.stringify(r));
  const m = (await sink.waitFor(before + 1))[before]!;
  const text = m.raw.toString('latin1');
  assert.match(text, /^X-Cairn-Verdict: suspicious\r\nX-Cairn-Score: [4-6]\.\d\r\nX-Cairn-Warning: Cairn marked this message as suspicious/);
  assert.match(text, /\r\nSubject: \[SUSPICIOUS\] Tool\r\n/);

  await c.services.mail.settings.set(sys, orgId, { language: 'nl' });
  const phish = await buildMail({ from: 'sender@outside.example', to: 'bob@corp.example', subject: 'Uw bank', html: '<a href="https://login.elders.example/">https://www.mijnbank.example/</a>' });
  assert.ok((await send(phish)).ok);
  const nl = (await sink.waitFor(before + 2))[before + 1]!.raw.toString('latin1');
  assert.match(nl, /X-Cairn-Verdict: suspicious\r\n/);
  assert.match(nl, /X-Cairn-Warning: Cairn heeft dit bericht als verdacht gemarkeerd/);
  assert.match(nl, /\r\nSubject: \[VERDACHT\] Uw bank\r\n/);
  await c.services.mail.settings.set(sys, orgId, { language: 'en' });
});

test('a sender cannot pre-mark mail: its own X-Cairn headers are replaced', async () => {
  const before = sink.messages.length;
  const raw = Buffer.from('From: a@outside.example\r\nTo: bob@corp.example\r\nSubject: spoof\r\nX-Cairn-Verdict: clean\r\nX-Cairn-Score: 0.0\r\nContent-Type: text/html\r\n\r\n<a href="https://pay.elsewhere.example/">https://www.corp.example/pay</a>\r\n');
  assert.ok((await send(raw)).ok);
  const text = (await sink.waitFor(before + 1))[before]!.raw.toString('latin1');
  assert.equal(text.match(/X-Cairn-Verdict:/g)!.length, 1);
  assert.match(text, /^X-Cairn-Verdict: suspicious/);
});

test('broken MIME is refused with 554 5.6.0 and CAIRN_ERR_MIME_MALFORMED, logged with the code; the relay keeps serving', async () => {
  const broken = Buffer.from('Subject: broken\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n');
  const r = await send(broken);
  assert.ok(!r.ok);
  assert.equal(r.code, 554);
  assert.match(r.response, /^554 5\.6\.0 CAIRN_ERR_MIME_MALFORMED: The e-mail message is malformed: the message is multipart\/mixed without a boundary parameter/);
  const garbage = Buffer.from('\x00\x01\x02 not a message at all \xff\xfe');
  const g = await send(garbage);
  assert.ok(!g.ok && g.code === 554, JSON.stringify(g));
  assert.ok(logLines.some((l) => l.includes('CAIRN_ERR_MIME_MALFORMED') && l.includes('MULTIPART_NO_BOUNDARY')), 'the refusal is logged with its code');
  const before = sink.messages.length;
  assert.ok((await send(await buildMail({ from: 'a@outside.example', to: 'bob@corp.example', subject: 'after', text: 'still here' }))).ok);
  await sink.waitFor(before + 1);
});

test('oversized mail is refused with 552 5.3.4; mail for other domains with 550; the relay keeps serving', async () => {
  const big = await buildMail({ from: 'a@outside.example', to: 'bob@corp.example', subject: 'big', text: 'x'.repeat(400_000) });
  const r = await send(big);
  assert.ok(!r.ok);
  assert.equal(r.code, 552);
  assert.match(r.response, /^552 5\.3\.4 /);
  const foreign = await send(await buildMail({ from: 'a@outside.example', to: 'x@elsewhere.example', subject: 'relay?', text: 'x' }), ['x@elsewhere.example']);
  assert.ok(!foreign.ok);
  assert.equal(foreign.code, 550);
  assert.match(foreign.response, /Relay access denied/);
  const before = sink.messages.length;
  assert.ok((await send(await buildMail({ from: 'a@outside.example', to: 'bob@corp.example', subject: 'small', text: 'ok' }))).ok);
  await sink.waitFor(before + 1);
});

test('a message that arrives while the upstream is down is refused temporarily (451), not lost', async () => {
  await sink.close();
  const r = await send(await buildMail({ from: 'a@outside.example', to: 'bob@corp.example', subject: 'later', text: 'retry me' }));
  assert.ok(!r.ok);
  assert.equal(r.code, 451);
  assert.match(r.response, /^451 4\.3\.0 CAIRN_ERR_MAIL_UPSTREAM/);
  assert.ok(c.services.mail.stats.quarantined >= 1 && c.services.mail.stats.malformed >= 2);
});
