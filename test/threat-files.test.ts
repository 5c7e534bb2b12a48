/**
 * Threat file analysis through the API, on SQLite and PostgreSQL: the shared corpus and EICAR get
 * verdicts; hash lookups; allow/block lists (hash, domain, IP) change verdicts; the username is
 * kept only with the user firewall on (R-ATP-3); R-ATP-7: no file body is left on disk after
 * analysis, a body kept by the org's retention is stored encrypted and purged by the retention run;
 * no raw IP, username or file name reaches the stores or the logs. On SQLite also: a too-large
 * upload is refused with 413 on a real server that keeps serving, and the notice and messages
 * come in Dutch.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { login, makeApp, pgSkip, postgresSetup, sqliteSetup, PG_URL, type EngineSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { FakeClock, DAY_MS } from '../src/kernel/clock.ts';
import { threatRepo } from '../src/storage/index.ts';
import { EICAR } from '../src/threat/files/index.ts';
import type { CairnApp } from '../src/app.ts';

const CORPUS = new URL('../../shared/data/files/', import.meta.url).pathname;
const haveCorpus = existsSync(join(CORPUS, 'manifest.json'));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const sys = systemCtx('test');
const OCTET = { 'content-type': 'application/octet-stream' };

/** Personal values sent as metadata: none may appear in clear in a store or a log line. */
const PERSONAL = { fileName: 'Salarisoverzicht-JanDeVries-2026.xlsx', clientIp: '10.77.31.205', username: 'jdevries.salaris', clientHost: 'LAPTOP-JDEVRIES-7', deviceName: 'srx-delft-noord-01', url: 'https://files.example/JanDeVriesPrive/report.pdf' };
const LISTED_IP = '198.51.100.23';

interface World {
  c: CairnApp;
  clock: FakeClock;
  orgId: string;
  otherOrgId: string;
  sensor: Record<string, string>;
  admin: Record<string, string>;
  observer: Record<string, string>;
  privacy: Record<string, string>;
  support: Record<string, string>;
  logs: string[];
}

async function world(setup: EngineSetup): Promise<World> {
  const logs: string[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { logs.push(String(chunk)); cb(); } });
  const clock = new FakeClock(Date.now());
  const c = await makeApp(setup, { logLevel: 'debug' }, { clock, logDestination: dest as never });
  const org = await c.services.tenancy.createOrg(sys, { name: 'Gemeente Delft', country: 'NL' });
  const other = await c.services.tenancy.createOrg(sys, { name: 'Other', country: 'US' });
  const tok = await c.services.identity.createToken(sys, org.id, { name: 'srx', role: 'sensor' });
  const user = async (role: 'org_admin' | 'observer' | 'privacy_officer') => {
    const email = `${role}@delft.example`;
    await c.services.identity.createUser(sys, org.id, { email, password: 'a-password-12345', roles: [{ role }] });
    return { cookie: await login(c, email, 'a-password-12345') };
  };
  await c.services.identity.createOperator(sys, { email: 'support@operator.example', password: 'support-password-123' });
  return {
    c, clock, logs, orgId: org.id, otherOrgId: other.id,
    sensor: { authorization: `Bearer ${tok.token}` },
    admin: await user('org_admin'), observer: await user('observer'), privacy: await user('privacy_officer'),
    support: { cookie: await login(c, 'support@operator.example', 'support-password-123') },
  };
}

async function upload(w: World, bytes: Uint8Array, headers: Record<string, string> = {}, query = '') {
  return w.c.app.inject({ method: 'POST', url: `/api/v1/threat/files${query}`, headers: { ...w.sensor, ...OCTET, ...headers }, payload: Buffer.from(bytes) });
}

