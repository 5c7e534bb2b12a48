/**
 * The one place where error codes become HTTP statuses. Every error body has the same shape:
 * `{ error: { code, message, details?, requestId } }`. Fastify's own errors (bad JSON, body too
 * large, schema validation, unknown route) are translated into Cairn codes first.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CairnError, ERROR_CATALOGUE, statusOf, type ErrorCode } from '../kernel/errors.ts';
import { scrubString } from '../kernel/logger.ts';

export function toCairnError(err: unknown): CairnError {
  if (err instanceof CairnError) return err;
  const e = err as FastifyError & { validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[]; validationContext?: string };
  if (e && e.validation) {
    const first = e.validation[0];
    const where = `${e.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    const extra = first?.params && 'additionalProperty' in first.params ? ` (unknown field "${String(first.params.additionalProperty).slice(0, 64)}")` : '';
    return new CairnError('CAIRN_ERR_VALIDATION', `${where} ${first?.message ?? 'is invalid'}${extra}`.trim(), { field: where });
  }
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new CairnError('CAIRN_ERR_BODY_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new CairnError('CAIRN_ERR_MALFORMED_JSON', e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The request body is empty but JSON was declared.' : undefined);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new CairnError('CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE');
    default:
      break;
  }
  if (e instanceof SyntaxError) return new CairnError('CAIRN_ERR_MALFORMED_JSON');
  if (e?.statusCode === 429) return new CairnError('CAIRN_ERR_RATE_LIMITED');
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new CairnError('CAIRN_ERR_VALIDATION', scrubString(e.message));
  return new CairnError('CAIRN_ERR_INTERNAL');
}

export function sendError(reply: FastifyReply, req: FastifyRequest, err: CairnError): FastifyReply {
  const status = statusOf(err.code);
  return reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send({ error: { code: err.code, message: scrubString(err.message), ...(err.details ? { details: err.details } : {}), requestId: req.id } });
}

export function installErrorHandling(app: FastifyInstance, onError: (code: ErrorCode) => void): void {
  app.setErrorHandler((err, req, reply) => {
    const ce = toCairnError(err);
    onError(ce.code);
    if (statusOf(ce.code) >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ code: ce.code }, 'request refused');
    return sendError(reply, req, ce);
  });
  app.setNotFoundHandler((req, reply) => {
    onError('CAIRN_ERR_NOT_FOUND');
    return sendError(reply, req, new CairnError('CAIRN_ERR_NOT_FOUND'));
  });
}

/** JSON schema of the error body, for OpenAPI. */
export const ErrorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOGUE) },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
        requestId: { type: 'string' },
      },
      required: ['code', 'message', 'requestId'],
    },
  },
  required: ['error'],
} as const;
