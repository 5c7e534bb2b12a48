/**
 * Data-subject requests end to end on both storage engines (R-PRIV-4): a subject asks through the
 * public API or the privacy page, verifies with the e-mailed code (the real SMTP sink), a privacy
 * officer approves and fulfils; the access archive holds the subject's records and the processing
 * information and nobody else's; correction rewrites the directory; restriction makes ingest drop
 * the subject's device until lifted; deadlines per regime, extension, overdue listing and metric;
 * the CCPA limit of two access requests a year. Bad input: malformed identifiers, floods per
 * address and per subject, guessed codes (lock-out after five), expired codes and replays are
 * refused with their codes and audited.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, type EngineSetup } from './helpers.ts';
import { startSmtpSink, type SmtpSink } from '../src/threat/email/testkit.ts';
import { systemCtx, unzip, type Ctx } from '../src/privacy/index.ts';
import { DAY_MS, FakeClock, MINUTE_MS } from '../src/kernel/clock.ts';
import { parseNativeBatch } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const T0 = Date.UTC(2026, 2, 2, 9); // a Monday
const SUBJECT = { email: 'ann.devries@subject.example', mac: '3c:22:fb:9a:41:07', badge: 'B-0042', name: 'Ann de Vries' };
const OTHER = { email: 'bob@other.example', mac: 'a4:83:e7:12:6b:c9' };

interface World {
  orgId: string;
  floorId: string;
  officer: Ctx;
  cookie: string;
}

let addr = 0;
/** A fresh client address for each scenario (the per-address limits are per scenario). */
const nextIp = () => `10.9.${Math.floor(++addr / 250)}.${(addr % 250) + 1}`;

async function world(c: CairnApp, name: string, country: string): Promise<World> {
  const sys = systemCtx('test');
  const { tenancy, identity, ingest, people } = c.services;
  const orgId = (await tenancy.createOrg(sys, { name, country })).id;
  const siteId = (await tenancy.createSite(sys, orgId, { name: 'HQ' })).id;
  const floorId = (await tenancy.createFloor(sys, orgId, siteId, { name: 'G', widthM: 50, heightM: 40 })).id;
  await tenancy.createZone(sys, orgId, floorId, { name: 'Lobby', polygon: [[0, 0], [10, 0], [10, 10], [0, 10]] });
  await ingest.settings.update(sys, orgId, { locationServices: true });
  await people.setEnabled(sys, orgId, true);
  await people.create(sys, orgId, { personId: 'emp-ann', name: SUBJECT.name, email: SUBJECT.email, macs: [SUBJECT.mac], badges: [SUBJECT.badge] });
  await people.create(sys, orgId, { personId: 'emp-bob', name: 'Bob', email: OTHER.email, macs: [OTHER.mac] });
  const email = `officer@${name.toLowerCase().replace(/\W+/g, '')}.example`;
  const u = await identity.createUser(sys, orgId, { email, password: 'officer-password-123', roles: [{ role: 'privacy_officer' }] });
  return { orgId, floorId, officer: { actor: { kind: 'user', id: u.id }, bindings: [{ role: 'privacy_officer', orgId, siteId: null }], requestId: 'test-officer' }, cookie: await login(c, email, 'officer-password-123') };
}

async function feed(c: CairnApp, w: World, mac: string, atMs: number, x = 5): Promise<void> {
  await c.services.ingest.ingest(systemCtx('test'), w.orgId, { source: 'native', observations: parseNativeBatch({ observations: [{ kind: 'wifi-connected', deviceId: mac, atMs, x, y: 5, floorId: w.floorId }] }) });
}

/** The code in the newest message to `to`. */
function codeFor(sink: SmtpSink, to: string): string {
  const m = [...sink.messages].reverse().find((x) => x.to.includes(to) && /code is (\d{6})/.test(x.raw.toString()));
  assert.ok(m, `a code was mailed to the subject`);
  return /code is (\d{6})/.exec(m.raw.toString())![1]!;
}

