/**
 * R-SEC-2 / R-LOC-5: write realistic data through the API (users with e-mail addresses, sensors
 * reporting devices with MACs, IPs, usernames and hostnames, look-ups by MAC, bad requests that
 * carry identifiers, a guest through the consent portal, an app's opt-in), then search every byte the server stored (SQLite files with their WAL, a
 * pg_dump of the PostgreSQL schemas) and every log line for those identifiers in any usual
 * notation. None may appear.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { ingestFile } from '../src/ingest/index.ts';
import { startSmtpSink } from '../src/threat/email/testkit.ts';

const MACS = ['3c:22:fb:9a:41:07', 'a4:83:e7:12:6b:c9', 'de:ad:be:ef:10:20'];
const IPS = ['10.77.31.204', '192.168.213.47', '2001:db8:85a3::8a2e:370:7334'];
const USERNAMES = ['jdevries', 'marieke.jansen'];
const HOSTNAMES = ['LAPTOP-JDEVRIES', 'mariekes-iphone'];
const EMAILS = ['jan.devries@hospital.example', 'privacy.officer@hospital.example'];

/** Every notation a MAC might be written in. */
function macForms(mac: string): string[] {
  const hex = mac.replace(/:/g, '');
  const forms = [mac, mac.replace(/:/g, '-'), hex, `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8)}`];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}
const NEEDLES = [...MACS.flatMap(macForms), ...IPS, ...USERNAMES, ...HOSTNAMES, ...EMAILS, ...EMAILS.map((e) => e.split('@')[0]!)];

