/**
 * R-PRIV-4 erasure leaves no trace, on both storage engines. A subject is given data in every
 * place Cairn keeps it (device records with IP, username and hostname; fixes, association
 * sessions, zone visits, badge encounters; the people directory with device links; case reports
 * as index and as contact; the tracing index; consent records and a marketing subscription from
 * the guest portal; threat metadata; quarantined mail; TLS handshakes; an earlier access request
 * with its archive; audit events naming the subject's pseudonyms; log lines), then asks for
 * deletion by MAC address, proves the device through the guest portal, and a privacy officer
 * approves and fulfils. Afterwards every table of every store (a dump of each SQLite table, a
 * pg_dump of the PostgreSQL schemas), every export the API offers, the decrypted case reports and
 * every log line are searched for the subject's raw identifiers in any usual notation AND for
 * their pseudonyms and record ids: none may remain. The audit log keeps only the record that the
 * request was fulfilled (it names the request, never the subject) and still verifies. The other
 * person's data stays.
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { startSmtpSink } from '../src/threat/email/testkit.ts';
import { systemCtx, type Ctx } from '../src/privacy/index.ts';
import { ingestFile, parseNativeBatch } from '../src/ingest/index.ts';
import type { CairnApp } from '../src/app.ts';

const MIN = 60_000;
const ANN = { email: 'ann.devries@erase.example', mac: '3c:22:fb:9a:41:07', badge: 'BADGE-ANN-77', username: 'adevries', hostname: 'LAPTOP-ADEVRIES', name: 'Annemarie de Vries', ref: 'emp-ann-0042' };
const BOB = { email: 'bob.jansen@erase.example', mac: 'a4:83:e7:12:6b:c9', badge: 'BADGE-BOB-12', name: 'Bob Jansen', ref: 'emp-bob-0007' };
const PCAP = readFileSync(new URL('../../shared/data/ja4/pcap/tls12.pcap', import.meta.url));
const TERMS = { en: { title: 'Guest Wi-Fi terms', body: 'Be kind.' }, nl: { title: 'Voorwaarden gastwifi', body: 'Wees aardig.' } };

/** Every notation a MAC might be written in. */
function macForms(mac: string): string[] {
  const hex = mac.replace(/:/g, '');
  const forms = [mac, mac.replace(/:/g, '-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}

function find(needles: readonly string[], haystack: string, where: string): string[] {
  const lower = haystack.toLowerCase();
  return needles.filter((n) => lower.includes(n.toLowerCase())).map((n) => `${n} in ${where}`);
}

/** Every table of a SQLite store as text: column values, blobs as latin1 and as hex. */
function dumpSqlite(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const out: string[] = [];
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
      for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
        out.push(`${name}: ${Object.values(row).map((v) => (Buffer.isBuffer(v) ? `${v.toString('latin1')} ${v.toString('hex')}` : String(v))).join(' | ')}`);
      }
    }
    return out.join('\n');
  } finally {
    db.close();
  }
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`erasure leaves no trace of the subject (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    after(async () => setup?.cleanup());

    test('every store, export and log line is free of the subject after a deletion request', { skip, timeout: 240_000 }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const sink = await startSmtpSink();
      const logs: string[] = [];
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      const c: CairnApp = await makeApp(setup, { logLevel: 'debug', smtpUpstream: sink.address }, { logDestination: dest as never });
      try {
        const sys = systemCtx('test');
        const s = c.services;
        const org = await s.tenancy.createOrg(sys, { name: 'Erasure Hospital', country: 'NL' });
        const orgId = org.id;
        const site = await s.tenancy.createSite(sys, orgId, { name: 'Main' });
        const floor = await s.tenancy.createFloor(sys, orgId, site.id, { name: 'G', widthM: 50, heightM: 40 });
        await s.tenancy.createZone(sys, orgId, floor.id, { name: 'Ward', polygon: [[0, 0], [20, 0], [20, 20], [0, 20]] });
        const db = await c.core.directory.storeOf(orgId);
        const pseudo = await c.core.keys.pseudonymiser(db, orgId);
        await s.identity.createUser(sys, orgId, { email: 'officer@erase-hospital.example', password: 'officer-password-123', roles: [{ role: 'privacy_officer' }] });
        await s.identity.createUser(sys, orgId, { email: 'admin@erase-hospital.example', password: 'admin-password-1234', roles: [{ role: 'org_admin' }] });
        const officer = await login(c, 'officer@erase-hospital.example', 'officer-password-123');
        const admin = await login(c, 'admin@erase-hospital.example', 'admin-password-1234');
        const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, cookie = admin) => c.app.inject({ method, url, headers: { cookie }, ...(payload !== undefined ? { payload: payload as object } : {}) });

        // ---- TLS first: the capture's client address becomes Ann's device address ----------------
        await s.threat.settings.update(sys, orgId, { fileRetentionDays: {}, encryptedTrafficAnalysis: true });
        await s.tls.upload(sys, orgId, (async function* () { yield PCAP; })());
        const hs = await s.tls.list(sys, orgId);
        assert.ok(hs.length >= 1, 'the capture holds a handshake');
        const annIp = hs[0]!.srcAddress;

        // ---- ingest: devices, fixes, visits, sessions, encounters ----------------------------
        await s.ingest.settings.update(sys, orgId, { locationServices: true, collect: { native: ['ip', 'username', 'hostname'] } });
        await s.people.setEnabled(sys, orgId, true);
        const ann = await s.people.create(sys, orgId, { personId: ANN.ref, name: ANN.name, email: ANN.email, macs: [ANN.mac], badges: [ANN.badge] });
        await s.people.create(sys, orgId, { personId: BOB.ref, name: BOB.name, email: BOB.email, macs: [BOB.mac], badges: [BOB.badge] });
        const T = Math.floor((Date.now() - 3 * 60 * MIN) / (60 * MIN)) * 60 * MIN;
        const obs: Record<string, unknown>[] = [];
        for (let t = T; t < T + 25 * MIN; t += 30_000) {
          obs.push({ kind: 'wifi-connected', deviceId: ANN.mac, atMs: t, x: 10, y: 10, floorId: floor.id, accuracyM: 0.5, ip: annIp, username: ANN.username, hostname: ANN.hostname });
          obs.push({ kind: 'wifi-connected', deviceId: BOB.mac, atMs: t + 1000, x: 10.6, y: 10, floorId: floor.id, accuracyM: 0.5 });
          obs.push({ kind: 'ble-badge', idType: 'badge', deviceId: ANN.badge, atMs: t + 2000, x: 10.2, y: 10.1, floorId: floor.id, accuracyM: 1 });
        }
        await s.ingest.ingest(sys, orgId, { source: 'native', observations: parseNativeBatch({ observations: obs }, { collect: ['ip', 'username', 'hostname'] }) });
        const stamp = (ms: number) => new Date(ms).toISOString();
        const syslog = [ANN.mac, BOB.mac].flatMap((mac) => [`<30>1 ${stamp(T)} ap-ward-3 hostapd - - - wlan0: AP-STA-CONNECTED ${mac}`, `<30>1 ${stamp(T + 20 * MIN)} ap-ward-3 hostapd - - - wlan0: AP-STA-DISCONNECTED ${mac}`]).join('\n');
        assert.equal((await ingestFile(s.ingest, sys, orgId, syslog, { format: 'syslog', siteId: site.id, referenceMs: T + 30 * MIN })).sessions, 2);
        await s.ingest.encounters!.store(sys, orgId, null, [{ a: ANN.badge < BOB.badge ? ANN.badge : BOB.badge, b: ANN.badge < BOB.badge ? BOB.badge : ANN.badge, atMs: T, rssiDbm: -60 }]);

        // ---- case reports: Ann as index, and as Bob's contact ---------------------------------
        const annCase = await s.proximity.trace(sys, orgId, { mac: ANN.mac, fromMs: T, toMs: T + 60 * MIN, purpose: 'Exposure check for incident 17', minMinutes: 5 });
        const bobCase = await s.proximity.trace(sys, orgId, { mac: BOB.mac, fromMs: T, toMs: T + 60 * MIN, purpose: 'Exposure check for incident 17', minMinutes: 5 });
        const annDevice = pseudo('mac', ANN.mac);
        const annBadge = pseudo('badge', ANN.badge);
        assert.ok(bobCase.contacts.some((x) => x.device === annDevice || x.device === annBadge), 'Ann is a contact of Bob');
        assert.ok(annCase.contacts.length > 0);

        // ---- consent: Ann passes the guest portal with her laptop (e-mail, name, marketing) -----
        const draft = await s.consent.terms.create(sys, orgId, { audience: 'portal', texts: TERMS });
        await s.consent.terms.publish(sys, orgId, draft.id);
        await s.consent.portal.configure(sys, orgId, site.id, { enabled: true, contactFields: ['email', 'name'], marketingOptIn: true });
        const portalPass = async () => {
          const q = new URLSearchParams({ client_mac: ANN.mac, ap_mac: '5c:5b:35:00:00:01', ssid: 'Guest', url: 'http://example.com/' });
          const pageRes = await c.app.inject({ method: 'GET', url: `/portal/${orgId}/${site.id}?${q}`, remoteAddress: '198.51.100.7' });
          assert.equal(pageRes.statusCode, 200, pageRes.body);
          const hidden: Record<string, string> = {};
          for (const m of pageRes.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)) hidden[m[1]!] = m[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
          const res = await c.app.inject({ method: 'POST', url: `/portal/${orgId}/${site.id}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...hidden, decision: 'accept', name: ANN.name, email: ANN.email, marketing: 'on' }).toString(), remoteAddress: '198.51.100.7' });
          assert.ok(res.statusCode < 400, `portal decision: ${res.statusCode} ${res.body.slice(0, 200)}`);
        };
        await portalPass();

        // ---- threat metadata and quarantined mail ----------------------------------------------
        await s.threat.files.submit(sys, orgId, Buffer.from(`a document Ann downloaded ${orgId}`), { clientIp: annIp, username: ANN.username, userFirewall: true, clientHost: ANN.hostname, deviceName: ANN.hostname, fileName: 'report.pdf' });
        const verdict = { score: 10, state: 'malicious' as const, complete: true, reasons: [], attachments: [], linkHosts: [], durationMs: 0 };
        await s.mail.quarantine.hold(sys, orgId, { source: 'smtp', raw: Buffer.from(`From: ${ANN.email}\r\nTo: ${ANN.email}\r\nSubject: for ${ANN.name}\r\n\r\nhello\r\n`), sender: ANN.email, recipients: [ANN.email], subject: `for ${ANN.name}`, verdict });
        await s.mail.quarantine.hold(sys, orgId, { source: 'smtp', raw: Buffer.from(`From: x@outside.example\r\nTo: ${BOB.email}\r\nSubject: held\r\n\r\nhi\r\n`), sender: 'x@outside.example', recipients: [BOB.email], subject: 'held', verdict });

        // ---- reads that audit Ann's pseudonyms (and put her device id in a URL) -----------------
        for (const [method, url, body] of [['POST', `/api/v1/orgs/${orgId}/devices/fixes/search`, { mac: ANN.mac }], ['GET', `/api/v1/orgs/${orgId}/devices/${annDevice}/journey`], ['GET', `/api/v1/orgs/${orgId}/people/${ann.id}`]] as const) {
          const r = await api(method, url, body);
          assert.equal(r.statusCode, 200, `${method} ${url}: ${r.body.slice(0, 300)}`);
        }
        assert.equal((await api('POST', `/api/v1/orgs/${orgId}/people/${ann.id}/devices`, { badge: `${ANN.badge}-SPARE` })).statusCode < 300, true);

        // ---- an earlier access request by e-mail, answered with an archive ----------------------
        const rights = s.rights;
        const po: Ctx = { actor: { kind: 'user', id: 'po' }, bindings: [{ role: 'privacy_officer', orgId, siteId: null }], requestId: 'erasure-test' };
        const early = await rights.intake(po, orgId, { kind: 'access', identifier: { kind: 'email', value: ANN.email } });
        await rights.approve(po, orgId, early.id);
        const earlyDone = await rights.fulfil(po, orgId, early.id);
        assert.ok((earlyDone.archiveBytes ?? 0) > 0);

        // ---- the deletion request: by MAC, proven through the guest portal ----------------------
        const ip = '203.0.113.9';
        const sub = await c.app.inject({ method: 'POST', url: `/api/v1/privacy/orgs/${orgId}/requests`, payload: { kind: 'deletion', identifier: { kind: 'mac', value: ANN.mac.toUpperCase() }, contactEmail: ANN.email }, remoteAddress: ip });
        assert.equal(sub.statusCode, 201, sub.body);
        const req = JSON.parse(sub.body) as { requestId: string; statusToken: string; verification: string };
        assert.equal(req.verification, 'portal_device');
        // The portal pass before the request does not prove it (no replay of an old session).
        const early2 = await c.app.inject({ method: 'POST', url: `/api/v1/privacy/orgs/${orgId}/requests/${req.requestId}/verify-device`, payload: { token: req.statusToken }, remoteAddress: ip });
        assert.equal(JSON.parse(early2.body).error.code, 'CAIRN_ERR_DSAR_DEVICE_PROOF');
        await new Promise((r) => setTimeout(r, 5));
        await portalPass();
        const proven = await c.app.inject({ method: 'POST', url: `/api/v1/privacy/orgs/${orgId}/requests/${req.requestId}/verify-device`, payload: { token: req.statusToken }, remoteAddress: ip });
        assert.equal(proven.statusCode, 200, proven.body);
        for (const step of ['approve', 'fulfil']) {
          const r = await api('POST', `/api/v1/orgs/${orgId}/dsar/${req.requestId}/${step}`, undefined, officer);
          assert.equal(r.statusCode, 200, `${step}: ${r.body}`);
          if (step === 'fulfil') {
            const f = JSON.parse(r.body) as { records: Record<string, number>; auditRedacted: number };
            for (const h of ['devices.records', 'location.fixes', 'location.sessions', 'location.encounters', 'tracing.visits', 'tracing.people', 'tracing.cases', 'tracing.index', 'consent.records', 'threat.submissions', 'threat.quarantine', 'threat.tls', 'privacy.requests']) assert.ok((f.records[h] ?? 0) > 0, `${h} erased something (${JSON.stringify(f.records)})`);
            assert.ok(f.auditRedacted > 0, 'audit events named Ann');
          }
        }

        // ---- the needles: raw identifiers in every notation, pseudonyms, record ids -------------
        const raw = [...macForms(ANN.mac), ANN.email, ANN.email.split('@')[0]!, ANN.badge, ANN.username, ANN.hostname, ANN.name, ANN.ref, annIp];
        const keys = c.core.keys;
        const pseudonyms = [
          annDevice, annBadge, pseudo('badge', `${ANN.badge}-SPARE`), pseudo('user', ANN.email), pseudo('user', ANN.username), pseudo('ip', annIp),
          pseudo('asset', `person:${ANN.ref}`), ann.id,
          ...(await Promise.all((['email', 'mac', 'badge', 'username'] as const).map((k) => keys.pseudonym(db, orgId, 'asset', `dsar:${k}:${k === 'mac' ? ANN.mac.replace(/:/g, '') : k === 'email' ? ANN.email : k === 'badge' ? ANN.badge : ANN.username}`)))),
        ];
        const needles = [...raw, ...pseudonyms];
        const found: string[] = [];

        // Exports the API offers.
        const exports: [string, 'GET' | 'POST', unknown?][] = [
          [`/api/v1/orgs/${orgId}/devices?limit=1000`, 'GET'], [`/api/v1/orgs/${orgId}/people`, 'GET'], [`/api/v1/orgs/${orgId}/consent/records`, 'GET'], [`/api/v1/orgs/${orgId}/consent/marketing`, 'GET'],
          [`/api/v1/orgs/${orgId}/threat/quarantine`, 'GET'], [`/api/v1/orgs/${orgId}/threat/tls`, 'GET'], [`/api/v1/orgs/${orgId}/threat/tls/clients`, 'GET'], [`/api/v1/orgs/${orgId}/contact-traces`, 'GET'],
          // (Looking Ann's MAC up again would be new processing, audited as such: the exports read what is there.)
          [`/api/v1/orgs/${orgId}/devices/fixes/search`, 'POST', { mac: BOB.mac }], [`/api/v1/orgs/${orgId}/devices/sessions/search`, 'POST', { mac: BOB.mac }], [`/api/v1/orgs/${orgId}/journeys/search`, 'POST', { mac: BOB.mac }],
          [`/api/v1/orgs/${orgId}/audit?limit=1000`, 'GET'], [`/api/v1/orgs/${orgId}/dsar`, 'GET'],
        ];
        for (const [url, method, body] of exports) {
          const r = await api(method, url, body);
          assert.ok(r.statusCode < 500, `${url}: ${r.statusCode}`);
          found.push(...find(needles, r.body, `${method} ${url.replace(orgId, ':org')}`));
        }
        for (const cs of JSON.parse((await api('GET', `/api/v1/orgs/${orgId}/contact-traces`)).body) as { id: string }[]) {
          assert.notEqual(cs.id, annCase.id, 'Ann\'s own case is gone');
          for (const format of ['json', 'csv', 'html']) found.push(...find(needles, (await api('GET', `/api/v1/orgs/${orgId}/contact-traces/${cs.id}?format=${format}`)).body, `case ${format}`));
        }
        for (const id of [early.id, req.requestId]) found.push(...find(needles, (await api('GET', `/api/v1/orgs/${orgId}/dsar/${id}`, undefined, officer)).body, 'dsar detail'));
        const bobFixes = await api('POST', `/api/v1/orgs/${orgId}/devices/fixes/search`, { mac: BOB.mac });
        assert.ok(JSON.parse(bobFixes.body).fixes?.length > 0 || bobFixes.body.includes(pseudo('mac', BOB.mac)), 'Bob\'s fixes stay');
        assert.ok((await api('GET', `/api/v1/orgs/${orgId}/people`)).body.includes(BOB.name), 'Bob stays in the directory');
        assert.ok((await api('GET', `/api/v1/orgs/${orgId}/contact-traces/${bobCase.id}?format=json`)).statusCode === 200, 'Bob\'s case stays, without Ann');
        // Ann's earlier archive is gone with her, and so is the deletion request's identifier.
        const detail = JSON.parse((await api('GET', `/api/v1/orgs/${orgId}/dsar/${req.requestId}`, undefined, officer)).body) as { identifier: string | null; status: string };
        assert.deepEqual([detail.identifier, detail.status], [null, 'fulfilled']);
        assert.equal((await api('GET', `/api/v1/orgs/${orgId}/dsar/${early.id}/archive`, undefined, officer)).statusCode, 404);

        // The audit log: intact, and its record of the fulfilment names the request only.
        const verify = JSON.parse((await api('GET', `/api/v1/orgs/${orgId}/audit/verify`)).body) as { ok: boolean; firstBad?: unknown };
        assert.equal(verify.ok, true, `audit chain verifies after redaction: ${JSON.stringify(verify.firstBad)}`);
        const events = JSON.parse((await api('GET', `/api/v1/orgs/${orgId}/audit?limit=1000`)).body) as { action: string; target: string; outcome: string }[];
        assert.ok(events.some((e) => e.action === 'dsar.fulfil' && e.target === `dsar:${req.requestId}` && e.outcome === 'ok'));
        assert.ok(events.some((e) => e.action === 'dsar.redact'));

        await c.close();

        // Every table of every store.
        if (engine === 'sqlite') {
          const dir = setup.config().dataDir;
          const stores = readdirSync(dir).filter((f) => f.endsWith('.sqlite'));
          assert.ok(stores.length >= 3, 'control and region stores');
          for (const f of stores) found.push(...find(needles, dumpSqlite(join(dir, f)), f));
        } else {
          const prefix = setup.config().pgSchemaPrefix;
          const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${prefix}_*`, '--data-only'], { maxBuffer: 512 * 1024 * 1024 }).toString('latin1');
          assert.ok(dump.includes('fixes') && dump.length > 10_000, 'the dump has data');
          found.push(...find(needles, dump, 'pg_dump'));
        }
        // Every log line.
        const allLogs = logs.join('');
        assert.ok(allLogs.length > 1000, 'logs were captured');
        found.push(...find(needles, allLogs, 'logs'));
        assert.deepEqual(found, []);

        // Mail that went to Ann's own address is hers (the sink is not a store of Cairn's); the
        // notice that the deletion was carried out went there too.
        assert.ok(sink.messages.some((m) => m.to.includes(ANN.email) && /carried out/.test(m.raw.toString())));
      } finally {
        await c.close().catch(() => undefined);
        await sink.close();
      }
    });
  });
}
