/**
 * Notice and consent (R-PRIV-5, R-DATA-12) end to end, on SQLite and PostgreSQL: admins write,
 * edit and publish terms in English and Dutch (published versions never change); a site's guest
 * portal takes the hand-off of UniFi, Meraki, Mist and Aruba controllers, speaks the browser's
 * language, records accept and decline by the client MAC's pseudonym with the terms version, and
 * redirects with a signed result that verifies once (tampered, replayed and expired results are
 * refused with their codes and audited); contact fields are encrypted and marketing opt-ins are
 * separate, unticked, and end with a working unsubscribe link; the org's app records location
 * sharing opt-ins and opt-outs with a machine token and SDK observations follow them at once;
 * the opt-ins that ingest kept in its settings move into consent records (migration 301); a
 * data-subject request finds, exports and erases a person's records; bad input and floods are
 * refused with codes. No client MAC, app id or e-mail reaches a store.
 */
import { describe, test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { consentDeviceProof, consentSubjectHandler, resultText, systemCtx, type PortalResult } from '../src/privacy/index.ts';
import type { Subject } from '../src/privacy/rights/types.ts';
import { ConsentRepo, type Database } from '../src/storage/index.ts';
import { CONSENT_MIGRATIONS_SQLITE } from '../src/storage/sqlite/migrations/300-consent.ts';
import { CONSENT_MIGRATIONS_PG } from '../src/storage/postgres/migrations/300-consent.ts';
import type { CairnApp } from '../src/app.ts';

const CLIENT_MAC = '3c:22:fb:9a:41:07';
const CLIENT_MAC_2 = 'a4:83:e7:12:6b:c9';
const AP_MAC = '94:2a:6f:d0:30:57';
const APP_ID = 'de87bf9d-183f-e383-cc68-6ba43947d403';
const OLD_APP_ID = '7b0c1d2e-aaaa-4bbb-8ccc-0123456789ab';
const EMAIL = 'guest.jansen@example.net';
const RESULT_URL = 'https://controller.example/cairn-result';
const texts = (v: string) => ({ en: { title: `Terms of use ${v}`, body: `Be kind on our network (${v}).\n\nWe keep your decision.` }, nl: { title: `Gebruiksvoorwaarden ${v}`, body: `Wees aardig op ons netwerk (${v}).\n\nWe bewaren je keuze.` } });

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
/** The hidden fields of the splash page's form. */
function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) out[m[1]!] = unescapeHtml(m[2]!);
  return out;
}
const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`notice and consent (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let c: CairnApp;
    let db: Database;
    let orgId: string;
    let siteId: string;
    let site2: string;
    let cookie: string;
    let secret: string;
    let sensorToken: string;
    const sys = systemCtx('test');
    let addr = 0;
    /** A fresh client address per call, so the per-address limit only bites where a test means it to. */
    const ip = () => `198.51.100.${(addr++ % 250) + 1}`;

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      c = await makeApp(setup);
      const org = await c.services.tenancy.createOrg(sys, { name: 'Café De Hoek', country: 'NL' });
      orgId = org.id;
      siteId = (await c.services.tenancy.createSite(sys, orgId, { name: 'Amsterdam' })).id;
      site2 = (await c.services.tenancy.createSite(sys, orgId, { name: 'Utrecht' })).id;
      db = await c.core.directory.storeOf(orgId);
      await c.services.identity.createUser(sys, orgId, { email: 'admin@dehoek.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
      cookie = await login(c, 'admin@dehoek.example', 'admin-password-123');
      sensorToken = (await c.services.identity.createToken(sys, orgId, { name: 'app backend', role: 'sensor' })).token;
    });
    after(async () => {
      await c?.close();
      await setup?.cleanup();
    });

    const api = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = { cookie }) => c.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as string } : {}) });

    test('terms: drafts in English and Dutch, edited, published as versions that never change', { skip }, async () => {
      const missingNl = await api('POST', `/api/v1/orgs/${orgId}/consent/terms`, { audience: 'portal', texts: { en: texts('x').en } });
      assert.equal(missingNl.statusCode, 400);
      assert.equal(missingNl.json().error.code, 'CAIRN_ERR_VALIDATION');
      const draft = await api('POST', `/api/v1/orgs/${orgId}/consent/terms`, { audience: 'portal', texts: texts('draft') });
      assert.equal(draft.statusCode, 201, draft.body);
      assert.equal(draft.json().status, 'draft');
      assert.equal(draft.json().version, null);
      const id = draft.json().id as string;
      const edited = await api('PUT', `/api/v1/orgs/${orgId}/consent/terms/${id}`, { texts: texts('v1') });
      assert.equal(edited.statusCode, 200);
      const pub = await api('POST', `/api/v1/orgs/${orgId}/consent/terms/${id}/publish`);
      assert.equal(pub.statusCode, 200, pub.body);
      assert.equal(pub.json().version, 1);
      const frozen = await api('PUT', `/api/v1/orgs/${orgId}/consent/terms/${id}`, { texts: texts('changed') });
      assert.equal(frozen.statusCode, 409);
      assert.equal(frozen.json().error.code, 'CAIRN_ERR_TERMS_PUBLISHED');
      assert.equal((await api('POST', `/api/v1/orgs/${orgId}/consent/terms/${id}/publish`)).json().error.code, 'CAIRN_ERR_TERMS_PUBLISHED');
      const second = await c.services.consent.terms.create(sys, orgId, { audience: 'portal', texts: texts('v2') });
      assert.equal((await c.services.consent.terms.publish(sys, orgId, second.id)).version, 2);
      const got = await api('GET', `/api/v1/orgs/${orgId}/consent/terms/${id}`);
      assert.equal(got.json().texts.nl.title, 'Gebruiksvoorwaarden v1', 'version 1 still reads as published');
      // A site of its own: its terms win there; the other site keeps the org's.
      const own = await c.services.consent.terms.create(sys, orgId, { audience: 'portal', siteId: site2, texts: texts('utrecht') });
      assert.equal((await c.services.consent.terms.publish(sys, orgId, own.id)).version, 1);
      assert.equal((await c.services.consent.terms.current(db, orgId, 'portal', site2))?.texts.en.title, 'Terms of use utrecht');
      assert.equal((await c.services.consent.terms.current(db, orgId, 'portal', siteId))?.version, 2);
      const events = await c.services.auditQueries.list(sys, orgId, { limit: 200 });
      assert.ok(events.some((e) => e.action === 'consent.terms.publish'));
    });

    test('portal settings: no contact fields by default; marketing needs e-mail; the secret is shown once', { skip }, async () => {
      const first = await api('GET', `/api/v1/orgs/${orgId}/sites/${siteId}/portal`);
      assert.equal(first.statusCode, 200, first.body);
      assert.deepEqual(first.json().contactFields, []);
      assert.equal(first.json().marketingOptIn, false);
      assert.equal(first.json().enabled, false);
      const bad = await api('PUT', `/api/v1/orgs/${orgId}/sites/${siteId}/portal`, { enabled: true, marketingOptIn: true });
      assert.equal(bad.statusCode, 400);
      const ok = await api('PUT', `/api/v1/orgs/${orgId}/sites/${siteId}/portal`, { enabled: true, contactFields: ['email', 'name'], marketingOptIn: true, resultUrl: RESULT_URL });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json().contactFields, ['name', 'email']);
      assert.equal(ok.json().secretSet, true);
      assert.equal(ok.json().terms.version, 2);
      const rot = await api('POST', `/api/v1/orgs/${orgId}/sites/${siteId}/portal/secret`);
      assert.equal(rot.statusCode, 200);
      secret = rot.json().secret;
      assert.ok(secret.length >= 40);
      assert.ok(!(await api('GET', `/api/v1/orgs/${orgId}/sites/${siteId}/portal`)).body.includes(secret));
    });

    test('the splash page: UniFi hand-off in Dutch, Meraki and Aruba spellings in English', { skip }, async () => {
      const q = new URLSearchParams({ id: CLIENT_MAC, ap: AP_MAC, t: '1742398732', url: 'http://example.com/news', ssid: 'De Hoek Gast' });
      const nl = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${q}`, headers: { 'accept-language': 'nl-NL,nl;q=0.9,en;q=0.8' }, remoteAddress: ip() });
      assert.equal(nl.statusCode, 200, nl.body);
      assert.match(String(nl.headers['content-type']), /text\/html/);
      assert.match(String(nl.headers['content-security-policy']), /default-src 'none'/);
      assert.match(nl.body, /<html lang="nl">/);
      assert.match(nl.body, /Gebruiksvoorwaarden v2/);
      assert.match(nl.body, /Voorwaarden versie 2/);
      assert.match(nl.body, /Accepteren en verbinden/);
      assert.match(nl.body, /<input type="checkbox" id="marketing" name="marketing" value="on">/, 'the marketing opt-in is unticked');
      const h = hiddenFields(nl.body);
      assert.equal(h.vendor, 'unifi');
      assert.equal(h.client_mac, CLIENT_MAC);
      assert.equal(h.ssid, 'De Hoek Gast');
      const meraki = new URLSearchParams({ base_grant_url: 'https://n143.network-auth.com/splash/grant', user_continue_url: 'http://speedof.me/', node_mac: '88:15:44:60:1c:1a', client_ip: '10.255.60.208', client_mac: CLIENT_MAC_2.toUpperCase() });
      const en = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${meraki}`, headers: { 'accept-language': 'de-DE,fr;q=0.5' }, remoteAddress: ip() });
      assert.equal(en.statusCode, 200, en.body);
      assert.match(en.body, /<html lang="en">/);
      assert.equal(hiddenFields(en.body).vendor, 'meraki');
      assert.equal(hiddenFields(en.body).client_mac, CLIENT_MAC_2);
      const aruba = new URLSearchParams({ cmd: 'login', mac: CLIENT_MAC_2.replace(/:/g, '-'), apmac: AP_MAC, essid: 'Guest', url: 'https://example.org/' });
      const ar = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${aruba}`, remoteAddress: ip() });
      assert.equal(hiddenFields(ar.body).vendor, 'aruba');
      const utrecht = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${site2}?${q}`, remoteAddress: ip() });
      assert.equal(utrecht.statusCode, 404, 'a site whose portal is off is not found');
    });

    test('bad hand-offs, huge bodies and floods are refused with codes', { skip }, async () => {
      const get = (query: string) => c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${query}`, remoteAddress: ip() });
      const badMac = await get('id=not-a-mac&ap=94:2a:6f:d0:30:57');
      assert.equal(badMac.statusCode, 400);
      assert.equal(badMac.headers['x-cairn-error'], 'CAIRN_ERR_PORTAL_HANDOFF');
      assert.match(badMac.body, /CAIRN_ERR_PORTAL_HANDOFF/);
      assert.equal((await get('ssid=Guest&url=http%3A%2F%2Fexample.com%2F')).headers['x-cairn-error'], 'CAIRN_ERR_PORTAL_HANDOFF', 'no client MAC');
      assert.equal((await get(`client_mac=${CLIENT_MAC}&url=javascript:alert(1)`)).statusCode, 400);
      assert.equal((await get(`client_mac=${CLIENT_MAC}&ap_mac=zz:zz`)).statusCode, 400);
      assert.equal((await c.app.inject({ method: 'GET', url: `/portal/${orgId}/not-an-id?client_mac=${CLIENT_MAC}`, remoteAddress: ip() })).statusCode, 400);
      const huge = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${siteId}`, headers: FORM, payload: `decision=accept&name=${'x'.repeat(20_000)}`, remoteAddress: ip() });
      assert.equal(huge.statusCode, 413);
      assert.equal(huge.json().error.code, 'CAIRN_ERR_BODY_TOO_LARGE');
      const forged = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${siteId}`, headers: FORM, payload: form({ site: siteId, terms_id: siteId, client_mac: CLIENT_MAC, ap_mac: '', ssid: '', url: '', grant: '', vendor: 'unifi', lang: 'en', issued: String(Date.now()), ft: 'ab'.repeat(32), decision: 'accept' }), remoteAddress: ip() });
      assert.equal(forged.statusCode, 400);
      assert.equal(forged.headers['x-cairn-error'], 'CAIRN_ERR_PORTAL_FORM_EXPIRED');
      const flood = '203.0.113.77';
      const codes: number[] = [];
      for (let i = 0; i < 125; i++) codes.push((await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?client_mac=${CLIENT_MAC}`, remoteAddress: flood })).statusCode);
      assert.equal(codes.filter((s) => s === 200).length, 120);
      const last = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?client_mac=${CLIENT_MAC}`, remoteAddress: flood });
      assert.equal(last.statusCode, 429);
      assert.equal(last.headers['x-cairn-error'], 'CAIRN_ERR_RATE_LIMITED');
    });

    let result: PortalResult;
    test('accept: recorded by pseudonym with the terms version, contact encrypted, signed redirect', { skip }, async () => {
      const q = new URLSearchParams({ client_mac: CLIENT_MAC, ap_mac: AP_MAC, ssid: 'De Hoek Gast', url: 'http://example.com/news' });
      const pageRes = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${q}`, headers: { 'accept-language': 'nl' }, remoteAddress: ip() });
      const h = hiddenFields(pageRes.body);
      const missing = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${siteId}`, headers: FORM, payload: form({ ...h, decision: 'accept', name: 'Jan' }), remoteAddress: ip() });
      assert.equal(missing.statusCode, 400, 'the e-mail field is required to accept');
      assert.match(missing.body, /Vul je gegevens in/);
      const res = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${siteId}`, headers: FORM, payload: form({ ...h, decision: 'accept', name: 'Jan Jansen', email: EMAIL, marketing: 'on' }), remoteAddress: ip() });
      assert.equal(res.statusCode, 303, res.body);
      const loc = new URL(String(res.headers.location));
      assert.equal(`${loc.origin}${loc.pathname}`, RESULT_URL);
      result = Object.fromEntries(loc.searchParams) as PortalResult;
      assert.equal(result.decision, 'accepted');
      assert.equal(result.terms, '2');
      assert.equal(result.client_mac, CLIENT_MAC);
      assert.equal(result.ap_mac, AP_MAC);
      assert.equal(result.url, 'http://example.com/news');
      assert.match(result.nonce, /^[0-9a-f]{32}$/);
      assert.ok(Number(result.exp) * 1000 > Date.now());
      const { sig, ...fields } = result;
      assert.equal(createHmac('sha256', secret).update(resultText(fields)).digest('hex'), sig, 'the controller can check it with the site secret');
      const device = await c.core.keys.pseudonym(db, orgId, 'mac', CLIENT_MAC);
      const rows = await new ConsentRepo(db).recordsOfSubject(orgId, device);
      assert.deepEqual(rows.map((r) => [r.purpose, Number(r.granted), Number(r.terms_version), r.language]).sort(), [['marketing', 1, 2, 'nl'], ['network_terms', 1, 2, 'nl']]);
      assert.ok(rows.every((r) => r.contact_enc && !r.contact_enc.toString('latin1').includes('Jansen')), 'contact fields are ciphertext');
    });

    test('the controller verifies a result once; tampered, replayed and foreign results are refused and audited', { skip }, async () => {
      const verify = (body: Record<string, string>, s = siteId) => c.app.inject({ method: 'POST', url: `/portal/${orgId}/${s}/verify`, payload: body, remoteAddress: ip() });
      const tampered = await verify({ ...result, decision: 'declined' });
      assert.equal(tampered.statusCode, 401);
      assert.equal(tampered.json().error.code, 'CAIRN_ERR_PORTAL_RESULT_INVALID');
      const otherMac = await verify({ ...result, client_mac: CLIENT_MAC_2 });
      assert.equal(otherMac.json().error.code, 'CAIRN_ERR_PORTAL_RESULT_INVALID');
      const ok = await verify(result);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().decision, 'accepted');
      assert.equal(ok.json().termsVersion, 2);
      const replay = await verify(result);
      assert.equal(replay.statusCode, 409);
      assert.equal(replay.json().error.code, 'CAIRN_ERR_PORTAL_RESULT_REPLAYED');
      const missing = await verify({ ...result, sig: '' });
      assert.equal(missing.json().error.code, 'CAIRN_ERR_PORTAL_RESULT_INVALID');
      const expired = { ...result, exp: '1000' };
      expired.sig = createHmac('sha256', secret).update(resultText(expired)).digest('hex');
      assert.equal((await verify(expired)).json().error.code, 'CAIRN_ERR_PORTAL_RESULT_EXPIRED');
      const events = await c.services.auditQueries.list(sys, orgId, { limit: 500 });
      const denied = events.filter((e) => e.action === 'consent.portal.verify' && e.outcome === 'denied').map((e) => e.details.code);
      assert.ok(denied.includes('CAIRN_ERR_PORTAL_RESULT_INVALID') && denied.includes('CAIRN_ERR_PORTAL_RESULT_REPLAYED') && denied.includes('CAIRN_ERR_PORTAL_RESULT_EXPIRED'), JSON.stringify(denied));
      assert.ok(events.some((e) => e.action === 'consent.portal.verify' && e.outcome === 'ok'));
    });

    test('decline: recorded, no contact kept, the signed result says declined', { skip }, async () => {
      const q = new URLSearchParams({ client_mac: CLIENT_MAC_2, ap_mac: AP_MAC, ssid: 'Guest', url: 'http://example.com/' });
      const h = hiddenFields((await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${siteId}?${q}`, remoteAddress: ip() })).body);
      const res = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${siteId}`, headers: FORM, payload: form({ ...h, decision: 'decline', name: 'Someone', email: 'someone@example.net', marketing: 'on' }), remoteAddress: ip() });
      assert.equal(res.statusCode, 303);
      assert.equal(new URL(String(res.headers.location)).searchParams.get('decision'), 'declined');
      const device = await c.core.keys.pseudonym(db, orgId, 'mac', CLIENT_MAC_2);
      const rows = await new ConsentRepo(db).recordsOfSubject(orgId, device);
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0]!.granted), 0);
      assert.equal(rows[0]!.contact_enc, null, 'a guest who declines leaves no contact details');
    });

    test('records: a person found by MAC or e-mail, contact decrypted for the admin, reads audited', { skip }, async () => {
      const byMac = await api('POST', `/api/v1/orgs/${orgId}/consent/records/search`, { mac: CLIENT_MAC.toUpperCase() });
      assert.equal(byMac.statusCode, 200, byMac.body);
      assert.equal(byMac.json().records.length, 2);
      assert.equal(byMac.json().records[0].contact.email, EMAIL);
      assert.equal(byMac.json().marketingSubscribed, true);
      const byEmail = await api('POST', `/api/v1/orgs/${orgId}/consent/records/search`, { email: EMAIL });
      assert.equal(byEmail.json().records.length, 2);
      assert.equal((await api('POST', `/api/v1/orgs/${orgId}/consent/records/search`, { mac: CLIENT_MAC, email: EMAIL })).statusCode, 400);
      const list = await api('GET', `/api/v1/orgs/${orgId}/consent/records?limit=2`);
      assert.equal(list.json().length, 2);
      const next = await api('GET', `/api/v1/orgs/${orgId}/consent/records?limit=10&before=${list.json()[1].id}`);
      assert.equal(next.statusCode, 200);
      assert.ok(next.json().every((r: { id: string }) => !list.json().some((p: { id: string }) => p.id === r.id)));
    });

    test('marketing: every recipient comes with an unsubscribe link that works without signing in', { skip }, async () => {
      const aud = await api('GET', `/api/v1/orgs/${orgId}/consent/marketing`);
      assert.equal(aud.statusCode, 200, aud.body);
      assert.equal(aud.json().length, 1);
      const r = aud.json()[0];
      assert.equal(r.email, EMAIL);
      assert.equal(r.headers['List-Unsubscribe'], `<${r.unsubscribeUrl}>`);
      const path = new URL(r.unsubscribeUrl).pathname;
      const confirm = await c.app.inject({ method: 'GET', url: path, headers: { 'accept-language': 'nl' }, remoteAddress: ip() });
      assert.equal(confirm.statusCode, 200);
      assert.match(confirm.body, /Afmelden/);
      assert.equal((await api('GET', `/api/v1/orgs/${orgId}/consent/marketing`)).json().length, 1, 'opening the link changes nothing');
      const tampered = path.slice(0, -4) + (path.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      const bad = await c.app.inject({ method: 'POST', url: tampered, headers: FORM, payload: 'List-Unsubscribe=One-Click', remoteAddress: ip() });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.headers['x-cairn-error'], 'CAIRN_ERR_UNSUBSCRIBE_TOKEN');
      const done = await c.app.inject({ method: 'POST', url: path, headers: FORM, payload: 'List-Unsubscribe=One-Click', remoteAddress: ip() });
      assert.equal(done.statusCode, 200, done.body);
      assert.match(done.body, /unsubscribed/);
      assert.equal((await c.app.inject({ method: 'POST', url: path, headers: FORM, payload: 'lang=nl', remoteAddress: ip() })).statusCode, 200, 'a second click still works');
      assert.equal((await api('GET', `/api/v1/orgs/${orgId}/consent/marketing`)).json().length, 0);
      const recs = (await api('POST', `/api/v1/orgs/${orgId}/consent/records/search`, { email: EMAIL })).json();
      assert.equal(recs.marketingSubscribed, false);
      assert.ok(recs.records.some((x: { purpose: string; granted: boolean; channel: string }) => x.purpose === 'marketing' && !x.granted && x.channel === 'unsubscribe'), 'the refusal is recorded');
      const events = await c.services.auditQueries.list(sys, orgId, { limit: 500 });
      assert.ok(events.some((e) => e.action === 'consent.marketing.unsubscribe' && e.outcome === 'ok'));
      assert.ok(events.some((e) => e.action === 'consent.marketing.unsubscribe' && e.outcome === 'denied'));
    });

    test('data-subject requests reach the consent records: found by e-mail, exported, erased; the portal proves a device', { skip }, async () => {
      const h = consentSubjectHandler(c.core);
      const s: Subject = { orgId, given: { kind: 'email', value: EMAIL }, emails: new Set([EMAIL]), usernames: new Set(), ips: new Set(), devices: new Set(), people: new Set(), tokens: new Set() };
      await h.expand!(db, s);
      const device = await c.core.keys.pseudonym(db, orgId, 'mac', CLIENT_MAC);
      assert.ok(s.devices.has(device), 'the e-mail leads to the device that gave it');
      const out = await h.export!(db, s, { sinceMs: 0 });
      assert.equal(out.rows.length, 3, 'terms, marketing opt-in, unsubscribe');
      assert.ok(out.rows.some((r) => r.includes(EMAIL) && r.includes('Jan Jansen')));
      const proof = consentDeviceProof();
      assert.ok((await proof.portalSeenSince(db, orgId, device, 0)) !== null);
      assert.equal(await proof.portalSeenSince(db, orgId, device, Date.now() + 60_000), null);
      assert.equal(await db.tx((x) => h.erase!(x, s)), 4, 'three records and the subscription');
      assert.equal((await new ConsentRepo(db).recordsOfSubject(orgId, device)).length, 0);
      assert.equal(await proof.portalSeenSince(db, orgId, device, 0), null);
      assert.equal(await db.tx((x) => h.erase!(x, s)), 0, 'erasing again changes nothing');
    });

    test('the app records opt-in and opt-out with a machine token; SDK observations follow at once', { skip }, async () => {
      await c.services.ingest.settings.update(sys, orgId, { locationServices: true });
      const sdkTerms = await c.services.consent.terms.create(sys, orgId, { audience: 'sdk', texts: texts('app') });
      await c.services.consent.terms.publish(sys, orgId, sdkTerms.id);
      const bearer = { authorization: `Bearer ${sensorToken}` };
      const shown = await api('GET', `/api/v1/orgs/${orgId}/consent/sdk/terms?lang=nl`, undefined, bearer);
      assert.equal(shown.statusCode, 200, shown.body);
      assert.equal(shown.json().version, 1);
      const observe = async (atMs: number) => (await c.app.inject({ method: 'POST', url: `/api/v1/ingest/observations?orgId=${orgId}`, headers: bearer, payload: { observations: [{ kind: 'sdk', idType: 'app', deviceId: APP_ID, atMs }] } })).json();
      const before = await observe(Date.UTC(2024, 0, 1, 9));
      assert.deepEqual(before.rejected, { sdk_without_opt_in: 1 }, 'no opt-in: dropped at ingest');
      const optIn = await api('POST', `/api/v1/orgs/${orgId}/consent/sdk`, { appId: APP_ID.toUpperCase(), optedIn: true, termsId: sdkTerms.id }, bearer);
      assert.equal(optIn.statusCode, 200, optIn.body);
      assert.equal(optIn.json().termsVersion, 1);
      assert.equal(optIn.json().device, await c.core.keys.pseudonym(db, orgId, 'app', APP_ID));
      const during = await observe(Date.UTC(2024, 0, 1, 9, 1));
      assert.deepEqual(during.rejected, {}, 'kept once the user opted in');
      assert.equal(during.accepted, 1);
      const out = await api('POST', `/api/v1/orgs/${orgId}/consent/sdk`, { appId: APP_ID, optedIn: false }, bearer);
      assert.equal(out.statusCode, 200);
      assert.deepEqual((await observe(Date.UTC(2024, 0, 1, 9, 2))).rejected, { sdk_without_opt_in: 1 }, 'dropped again right after the opt-out');
      assert.equal((await api('POST', `/api/v1/orgs/${orgId}/consent/sdk`, { appId: APP_ID, optedIn: true, termsId: siteId }, bearer)).statusCode, 400, 'termsId must be published SDK terms');
      assert.equal((await api('POST', `/api/v1/orgs/${orgId}/consent/sdk`, { appId: APP_ID, optedIn: true }, {})).statusCode, 401);
      const recs = (await api('POST', `/api/v1/orgs/${orgId}/consent/records/search`, { appId: APP_ID })).json();
      assert.deepEqual(recs.records.map((r: { granted: boolean }) => r.granted), [true, false]);
      assert.equal(recs.sdkOptedIn, false);
      assert.equal((await api('GET', `/api/v1/orgs/${orgId}/ingest/settings`)).json().sdkOptInCount, 0);
    });

    test('migration 301 moves the opt-ins ingest kept in its settings into consent records', { skip }, async () => {
      const old = await c.core.keys.pseudonym(db, orgId, 'app', OLD_APP_ID);
      // The settings as ingest wrote them before: the list of opt-in pseudonyms in the JSON.
      const row = (await db.get<{ settings: string }>('SELECT settings FROM ingest_settings WHERE org_id = $1', [orgId]))!;
      await db.run('UPDATE ingest_settings SET settings = $2 WHERE org_id = $1', [orgId, JSON.stringify({ ...JSON.parse(row.settings), sdkOptIns: [old] })]);
      const sql = (engine === 'sqlite' ? CONSENT_MIGRATIONS_SQLITE : CONSENT_MIGRATIONS_PG).find((m) => m.version === 301)!.sql;
      for (const stmt of sql.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s !== '')) await db.run(stmt);
      const after = (await db.get<{ settings: string }>('SELECT settings FROM ingest_settings WHERE org_id = $1', [orgId]))!;
      assert.equal(JSON.parse(after.settings).sdkOptIns, undefined, 'the list is gone from the settings');
      assert.equal(JSON.parse(after.settings).locationServices, true, 'the rest of the settings is intact');
      const state = await new ConsentRepo(db).sdkStateOf(orgId, old);
      assert.equal(Number(state?.opted_in), 1);
      assert.equal((await new ConsentRepo(db).recordsOfSubject(orgId, old))[0]?.channel, 'migrated');
      // A restarted server reads its opt-in set from the consent records.
      await c.close();
      c = await makeApp(setup);
      db = await c.core.directory.storeOf(orgId);
      const r = await c.app.inject({ method: 'POST', url: `/api/v1/ingest/observations?orgId=${orgId}`, headers: { authorization: `Bearer ${sensorToken}` }, payload: { observations: [{ kind: 'sdk', idType: 'app', deviceId: OLD_APP_ID, atMs: Date.UTC(2024, 0, 1, 10) }] } });
      assert.deepEqual(r.json().rejected, {}, r.body);
      cookie = await login(c, 'admin@dehoek.example', 'admin-password-123');
      // The admin path of the ingest settings records consent too.
      await c.services.ingest.settings.update(sys, orgId, { sdkOptIn: { remove: [OLD_APP_ID] } });
      assert.equal(Number((await new ConsentRepo(db).sdkStateOf(orgId, old))?.opted_in), 0);
      assert.equal((await c.services.ingest.settings.read(sys, orgId)).sdkOptInCount, 0);
    });

    test('retention of class consent: none by default; an org period purges records and what they back', { skip }, async () => {
      const pol = (await c.services.retention.list(sys, orgId)).find((p) => p.dataClass === 'consent')!;
      assert.equal(pol.days, null);
      const repo = new ConsentRepo(db);
      const n = await db.tx((x) => new ConsentRepo(x).purge(orgId, Date.now() + 1000, 10_000));
      assert.ok(n >= 4, `purged ${n}`);
      assert.equal((await repo.listRecords(orgId, { limit: 10 })).length, 0);
      assert.equal(await repo.countSdkOptedIn(orgId), 0);
    });

    test('no client MAC, app id, e-mail address or name is stored in clear', { skip }, async () => {
      await c.close();
      const needles = [CLIENT_MAC, CLIENT_MAC_2, CLIENT_MAC.replace(/:/g, ''), CLIENT_MAC_2.replace(/:/g, ''), CLIENT_MAC_2.replace(/:/g, '-'), APP_ID, OLD_APP_ID, EMAIL, 'Jan Jansen'];
      const find = (buf: Buffer, where: string) => {
        const hay = buf.toString('latin1').toLowerCase();
        return needles.filter((n) => hay.includes(n.toLowerCase())).map((n) => `${n} in ${where}`);
      };
      const found: string[] = [];
      if (engine === 'sqlite') {
        const dir = setup.config().dataDir;
        for (const f of readdirSync(dir)) found.push(...find(readFileSync(join(dir, f)), f));
      } else {
        const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${setup.config().pgSchemaPrefix}_*`, '--data-only'], { maxBuffer: 256 * 1024 * 1024 });
        found.push(...find(dump, 'pg_dump'));
      }
      assert.deepEqual(found, []);
      c = await makeApp(setup);
    });
  });
}