/** Every readable regular file under `dir` changed since `sinceMs` (bounded size), as [path, bytes]. */
function recentFiles(dir: string, sinceMs: number, out: [string, Buffer][] = [], depth = 0): [string, Buffer][] {
  if (depth > 6) return out;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const p = join(dir, n);
    try {
      const s = statSync(p);
      if (s.isDirectory()) recentFiles(p, sinceMs, out, depth + 1);
      else if (s.isFile() && s.mtimeMs >= sinceMs && s.size <= 64 << 20) out.push([p, readFileSync(p)]);
    } catch {
      // vanished or unreadable (another process's file): not ours
    }
  }
  return out;
}

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`threat files API (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    const setup: EngineSetup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
    let w: World;
    const startedMs = Date.now();
    before(async () => {
      if (!skip) w = await world(setup);
    });
    let closed = false;
    after(async () => {
      if (!closed) await w?.c.close();
      if (!skip) await setup.cleanup();
    });

    test('every corpus file gets a verdict; EICAR scores 7 or more and is a recommended block', { skip: skip || (!haveCorpus && 'no shared corpus') }, async () => {
      const manifest = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as { name: string; sha256: string }[];
      const byName = new Map(manifest.map((m) => [m.name, m.sha256]));
      const names = readdirSync(CORPUS).filter((n) => n.startsWith('test')).sort();
      assert.ok(names.length >= 40, `corpus has ${names.length} files`);
      const verdicts = new Map<string, { sha256: string; score: number; state: string; complete: boolean; type: { category: string } }>();
      for (const n of names) {
        const bytes = readFileSync(join(CORPUS, n));
        const r = await upload(w, bytes, { 'x-cairn-file-name': n });
        assert.equal(r.statusCode, 200, `${n}: ${r.body.slice(0, 300)}`);
        const v = JSON.parse(r.body);
        assert.equal(v.sha256, sha(bytes), n);
        if (byName.has(n)) assert.equal(v.sha256, byName.get(n), `${n} matches the manifest`);
        assert.ok(v.score >= 0 && v.score <= 10, n);
        assert.ok(!(v.state === 'clean' && !v.complete), `${n}: an incomplete verdict is never clean`);
        verdicts.set(n, v);
      }
      assert.equal(verdicts.get('test.exe')?.type.category, 'executable');
      assert.equal(verdicts.get('test.elf')?.type.category, 'executable');
      assert.equal(verdicts.get('test.pdf')?.type.category, 'document');
      assert.equal(verdicts.get('test.docx')?.type.category, 'document');
      assert.equal(verdicts.get('test.zip')?.type.category, 'archive');
      assert.notEqual(verdicts.get('test_aes256_password.zip')?.state, 'clean', 'an encrypted archive is not reported clean');

      const eicar = await upload(w, Buffer.from(`${EICAR}\r\n`), { 'x-cairn-file-name': 'eicar.com' });
      assert.equal(eicar.statusCode, 200);
      const e = JSON.parse(eicar.body);
      assert.ok(e.score >= 7, `EICAR score ${e.score}`);
      assert.equal(e.recommendedAction, 'block');
      assert.equal(e.state, 'malicious');
      assert.equal(e.type.subtype, 'eicar');
      assert.ok(e.reasons.some((r: { code: string }) => r.code === 'EICAR'));

      // The same bytes again: the stored verdict is reused and the submission counted.
      const again = JSON.parse((await upload(w, Buffer.from(`${EICAR}\r\n`))).body);
      assert.deepEqual([again.cached, again.submissionCount, again.score], [true, 2, e.score]);
      const events = await w.c.services.auditQueries.list(sys, w.orgId, { limit: 1000 });
      const submits = events.filter((ev) => ev.action === 'threat.file.submit');
      assert.equal(submits.length, names.length + 2, 'every submission is audited');
      assert.ok(submits.some((ev) => (ev.details as { sha256?: string; score?: number }).sha256 === e.sha256 && (ev.details as { score: number }).score === e.score), 'the audit event names the hash and score');
    });

    test('hash lookup: the verdict without personal metadata; unknown hash and foreign org are "not found"', { skip }, async () => {
      const bytes = Buffer.from(`lookup probe ${randomBytes(8).toString('hex')}`);
      const sub = JSON.parse((await upload(w, bytes, { 'x-cairn-file-name': PERSONAL.fileName, 'x-cairn-client-ip': PERSONAL.clientIp })).body);
      for (const h of [w.admin, w.observer, w.privacy]) {
        const r = await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}`, headers: h });
        assert.equal(r.statusCode, 200, r.body);
        const v = JSON.parse(r.body);
        assert.deepEqual([v.sha256, v.score, v.state, v.type.category, v.submissionCount], [sub.sha256, sub.score, sub.state, sub.type.category, 1]);
        assert.ok(!r.body.includes(PERSONAL.fileName) && !r.body.includes(PERSONAL.clientIp), 'a verdict carries no personal metadata');
      }
      assert.equal((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${'ab'.repeat(32)}`, headers: w.admin })).statusCode, 404);
      assert.equal((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}?orgId=${w.otherOrgId}`, headers: w.admin })).statusCode, 404);
      // Operator staff hold roles in no org of their own: they must name it (and need the grant).
      const noOrg = await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}`, headers: w.support });
      assert.equal(noOrg.statusCode, 400);
      assert.equal(JSON.parse(noOrg.body).error.details.field, 'orgId');
      assert.equal((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}?orgId=${w.orgId}`, headers: w.support })).statusCode, 200);
      // The personal metadata is a separate, audited read.
      const subs = await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}/submissions`, headers: w.privacy });
      assert.equal(subs.statusCode, 200);
      assert.deepEqual(JSON.parse(subs.body).map((s: { fileName: string; clientIp: string }) => [s.fileName, s.clientIp]), [[PERSONAL.fileName, PERSONAL.clientIp]]);
      assert.equal((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sub.sha256}/submissions`, headers: w.observer })).statusCode, 404);
      const events = await w.c.services.auditQueries.list(sys, w.orgId, { limit: 50 });
      assert.ok(events.some((e) => e.action === 'threat.submission.read' && e.target === `file:${sub.sha256}`));
    });

    test('allow and block lists change the verdict: hash, domain (with subdomains) and IP', { skip }, async () => {
      const lists = `/api/v1/orgs/${w.orgId}/threat/lists`;
      const add = async (body: Record<string, string>) => {
        const r = await w.c.app.inject({ method: 'POST', url: lists, headers: w.admin, payload: body });
        assert.equal(r.statusCode, 201, r.body);
        return JSON.parse(r.body) as { id: string; value: string };
      };
      const harmless = Buffer.from(`harmless text ${randomBytes(8).toString('hex')}`);
      const before = JSON.parse((await upload(w, harmless)).body);
      assert.equal(before.state, 'clean');

      const blocked = await add({ list: 'block', kind: 'hash', value: before.sha256.toUpperCase() });
      const v1 = JSON.parse((await upload(w, harmless)).body);
      assert.deepEqual([v1.score, v1.state, v1.recommendedAction, v1.basis, v1.reasons[0].code], [10, 'malicious', 'block', 'lists', 'BLOCK_LIST']);
      const looked = JSON.parse((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${before.sha256}`, headers: w.observer })).body);
      assert.equal(looked.state, 'malicious', 'a lookup applies the current lists');
      const dup = await w.c.app.inject({ method: 'POST', url: lists, headers: w.admin, payload: { list: 'allow', kind: 'hash', value: before.sha256 } });
      assert.equal(dup.statusCode, 409);
      assert.equal((await w.c.app.inject({ method: 'DELETE', url: `${lists}/${blocked.id}`, headers: w.admin })).statusCode, 204);
      const v2 = JSON.parse((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${before.sha256}`, headers: w.observer })).body);
      assert.deepEqual([v2.state, v2.basis], ['clean', 'analysis'], 'removing the entry restores the analysed verdict');

      const eicar = Buffer.from(EICAR);
      const allowed = await add({ list: 'allow', kind: 'hash', value: sha(eicar) });
      const v3 = JSON.parse((await upload(w, eicar)).body);
      assert.deepEqual([v3.state, v3.score, v3.reasons[0].code], ['clean', 0, 'ALLOW_LIST']);
      await w.c.app.inject({ method: 'DELETE', url: `${lists}/${allowed.id}`, headers: w.admin });
      const v4 = JSON.parse((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sha(eicar)}`, headers: w.observer })).body);
      assert.notEqual(v4.state, 'clean', 'a file only a list ever judged is not reported clean once the list lets go');
      assert.equal(v4.reasons[0].code, 'NOT_ANALYZED');
      const v5 = JSON.parse((await upload(w, eicar)).body);
      assert.deepEqual([v5.state, v5.basis], ['malicious', 'analysis'], 'the next submission is analysed');

      await add({ list: 'block', kind: 'domain', value: 'Evil.Example.' });
      const fromEvil = JSON.parse((await upload(w, harmless, { 'x-cairn-url': 'https://dl.cdn.evil.example/setup.bin' })).body);
      assert.deepEqual([fromEvil.state, fromEvil.reasons[0].code], ['malicious', 'BLOCK_LIST_DOMAIN']);
      const fromElsewhere = JSON.parse((await upload(w, harmless, { 'x-cairn-url': 'https://notevil.example/setup.bin' })).body);
      assert.equal(fromElsewhere.state, 'clean', 'a domain entry covers subdomains only, not look-alikes');

      const ipEntry = await add({ list: 'block', kind: 'ip', value: LISTED_IP, note: `C2 server seen at ${LISTED_IP}` });
      assert.equal(ipEntry.value, LISTED_IP);
      const fromIp = JSON.parse((await upload(w, harmless, { 'x-cairn-url': `http://${LISTED_IP}:8080/a.exe` })).body);
      assert.deepEqual([fromIp.state, fromIp.reasons[0].code], ['malicious', 'BLOCK_LIST_IP']);
      const bad = await w.c.app.inject({ method: 'POST', url: lists, headers: w.admin, payload: { list: 'block', kind: 'ip', value: '10.0.0.0/8' } });
      assert.equal(bad.statusCode, 400);
      const read = await w.c.app.inject({ method: 'GET', url: `${lists}?kind=ip`, headers: w.privacy });
      assert.equal(read.statusCode, 200);
      assert.deepEqual(JSON.parse(read.body).map((e: { value: string }) => e.value), [LISTED_IP], 'the privacy officer reads the decrypted address');
      const intel = await w.c.services.threat.lists.intel(w.orgId);
      assert.deepEqual([intel.block.ips, intel.block.domains], [[LISTED_IP], ['evil.example']]);
    });

    test('the username is stored only when the submitting device reports the user firewall on (R-ATP-3)', { skip }, async () => {
      const bytes = Buffer.from(`firewall probe ${randomBytes(8).toString('hex')}`);
      const meta = { 'x-cairn-username': PERSONAL.username, 'x-cairn-client-host': PERSONAL.clientHost, 'x-cairn-device-name': PERSONAL.deviceName, 'x-cairn-vendor': 'Juniper SRX', 'x-cairn-url': PERSONAL.url, 'x-cairn-submitted-at': '2026-03-01T10:00:00Z' };
      assert.equal((await upload(w, bytes, { ...meta, 'x-cairn-user-firewall': 'off' })).statusCode, 200);
      w.clock.advance(1000);
      assert.equal((await upload(w, bytes, { ...meta })).statusCode, 200);
      w.clock.advance(1000);
      assert.equal((await upload(w, bytes, { ...meta, 'x-cairn-user-firewall': 'on', 'x-cairn-file-name': encodeURIComponent('rapport-€-ü.pdf') })).statusCode, 200);
      const subs = JSON.parse((await w.c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sha(bytes)}/submissions`, headers: w.admin })).body) as { username: string | null; userFirewall: boolean; vendor: string; submittedAt: string; clientHost: string; fileName: string | null }[];
      assert.equal(subs.length, 3);
      assert.deepEqual(subs.map((s) => [s.userFirewall, s.username]), [[true, PERSONAL.username], [false, null], [false, null]]);
      assert.equal(subs[0]!.fileName, 'rapport-€-ü.pdf', 'percent-encoded names arrive as UTF-8');
      assert.deepEqual([subs[0]!.vendor, subs[0]!.submittedAt, subs[0]!.clientHost], ['Juniper SRX', '2026-03-01T10:00:00.000Z', PERSONAL.clientHost]);
      const badIp = await upload(w, bytes, { 'x-cairn-client-ip': 'not-an-ip' });
      assert.equal(badIp.statusCode, 400);
      assert.ok(!badIp.body.includes('not-an-ip'), 'the refusal does not echo the value');
    });

    test('settings: retention per category and encrypted-traffic analysis, off and empty by default', { skip }, async () => {
      const url = `/api/v1/orgs/${w.orgId}/threat/settings`;
      const d = JSON.parse((await w.c.app.inject({ method: 'GET', url, headers: w.privacy })).body);
      assert.deepEqual([d.fileRetentionDays, d.encryptedTrafficAnalysis, d.filesClassDays], [{}, false, 1]);
      assert.equal((await w.c.services.threat.settings.get(w.orgId)).encryptedTrafficAnalysis, false);
      assert.equal((await w.c.app.inject({ method: 'PUT', url, headers: w.privacy, payload: { fileRetentionDays: {}, encryptedTrafficAnalysis: true } })).statusCode, 404, 'privacy officers read, admins change');
      const bad = await w.c.app.inject({ method: 'PUT', url, headers: w.admin, payload: { fileRetentionDays: { spreadsheets: 3 }, encryptedTrafficAnalysis: true } });
      assert.equal(bad.statusCode, 400);
      assert.equal((await w.c.app.inject({ method: 'PUT', url, headers: w.admin, payload: { fileRetentionDays: { document: 0 }, encryptedTrafficAnalysis: true } })).statusCode, 400);
      const ok = await w.c.app.inject({ method: 'PUT', url, headers: w.admin, payload: { fileRetentionDays: { document: 14, archive: null }, encryptedTrafficAnalysis: true } });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(JSON.parse(ok.body).effectiveFileRetentionDays, { document: 1 }, 'the threat_files class (1 day by default) caps it');
      assert.equal((await w.c.services.threat.settings.get(w.orgId)).encryptedTrafficAnalysis, true);
      await w.c.services.threat.settings.update(sys, w.orgId, { fileRetentionDays: {}, encryptedTrafficAnalysis: false });
    });

    test('R-ATP-7: no file body is left on disk; with retention for its category it is kept encrypted and purged on time', { skip }, async () => {
      const marker = randomBytes(24).toString('hex');
      const body = Buffer.from(`Cairn R-ATP-7 probe ${marker}\n`.repeat(64));
      // In clear, as base64, and as the hex a bytea dump would show.
      const needles = [marker, body.toString('base64').slice(0, 64), Buffer.from(marker).toString('hex')].map((n) => Buffer.from(n));
      const scan = (): string[] => {
        const hits: string[] = [];
        const files = [...recentFiles(setup.config().dataDir, 0), ...recentFiles(tmpdir(), startedMs - 2000)];
        for (const [p, b] of files) if (needles.some((n) => b.includes(n))) hits.push(p);
        if (engine === 'postgres') {
          const dump = execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${setup.config().pgSchemaPrefix}_*`, '--data-only'], { maxBuffer: 256 << 20 });
          if (needles.some((n) => dump.includes(n))) hits.push('pg_dump');
        }
        return hits;
      };
      const v = JSON.parse((await upload(w, body, { 'x-cairn-file-name': 'probe.txt' })).body);
      assert.equal(v.sha256, sha(body));
      const category = v.type.category as string;
      assert.deepEqual(scan(), [], 'no copy of the body anywhere after analysis');
      const db = await w.c.core.directory.storeOf(w.orgId);
      assert.equal((await threatRepo(db).listBodies(w.orgId)).length, 0);

      // The org keeps this category for 3 days (class ceiling raised to 7).
      await w.c.services.retention.set(sys, w.orgId, 'threat_files', 7);
      await w.c.services.threat.settings.update(sys, w.orgId, { fileRetentionDays: { [category]: 3 }, encryptedTrafficAnalysis: false });
      await w.c.services.threat.files.submit(sys, w.orgId, body, { fileName: 'probe.txt' });
      const kept = await threatRepo(db).getBody(w.orgId, sha(body));
      assert.ok(kept, 'the body is kept');
      assert.equal((await w.c.core.keys.decryptBytes(db, w.orgId, 'threat_file_bodies.body', kept.body_enc)).equals(body), true, 'it decrypts under the org key');
      assert.deepEqual(scan(), [], 'the kept body is encrypted: never in clear on disk');

      w.clock.advance(2 * DAY_MS);
      await w.c.services.retention.runForOrg(sys, w.orgId);
      assert.equal((await threatRepo(db).listBodies(w.orgId)).length, 1, 'kept within its period');
      w.clock.advance(1 * DAY_MS + 60_000);
      const report = await w.c.services.retention.runForOrg(sys, w.orgId);
      assert.equal(report.purged.threat_files, 1);
      assert.equal(await threatRepo(db).getBody(w.orgId, sha(body)), undefined, 'purged at the end of its period');

      // R-DATA-8: submissions (and verdicts of files not seen since) go after 90 days.
      w.clock.advance(91 * DAY_MS);
      const meta = await w.c.services.retention.runForOrg(sys, w.orgId);
      assert.ok((meta.purged.threat_metadata ?? 0) > 0, JSON.stringify(meta));
      assert.equal(await threatRepo(db).getVerdict(w.orgId, sha(body)), undefined);
      assert.deepEqual(await threatRepo(db).listSubmissions(w.orgId, sha(body), 10), []);
    });

    test('no raw IP, username or file name in the stores or the logs', { skip }, async () => {
      await w.c.close();
      closed = true;
      const needles = [PERSONAL.fileName, 'JanDeVries', PERSONAL.clientIp, PERSONAL.username, PERSONAL.clientHost, PERSONAL.deviceName, LISTED_IP, 'rapport-€-ü.pdf', encodeURIComponent('rapport-€-ü.pdf')];
      const find = (hay: Buffer, where: string): string[] => {
        const s = hay.toString('latin1').toLowerCase();
        const u = hay.toString('utf8').toLowerCase();
        return needles.filter((n) => s.includes(n.toLowerCase()) || u.includes(n.toLowerCase())).map((n) => `${n} in ${where}`);
      };
      const found: string[] = [];
      if (engine === 'sqlite') {
        const dir = setup.config().dataDir;
        for (const f of readdirSync(dir)) found.push(...find(readFileSync(join(dir, f)), f));
      } else {
        found.push(...find(execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', `${setup.config().pgSchemaPrefix}_*`, '--data-only'], { maxBuffer: 256 << 20 }), 'pg_dump'));
      }
      const logs = w.logs.join('');
      assert.ok(logs.length > 1000, 'logs were captured');
      found.push(...find(Buffer.from(logs), 'logs'));
      assert.deepEqual(found, []);
    });
  });
}

