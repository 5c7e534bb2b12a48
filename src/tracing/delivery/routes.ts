/**
 * HTTP routes of delivery channels (org admins manage and test them; privacy officers and
 * support read them and the record of what was sent). Secrets, URLs' paths and recipients are
 * write-only. Thin: validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, Strict, withErrors } from '../../http/schema.ts';
import type { ChannelInput, ChannelPatch, DeliveryService } from './index.ts';

const Kind = Type.Union([Type.Literal('webhook'), Type.Literal('email')]);
const Tls = Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')], { description: 'tls: implicit TLS (port 465); starttls: upgrade required (587); none: plain, for a relay on the local network.' });
const Topics = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 20, description: 'Topics the channel receives, e.g. occupancy-alerts.' });
const Address = Type.String({ minLength: 3, maxLength: 320 });
const WebhookIn = { url: Type.String({ minLength: 8, maxLength: 2048, description: 'http(s) URL the messages are POSTed to. Stored encrypted; only its origin is shown again.' }) };
const SecretIn = Type.String({ maxLength: 256, description: 'HMAC-SHA256 signing secret, 16-256 characters; left out on creation (or "" on change), Cairn makes one and shows it once.' });
const EmailIn = {
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  tls: Tls,
  tlsVerify: Type.Optional(Type.Boolean({ description: 'Check the server\'s certificate (default true).' })),
  user: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])),
  password: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
  from: Address,
  to: Type.Array(Address, { minItems: 1, maxItems: 50, description: 'Recipients (personal: stored encrypted; only their number is shown again).' }),
};
const ChannelBody = Strict({
  kind: Kind,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  enabled: Type.Optional(Type.Boolean()),
  topics: Topics,
  siteId: Type.Optional(Type.Union([Id, Type.Null()])),
  webhook: Type.Optional(Strict({ ...WebhookIn, secret: Type.Optional(SecretIn) })),
  email: Type.Optional(Strict(EmailIn)),
});
const ChannelPatchBody = Strict({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  enabled: Type.Optional(Type.Boolean()),
  topics: Type.Optional(Topics),
  siteId: Type.Optional(Type.Union([Id, Type.Null()])),
  webhook: Type.Optional(Strict({ url: Type.Optional(WebhookIn.url), secret: Type.Optional(SecretIn) })),
  email: Type.Optional(Type.Partial(Strict(EmailIn))),
});
const Channel = Strict({
  id: Id,
  orgId: Id,
  kind: Kind,
  name: Type.String(),
  enabled: Type.Boolean(),
  topics: Type.Array(Type.String()),
  siteId: Type.Union([Id, Type.Null()]),
  webhook: Type.Optional(Strict({ origin: Type.String(), secretSet: Type.Boolean() })),
  email: Type.Optional(Strict({ host: Type.String(), port: Type.Integer(), tls: Tls, tlsVerify: Type.Boolean(), userSet: Type.Boolean(), fromSet: Type.Boolean(), recipients: Type.Integer() })),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  secret: Type.Optional(Type.String({ description: 'The generated signing secret; shown only in this answer.' })),
});
const Delivery = Strict({
  id: Id,
  channelId: Id,
  topic: Type.String(),
  sourceId: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('cancelled')]),
  attempts: Type.Integer(),
  nextAt: Type.Union([IsoTime, Type.Null()]),
  createdAt: IsoTime,
  doneAt: Type.Union([IsoTime, Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()], { description: 'Outcome code of the last failure: http_503, timeout, connect_refused, dns, private_target, smtp_550, …' }),
  attemptLog: Type.Array(Strict({ attempt: Type.Integer(), at: IsoTime, durationMs: Type.Integer(), ok: Type.Boolean(), status: Type.Union([Type.Integer(), Type.Null()]), error: Type.Union([Type.String(), Type.Null()]) })),
});

export function deliveryRoutes(app: FastifyInstance, delivery: DeliveryService): void {
  const tags = ['delivery'];
  const OrgParams = Strict({ orgId: Id });
  const ChannelParams = Strict({ orgId: Id, channelId: Id });
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/delivery/channels',
    { schema: { tags, summary: 'The org\'s delivery channels (webhooks, e-mail)', params: OrgParams, response: withErrors({ 200: Type.Array(Channel) }) } },
    (req) => delivery.channels.list(ctxOf(req), req.params.orgId),
  );
  app.post<{ Params: { orgId: string }; Body: ChannelInput }>(
    '/api/v1/orgs/:orgId/delivery/channels',
    { schema: { tags, summary: 'Add a webhook or e-mail channel', params: OrgParams, body: ChannelBody, response: withErrors({ 201: Channel }) } },
    async (req, reply) => reply.status(201).send(await delivery.channels.create(ctxOf(req), req.params.orgId, req.body)),
  );
  app.get<{ Params: { orgId: string; channelId: string } }>(
    '/api/v1/orgs/:orgId/delivery/channels/:channelId',
    { schema: { tags, summary: 'One channel', params: ChannelParams, response: withErrors({ 200: Channel }) } },
    (req) => delivery.channels.get(ctxOf(req), req.params.orgId, req.params.channelId),
  );
  app.patch<{ Params: { orgId: string; channelId: string }; Body: ChannelPatch }>(
    '/api/v1/orgs/:orgId/delivery/channels/:channelId',
    { schema: { tags, summary: 'Change a channel (secrets and recipients are replaced whole)', params: ChannelParams, body: ChannelPatchBody, response: withErrors({ 200: Channel }) } },
    (req) => delivery.channels.update(ctxOf(req), req.params.orgId, req.params.channelId, req.body),
  );
  app.delete<{ Params: { orgId: string; channelId: string } }>(
    '/api/v1/orgs/:orgId/delivery/channels/:channelId',
    { schema: { tags, summary: 'Remove a channel (its pending deliveries are cancelled)', params: ChannelParams, response: withErrors({ 204: Type.Null() }) } },
    async (req, reply) => {
      await delivery.channels.remove(ctxOf(req), req.params.orgId, req.params.channelId);
      return reply.status(204).send();
    },
  );
  app.post<{ Params: { orgId: string; channelId: string } }>(
    '/api/v1/orgs/:orgId/delivery/channels/:channelId/test',
    { schema: { tags, summary: 'Send a ping through the channel now; its outcome shows in the deliveries', params: ChannelParams, response: withErrors({ 202: Strict({ deliveryId: Id }) }) } },
    async (req, reply) => reply.status(202).send(await delivery.test(ctxOf(req), req.params.orgId, req.params.channelId)),
  );
  app.get<{ Params: { orgId: string }; Querystring: { channelId?: string; state?: string; sourceId?: string; limit?: number } }>(
    '/api/v1/orgs/:orgId/delivery/deliveries',
    {
      schema: {
        tags,
        summary: 'What was sent, to which channel, and every attempt (newest first)',
        params: OrgParams,
        querystring: Strict({
          channelId: Type.Optional(Id),
          state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('cancelled')])),
          sourceId: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: withErrors({ 200: Type.Array(Delivery) }),
      },
    },
    (req) => delivery.list(ctxOf(req), req.params.orgId, req.query),
  );
}
