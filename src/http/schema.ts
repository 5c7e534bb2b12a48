/** Shared request/response schema pieces (TypeBox → JSON Schema → validation and OpenAPI). */
import type {} from '@fastify/swagger';
import type {} from '@fastify/cookie';
import { Type, type TSchema, type TProperties } from '@sinclair/typebox';
import { ErrorBody } from './errors.ts';

export const Id = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', description: 'Record id (UUIDv7).' });
export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601 time (UTC).' });

/** An object that refuses unknown fields. */
export function Strict<T extends TProperties>(props: T, opts: { description?: string } = {}) {
  return Type.Object(props, { additionalProperties: false, ...opts });
}

export const OrgParams = Strict({ orgId: Id });

/** Standard error responses for OpenAPI. */
export function withErrors(ok: Record<number, TSchema>): Record<number, unknown> {
  return { ...ok, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody, 429: ErrorBody };
}

export { Type };
