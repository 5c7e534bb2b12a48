/**
 * Notices to exposed people end to end, on SQLite and PostgreSQL: a simulated case (an index
 * badge with two contacts linked to people and one unlinked) → candidates → draft → approve (by
 * another admin: four eyes) → send through an e-mail channel to a real local SMTP sink. The sink
 * gets exactly one mail per linked person, in their language, saying when, where and how long and
 * nothing about health or the index person; a retried send sends nothing twice; a failed send is
 * queued again only for the person it failed for; observers are refused; every step is audited
 * with the case's purpose; no address reaches the logs; webhooks carry the recipient resolved at
 * send time; retention purges batches.
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { simpleParser, type ParsedMail } from 'mailparser';
import { FakeClock, HOUR_MS, MINUTE_MS, DAY_MS } from '../src/kernel/clock.ts';
import { newSubject, systemCtx } from '../src/privacy/index.ts';
import { noticeSubjectHandlers } from '../src/tracing/notify/subject-data.ts';
import { parseNativeBatch, type NativeObservation } from '../src/ingest/index.ts';
import { healthWordIn } from '../src/tracing/proximity/index.ts';
import { startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../src/tracing/delivery/testkit.ts';
import type { CairnApp } from '../src/app.ts';
import type { NoticeBatchView, NoticeCandidates } from '../src/tracing/index.ts';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';

const T0 = Date.UTC(2024, 2, 4, 9, 0);
const sys = systemCtx('test');
const PURPOSE = 'Exposure check for incident 17';
const ANNA = { personId: 'emp-anna', name: 'Anna Jansen', email: 'anna.jansen@notice.example' };
const BRAM = { personId: 'emp-bram', name: 'Bram Smit', email: 'bram.smit@notice.example' };
const IVO = { personId: 'emp-ivo', name: 'Ivo Index', email: 'ivo.index@notice.example' };
/** Words no notice may carry (R-CT-6), beyond the purpose check's list. */
const HEALTH = ['health', 'gezondheid', 'covid', 'corona', 'virus', 'infect', 'besmet', 'sick', 'ziek', 'positive', 'positief', 'symptom', 'test', 'quarantine', 'quarantaine', 'diagnos'];