function findNeedles(haystack: Buffer, where: string): string[] {
  const found: string[] = [];
  const lower = haystack.toString('latin1').toLowerCase();
  const utf16 = haystack.toString('utf16le').toLowerCase();
  for (const n of NEEDLES) if (lower.includes(n.toLowerCase()) || utf16.includes(n.toLowerCase())) found.push(`${n} in ${where}`);
  return found;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`no raw identifier reaches disk or logs (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    after(async () => setup?.cleanup());

    test('MACs, IPs, usernames, hostnames and e-mail addresses are nowhere in clear', { skip }, async () => {
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      const logs: string[] = [];
      const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
      const c = await makeApp(setup, { logLevel: 'debug', deliveryAllowPrivateTargets: true }, { logDestination: dest as never });
      const sys = systemCtx('test');
      const org = await c.services.tenancy.createOrg(sys, { name: 'St. Example Hospital', country: 'NL' });
      const site = await c.services.tenancy.createSite(sys, org.id, { name: 'Main building' });
      await c.services.identity.createUser(sys, org.id, { email: EMAILS[0]!, name: 'Jan de Vries', password: 'jan-password-1234', roles: [{ role: 'org_admin' }] });
      await c.services.identity.createUser(sys, org.id, { email: EMAILS[1]!, password: 'po-password-12345', roles: [{ role: 'privacy_officer' }] });
      const cookie = await login(c, EMAILS[0]!, 'jan-password-1234');
      await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: EMAILS[1], password: 'wrong-password-xx' } });
      const token = await c.services.identity.createToken(sys, org.id, { name: 'ap sensor', role: 'sensor' });
      const report = await c.app.inject({
        method: 'POST',
        url: `/api/v1/orgs/${org.id}/devices`,
        headers: { authorization: `Bearer ${token.token}` },
        payload: { devices: MACS.map((mac, i) => ({ mac, kind: 'wifi', siteId: site.id, seenAt: new Date().toISOString(), ip: IPS[i % IPS.length], username: USERNAMES[i % 2], hostname: HOSTNAMES[i % 2] })) },
      });
      assert.equal(report.statusCode, 200, report.body);
      const list = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/devices`, headers: { cookie } });
      assert.equal(list.statusCode, 200);
      assert.ok(list.body.includes(IPS[0]!) && list.body.includes(USERNAMES[0]!), 'an admin reads the decrypted fields');
      // Association sessions from controller syslog, then the device's location read back by MAC (POST body).
      await c.services.ingest.settings.update(sys, org.id, { locationServices: true });
      const nowMs = Date.now();
      const stamp = (ms: number) => new Date(ms).toISOString();
      const syslog = MACS.flatMap((mac) => [`<30>1 ${stamp(nowMs - 120_000)} ap-ward-3 hostapd - - - wlan0: AP-STA-CONNECTED ${mac}`, `<30>1 ${stamp(nowMs - 60_000)} ap-ward-3 hostapd - - - wlan0: AP-STA-DISCONNECTED ${mac}`]).join('\n');
      assert.equal((await ingestFile(c.services.ingest, sys, org.id, syslog, { format: 'syslog', siteId: site.id, referenceMs: nowMs })).sessions, MACS.length);
      for (const what of ['sessions', 'fixes']) {
        const found = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/devices/${what}/search`, headers: { cookie }, payload: { mac: MACS[0] } });
        assert.equal(found.statusCode, 200, found.body);
      }
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/devices/sessions/search`, headers: { cookie }, payload: { mac: MACS[1], from: 'not a time' } });
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/devices`, headers: { authorization: `Bearer ${token.token}` }, payload: { devices: [{ mac: MACS[0], kind: 'wifi', seenAt: 'not a time', ip: IPS[0] }] } });
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/devices`, headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' }, payload: `{"devices": [{"mac": "${MACS[1]}", "ip": "${IPS[1]}"` });
      await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/devices?after=${MACS[2]}`, headers: { cookie } });
      // The people directory (R-DATA-11) and journeys by MAC (R-CT-2): identities encrypted, devices as pseudonyms.
      await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/people/settings`, headers: { cookie }, payload: { enabled: true } });
      const people = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/people/import`, headers: { cookie, 'content-type': 'text/csv' }, payload: `person_id,name,email,macs,badges\r\n${USERNAMES[0]},Jan de Vries,${EMAILS[0]},${MACS[0]};${MACS[1]},${HOSTNAMES[0]}\r\n` });
      assert.equal(people.statusCode, 200, people.body);
      const byPerson = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/journeys/search`, headers: { cookie }, payload: { personRef: USERNAMES[0] } });
      assert.equal(byPerson.statusCode, 200, byPerson.body);
      assert.equal((await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/journeys/search`, headers: { cookie }, payload: { mac: MACS[2] } })).statusCode, 200);
      await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/devices/${MACS[2]}/journey`, headers: { cookie } });
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/people`, headers: { cookie }, payload: { personId: USERNAMES[1], email: EMAILS[1], macs: [MACS[0]] } });
      // Proximity tracing: badge encounters (badge ids are personal), traces by MAC, badge and the org's
      // person id, a purpose naming a MAC (refused without echoing it), and a report's exports.
      const enc = await c.app.inject({ method: 'POST', url: '/api/v1/ingest/encounters', headers: { authorization: `Bearer ${token.token}` }, payload: [{ a: HOSTNAMES[0], b: HOSTNAMES[1], rssi: -60, atMs: Date.now() - 60_000, durationMs: 20_000 }] });
      assert.equal(enc.statusCode, 200, enc.body);
      const window = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString(), purpose: 'Exposure check for incident 17' };
      for (const subject of [{ mac: MACS[0] }, { badge: HOSTNAMES[0] }, { personRef: USERNAMES[0] }]) {
        const tr = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/contact-traces`, headers: { cookie }, payload: { ...subject, ...window } });
        assert.equal(tr.statusCode, 200, tr.body);
        for (const format of ['csv', 'html']) await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/contact-traces/${(tr.json() as { id: string }).id}?format=${format}`, headers: { cookie } });
      }
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/contact-traces`, headers: { cookie }, payload: { mac: MACS[1], ...window, purpose: `contact of ${MACS[2]}` } });
      // A delivery channel names people (sender, recipients, SMTP account): all encrypted under the org key.
      await c.services.delivery.channels.create(sys, org.id, { kind: 'email', name: 'Alerts', topics: ['occupancy-alerts'], email: { host: 'smtp.hospital.example', port: 587, tls: 'starttls', user: USERNAMES[1]!, password: 'smtp-password-1', from: EMAILS[1]!, to: [EMAILS[0]!] } });
      // A notice to an exposed person (their badge met another for 20 minutes): drafted, approved
      // and sent by e-mail; the address is decrypted only by the sender and reaches the SMTP sink only.
      const sink = await startSmtpSink();
      const met = Array.from({ length: 20 }, (_, i) => ({ a: HOSTNAMES[1], b: HOSTNAMES[0], rssi: -60, atMs: Date.now() - 40 * 60_000 + i * 60_000, durationMs: 60_000 }));
      assert.equal((await c.app.inject({ method: 'POST', url: '/api/v1/ingest/encounters', headers: { authorization: `Bearer ${token.token}` }, payload: met })).statusCode, 200);
      const noticeCase = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/contact-traces`, headers: { cookie }, payload: { badge: HOSTNAMES[1], ...window } });
      const notices = await c.services.delivery.channels.create(sys, org.id, { kind: 'email', name: 'Notices', topics: ['contact-notices'], email: { host: '127.0.0.1', port: sink.port, tls: 'none', from: EMAILS[1]!, to: [EMAILS[1]!] } });
      const drafted = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/notices`, headers: { cookie }, payload: { caseId: (noticeCase.json() as { id: string }).id, channelId: notices.id } });
      assert.equal(drafted.statusCode, 200, drafted.body);
      const noticeId = (drafted.json() as { id: string }).id;
      for (const step of ['approve', 'send']) assert.equal((await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/notices/${noticeId}/${step}`, headers: { cookie } })).statusCode, 200);
      await c.services.delivery.idle();
      assert.deepEqual((await sink.waitFor(1))[0]!.to, [EMAILS[0]], 'the notice went to the person');
      await sink.close();
      // The guest portal (R-PRIV-5): a guest's MAC arrives in the controller's hand-off, a name and
      // e-mail address in the form; the org's app sends an installation id with its opt-in.
      const terms = await c.services.consent.terms.create(sys, org.id, { audience: 'portal', texts: { en: { title: 'Terms', body: 'Be kind.' }, nl: { title: 'Voorwaarden', body: 'Wees aardig.' } } });
      await c.services.consent.terms.publish(sys, org.id, terms.id);
      await c.services.consent.portal.configure(sys, org.id, site.id, { enabled: true, contactFields: ['name', 'email'], marketingOptIn: true, resultUrl: 'https://controller.example/result' });
      const splash = await c.app.inject({ method: 'GET', url: `/portal/${org.id}/${site.id}?client_mac=${MACS[2]}&ap_mac=00:11:22:33:44:55&ssid=Guest` });
      const fields = Object.fromEntries([...splash.body.matchAll(/<input type="hidden" name="(\w+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
      const decided = await c.app.inject({ method: 'POST', url: `/portal/${org.id}/${site.id}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ ...fields, decision: 'accept', name: USERNAMES[1]!, email: EMAILS[1]!, marketing: 'on' }).toString() });
      assert.equal(decided.statusCode, 303, decided.body);
      await c.app.inject({ method: 'GET', url: `/portal/${org.id}/${site.id}?client_mac=${MACS[1]!.slice(0, 11)}` });
      const optIn = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/consent/sdk`, headers: { authorization: `Bearer ${token.token}` }, payload: { appId: HOSTNAMES[0], optedIn: true } });
      assert.equal(optIn.statusCode, 200, optIn.body);
      // An incident naming a person, the controller's contacts for the records of processing, and a
      // full export through the API (streamed to the client: nothing of it may stay on the server).
      const incident = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/incidents`, headers: { cookie }, payload: { title: `Laptop of ${USERNAMES[0]} stolen`, description: `It held ${EMAILS[0]} and ${IPS[0]}.` } });
      assert.equal(incident.statusCode, 201, incident.body);
      await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/incidents/${(incident.json() as { id: string }).id}/notify`, headers: { cookie }, payload: { manual: `Phoned ${EMAILS[1]}` } });
      await c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${org.id}/ropa/controller`, headers: { cookie }, payload: { dataProtectionOfficer: EMAILS[1] } });
      const exported = await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/export`, headers: { cookie } });
      assert.equal(exported.statusCode, 200);
      await c.services.retention.runAll(sys);
      const auditRes = await c.app.inject({ method: 'GET', url: `/api/v1/orgs/${org.id}/audit?limit=1000`, headers: { cookie } });
      assert.equal(auditRes.statusCode, 200);
      assert.deepEqual(findNeedles(Buffer.from(auditRes.body), 'audit API'), [], 'audit events name no raw identifier');
      await c.close();

      const found: string[] = [];
      if (engine === 'sqlite') {
        const dir = setup.config().dataDir;
        for (const f of readdirSync(dir)) found.push(...findNeedles(readFileSync(join(dir, f)), f));
        assert.ok(readdirSync(dir).some((f) => f.endsWith('.sqlite')), 'the store files were scanned');
      } else {
        const prefix = setup.config().pgSchemaPrefix;
        const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${prefix}_*`, '--data-only'], { maxBuffer: 256 * 1024 * 1024 });
        assert.ok(dump.length > 1000, 'the dump has data');
        found.push(...findNeedles(dump, 'pg_dump'));
      }
      const allLogs = logs.join('');
      assert.ok(allLogs.length > 1000, 'logs were captured');
      found.push(...findNeedles(Buffer.from(allLogs), 'logs'));
      assert.deepEqual(found, []);
    });
  });
}
