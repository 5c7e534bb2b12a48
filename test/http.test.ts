/**
 * The HTTP surface: bad input of every kind gets a clear 4xx with a stable code and the server
 * keeps serving; OpenAPI, health, readiness and metrics answer; sessions use safe cookies; login
 * is rate-limited; HTTPS works when a certificate is configured.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { login, makeApp, sqliteSetup } from './helpers.ts';
import { systemCtx } from '../src/privacy/index.ts';
import type { CairnApp } from '../src/app.ts';

const setup = sqliteSetup();
let c: CairnApp;
let orgId: string;
let cookie: string;
before(async () => {
  c = await makeApp(setup, { loginRateLimitPerMinute: 5, bodyLimitBytes: 4096 });
  const sys = systemCtx('test');
  orgId = (await c.services.tenancy.createOrg(sys, { name: 'Http', country: 'BE' })).id;
  await c.services.identity.createUser(sys, orgId, { email: 'admin@http.example', password: 'http-password-123', roles: [{ role: 'org_admin' }] });
  cookie = await login(c, 'admin@http.example', 'http-password-123');
});
after(async () => {
  await c.close();
  await setup.cleanup();
});

const post = (url: string, payload: string | object, headers: Record<string, string> = {}) =>
  c.app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/json', ...headers }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });

test('bad input gets a 4xx with a stable code, and the server keeps serving', async () => {
  const sites = `/api/v1/orgs/${orgId}/sites`;
  const cases: [string, () => ReturnType<typeof post>, number, string][] = [
    ['malformed JSON', () => post(sites, '{"name": "x"'), 400, 'CAIRN_ERR_MALFORMED_JSON'],
    ['empty JSON body', () => post(sites, ''), 400, 'CAIRN_ERR_MALFORMED_JSON'],
    ['wrong type', () => post(sites, { name: 42 }), 400, 'CAIRN_ERR_VALIDATION'],
    ['unknown field', () => post(sites, { name: 'a', evil: true }), 400, 'CAIRN_ERR_VALIDATION'],
    ['missing field', () => post(sites, {}), 400, 'CAIRN_ERR_VALIDATION'],
    ['huge body', () => post(sites, { name: 'x'.repeat(10_000) }), 413, 'CAIRN_ERR_BODY_TOO_LARGE'],
    ['wrong content type', () => post(sites, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE'],
    ['bad id in path', () => c.app.inject({ method: 'GET', url: '/api/v1/orgs/not-an-id/sites', headers: { cookie } }), 400, 'CAIRN_ERR_VALIDATION'],
    ['unknown route', () => c.app.inject({ method: 'GET', url: '/api/v1/nope', headers: { cookie } }), 404, 'CAIRN_ERR_NOT_FOUND'],
    ['unknown time zone', () => post(sites, { name: 'a', timezone: 'Mars/Olympus' }), 400, 'CAIRN_ERR_VALIDATION'],
    ['garbage bearer token', () => c.app.inject({ method: 'GET', url: sites, headers: { authorization: 'Bearer nonsense' } }), 401, 'CAIRN_ERR_UNAUTHENTICATED'],
    ['self-crossing zone', async () => {
      const site = (await post(sites, { name: 'Z' })).json();
      const floor = (await post(`/api/v1/orgs/${orgId}/sites/${site.id}/floors`, { name: 'F', widthM: 10, heightM: 10 })).json();
      return post(`/api/v1/orgs/${orgId}/floors/${floor.id}/zones`, { name: 'bow', polygon: [[0, 0], [5, 5], [5, 0], [0, 5]] });
    }, 400, 'CAIRN_ERR_VALIDATION'],
    ['plan that is not an image', async () => {
      const site = (await post(sites, { name: 'P' })).json();
      const floor = (await post(`/api/v1/orgs/${orgId}/sites/${site.id}/floors`, { name: 'F', widthM: 10, heightM: 10 })).json();
      return c.app.inject({ method: 'PUT', url: `/api/v1/orgs/${orgId}/floors/${floor.id}/plan`, headers: { cookie, 'content-type': 'image/png' }, payload: Buffer.from('<svg onload=alert(1)>') });
    }, 415, 'CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [name, run, status, code] of cases) {
    const r = await run();
    assert.equal(r.statusCode, status, `${name}: ${r.body}`);
    const body = r.json();
    assert.equal(body.error.code, code, name);
    assert.ok(body.error.message.length > 5, `${name} has a message`);
    assert.ok(body.error.requestId, `${name} has a request id`);
  }
  const ok = await post(sites, { name: 'still serving' });
  assert.equal(ok.statusCode, 201);
  const metrics = await c.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /cairn_errors_total\{code="CAIRN_ERR_MALFORMED_JSON"\} [1-9]/);
});

test('OpenAPI 3 document describes every API route, with a browsable page', async () => {
  const r = await c.app.inject({ method: 'GET', url: '/api/openapi.json' });
  assert.equal(r.statusCode, 200);
  const doc = r.json();
  assert.equal(doc.openapi, '3.0.3');
  const documented = new Set(Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`)));
  for (const route of c.routes.filter((x) => x.url.startsWith('/api/v1/'))) assert.ok(documented.has(`${route.method} ${route.url}`), `${route.method} ${route.url} is in the OpenAPI document`);
  assert.ok(doc.paths['/api/v1/orgs/{orgId}/sites'].post.requestBody, 'request bodies are described');
  const ui = await c.app.inject({ method: 'GET', url: '/api/docs/' });
  assert.ok([200, 302].includes(ui.statusCode));
});

test('health, readiness and Prometheus metrics answer', async () => {
  assert.deepEqual((await c.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' });
  assert.deepEqual((await c.app.inject({ method: 'GET', url: '/readyz' })).json(), { status: 'ready' });
  const m = await c.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(m.headers['content-type'] as string, /text\/plain/);
  assert.match(m.body, /cairn_http_requests_total/);
});

test('sessions use HttpOnly, SameSite=Strict cookies; responses carry a request id and safe headers', async () => {
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@http.example', password: 'http-password-123' } });
  const set = String(r.headers['set-cookie']);
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  assert.doesNotMatch(set, /Secure/, 'no Secure flag without TLS (the cookie would never come back)');
  assert.ok(r.headers['x-request-id']);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const me = await c.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
  assert.equal(me.json().roles[0].role, 'org_admin');
  const out = await c.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
  assert.equal(out.statusCode, 204);
  assert.equal((await c.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } })).statusCode, 401, 'a signed-out session is gone');
  cookie = await login(c, 'admin@http.example', 'http-password-123');
});

test('wrong passwords get the same answer as unknown accounts, and login is rate-limited', async () => {
  const a = await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@http.example', password: 'wrong-password-1' }, remoteAddress: '10.9.9.1' });
  const b = await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@http.example', password: 'wrong-password-1' }, remoteAddress: '10.9.9.1' });
  assert.equal(a.statusCode, 401);
  assert.deepEqual({ ...a.json().error, requestId: 0 }, { ...b.json().error, requestId: 0 });
  let limited = 0;
  for (let i = 0; i < 8; i++) {
    const r = await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: `guess${i}@http.example`, password: 'x' }, remoteAddress: '10.9.9.2' });
    if (r.statusCode === 429) limited++;
  }
  assert.ok(limited >= 3, `the address was limited (${limited})`);
  assert.equal((await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'admin@http.example', password: 'http-password-123' }, remoteAddress: '10.9.9.3' })).statusCode, 200, 'another address still signs in');
});

test('speaks HTTPS only when a certificate is configured, with Secure cookies', async (t) => {
  const dir = setup.config().dataDir;
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
  } catch {
    t.skip('openssl not available');
    return;
  }
  const s = sqliteSetup();
  const tlsApp = await makeApp(s, { tlsCert: join(dir, 'c.pem'), tlsKey: join(dir, 'k.pem'), port: 0 });
  const sys = systemCtx('test');
  const o = await tlsApp.services.tenancy.createOrg(sys, { name: 'T', country: 'NL' });
  await tlsApp.services.identity.createUser(sys, o.id, { email: 'tls@x.example', password: 'tls-password-1234', roles: [{ role: 'observer' }] });
  await tlsApp.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (tlsApp.app.server.address() as { port: number }).port;
  const res = await new Promise<{ status: number; cookie: string; hsts: string }>((resolve, reject) => {
    const body = JSON.stringify({ email: 'tls@x.example', password: 'tls-password-1234' });
    const req = request({ host: '127.0.0.1', port, path: '/api/v1/auth/login', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on('end', () => resolve({ status: r.statusCode!, cookie: String(r.headers['set-cookie']), hsts: String(r.headers['strict-transport-security']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(res.status, 200);
  assert.match(res.cookie, /Secure/);
  assert.match(res.hsts, /max-age/);
  await tlsApp.close();
  await s.cleanup();
  writeFileSync(join(dir, 'k.pem'), '');
});
