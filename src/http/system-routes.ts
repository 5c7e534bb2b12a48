/**
 * Routes every deployment has: health and readiness, Prometheus metrics, sign-in and sign-out,
 * the caller's identity, and the dashboard's static pages.
 */
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { CairnError } from '../kernel/errors.ts';
import { packagePath } from '../kernel/paths.ts';
import type { IdentityService } from '../privacy/index.ts';
import { SESSION_COOKIE, ctxOf } from './auth.ts';
import type { Metrics } from './metrics.ts';
import { WindowLimiter } from './ratelimit.ts';
import { Strict, withErrors } from './schema.ts';

export interface SystemDeps {
  identity: IdentityService;
  metrics: Metrics;
  ready: () => Promise<void>;
  tls: boolean;
  loginPerMinute: number;
  nowMs: () => number;
  lookup: (email: string) => string;
}

function page(name: string): string {
  return readFileSync(packagePath('web', name), 'utf8');
}

export function systemRoutes(app: FastifyInstance, d: SystemDeps): void {
  app.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness', response: { 200: Strict({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { tags: ['system'], summary: 'Readiness: every store answers', response: withErrors({ 200: Strict({ status: Type.Literal('ready') }), 503: Type.Any() }) } }, async () => {
    try {
      await d.ready();
    } catch {
      throw new CairnError('CAIRN_ERR_NOT_READY');
    }
    return { status: 'ready' as const };
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(d.metrics.registry.contentType).send(await d.metrics.registry.metrics()));

  const perIp = new WindowLimiter(d.loginPerMinute, 60_000, d.nowMs);
  const perAccount = new WindowLimiter(d.loginPerMinute, 60_000, d.nowMs);
  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/auth/login',
    { schema: { tags: ['auth'], summary: 'Sign in; sets an HttpOnly, SameSite=Strict session cookie', body: Strict({ email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 1024 }) }), response: withErrors({ 200: Strict({ expiresAt: Type.String() }) }) } },
    async (req, reply) => {
      const ipOk = perIp.hit(req.ip);
      const acctOk = perAccount.hit(d.lookup(req.body.email));
      if (!ipOk || !acctOk) throw new CairnError('CAIRN_ERR_RATE_LIMITED', 'Too many sign-in attempts; wait a minute and try again.');
      const r = await d.identity.login(req.body.email, req.body.password, req.id);
      reply.setCookie(SESSION_COOKIE, r.sessionValue, { httpOnly: true, sameSite: 'strict', secure: d.tls, path: '/', expires: new Date(r.expiresAtMs) });
      return { expiresAt: new Date(r.expiresAtMs).toISOString() };
    },
  );
  app.post('/api/v1/auth/logout', { schema: { tags: ['auth'], summary: 'Sign out', response: { 204: Type.Null() } } }, async (req, reply) => {
    const c = req.cookies[SESSION_COOKIE];
    if (c) await d.identity.logout(c);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });
  app.get('/api/v1/auth/me', { schema: { tags: ['auth'], summary: 'Who is signed in, with which roles', response: withErrors({ 200: Strict({ actor: Strict({ kind: Type.String(), id: Type.String() }), roles: Type.Array(Strict({ role: Type.String(), orgId: Type.String(), siteId: Type.Union([Type.String(), Type.Null()]) })), operator: Type.Boolean() }) }) } }, async (req) => {
    const ctx = ctxOf(req);
    return { actor: ctx.actor, roles: ctx.bindings, operator: ctx.operatorRole === 'support' };
  });

  const html = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'").send(page(name));
  app.get('/', { schema: { hide: true } }, html('index.html'));
  app.get('/login', { schema: { hide: true } }, html('login.html'));
  app.get('/assets/:file', { schema: { hide: true, params: Strict({ file: Type.String({ pattern: '^[a-z0-9-]+\\.(js|css)$' }) }) } }, async (req, reply) => {
    const file = (req.params as { file: string }).file;
    let body: string;
    try {
      body = page(`assets/${file}`);
    } catch {
      throw new CairnError('CAIRN_ERR_NOT_FOUND');
    }
    return reply.type(file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(body);
  });
}
