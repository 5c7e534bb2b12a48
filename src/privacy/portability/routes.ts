/**
 * HTTP routes of portability and records of processing: the org export streamed as a ZIP
 * (`POST …/export` for API clients, `GET …/export` for a dashboard download link; the body is
 * piped from the store to the socket, never buffered or spooled), the records of processing as
 * JSON or Markdown, and what the controller fills in (its details, the legal basis of each
 * activity). Thin: validate, take the caller's context, call the service.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { LEGAL_BASES, type LegalBasis } from './activities.ts';
import type { PortabilityService } from './export.ts';
import { ropaMarkdown, type ControllerDetails, type RopaService } from './ropa.ts';

const tags = ['portability and records'];
const Text = Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]);
const Basis = Type.Union([...LEGAL_BASES.map((b) => Type.Literal(b)), Type.Null()]);
const ActivityParams = Strict({ orgId: Id, activityId: Type.String({ minLength: 3, maxLength: 100, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$' }) });
const Controller = Strict({ name: Type.Optional(Text), contact: Type.Optional(Text), representative: Type.Optional(Text), dataProtectionOfficer: Type.Optional(Text) });
const Zip = Type.String({ format: 'binary', description: 'A ZIP archive: README.txt, data/<exporter>.jsonl (one JSON object per line), manifest.json (per file: data class, rows, bytes, SHA-256).' });

export function portabilityRoutes(app: FastifyInstance, d: { exports: PortabilityService; ropa: RopaService }): void {
  const exportOrg = async (req: FastifyRequest<{ Params: { orgId: string } }>, reply: FastifyReply) => {
    // Access, the busy check and the start audit happen before any byte is sent, so a refusal is a normal error answer.
    const job = await d.exports.open(ctxOf(req), req.params.orgId);
    const body = new PassThrough({ highWaterMark: 256 * 1024 });
    job.run(body).catch(() => undefined); // failures are audited and end the stream early
    return reply.type('application/zip').header('content-disposition', `attachment; filename="${job.fileName}"`).header('cache-control', 'no-store').send(body);
  };
  const exportSchema = (method: string) => ({
    tags,
    summary: `Export all of the org's data, decrypted, as a streamed ZIP archive (org admins; audited)${method === 'GET' ? ' (a download link for the dashboard)' : ''}`,
    params: OrgParams,
    response: withErrors({ 200: Zip }),
  });
  app.post<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/export', { schema: exportSchema('POST') }, exportOrg);
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/export', { schema: exportSchema('GET') }, exportOrg);

  app.get<{ Params: { orgId: string }; Querystring: { format?: 'json' | 'md' } }>(
    '/api/v1/orgs/:orgId/ropa',
    {
      schema: {
        tags,
        summary: 'Records of processing activities (GDPR Art. 30), generated from the org\'s settings: JSON, or Markdown with format=md',
        params: OrgParams,
        querystring: Strict({ format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('md')])) }),
        response: withErrors({ 200: Type.Object({}, { additionalProperties: true, description: 'The records (JSON, format cairn-ropa/1); text/markdown with format=md.' }) }),
      },
    },
    async (req, reply) => {
      const doc = await d.ropa.generate(ctxOf(req), req.params.orgId);
      if (req.query.format !== 'md') return doc;
      return reply.type('text/markdown; charset=utf-8').header('content-disposition', `inline; filename="ropa-${req.params.orgId}.md"`).send(ropaMarkdown(doc));
    },
  );
  app.put<{ Params: { orgId: string }; Body: { [K in keyof ControllerDetails]?: string | null } }>(
    '/api/v1/orgs/:orgId/ropa/controller',
    { bodyLimit: 16 * 1024, schema: { tags, summary: 'Set the controller\'s details for the records (name, contact, representative, data-protection officer; personal, stored encrypted); null clears a field', params: OrgParams, body: Controller, response: withErrors({ 200: Controller }) } },
    (req) => d.ropa.setController(ctxOf(req), req.params.orgId, req.body),
  );
  app.put<{ Params: { orgId: string; activityId: string }; Body: { legalBasis: LegalBasis | null; note?: string | null } }>(
    '/api/v1/orgs/:orgId/ropa/activities/:activityId',
    {
      bodyLimit: 8 * 1024,
      schema: {
        tags,
        summary: 'Record the legal basis (GDPR Art. 6(1)) the org chose for a processing activity, with an optional note',
        params: ActivityParams,
        body: Strict({ legalBasis: Basis, note: Type.Optional(Text) }),
        response: withErrors({ 200: Strict({ activityId: Type.String(), legalBasis: Basis, note: Text }) }),
      },
    },
    (req) => d.ropa.setActivity(ctxOf(req), req.params.orgId, req.params.activityId, req.body),
  );
}