/** A badge standing at (x, y) for `minutes`, one fix every 10 s. */
function stay(badge: string, floorId: string, x: number, y: number, fromMs: number, minutes: number): NativeObservation[] {
  const out: NativeObservation[] = [];
  for (let t = fromMs; t < fromMs + minutes * MINUTE_MS; t += 10_000) out.push({ kind: 'ble-badge', idType: 'badge', deviceId: badge, atMs: t, x, y, floorId, accuracyM: 0.5 });
  return out;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`notices to exposed people (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let sink: SmtpSink;
    let hooks: WebhookReceiver;
    const logs: string[] = [];
    const clock = new FakeClock(T0 + 2 * HOUR_MS);
    const refused = new Set<string>();
    let orgId = '', caseId = '', channelId = '', annaId = '', bramId = '', ivoId = '', unlinkedDevice = '';
    const cookies: Record<'admin1' | 'admin2' | 'observer', string> = { admin1: '', admin2: '', observer: '' };

    const api = (who: keyof typeof cookies, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      c.app.inject({ method, url: `/api/v1/orgs/${orgId}${url}`, headers: { cookie: cookies[who] }, ...(payload !== undefined ? { payload: payload as string } : {}) });

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      sink = await startSmtpSink({ refuse: (rcpt) => refused.has(rcpt) });
      hooks = await startWebhookReceiver();
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      c = await makeApp(setup, { deliveryAllowPrivateTargets: true, logLevel: 'debug' }, { clock, logDestination: dest as never });
      const { tenancy, ingest, identity, people, notify, delivery } = c.services;
      orgId = (await tenancy.createOrg(sys, { name: 'Notice Co', country: 'NL' })).id;
      const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ', timezone: 'Europe/Amsterdam' })).id;
      const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 60, heightM: 30 })).id;
      await tenancy.createZone(sys, orgId, floorId, { name: 'Meeting room', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] });
      await ingest.settings.update(sys, orgId, { locationServices: true, bleTags: 'ble-badge' });
      // The index badge with Anna's and Bram's badges within 1 m for 30 minutes, and a badge no one is linked to.
      const obs = [...stay('badge-ivo', floorId, 10, 10, T0, 30), ...stay('badge-anna', floorId, 11, 10, T0, 30), ...stay('badge-bram', floorId, 10, 11, T0, 30), ...stay('badge-x', floorId, 9, 10, T0, 30)].sort((a, b) => a.atMs! - b.atMs!);
      for (let i = 0; i < obs.length; i += 1000) await ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: obs.slice(i, i + 1000) }), siteId });
      await people.setEnabled(sys, orgId, true);
      annaId = (await people.create(sys, orgId, { ...ANNA, badges: ['badge-anna'] })).id;
      bramId = (await people.create(sys, orgId, { ...BRAM, badges: ['badge-bram'] })).id;
      ivoId = (await people.create(sys, orgId, { ...IVO, badges: ['badge-ivo'] })).id;
      unlinkedDevice = (await c.core.keys.pseudonymiser(c.core.stores.region('eu'), orgId))('badge', 'badge-x');
      await notify.setPersonLanguage(sys, orgId, annaId, 'nl');
      channelId = (await delivery.channels.create(sys, orgId, { kind: 'email', name: 'Notices', topics: ['contact-notices'], email: { host: '127.0.0.1', port: sink.port, tls: 'none', from: 'safety@notice.example', to: ['safety@notice.example'] } })).id;
      for (const who of ['admin1', 'admin2', 'observer'] as const) {
        await identity.createUser(sys, orgId, { email: `${who}@notice.example`, password: 'notice-password-123', roles: [{ role: who === 'observer' ? 'observer' : 'org_admin' }] });
        cookies[who] = await login(c, `${who}@notice.example`, 'notice-password-123');
      }
      const tr = await api('admin1', 'POST', '/contact-traces', { badge: 'badge-ivo', from: new Date(T0 - HOUR_MS).toISOString(), to: new Date(T0 + HOUR_MS).toISOString(), purpose: PURPOSE });
      assert.equal(tr.statusCode, 200, tr.body);
      caseId = tr.json().id;
    });
    after(async () => {
      await c?.close();
      await sink?.close();
      await hooks?.close();
      await setup?.cleanup();
    });

    test('candidates: the two linked contacts with their languages, the unlinked one as a pseudonym', { skip }, async () => {
      const r = await api('admin1', 'GET', `/contact-traces/${caseId}/notice-candidates`);
      assert.equal(r.statusCode, 200, r.body);
      const cand = r.json() as NoticeCandidates;
      assert.deepEqual(cand.linked.map((p) => [p.personId, p.language, p.hasEmail]).sort(), [[annaId, 'nl', true], [bramId, 'en', true]].sort());
      assert.ok(cand.linked.every((p) => p.minutes === 30 && p.zones[0] === 'Meeting room' && p.timeZone === 'Europe/Amsterdam'));
      assert.deepEqual(cand.unlinked.map((u) => u.device), [unlinkedDevice]);
      assert.ok(!r.body.includes(ANNA.email) && !r.body.includes(ANNA.name), 'no identities in the candidates');
    });

    test('observers are refused every notice route', { skip }, async () => {
      const draft = await c.services.notify.draft(sys, orgId, { caseId, channelId });
      for (const [method, url, body] of [
        ['GET', `/contact-traces/${caseId}/notice-candidates`],
        ['GET', '/notices'],
        ['GET', `/notices/${draft.id}`],
        ['POST', '/notices', { caseId, channelId }],
        ['POST', `/notices/${draft.id}/approve`],
        ['POST', `/notices/${draft.id}/send`],
        ['DELETE', `/notices/${draft.id}`],
        ['GET', '/notices/settings'],
        ['PUT', '/notices/settings', { defaultLanguage: 'nl' }],
        ['PUT', `/people/${annaId}/notice-language`, { language: 'en' }],
      ] as const) {
        const res = await api('observer', method, url, body);
        assert.equal(res.statusCode, 404, `${method} ${url}`);
        assert.equal(res.json().error.message, 'Not found or no access.');
      }
      await c.services.notify.discard(sys, orgId, draft.id);
    });

    test('draft → approve (another admin) → send: exactly one mail per linked person, in their language, no health words, no index identity', { skip }, async () => {
      const d = await api('admin1', 'POST', '/notices', { caseId, channelId });
      assert.equal(d.statusCode, 200, d.body);
      const draft = d.json() as NoticeBatchView;
      assert.equal(draft.state, 'draft');
      assert.deepEqual(draft.notices.map((n) => [n.personId, n.language, n.state, n.status]).sort(), [[annaId, 'nl', 'ready', 'not_sent'], [bramId, 'en', 'ready', 'not_sent']].sort());
      assert.deepEqual(draft.unlinked.map((u) => u.device), [unlinkedDevice], 'the unlinked contact is listed for the admin');
      assert.ok(!draft.notices.some((n) => n.personId === ivoId), 'the index person is never a recipient');

      const early = await api('admin1', 'POST', `/notices/${draft.id}/send`);
      assert.equal(early.statusCode, 409);
      assert.equal(early.json().error.code, 'CAIRN_ERR_NOTICE_STATE');
      const own = await api('admin1', 'POST', `/notices/${draft.id}/approve`);
      assert.equal(own.statusCode, 409, 'the drafter cannot approve while the org has two admins');
      assert.equal(own.json().error.code, 'CAIRN_ERR_NOTICE_SAME_APPROVER');
      const ok = await api('admin2', 'POST', `/notices/${draft.id}/approve`);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().state, 'approved');
      assert.equal((await api('admin2', 'POST', `/notices/${draft.id}/approve`)).json().error.code, 'CAIRN_ERR_NOTICE_STATE');

      const sent = await api('admin1', 'POST', `/notices/${draft.id}/send`);
      assert.equal(sent.statusCode, 200, sent.body);
      assert.equal(sent.json().state, 'sent');
      await c.services.delivery.idle();
      const mails = await sink.waitFor(2);
      const parsed = new Map<string, ParsedMail>();
      for (const m of mails) {
        assert.equal(m.to.length, 1);
        parsed.set(m.to[0]!, await simpleParser(m.raw));
      }
      assert.deepEqual([...parsed.keys()].sort(), [ANNA.email, BRAM.email].sort());
      const nl = parsed.get(ANNA.email)!;
      const en = parsed.get(BRAM.email)!;
      assert.equal(nl.subject, 'Bericht: een nauw contact op maandag 4 maart 2024');
      assert.equal(nl.headers.get('content-language'), 'nl');
      assert.match(nl.text!, /in totaal 30 minuten dicht bij een ander apparaat, tussen 4 maart 2024 om 10:00 en 4 maart 2024 om 10:30 \(Europe\/Amsterdam\), in: Meeting room\./);
      assert.equal(en.subject, 'Notice: a close contact on Monday, 4 March 2024');
      assert.equal(en.headers.get('content-language'), 'en');
      assert.match(en.text!, /for 30 minutes in total, between 4 March 2024 at 10:00 and 4 March 2024 at 10:30 \(Europe\/Amsterdam\), in: Meeting room\./);
      const ivoDevice = (await c.core.keys.pseudonymiser(c.core.stores.region('eu'), orgId))('badge', 'badge-ivo');
      for (const m of mails) {
        const raw = m.raw.toString('utf8').toLowerCase();
        const p = parsed.get(m.to[0]!)!;
        assert.equal(healthWordIn(`${p.subject}\n${p.text}`), null);
        for (const w of HEALTH) assert.ok(!`${p.subject}\n${p.text}`.toLowerCase().includes(w), `health word "${w}" in a notice`);
        for (const id of ['ivo', 'badge-ivo', ivoDevice, ivoId, IVO.personId, caseId, PURPOSE.toLowerCase(), 'incident', 'badge-x', unlinkedDevice]) assert.ok(!raw.includes(id.toLowerCase()), `index identity "${id}" in a notice`);
        for (const other of [ANNA, BRAM]) if (other.email !== m.to[0]) assert.ok(!raw.includes(other.email) && !raw.includes(other.name.toLowerCase()), 'another recipient in a notice');
      }

      const view = (await api('admin1', 'GET', `/notices/${draft.id}`)).json() as NoticeBatchView;
      assert.deepEqual(view.counts, { not_sent: 0, pending: 0, delivered: 2, failed: 0, cancelled: 0, skipped: 0, unknown: 0 });
      for (const n of view.notices) {
        assert.equal(n.sends.length, 1);
        assert.deepEqual([n.sends[0]!.channelId, n.sends[0]!.state, n.sends[0]!.attempts], [channelId, 'delivered', 1]);
        assert.ok(n.sends[0]!.queuedAt && n.sends[0]!.doneAt);
      }

      // A retried send (the client did not see the answer) notifies no one twice.
      const again = await api('admin1', 'POST', `/notices/${draft.id}/send`);
      assert.equal(again.statusCode, 200, again.body);
      await c.services.delivery.idle();
      assert.equal(sink.messages.length, 2, 'nothing sent twice');
      assert.ok((again.json() as NoticeBatchView).notices.every((n) => n.sends.length === 1));
      const concurrent = await Promise.all([1, 2, 3].map(() => api('admin2', 'POST', `/notices/${draft.id}/send`)));
      assert.ok(concurrent.every((r) => r.statusCode === 200));
      await c.services.delivery.idle();
      assert.equal(sink.messages.length, 2, 'nor by concurrent retries');

      const events = await c.services.auditQueries.list(sys, orgId, { limit: 1000 });
      for (const action of ['notice.draft', 'notice.approve', 'notice.send', 'notice.view']) {
        const e = events.filter((x) => x.action === action && x.target === `notice:${draft.id}` && x.outcome === 'ok');
        assert.ok(e.length >= 1, action);
        assert.ok(e.every((x) => x.details.purpose === PURPOSE), `${action} carries the case's purpose`);
      }
      assert.deepEqual(events.filter((x) => x.action === 'notice.send' && x.target === `notice:${draft.id}` && x.outcome === 'ok').map((x) => x.details.queued).sort(), [0, 0, 0, 0, 2]);
      assert.ok(events.some((x) => x.action === 'notice.approve' && x.outcome === 'error' && x.details.refused === 'CAIRN_ERR_NOTICE_SAME_APPROVER'), 'the refused approval is audited');
      const all = logs.join('');
      for (const p of [ANNA, BRAM, IVO]) assert.ok(!all.includes(p.email) && !all.includes(p.email.split('@')[0]!), 'no address in the logs');
    });

    test('a failed send is queued again on retry for that person only', { skip }, async () => {
      const before = sink.messages.length;
      refused.add(BRAM.email);
      const draft = await c.services.notify.draft(systemCtx('bootstrap'), orgId, { caseId, channelId });
      await c.services.notify.approve(sys, orgId, draft.id);
      await c.services.notify.send(sys, orgId, draft.id);
      await c.services.delivery.idle();
      let view = await c.services.notify.get(sys, orgId, draft.id);
      const bram = () => view.notices.find((n) => n.personId === bramId)!;
      assert.equal(bram().status, 'failed');
      assert.equal(bram().sends[0]!.lastError, 'smtp_550');
      assert.equal(sink.messages.length, before + 1, 'Anna got hers');
      refused.clear();
      view = await c.services.notify.send(sys, orgId, draft.id);
      await c.services.delivery.idle();
      view = await c.services.notify.get(sys, orgId, draft.id);
      assert.equal(sink.messages.length, before + 2, 'only Bram\'s was sent again');
      assert.equal(sink.messages[sink.messages.length - 1]!.to[0], BRAM.email);
      assert.deepEqual(bram().sends.map((s) => s.state), ['failed', 'delivered']);
      assert.equal(view.notices.find((n) => n.personId === annaId)!.sends.length, 1);
    });

    test('templates: the org edits them per language (checked), the default language applies to people without one', { skip }, async () => {
      const bad = await api('admin1', 'PUT', '/notices/settings', { templates: { en: { subject: 'Contact with {{indexPerson}}', body: 'x' } } });
      assert.equal(bad.statusCode, 400);
      const sick = await api('admin1', 'PUT', '/notices/settings', { templates: { nl: { subject: 'Contact', body: 'Een collega is ziek.' } } });
      assert.equal(sick.statusCode, 400);
      assert.match(sick.json().error.message, /health information/);
      const put = await api('admin1', 'PUT', '/notices/settings', { defaultLanguage: 'nl', templates: { nl: { subject: 'Contact op {{date}}', body: 'U was {{duration}} in {{zones}}, van {{from}} tot {{to}}.' } } });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal(put.json().templates.nl.custom, true);
      assert.equal(put.json().templates.en.custom, false);
      const draft = await c.services.notify.draft(sys, orgId, { caseId, channelId, personIds: [bramId] });
      assert.equal(draft.notices.length, 1);
      assert.equal(draft.notices[0]!.language, 'nl', 'Bram has no language: the org default');
      assert.equal(draft.notices[0]!.text, 'U was 30 minuten in Meeting room, van 4 maart 2024 om 10:00 tot 4 maart 2024 om 10:30.');
      // What was approved is what is sent: a later template change does not touch the batch.
      await c.services.notify.updateSettings(sys, orgId, { templates: { nl: null }, defaultLanguage: 'en' });
      assert.equal((await c.services.notify.get(sys, orgId, draft.id)).notices[0]!.text, draft.notices[0]!.text);
      await c.services.notify.discard(sys, orgId, draft.id);
      assert.equal((await api('admin1', 'GET', `/notices/${draft.id}`)).statusCode, 404);
    });

    test('a webhook channel gets the notice with the recipient resolved at send time', { skip }, async () => {
      const hook = await c.services.delivery.channels.create(sys, orgId, { kind: 'webhook', name: 'HR', topics: ['contact-notices'], webhook: { url: hooks.url } });
      const draft = await c.services.notify.draft(systemCtx('bootstrap'), orgId, { caseId, channelId: hook.id, personIds: [annaId] });
      await c.services.notify.approve(sys, orgId, draft.id);
      await c.services.notify.send(sys, orgId, draft.id);
      await c.services.delivery.idle();
      const [req] = await hooks.waitFor(1);
      const body = JSON.parse(req!.body);
      assert.equal(body.topic, 'contact-notices');
      assert.deepEqual(body.recipient, { personId: annaId, personRef: ANNA.personId, email: ANNA.email });
      assert.equal(body.language, 'nl');
      assert.deepEqual(body.contact, { from: new Date(T0).toISOString(), to: new Date(T0 + 30 * MINUTE_MS).toISOString(), timeZone: 'Europe/Amsterdam', minutes: 30, where: 'Meeting room' });
      assert.ok(!req!.body.includes(ivoId) && !req!.body.includes(caseId) && !req!.body.includes(PURPOSE));
      assert.ok(req!.headers['x-cairn-signature']);
    });

    test('a case without linked contacts cannot be drafted; a channel not for notices is refused', { skip }, async () => {
      const other = await c.services.proximity.trace(sys, orgId, { badge: 'badge-x', fromMs: T0, toMs: T0 + HOUR_MS, purpose: PURPOSE, radiusMeters: 0.5 });
      const r = await api('admin1', 'POST', '/notices', { caseId: other.id, channelId });
      assert.equal(r.statusCode, 400);
      assert.match(r.json().error.message, /No contact of this case is linked/);
      const alerts = await c.services.delivery.channels.create(sys, orgId, { kind: 'webhook', name: 'BMS', topics: ['occupancy-alerts'], webhook: { url: hooks.url } });
      const wrong = await api('admin1', 'POST', '/notices', { caseId, channelId: alerts.id });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.details.field, 'channelId');
    });

    test('data-subject requests: a person\'s notices are exported and erased, their device leaves the unlinked lists', { skip }, async () => {
      const [h] = noticeSubjectHandlers(c.core);
      const db = c.core.stores.region('eu');
      const s = newSubject(orgId, 'email', BRAM.email);
      s.people.add(bramId);
      s.devices.add(unlinkedDevice);
      const exported = await h!.export!(db, s, { sinceMs: 0 });
      assert.ok(exported.rows.length >= 2 && exported.rows.every((r) => r[1] === bramId));
      assert.ok(exported.rows.some((r) => String(r[7]).includes('30 minutes')));
      assert.ok((await db.tx((x) => h!.erase!(x, s))) > 0);
      assert.equal((await h!.export!(db, s, { sinceMs: 0 })).rows.length, 0);
      for (const b of await c.services.notify.list(sys, orgId)) {
        const v = await c.services.notify.get(sys, orgId, b.id);
        assert.ok(!v.notices.some((n) => n.personId === bramId) && !v.unlinked.some((u) => u.device === unlinkedDevice));
      }
    });

    test('retention purges notice batches with the contact-tracing data (30 days)', { skip }, async () => {
      assert.ok((await c.services.notify.list(sys, orgId)).length > 0);
      clock.set(T0 + 40 * DAY_MS);
      await c.services.retention.runAll(sys);
      assert.deepEqual(await c.services.notify.list(sys, orgId), []);
    });
  });
}