async function errCode(res: { statusCode: number; body: string }): Promise<string> {
  return (JSON.parse(res.body) as { error: { code: string } }).error.code;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`data-subject requests (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let sink: SmtpSink;
    const clock = new FakeClock(T0);

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      sink = await startSmtpSink();
      c = await makeApp(setup, { smtpUpstream: sink.address, dsarPerSubjectPerDay: 3, dsarPerIpPerHour: 10 }, { clock });
    });
    after(async () => {
      await c?.close();
      await sink?.close();
      await setup?.cleanup();
    });

    const post = (url: string, payload: unknown, ip = nextIp()) => c.app.inject({ method: 'POST', url, payload: payload as object, remoteAddress: ip });

    test('a subject gets a copy: e-mail code, officer approval, an archive of their records and the processing information', { skip }, async () => {
      const w = await world(c, 'Copy Org', 'NL');
      await feed(c, w, SUBJECT.mac, T0 - 60 * MINUTE_MS);
      await feed(c, w, OTHER.mac, T0 - 50 * MINUTE_MS, 7);
      const ip = nextIp();
      const res = await post(`/api/v1/privacy/orgs/${w.orgId}/requests`, { kind: 'access', identifier: { kind: 'email', value: SUBJECT.email.toUpperCase() } }, ip);
      assert.equal(res.statusCode, 201, res.body);
      const r = JSON.parse(res.body) as { requestId: string; statusToken: string; status: string; verification: string; dueAt: string };
      assert.equal(r.status, 'unverified');
      assert.equal(r.verification, 'email_code');
      assert.equal(r.dueAt, new Date(Date.UTC(2026, 3, 2, 9)).toISOString(), 'GDPR: one calendar month');
      assert.ok(!res.body.includes(SUBJECT.mac) && !res.body.includes('Ann'), 'intake reveals nothing');

      // Unverified: no data, and the officer cannot approve.
      const st = await post(`/api/v1/privacy/orgs/${w.orgId}/requests/${r.requestId}/archive`, { token: r.statusToken }, ip);
      assert.equal(st.statusCode, 404);
      await assert.rejects(c.services.rights.approve(w.officer, w.orgId, r.requestId), (e: { code?: string }) => e.code === 'CAIRN_ERR_DSAR_STATE');

      const wrong = await post(`/api/v1/privacy/orgs/${w.orgId}/requests/${r.requestId}/verify`, { token: r.statusToken, code: codeFor(sink, SUBJECT.email) === '000000' ? '000001' : '000000' }, ip);
      assert.equal(wrong.statusCode, 400);
      assert.equal(await errCode(wrong), 'CAIRN_ERR_DSAR_CODE_WRONG');
      const ok = await post(`/api/v1/privacy/orgs/${w.orgId}/requests/${r.requestId}/verify`, { token: r.statusToken, code: codeFor(sink, SUBJECT.email) }, ip);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(JSON.parse(ok.body).status, 'verified');
      assert.ok(sink.messages.some((m) => m.to.includes(SUBJECT.email) && /received/.test(m.raw.toString())), 'receipt confirmed by e-mail');

      // The officer's queue shows no identifier; the detail does (audited).
      const list = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/dsar`, headers: { cookie: w.cookie } });
      assert.equal(list.statusCode, 200);
      assert.ok(list.body.includes(r.requestId) && !list.body.includes(SUBJECT.email));
      const detail = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${w.orgId}/dsar/${r.requestId}`, headers: { cookie: w.cookie } });
      assert.equal(JSON.parse(detail.body).identifier, SUBJECT.email);
      for (const step of ['approve', 'fulfil']) {
        const s = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${w.orgId}/dsar/${r.requestId}/${step}`, headers: { cookie: w.cookie } });
        assert.equal(s.statusCode, 200, `${step}: ${s.body}`);
      }
      const dl = await post(`/api/v1/privacy/orgs/${w.orgId}/requests/${r.requestId}/archive`, { token: r.statusToken }, ip);
      assert.equal(dl.statusCode, 200, dl.body);
      assert.equal(dl.headers['content-type'], 'application/zip');
      const files = unzip(dl.rawPayload);
      for (const f of ['README.txt', 'request.json', 'processing.json', 'data/tracing.people.json', 'data/tracing.people.csv', 'data/location.fixes.json', 'data/devices.records.json', 'data/privacy.requests.json']) assert.ok(files.has(f), `archive holds ${f}`);
      const processing = JSON.parse(files.get('processing.json')!.toString()) as { controller: { name: string }; storageRegion: string; records: { handler: string; purpose: string; categories: string[]; source: string; recipients: string; retentionDays: number | null }[] };
      assert.equal(processing.controller.name, 'Copy Org');
      assert.equal(processing.storageRegion, 'eu');
      const fixesInfo = processing.records.find((x) => x.handler === 'location.fixes')!;
      assert.ok(fixesInfo.purpose && fixesInfo.categories.length > 0 && fixesInfo.source && fixesInfo.recipients && fixesInfo.retentionDays === 30);
      const all = [...files.values()].map((b) => b.toString()).join('\n');
      const annDevice = await c.core.keys.pseudonym(c.core.stores.region('eu'), w.orgId, 'mac', SUBJECT.mac);
      const bobDevice = await c.core.keys.pseudonym(c.core.stores.region('eu'), w.orgId, 'mac', OTHER.mac);
      assert.ok(all.includes(SUBJECT.email) && all.includes(SUBJECT.name) && all.includes(annDevice), 'the subject\'s own data is there');
      assert.ok(!all.includes(OTHER.email) && !all.includes(bobDevice) && !all.includes('Bob'), 'nobody else\'s');
      const fixes = JSON.parse(files.get('data/location.fixes.json')!.toString()) as { device: string }[];
      assert.ok(fixes.length >= 1 && fixes.every((f) => f.device === annDevice));

      const audit = await c.services.auditQueries.list(systemCtx('test'), w.orgId, { limit: 1000 });
      for (const a of ['dsar.submit', 'dsar.verify', 'dsar.receipt', 'dsar.read', 'dsar.approve', 'dsar.fulfil', 'dsar.archive.download']) assert.ok(audit.some((e) => e.action === a && e.outcome === 'ok'), `audited ${a}`);
      assert.ok(audit.some((e) => e.action === 'dsar.verify' && e.outcome === 'denied' && (e.details as { reason?: string }).reason === 'wrong_code'));
      assert.ok(!JSON.stringify(audit).includes(SUBJECT.email), 'the audit log names requests, never identifiers');
    });

    test('the privacy page works without script, in Dutch from the browser, and shows refusals with their code', { skip }, async () => {
      const w = await world(c, 'Pagina Org', 'NL');
      const page = await c.app.inject({ method: 'GET', url: `/privacy/${w.orgId}`, headers: { 'accept-language': 'nl-NL,nl;q=0.9,en;q=0.5' } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<html lang="nl">/);
      assert.match(page.body, /Uw privacyrechten/);
      assert.ok(!/<script/i.test(page.body));
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
      const form = (fields: Record<string, string>, ip: string) => c.app.inject({ method: 'POST', url: `/privacy/${w.orgId}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString(), remoteAddress: ip });
      const ip = nextIp();
      const sent = await form({ action: 'submit', lang: 'en', kind: 'access', idKind: 'email', identifier: SUBJECT.email, regime: 'gdpr' }, ip);
      assert.equal(sent.statusCode, 200, sent.body);
      const requestId = /id="reference">([0-9a-f-]{36})</.exec(sent.body)![1]!;
      const token = /id="token">([A-Za-z0-9_-]+)</.exec(sent.body)![1]!;
      const verified = await form({ action: 'verify', lang: 'en', requestId, token, code: codeFor(sink, SUBJECT.email) }, ip);
      assert.equal(verified.statusCode, 200, verified.body);
      assert.match(verified.body, /data-status="verified"/);
      const bad = await form({ action: 'submit', lang: 'nl', kind: 'deletion', idKind: 'mac', identifier: 'not a mac' }, ip);
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.headers['x-cairn-error'], 'CAIRN_ERR_DSAR_IDENTIFIER');
      assert.match(bad.body, /CAIRN_ERR_DSAR_IDENTIFIER/);
      assert.ok(!bad.body.includes('not a mac'), 'the refusal does not echo the value');
    });

    test('malformed identifiers, floods, guessed codes, expired codes and replays are refused with clear codes and audited', { skip }, async () => {
      const w = await world(c, 'Bad Input Org', 'NL');
      const url = `/api/v1/privacy/orgs/${w.orgId}/requests`;
      for (const [kind, value] of [['email', 'nobody@'], ['mac', '3c:22:fb:9a:41'], ['mac', 'ff:ff:ff:ff:ff:ff'], ['badge', ''], ['username', 'two words']] as const) {
        const res = await post(url, { kind: 'access', identifier: { kind, value }, contactEmail: 'x@subject.example' });
        assert.ok(res.statusCode === 400, `${kind} ${value}: ${res.statusCode}`);
        assert.ok(['CAIRN_ERR_DSAR_IDENTIFIER', 'CAIRN_ERR_VALIDATION'].includes(await errCode(res)));
      }
      assert.equal(await errCode(await post(url, { kind: 'access', identifier: { kind: 'badge', value: 'B-1' } })), 'CAIRN_ERR_VALIDATION', 'a badge needs a contact address');
      assert.equal(await errCode(await post(url, { kind: 'sell-me', identifier: { kind: 'email', value: SUBJECT.email } })), 'CAIRN_ERR_VALIDATION');

      // Flood from one address: the 11th in the hour is refused.
      const ip = nextIp();
      const codes: number[] = [];
      for (let i = 0; i < 11; i++) codes.push((await post(url, { kind: 'access', identifier: { kind: 'email', value: `flood${i}@subject.example` } }, ip)).statusCode);
      assert.deepEqual(codes.slice(0, 10), new Array(10).fill(201));
      const flooded = await post(url, { kind: 'access', identifier: { kind: 'email', value: 'flood-x@subject.example' } }, ip);
      assert.equal(flooded.statusCode, 429);
      assert.equal(JSON.parse(flooded.body).error.details.scope, 'ip');

      // Flood about one person from many addresses: the 4th in a day is refused.
      const per: number[] = [];
      for (let i = 0; i < 4; i++) per.push((await post(url, { kind: 'deletion', identifier: { kind: 'email', value: 'target@subject.example' } })).statusCode);
      assert.deepEqual(per, [201, 201, 201, 429]);

      // Guessed codes: four wrong, the fifth locks the request; the right code no longer helps.
      const ip2 = nextIp();
      const g = JSON.parse((await post(url, { kind: 'access', identifier: { kind: 'email', value: 'guess@subject.example' } }, ip2)).body) as { requestId: string; statusToken: string };
      const right = codeFor(sink, 'guess@subject.example');
      const wrongCode = right === '123456' ? '654321' : '123456';
      const tries: string[] = [];
      for (let i = 0; i < 5; i++) tries.push(await errCode(await post(`${url}/${g.requestId}/verify`, { token: g.statusToken, code: wrongCode }, ip2)));
      assert.deepEqual(tries, ['CAIRN_ERR_DSAR_CODE_WRONG', 'CAIRN_ERR_DSAR_CODE_WRONG', 'CAIRN_ERR_DSAR_CODE_WRONG', 'CAIRN_ERR_DSAR_CODE_WRONG', 'CAIRN_ERR_DSAR_LOCKED']);
      const locked = await post(`${url}/${g.requestId}/verify`, { token: g.statusToken, code: right }, ip2);
      assert.equal(locked.statusCode, 423);
      assert.equal(await errCode(locked), 'CAIRN_ERR_DSAR_LOCKED');
      // A wrong token says no more than a missing request.
      assert.equal((await post(`${url}/${g.requestId}/verify`, { token: 'x'.repeat(32), code: right }, ip2)).statusCode, 404);

      // Expired code → a new one; a replayed code after success.
      const ip3 = nextIp();
      const e = JSON.parse((await post(url, { kind: 'access', identifier: { kind: 'email', value: 'slow@subject.example' } }, ip3)).body) as { requestId: string; statusToken: string };
      const first = codeFor(sink, 'slow@subject.example');
      clock.advance(11 * MINUTE_MS);
      const expired = await post(`${url}/${e.requestId}/verify`, { token: e.statusToken, code: first }, ip3);
      assert.equal(expired.statusCode, 410);
      assert.equal(await errCode(expired), 'CAIRN_ERR_DSAR_CODE_EXPIRED');
      assert.equal((await post(`${url}/${e.requestId}/code`, { token: e.statusToken }, ip3)).statusCode, 200);
      const second = codeFor(sink, 'slow@subject.example');
      assert.equal((await post(`${url}/${e.requestId}/verify`, { token: e.statusToken, code: second }, ip3)).statusCode, 200);
      const replay = await post(`${url}/${e.requestId}/verify`, { token: e.statusToken, code: second }, ip3);
      assert.equal(replay.statusCode, 409);
      assert.equal(await errCode(replay), 'CAIRN_ERR_DSAR_REPLAY');
      // The same verified request again is a duplicate.
      const dup = await post(url, { kind: 'access', identifier: { kind: 'email', value: 'slow@subject.example' } });
      assert.equal(await errCode(dup), 'CAIRN_ERR_DSAR_DUPLICATE');

      const denied = (await c.services.auditQueries.list(systemCtx('test'), w.orgId, { limit: 1000 })).filter((x) => x.outcome === 'denied').map((x) => (x.details as { reason?: string }).reason);
      for (const reason of ['malformed_identifier', 'no_contact', 'rate_limited_ip', 'rate_limited_subject', 'wrong_code', 'locked_after_wrong_codes', 'locked', 'unknown_request_or_token', 'code_expired', 'replayed', 'duplicate']) assert.ok(denied.includes(reason), `refusal audited: ${reason}`);
      assert.equal(denied.filter((r) => r === 'rate_limited_ip').length, 1, 'a flood is audited once per window, not once per request');
    });

    test('deadlines per regime: CCPA receipt and 45 days, one extension, overdue in the listing and the metric; two access requests a year', { skip }, async () => {
      clock.set(T0);
      const w = await world(c, 'Deadline Org', 'US');
      const rights = c.services.rights;
      const a = await rights.intake(w.officer, w.orgId, { kind: 'access', identifier: { kind: 'email', value: SUBJECT.email } });
      assert.equal(a.regime, 'ccpa', 'a US org defaults to the CCPA');
      assert.equal(a.dueAt, new Date(T0 + 45 * DAY_MS).toISOString());
      assert.equal(a.receiptDueAt, new Date(Date.UTC(2026, 2, 16, 9)).toISOString(), '10 business days');
      const del = await rights.intake(w.officer, w.orgId, { kind: 'deletion', identifier: { kind: 'email', value: 'late@subject.example' } });
      clock.advance(46 * DAY_MS);
      const overdue = await rights.list(w.officer, w.orgId, { overdue: true });
      assert.deepEqual(overdue.map((r) => r.id).sort(), [a.id, del.id].sort());
      const metrics = await c.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /cairn_dsar_overdue [1-9]/);
      const ext = await rights.extend(w.officer, w.orgId, del.id, 'complexity');
      assert.equal(ext.dueAt, new Date(T0 + 90 * DAY_MS).toISOString());
      assert.equal(ext.overdue, false);
      await assert.rejects(rights.extend(w.officer, w.orgId, del.id, 'complexity'), (e: { code?: string }) => e.code === 'CAIRN_ERR_DSAR_STATE');
      // CCPA: two access requests in 12 months, the third is refused.
      await rights.approve(w.officer, w.orgId, a.id);
      await rights.fulfil(w.officer, w.orgId, a.id);
      const second = await rights.intake(w.officer, w.orgId, { kind: 'access', identifier: { kind: 'email', value: SUBJECT.email } });
      await rights.approve(w.officer, w.orgId, second.id);
      await rights.fulfil(w.officer, w.orgId, second.id);
      const third = await post(`/api/v1/privacy/orgs/${w.orgId}/requests`, { kind: 'access', identifier: { kind: 'email', value: SUBJECT.email } });
      assert.equal(third.statusCode, 429);
      assert.equal(await errCode(third), 'CAIRN_ERR_DSAR_LIMIT');
      // A GDPR request from the same person is not limited that way.
      assert.equal((await post(`/api/v1/privacy/orgs/${w.orgId}/requests`, { kind: 'access', regime: 'gdpr', identifier: { kind: 'email', value: SUBJECT.email } })).statusCode, 201);
      // Opt-out of sale is recorded at once, without verification.
      const opt = JSON.parse((await post(`/api/v1/privacy/orgs/${w.orgId}/requests`, { kind: 'opt_out_sale', identifier: { kind: 'email', value: SUBJECT.email } })).body) as { status: string; verification: string };
      assert.deepEqual([opt.status, opt.verification], ['fulfilled', 'none']);
    });

    test('restriction makes ingest drop the subject\'s device until it is lifted; correction rewrites name and e-mail', { skip }, async () => {
      clock.set(T0);
      const w = await world(c, 'Restrict Org', 'NL');
      const rights = c.services.rights;
      const db = await c.core.directory.storeOf(w.orgId);
      const fixes = async () => (await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM fixes WHERE org_id = $1', [w.orgId]))[0]!.n;
      const r = await rights.intake(w.officer, w.orgId, { kind: 'restriction', identifier: { kind: 'badge', value: SUBJECT.badge } });
      await rights.approve(w.officer, w.orgId, r.id);
      const done = await rights.fulfil(w.officer, w.orgId, r.id);
      assert.equal(done.records['privacy.restrictions'], 2, 'the badge and the MAC linked to the same person');
      const before = Number(await fixes());
      const s1 = await c.services.ingest.ingest(systemCtx('test'), w.orgId, { source: 'native', observations: parseNativeBatch({ observations: [{ kind: 'wifi-connected', deviceId: SUBJECT.mac, atMs: T0, x: 5, y: 5, floorId: w.floorId }, { kind: 'wifi-connected', deviceId: OTHER.mac, atMs: T0, x: 6, y: 5, floorId: w.floorId }] }) });
      assert.equal(s1.rejected.subject_restricted, 1);
      assert.equal(Number(await fixes()), before + 1, 'only the other device was kept');
      await rights.lift(w.officer, w.orgId, r.id);
      const s2 = await c.services.ingest.ingest(systemCtx('test'), w.orgId, { source: 'native', observations: parseNativeBatch({ observations: [{ kind: 'wifi-connected', deviceId: SUBJECT.mac, atMs: T0 + 1000, x: 5, y: 5, floorId: w.floorId }] }) });
      assert.equal(s2.rejected.subject_restricted, undefined);
      assert.equal(Number(await fixes()), before + 2);

      const fix = await rights.intake(w.officer, w.orgId, { kind: 'correction', identifier: { kind: 'mac', value: SUBJECT.mac }, correction: { name: 'Ann van Vries', email: 'ann.vanvries@subject.example' } });
      await rights.approve(w.officer, w.orgId, fix.id);
      const corrected = await rights.fulfil(w.officer, w.orgId, fix.id);
      assert.equal(corrected.records['tracing.people'], 1);
      const people = await c.services.people.list(systemCtx('test'), w.orgId);
      const ann = people.find((p) => p.personId === 'emp-ann')!;
      assert.deepEqual([ann.name, ann.email], ['Ann van Vries', 'ann.vanvries@subject.example']);
      assert.equal(people.find((p) => p.personId === 'emp-bob')!.name, 'Bob', 'nobody else changed');
    });
  });
}
