/**
 * HTTP routes of the e-mail side of threat analysis: the quarantine (list, preview, release,
 * delete; org admins for every message, any person of the org for their own) and the org's relay
 * and IMAP settings. Thin: validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import type { EmailService } from './service.ts';
import type { EmailSettingsInput } from './settings.ts';
import { MAIL_ACTIONS, MAIL_LANGUAGES } from './types.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const State = Type.Union(['clean', 'suspicious', 'malicious', 'unknown'].map((s) => Type.Literal(s)));
const Entry = Strict({
  id: Id,
  source: Type.Union([Type.Literal('smtp'), Type.Literal('imap')]),
  status: Type.Union([Type.Literal('held'), Type.Literal('released')]),
  receivedAt: IsoTime,
  releasedAt: Nullable(IsoTime),
  sender: Nullable(Type.String()),
  recipient: Type.String(),
  subject: Nullable(Type.String()),
  sizeBytes: Type.Integer(),
  score: Type.Number(),
  state: State,
  attachmentCount: Type.Integer(),
});
const Reason = Strict({ source: Type.String(), code: Type.String(), message: Type.String(), score: Type.Number(), part: Type.Optional(Type.String()), incomplete: Type.Optional(Type.Boolean()) });
const Attachment = Strict({ part: Type.String(), name: Nullable(Type.String()), contentType: Type.String(), sizeBytes: Type.Integer(), sha256: Type.String(), subtype: Type.String(), score: Type.Number(), state: State, codes: Type.Array(Type.String()) });
const Preview = Strict({
  ...Entry.properties,
  headers: Type.Array(Strict({ name: Type.String(), value: Type.String() })),
  text: Type.String({ description: 'Plain text only (HTML converted to text), at most 100 000 characters.' }),
  textTruncated: Type.Boolean(),
  attachments: Type.Array(Attachment),
  reasons: Type.Array(Reason),
});
const Action = Type.Union(MAIL_ACTIONS.map((a) => Type.Literal(a)));
const Language = Type.Union(MAIL_LANGUAGES.map((l) => Type.Literal(l)));
const Folder = Type.String({ minLength: 1, maxLength: 200 });
const Settings = Strict({
  domains: Type.Array(Type.String()),
  maliciousAction: Action,
  suspiciousAction: Action,
  language: Language,
  imap: Strict({ enabled: Type.Boolean(), host: Nullable(Type.String()), port: Nullable(Type.Integer()), tls: Type.Boolean(), user: Nullable(Type.String()), passwordSet: Type.Boolean(), mailbox: Type.String(), quarantineFolder: Type.String() }),
  updatedAt: Nullable(IsoTime),
});
const SettingsBody = Strict({
  domains: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 100, description: 'Domains the relay accepts mail for (each served for one org only).' })),
  maliciousAction: Type.Optional(Action),
  suspiciousAction: Type.Optional(Action),
  language: Type.Optional(Language),
  imap: Type.Optional(
    Strict({
      enabled: Type.Optional(Type.Boolean()),
      host: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 253 }))),
      port: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 65535 }))),
      tls: Type.Optional(Type.Boolean()),
      user: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 320 }))),
      password: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 1024, description: 'Write-only; stored encrypted under the org key.' }))),
      mailbox: Type.Optional(Folder),
      quarantineFolder: Type.Optional(Folder),
    }),
  ),
});
const MessageParams = Strict({ orgId: Id, messageId: Id });

export function emailRoutes(app: FastifyInstance, mail: EmailService): void {
  const tags = ['threat: e-mail'];
  const base = '/api/v1/orgs/:orgId/threat/quarantine';
  app.get<{ Params: { orgId: string }; Querystring: { limit?: number; before?: string } }>(base, { schema: { tags, summary: 'Quarantined mail, newest first: every message for org admins, the caller\'s own otherwise (audited)', params: OrgParams, querystring: Strict({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), before: Type.Optional(Id) }), response: withErrors({ 200: Type.Array(Entry) }) } }, (req) =>
    mail.quarantine.list(ctxOf(req), req.params.orgId, req.query),
  );
  app.get<{ Params: { orgId: string; messageId: string } }>(`${base}/:messageId`, { schema: { tags, summary: 'Preview: headers, plain text and attachments of a quarantined message, no active content (audited)', params: MessageParams, response: withErrors({ 200: Preview }) } }, (req) =>
    mail.quarantine.preview(ctxOf(req), req.params.orgId, req.params.messageId),
  );
  app.post<{ Params: { orgId: string; messageId: string } }>(`${base}/:messageId/release`, { schema: { tags, summary: 'Release a quarantined message to its recipient (audited)', params: MessageParams, response: withErrors({ 200: Entry }) } }, (req) =>
    mail.quarantine.release(ctxOf(req), req.params.orgId, req.params.messageId),
  );
  app.delete<{ Params: { orgId: string; messageId: string } }>(`${base}/:messageId`, { schema: { tags, summary: 'Delete a quarantined message for good (audited)', params: MessageParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await mail.quarantine.delete(ctxOf(req), req.params.orgId, req.params.messageId);
    return reply.status(204).send();
  });
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/threat/email/settings', { schema: { tags, summary: 'The org\'s mail domains, policy, language and IMAP mailbox (password never shown; audited)', params: OrgParams, response: withErrors({ 200: Settings }) } }, (req) =>
    mail.settings.get(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: EmailSettingsInput }>('/api/v1/orgs/:orgId/threat/email/settings', { schema: { tags, summary: 'Change the org\'s mail settings; fields left out keep their value (audited)', params: OrgParams, body: SettingsBody, response: withErrors({ 200: Settings }) } }, (req) =>
    mail.settings.set(ctxOf(req), req.params.orgId, req.body),
  );
}
