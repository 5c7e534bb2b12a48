/**
 * HTTP routes of the optional people directory (R-CT-5, R-DATA-11): turn it on or off, import
 * people (CSV or JSON), add, read, remove, link and unlink devices. Identities go in only in
 * request bodies, never in URLs.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import type { DeviceRef, PeopleService } from './service.ts';

const tags = ['people'];
const PersonParams = Strict({ orgId: Id, personId: Id });
const Str = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description });
const PersonIn = Strict({
  personId: Str(128, 'The org\'s own id of the person (directory or employee id). Personal data: encrypted.'),
  name: Type.Optional(Type.String({ maxLength: 256, description: 'Personal data: encrypted under the org key.' })),
  email: Type.Optional(Type.String({ maxLength: 320, description: 'Personal data: encrypted under the org key.' })),
  macs: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 32, description: 'Device MACs: linked by pseudonym, never stored.' })),
  badges: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 32, description: 'Badge ids as the sources report them: linked by pseudonym, never stored.' })),
});
const Person = Strict({
  id: Id,
  personId: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  devices: Type.Array(Strict({ id: Type.String(), kind: Type.String(), linkedAt: IsoTime })),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
const Settings = Strict({ enabled: Type.Boolean(), people: Type.Integer() });
const ImportSummary = Strict({ people: Type.Integer(), created: Type.Integer(), updated: Type.Integer(), linked: Type.Integer(), unlinked: Type.Integer(), moved: Type.Integer(), ignored: Type.Array(Type.String()) });
const DeviceIn = Type.Union(
  [
    Strict({ mac: Type.String({ maxLength: 32, description: 'MAC in any usual notation.' }) }),
    Strict({ badge: Str(128, 'Badge id as the sources report it.') }),
    Strict({ app: Str(128, 'SDK app instance id.') }),
    Strict({ device: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'A device id (pseudonym).' }) }),
  ],
  { description: 'Exactly one of mac, badge, app or device. Linked by pseudonym only.' },
);
/** Import bodies: a JSON array of people or `{ people: [...] }`, or CSV text (`text/csv`). */
const IMPORT_MAX_BYTES = 32 * 1024 * 1024;

export async function peopleRoutes(app: FastifyInstance, people: PeopleService): Promise<void> {
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/people/settings', { schema: { tags, summary: 'Whether the org keeps a people directory, and its size', params: OrgParams, response: withErrors({ 200: Settings }) } }, (req) => people.settings(ctxOf(req), req.params.orgId));
  app.put<{ Params: { orgId: string }; Body: { enabled: boolean } }>(
    '/api/v1/orgs/:orgId/people/settings',
    { schema: { tags, summary: 'Turn the people directory on or off; off erases every person and link (audited)', params: OrgParams, body: Strict({ enabled: Type.Boolean() }), response: withErrors({ 200: Strict({ enabled: Type.Boolean(), people: Type.Integer(), erased: Strict({ people: Type.Integer(), links: Type.Integer() }) }) }) } },
    (req) => people.setEnabled(ctxOf(req), req.params.orgId, req.body.enabled),
  );
  app.get<{ Params: { orgId: string }; Querystring: { limit?: number; after?: string } }>(
    '/api/v1/orgs/:orgId/people',
    { schema: { tags, summary: 'People with decrypted names, e-mail addresses and linked devices (audited)', params: OrgParams, querystring: Strict({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), after: Type.Optional(Id) }), response: withErrors({ 200: Type.Array(Person) }) } },
    (req) => people.list(ctxOf(req), req.params.orgId, req.query),
  );
  app.post<{ Params: { orgId: string }; Body: { personId: string; name?: string; email?: string; macs?: string[]; badges?: string[] } }>(
    '/api/v1/orgs/:orgId/people',
    { schema: { tags, summary: 'Add one person (and link devices); a person id already there is a conflict (audited)', params: OrgParams, body: PersonIn, response: withErrors({ 200: Person }) } },
    (req) => people.create(ctxOf(req), req.params.orgId, req.body),
  );
  await app.register(async (scope) => {
    scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_MAX_BYTES }, (_req, body, done) => done(null, body));
    scope.post<{ Params: { orgId: string }; Body: string | unknown[] | { people: unknown[] } }>(
      '/api/v1/orgs/:orgId/people/import',
      {
        bodyLimit: IMPORT_MAX_BYTES,
        schema: {
          tags,
          summary: 'Import a directory: CSV (text/csv; header person_id,name,email,macs,badges; several MACs or badges separated by ;) or JSON (audited)',
          description: 'People already there (same person id) get the file\'s name, e-mail and exactly the file\'s devices; a device linked to someone else moves; people not in the file are left alone. CSV columns other than those are not read (listed in ignored). Needs the directory turned on (409 CAIRN_ERR_FEATURE_DISABLED).',
          params: OrgParams,
          body: Type.Union([Type.String({ maxLength: IMPORT_MAX_BYTES }), Type.Array(PersonIn, { maxItems: 50_000 }), Strict({ people: Type.Array(PersonIn, { maxItems: 50_000 }) })]),
          response: withErrors({ 200: ImportSummary }),
        },
      },
      (req) => people.import(ctxOf(req), req.params.orgId, typeof req.body === 'string' ? { csv: req.body } : { json: req.body }),
    );
  });
  app.get<{ Params: { orgId: string; personId: string } }>('/api/v1/orgs/:orgId/people/:personId', { schema: { tags, summary: 'One person with decrypted identity and linked devices (audited)', params: PersonParams, response: withErrors({ 200: Person }) } }, (req) => people.get(ctxOf(req), req.params.orgId, req.params.personId));
  app.delete<{ Params: { orgId: string; personId: string } }>(
    '/api/v1/orgs/:orgId/people/:personId',
    { schema: { tags, summary: 'Remove a person and every link (erasure; audited)', params: PersonParams, response: withErrors({ 200: Strict({ unlinked: Type.Integer() }) }) } },
    (req) => people.remove(ctxOf(req), req.params.orgId, req.params.personId),
  );
  app.post<{ Params: { orgId: string; personId: string }; Body: DeviceRef }>(
    '/api/v1/orgs/:orgId/people/:personId/devices',
    { schema: { tags, summary: 'Link a device to the person by MAC, badge id, app id or device id; stored as a pseudonym only (audited)', params: PersonParams, body: DeviceIn, response: withErrors({ 200: Strict({ id: Type.String(), kind: Type.String() }) }) } },
    (req) => people.link(ctxOf(req), req.params.orgId, req.params.personId, req.body),
  );
  app.delete<{ Params: { orgId: string; personId: string; deviceId: string } }>(
    '/api/v1/orgs/:orgId/people/:personId/devices/:deviceId',
    { schema: { tags, summary: 'Unlink a device from the person: the link is deleted (audited)', params: Strict({ orgId: Id, personId: Id, deviceId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }), response: withErrors({ 204: Type.Null() }) } },
    async (req, reply) => {
      await people.unlink(ctxOf(req), req.params.orgId, req.params.personId, req.params.deviceId);
      return reply.status(204).send();
    },
  );
}
