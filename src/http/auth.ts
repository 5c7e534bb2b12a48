/**
import type {} from '@fastify/cookie';
 * Who is calling: a dashboard session cookie (`cairn_session`: HttpOnly, SameSite=Strict, Secure
 * when the server speaks TLS) or a machine token (`Authorization: Bearer cairn_…`). The context
 * lands on `request.ctx`; routes that need a caller call `ctxOf(request)`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CairnError } from '../kernel/errors.ts';
import type { Ctx, IdentityService } from '../privacy/index.ts';

export const SESSION_COOKIE = 'cairn_session';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: Ctx | null;
  }
}

export function installAuth(app: FastifyInstance, identity: IdentityService): void {
  app.decorateRequest('ctx', null);
  app.addHook('onRequest', async (req) => {
    const auth = req.headers.authorization;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      req.ctx = m ? await identity.fromToken(m[1]!, req.id) : null;
      if (!req.ctx) throw new CairnError('CAIRN_ERR_UNAUTHENTICATED', 'The token is not valid.');
      return;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (cookie) req.ctx = await identity.fromSession(cookie, req.id);
  });
}

/** The caller's context; 401 when nobody is signed in. */
export function ctxOf(req: FastifyRequest): Ctx {
  if (!req.ctx) throw new CairnError('CAIRN_ERR_UNAUTHENTICATED');
  return req.ctx;
}