/** The real clamd of CI (scripts/clamd-local.sh): CAIRN_TEST_CLAMD is a socket path or host:port. */
const CLAMD = process.env.CAIRN_TEST_CLAMD;
const CLAM_FILE = '/usr/share/clamav-testfiles/clam.exe';

describe('threat files API with clamd (sqlite)', () => {
  const setup = sqliteSetup();
  after(() => setup.cleanup());

  test('a configured clamd runs as a stage; its signature makes a verdict malicious', { skip: CLAMD ? false : 'no clamd: set CAIRN_TEST_CLAMD (CI starts one with scripts/clamd-local.sh)' }, async () => {
    const c = await makeApp(setup, { clamdSocket: CLAMD! });
    try {
      const org = await c.services.tenancy.createOrg(sys, { name: 'Clam', country: 'NL' });
      const harmless = await c.services.threat.files.submit(sys, org.id, Buffer.from('nothing to see here'), {});
      assert.equal(harmless.stages.find((s) => s.analyzer === 'clamav')?.status, 'ran');
      assert.deepEqual([harmless.state, harmless.complete], ['clean', true]);
      if (existsSync(CLAM_FILE)) {
        const v = await c.services.threat.files.submit(sys, org.id, readFileSync(CLAM_FILE), { fileName: 'clam.exe' });
        assert.ok(v.score >= 7, JSON.stringify(v.reasons));
        assert.ok(v.reasons.some((r) => r.code === 'CLAMAV_FOUND'), JSON.stringify(v.reasons));
      }
    } finally {
      await c.close();
    }
  });
});

