/**
 * HTTP routes of the Cisco Spaces firehose (`firehose.ts`):
 *
 * - `GET|PUT /api/v1/orgs/{orgId}/ingest/spaces-firehose`: on/off, stream URL and API key. Org
 *   admins write; the readers of the ingest settings see the URL and whether a key is set, never
 *   the key.
 * - `GET /api/v1/orgs/{orgId}/ingest/spaces-firehose/status`: connected, last event time, events
 *   accepted and rejected, last error code.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { IsoTime, OrgParams, Strict, withErrors } from '../http/schema.ts';
import type { FirehoseSettingsPatch, SpacesFirehoseService } from './firehose.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const FirehoseView = Strict({
  enabled: Type.Boolean({ description: 'The server streams this org\'s firehose while it runs.' }),
  url: Nullable(Type.String({ description: 'The partner firehose endpoint, e.g. https://partners.ciscospaces.io/api/partners/v1/firehose/events.' })),
  apiKeySet: Type.Boolean({ description: 'An API key is stored (encrypted under the org key; never shown).' }),
  updatedAt: Nullable(IsoTime),
});

const FirehosePatch = Strict({
  enabled: Type.Optional(Type.Boolean({ description: 'Stream the firehose (needs url and apiKey).' })),
  url: Type.Optional(Nullable(Type.String({ minLength: 8, maxLength: 2048, description: 'https URL of the firehose on a host the server allows (spacesFirehoseHosts); a new URL starts the stream afresh.' }))),
  apiKey: Type.Optional(Nullable(Type.String({ minLength: 8, maxLength: 512, description: 'The partner app\'s API key (X-API-Key); stored encrypted, never shown; null removes it.' }))),
});

const Count = Type.Integer({ minimum: 0 });
const FirehoseStatus = Strict({
  enabled: Type.Boolean(),
  state: Type.Union(['off', 'connecting', 'streaming', 'backoff', 'stopped'].map((s) => Type.Literal(s)), { description: 'off: not enabled; stopped: enabled but not streaming in this server (not serving, key refused, host not allowed).' }),
  connected: Type.Boolean({ description: 'A stream is open and being read now.' }),
  lastEventAt: Nullable(IsoTime),
  accepted: Count,
  rejected: Count,
  duplicates: Count,
  lastErrorCode: Nullable(Type.String({ description: 'Why the last connection failed or ended: http_<status>, disconnected, ended, idle, unauthenticated, sink_error, host_not_allowed, not_configured.' })),
  lastErrorAt: Nullable(IsoTime),
  since: Nullable(IsoTime),
});

export function firehoseRoutes(app: FastifyInstance, firehose: SpacesFirehoseService): void {
  const tags = ['ingest'];
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/ingest/spaces-firehose',
    { schema: { tags, summary: 'The org\'s Cisco Spaces firehose: on/off, URL, whether a key is set', params: OrgParams, response: withErrors({ 200: FirehoseView }) } },
    (req) => firehose.read(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: FirehoseSettingsPatch }>(
    '/api/v1/orgs/:orgId/ingest/spaces-firehose',
    { schema: { tags, summary: 'Turn the Cisco Spaces firehose on or off, set its URL and API key (audited; the running stream restarts)', params: OrgParams, body: FirehosePatch, response: withErrors({ 200: FirehoseView }) } },
    (req) => firehose.update(ctxOf(req), req.params.orgId, req.body),
  );
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/ingest/spaces-firehose/status',
    { schema: { tags, summary: 'How the org\'s Cisco Spaces firehose is doing (counts since its stream started)', params: OrgParams, response: withErrors({ 200: FirehoseStatus }) } },
    (req) => firehose.status(ctxOf(req), req.params.orgId),
  );
}