describe('threat files API: limits and languages (sqlite)', () => {
  const setup = sqliteSetup();
  let c: CairnApp;
  after(async () => {
    await c?.close();
    await setup.cleanup();
  });

  test('a too-large upload is refused with 413 CAIRN_ERR_FILE_TOO_LARGE and the server keeps serving', async () => {
    const LIMIT = 64 * 1024;
    c = await makeApp(setup, { threatUploadLimitBytes: LIMIT });
    const org = await c.services.tenancy.createOrg(sys, { name: 'Limits', country: 'NL' });
    const tok = await c.services.identity.createToken(sys, org.id, { name: 'srx', role: 'sensor' });
    const address = await c.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const send = (opts: { declared?: number; chunks: number; chunkBytes: number }): Promise<{ status: number; body: string; sentBytes: number }> =>
      new Promise((resolve, reject) => {
        let sentBytes = 0;
        const headers: Record<string, string> = { authorization: `Bearer ${tok.token}`, 'content-type': 'application/octet-stream', 'accept-language': 'nl' };
        if (opts.declared !== undefined) headers['content-length'] = String(opts.declared);
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/threat/files', headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentBytes }));
        });
        req.on('error', (e: NodeJS.ErrnoException) => {
          // The server closes the connection after refusing; the rest of our upload may bounce.
          if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
        });
        const chunk = Buffer.alloc(opts.chunkBytes, 0x41);
        let i = 0;
        const pump = () => {
          while (i < opts.chunks) {
            i++;
            sentBytes += chunk.length;
            if (req.destroyed) return;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
    // Declared too large: refused before the body is read.
    const declared = await send({ declared: 100 * 1024 * 1024, chunks: 1, chunkBytes: 1024 });
    assert.equal(declared.status, 413);
    assert.equal(JSON.parse(declared.body).error.code, 'CAIRN_ERR_FILE_TOO_LARGE');
    assert.match(JSON.parse(declared.body).error.message, /groter dan de analysegrens van 65536 bytes/);
    // Chunked, no length: refused once it passes the limit, not buffered to the end.
    const chunked = await send({ chunks: 64, chunkBytes: 16 * 1024 });
    assert.equal(chunked.status, 413);
    assert.equal(JSON.parse(chunked.body).error.code, 'CAIRN_ERR_FILE_TOO_LARGE');
    // The server is still there and takes a file within the limit.
    const health = await fetch(`${address}/healthz`);
    assert.equal(health.status, 200);
    const ok = await fetch(`${address}/api/v1/threat/files`, { method: 'POST', headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'application/octet-stream' }, body: Buffer.alloc(LIMIT, 0x42) });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json() as { sizeBytes: number }).sizeBytes, LIMIT);
    const multipart = await fetch(`${address}/api/v1/threat/files`, { method: 'POST', headers: { authorization: `Bearer ${tok.token}`, 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' });
    assert.equal(multipart.status, 415);
    assert.equal((await fetch(`${address}/api/v1/threat/files`, { method: 'POST', body: 'x' })).status, 401);
  });

  test('the privacy notice and the messages come in English and Dutch (?lang or Accept-Language)', async () => {
    const nl = await c.app.inject({ method: 'GET', url: '/api/v1/threat/notice?lang=nl' });
    assert.equal(nl.statusCode, 200);
    const n = JSON.parse(nl.body);
    assert.equal(n.lang, 'nl');
    assert.equal(n.title, 'Privacyverklaring dreigingsanalyse');
    const text = JSON.stringify(n);
    for (const phrase of ['Gebruikersnaam, alleen als de gebruikersfirewall aan staat', 'Client-IP-adres', 'Bestandsnaam', 'Apparaatnaam', 'versleuteld verkeer', 'quarantaine', 'bewaartermijn']) assert.ok(text.includes(phrase), phrase);
    for (const ref of ['R-DATA-7', 'R-DATA-8', 'R-DATA-9', 'R-DATA-10', 'R-ATP-7']) assert.ok(n.sections.some((s: { refs: string[] }) => s.refs.includes(ref)), ref);
    assert.ok(text.includes('90 dagen'), 'the notice states the default metadata retention from the registry');
    const byHeader = JSON.parse((await c.app.inject({ method: 'GET', url: '/api/v1/threat/notice', headers: { 'accept-language': 'de-DE, nl;q=0.8, en;q=0.5' } })).body);
    assert.equal(byHeader.lang, 'nl');
    const en = JSON.parse((await c.app.inject({ method: 'GET', url: '/api/v1/threat/notice' })).body);
    assert.equal(en.lang, 'en');
    assert.deepEqual(en.sections.map((s: { id: string }) => s.id), n.sections.map((s: { id: string }) => s.id), 'both languages have the same sections');

    const org = (await c.services.tenancy.listOrgs(sys))[0]!;
    const tok = await c.services.identity.createToken(sys, org.id, { name: 'srx2', role: 'sensor' });
    const eicar = await c.app.inject({ method: 'POST', url: '/api/v1/threat/files?lang=nl', headers: { authorization: `Bearer ${tok.token}`, ...OCTET }, payload: Buffer.from(EICAR) });
    assert.equal(JSON.parse(eicar.body).reasons[0].message, 'EICAR-antivirustestbestand.');
    await c.services.identity.createUser(sys, org.id, { email: 'po@limits.example', password: 'a-password-12345', roles: [{ role: 'privacy_officer' }] });
    const cookie = await login(c, 'po@limits.example', 'a-password-12345');
    const read = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${sha(Buffer.from(EICAR))}`, headers: { cookie, 'accept-language': 'nl' } })).body);
    assert.equal(read.reasons[0].message, 'EICAR-antivirustestbestand.');
    const missing = JSON.parse((await c.app.inject({ method: 'GET', url: `/api/v1/threat/files/${'0'.repeat(64)}?lang=nl`, headers: { cookie } })).body);
    assert.deepEqual([missing.error.code, missing.error.message], ['CAIRN_ERR_NOT_FOUND', 'Niet gevonden of geen toegang.']);
    const badList = JSON.parse((await c.app.inject({ method: 'POST', url: `/api/v1/orgs/${org.id}/threat/lists?lang=nl`, headers: { cookie }, payload: { list: 'block', kind: 'hash', value: 'abc' } })).body);
    assert.equal(badList.error.code, 'CAIRN_ERR_NOT_FOUND', 'privacy officers may not change lists');
  });
});
