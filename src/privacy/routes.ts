/**
 * HTTP routes of the privacy core: orgs, sites, floors, zones, users, tokens, support grant,
 * audit, retention, keys. Thin: validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../http/schema.ts';
import { ROLES } from './context.ts';
import type { AuditQueries } from './audit/index.ts';
import type { IdentityService } from './identity/index.ts';
import type { KeyAdmin } from './keys/index.ts';
import type { RetentionService } from './retention/index.ts';
import type { TenancyService } from './tenancy/index.ts';

export interface PrivacyRouteDeps {
  tenancy: TenancyService;
  identity: IdentityService;
  auditQueries: AuditQueries;
  retention: RetentionService;
  keyAdmin: KeyAdmin;
}

const Org = Strict({ id: Id, name: Type.String(), country: Type.String(), region: Type.String(), createdAt: IsoTime });
const Site = Strict({ id: Id, orgId: Id, name: Type.String(), timezone: Type.String(), createdAt: IsoTime });
const Floor = Strict({ id: Id, orgId: Id, siteId: Id, name: Type.String(), level: Type.Integer(), widthM: Type.Number(), heightM: Type.Number(), hasPlan: Type.Boolean(), createdAt: IsoTime });
const Point = Type.Tuple([Type.Number(), Type.Number()], { description: '[x, y] in metres from the floor origin' });
const Zone = Strict({ id: Id, orgId: Id, siteId: Id, floorId: Id, name: Type.String(), polygon: Type.Array(Point), occupancyLimit: Type.Union([Type.Integer(), Type.Null()]), vendorZoneId: Type.Union([Type.String(), Type.Null()]), createdAt: IsoTime });
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const RoleBinding = Strict({ role: Role, siteId: Type.Optional(Type.Union([Id, Type.Null()])) });
const User = Strict({ id: Id, orgId: Id, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), disabled: Type.Boolean(), roles: Type.Array(Strict({ role: Role, siteId: Type.Union([Id, Type.Null()]) })), createdAt: IsoTime });
const TokenInfo = Strict({ id: Id, orgId: Id, name: Type.String(), role: Role, siteId: Type.Union([Id, Type.Null()]), expiresAt: IsoTime, revokedAt: Type.Union([IsoTime, Type.Null()]), lastUsedAt: Type.Union([IsoTime, Type.Null()]), createdAt: IsoTime });
const Grant = Strict({ orgId: Id, active: Type.Boolean(), grantedAt: Type.Union([IsoTime, Type.Null()]), expiresAt: Type.Union([IsoTime, Type.Null()]), revokedAt: Type.Union([IsoTime, Type.Null()]) });
const Policy = Strict({ dataClass: Type.String(), requirement: Type.String(), name: Type.String(), days: Type.Union([Type.Integer(), Type.Null()]), defaultDays: Type.Union([Type.Integer(), Type.Null()]), minDays: Type.Integer(), maxDays: Type.Integer(), overridden: Type.Boolean(), enforced: Type.Boolean(), description: Type.String() });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Timezone = Type.String({ minLength: 1, maxLength: 64 });
const Dim = Type.Number({ exclusiveMinimum: 0, maximum: 10000 });

export function privacyRoutes(app: FastifyInstance, d: PrivacyRouteDeps): void {
  const tags = (t: string) => ({ tags: [t] });

  // orgs
  app.get('/api/v1/orgs', { schema: { ...tags('orgs'), summary: 'Orgs the caller can see', response: withErrors({ 200: Type.Array(Org) }) } }, (req) => d.tenancy.listOrgs(ctxOf(req)));
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId', { schema: { ...tags('orgs'), params: OrgParams, response: withErrors({ 200: Org }) } }, (req) => d.tenancy.getOrg(ctxOf(req), req.params.orgId));
  app.patch<{ Params: { orgId: string }; Body: { name?: string } }>('/api/v1/orgs/:orgId', { schema: { ...tags('orgs'), params: OrgParams, body: Strict({ name: Type.Optional(Name) }), response: withErrors({ 200: Org }) } }, (req) => d.tenancy.updateOrg(ctxOf(req), req.params.orgId, req.body));

  // sites
  const SiteParams = Strict({ orgId: Id, siteId: Id });
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/sites', { schema: { ...tags('sites'), params: OrgParams, response: withErrors({ 200: Type.Array(Site) }) } }, (req) => d.tenancy.listSites(ctxOf(req), req.params.orgId));
  app.post<{ Params: { orgId: string }; Body: { name: string; timezone?: string } }>('/api/v1/orgs/:orgId/sites', { schema: { ...tags('sites'), params: OrgParams, body: Strict({ name: Name, timezone: Type.Optional(Timezone) }), response: withErrors({ 201: Site }) } }, async (req, reply) => reply.status(201).send(await d.tenancy.createSite(ctxOf(req), req.params.orgId, req.body)));
  app.get<{ Params: { orgId: string; siteId: string } }>('/api/v1/orgs/:orgId/sites/:siteId', { schema: { ...tags('sites'), params: SiteParams, response: withErrors({ 200: Site }) } }, (req) => d.tenancy.getSite(ctxOf(req), req.params.orgId, req.params.siteId));
  app.patch<{ Params: { orgId: string; siteId: string }; Body: { name?: string; timezone?: string } }>('/api/v1/orgs/:orgId/sites/:siteId', { schema: { ...tags('sites'), params: SiteParams, body: Strict({ name: Type.Optional(Name), timezone: Type.Optional(Timezone) }), response: withErrors({ 200: Site }) } }, (req) => d.tenancy.updateSite(ctxOf(req), req.params.orgId, req.params.siteId, req.body));
  app.delete<{ Params: { orgId: string; siteId: string } }>('/api/v1/orgs/:orgId/sites/:siteId', { schema: { ...tags('sites'), params: SiteParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await d.tenancy.deleteSite(ctxOf(req), req.params.orgId, req.params.siteId);
    return reply.status(204).send();
  });

  // floors
  const FloorParams = Strict({ orgId: Id, floorId: Id });
  const FloorBody = { name: Name, level: Type.Optional(Type.Integer({ minimum: -20, maximum: 300 })), widthM: Dim, heightM: Dim };
  app.get<{ Params: { orgId: string; siteId: string } }>('/api/v1/orgs/:orgId/sites/:siteId/floors', { schema: { ...tags('floors'), params: SiteParams, response: withErrors({ 200: Type.Array(Floor) }) } }, (req) => d.tenancy.listFloors(ctxOf(req), req.params.orgId, req.params.siteId));
  app.post<{ Params: { orgId: string; siteId: string }; Body: { name: string; level?: number; widthM: number; heightM: number } }>('/api/v1/orgs/:orgId/sites/:siteId/floors', { schema: { ...tags('floors'), params: SiteParams, body: Strict(FloorBody), response: withErrors({ 201: Floor }) } }, async (req, reply) => reply.status(201).send(await d.tenancy.createFloor(ctxOf(req), req.params.orgId, req.params.siteId, req.body)));
  app.get<{ Params: { orgId: string; floorId: string } }>('/api/v1/orgs/:orgId/floors/:floorId', { schema: { ...tags('floors'), params: FloorParams, response: withErrors({ 200: Floor }) } }, (req) => d.tenancy.getFloor(ctxOf(req), req.params.orgId, req.params.floorId));
  app.patch<{ Params: { orgId: string; floorId: string }; Body: { name?: string; level?: number; widthM?: number; heightM?: number } }>('/api/v1/orgs/:orgId/floors/:floorId', { schema: { ...tags('floors'), params: FloorParams, body: Strict({ name: Type.Optional(Name), level: Type.Optional(Type.Integer({ minimum: -20, maximum: 300 })), widthM: Type.Optional(Dim), heightM: Type.Optional(Dim) }), response: withErrors({ 200: Floor }) } }, (req) => d.tenancy.updateFloor(ctxOf(req), req.params.orgId, req.params.floorId, req.body));
  app.delete<{ Params: { orgId: string; floorId: string } }>('/api/v1/orgs/:orgId/floors/:floorId', { schema: { ...tags('floors'), params: FloorParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await d.tenancy.deleteFloor(ctxOf(req), req.params.orgId, req.params.floorId);
    return reply.status(204).send();
  });
  app.put<{ Params: { orgId: string; floorId: string }; Body: Buffer }>('/api/v1/orgs/:orgId/floors/:floorId/plan', { bodyLimit: 10 * 1024 * 1024, schema: { ...tags('floors'), summary: 'Upload the floor plan image (PNG, JPEG or WebP; at most 10 MB)', params: FloorParams, consumes: ['image/png', 'image/jpeg', 'image/webp'], response: withErrors({ 200: Floor }) } }, (req) => d.tenancy.setFloorPlan(ctxOf(req), req.params.orgId, req.params.floorId, req.body));
  app.get<{ Params: { orgId: string; floorId: string } }>('/api/v1/orgs/:orgId/floors/:floorId/plan', { schema: { ...tags('floors'), params: FloorParams } }, async (req, reply) => {
    const p = await d.tenancy.getFloorPlan(ctxOf(req), req.params.orgId, req.params.floorId);
    return reply.type(p.mime).header('cache-control', 'private, max-age=60').send(p.image);
  });

  // zones
  const ZoneParams = Strict({ orgId: Id, zoneId: Id });
  const Polygon = Type.Array(Point, { minItems: 3, maxItems: 500 });
  const Limit = Type.Union([Type.Integer({ minimum: 0, maximum: 1_000_000 }), Type.Null()]);
  const VendorZoneId = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], { description: 'The vendor\'s own zone id (Mist zone_id) whose enter/exit events count as this zone\'s; unique per org, null removes it.' });
  app.get<{ Params: { orgId: string; floorId: string } }>('/api/v1/orgs/:orgId/floors/:floorId/zones', { schema: { ...tags('zones'), params: FloorParams, response: withErrors({ 200: Type.Array(Zone) }) } }, (req) => d.tenancy.listZones(ctxOf(req), req.params.orgId, req.params.floorId));
  app.post<{ Params: { orgId: string; floorId: string }; Body: { name: string; polygon: [number, number][]; occupancyLimit?: number | null; vendorZoneId?: string | null } }>('/api/v1/orgs/:orgId/floors/:floorId/zones', { schema: { ...tags('zones'), params: FloorParams, body: Strict({ name: Name, polygon: Polygon, occupancyLimit: Type.Optional(Limit), vendorZoneId: Type.Optional(VendorZoneId) }), response: withErrors({ 201: Zone }) } }, async (req, reply) => reply.status(201).send(await d.tenancy.createZone(ctxOf(req), req.params.orgId, req.params.floorId, req.body)));
  app.get<{ Params: { orgId: string; zoneId: string } }>('/api/v1/orgs/:orgId/zones/:zoneId', { schema: { ...tags('zones'), params: ZoneParams, response: withErrors({ 200: Zone }) } }, (req) => d.tenancy.getZone(ctxOf(req), req.params.orgId, req.params.zoneId));
  app.patch<{ Params: { orgId: string; zoneId: string }; Body: { name?: string; polygon?: [number, number][]; occupancyLimit?: number | null; vendorZoneId?: string | null } }>('/api/v1/orgs/:orgId/zones/:zoneId', { schema: { ...tags('zones'), params: ZoneParams, body: Strict({ name: Type.Optional(Name), polygon: Type.Optional(Polygon), occupancyLimit: Type.Optional(Limit), vendorZoneId: Type.Optional(VendorZoneId) }), response: withErrors({ 200: Zone }) } }, (req) => d.tenancy.updateZone(ctxOf(req), req.params.orgId, req.params.zoneId, req.body));
  app.delete<{ Params: { orgId: string; zoneId: string } }>('/api/v1/orgs/:orgId/zones/:zoneId', { schema: { ...tags('zones'), params: ZoneParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await d.tenancy.deleteZone(ctxOf(req), req.params.orgId, req.params.zoneId);
    return reply.status(204).send();
  });

  // users
  const UserParams = Strict({ orgId: Id, userId: Id });
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/users', { schema: { ...tags('users'), params: OrgParams, response: withErrors({ 200: Type.Array(User) }) } }, (req) => d.identity.listUsers(ctxOf(req), req.params.orgId));
  app.post<{ Params: { orgId: string }; Body: { email: string; name?: string; password: string; roles: { role: (typeof ROLES)[number]; siteId?: string | null }[] } }>('/api/v1/orgs/:orgId/users', { schema: { ...tags('users'), params: OrgParams, body: Strict({ email: Type.String({ maxLength: 254 }), name: Type.Optional(Type.String({ maxLength: 200 })), password: Type.String({ maxLength: 1024 }), roles: Type.Array(RoleBinding, { minItems: 1, maxItems: 50 }) }), response: withErrors({ 201: User }) } }, async (req, reply) => reply.status(201).send(await d.identity.createUser(ctxOf(req), req.params.orgId, req.body)));
  app.get<{ Params: { orgId: string; userId: string } }>('/api/v1/orgs/:orgId/users/:userId', { schema: { ...tags('users'), params: UserParams, response: withErrors({ 200: User }) } }, (req) => d.identity.getUser(ctxOf(req), req.params.orgId, req.params.userId));
  app.patch<{ Params: { orgId: string; userId: string }; Body: { disabled: boolean } }>('/api/v1/orgs/:orgId/users/:userId', { schema: { ...tags('users'), params: UserParams, body: Strict({ disabled: Type.Boolean() }), response: withErrors({ 200: User }) } }, (req) => d.identity.setUserDisabled(ctxOf(req), req.params.orgId, req.params.userId, req.body.disabled));

  // tokens
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/tokens', { schema: { ...tags('tokens'), params: OrgParams, response: withErrors({ 200: Type.Array(TokenInfo) }) } }, (req) => d.identity.listTokens(ctxOf(req), req.params.orgId));
  app.post<{ Params: { orgId: string }; Body: { name: string; role: (typeof ROLES)[number]; siteId?: string | null; expiresInDays?: number } }>('/api/v1/orgs/:orgId/tokens', { schema: { ...tags('tokens'), summary: 'Issue a machine token; the secret is returned once', params: OrgParams, body: Strict({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Role, siteId: Type.Optional(Type.Union([Id, Type.Null()])), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })) }), response: withErrors({ 201: Type.Intersect([TokenInfo, Strict({ token: Type.String() })]) }) } }, async (req, reply) => reply.status(201).send(await d.identity.createToken(ctxOf(req), req.params.orgId, req.body)));
  app.delete<{ Params: { orgId: string; tokenId: string } }>('/api/v1/orgs/:orgId/tokens/:tokenId', { schema: { ...tags('tokens'), params: Strict({ orgId: Id, tokenId: Id }), response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await d.identity.revokeToken(ctxOf(req), req.params.orgId, req.params.tokenId);
    return reply.status(204).send();
  });

  // support grant (R-SEC-4)
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/support-grant', { schema: { ...tags('support'), params: OrgParams, response: withErrors({ 200: Grant }) } }, (req) => d.identity.getSupportGrant(ctxOf(req), req.params.orgId));
  app.put<{ Params: { orgId: string }; Body: { days: number } }>('/api/v1/orgs/:orgId/support-grant', { schema: { ...tags('support'), summary: 'Renew or re-enable the support grant for N days', params: OrgParams, body: Strict({ days: Type.Integer({ minimum: 1, maximum: 365 }) }), response: withErrors({ 200: Grant }) } }, (req) => d.identity.renewSupportGrant(ctxOf(req), req.params.orgId, req.body.days));
  app.delete<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/support-grant', { schema: { ...tags('support'), summary: 'Revoke the support grant', params: OrgParams, response: withErrors({ 200: Grant }) } }, (req) => d.identity.revokeSupportGrant(ctxOf(req), req.params.orgId));

  // audit
  const AuditEvent = Strict({ seq: Type.Integer(), at: IsoTime, actor: Type.String(), action: Type.String(), target: Type.String(), requestId: Type.String(), outcome: Type.String(), details: Type.Object({}, { additionalProperties: true }), hash: Type.String() });
  const Verify = Type.Object({ ok: Type.Boolean(), orgId: Id, eventsChecked: Type.Integer(), checkpointsChecked: Type.Integer(), firstSeq: Type.Union([Type.Integer(), Type.Null()]), lastSeq: Type.Union([Type.Integer(), Type.Null()]), firstBad: Type.Optional(Type.Object({ seq: Type.Integer(), reason: Type.String() })) });
  app.get<{ Params: { orgId: string }; Querystring: { beforeSeq?: number; limit?: number } }>('/api/v1/orgs/:orgId/audit', { schema: { ...tags('audit'), params: OrgParams, querystring: Strict({ beforeSeq: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }), response: withErrors({ 200: Type.Array(AuditEvent) }) } }, (req) => d.auditQueries.list(ctxOf(req), req.params.orgId, req.query));
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/audit/verify', { schema: { ...tags('audit'), summary: 'Verify the hash chain and signed checkpoints', params: OrgParams, response: withErrors({ 200: Verify }) } }, (req) => d.auditQueries.verify(ctxOf(req), req.params.orgId));
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/audit/keys', { schema: { ...tags('audit'), summary: 'Public keys that verify checkpoint signatures', params: OrgParams, response: withErrors({ 200: Type.Array(Strict({ id: Id, publicKeyPem: Type.String() })) }) } }, (req) => d.auditQueries.publicKeys(ctxOf(req), req.params.orgId));

  // retention
  app.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/retention', { schema: { ...tags('retention'), params: OrgParams, response: withErrors({ 200: Type.Array(Policy) }) } }, (req) => d.retention.list(ctxOf(req), req.params.orgId));
  app.put<{ Params: { orgId: string; dataClass: string }; Body: { days: number | null } }>('/api/v1/orgs/:orgId/retention/:dataClass', { schema: { ...tags('retention'), params: Strict({ orgId: Id, dataClass: Type.String({ maxLength: 64 }) }), body: Strict({ days: Type.Union([Type.Integer(), Type.Null()]) }), response: withErrors({ 200: Type.Array(Policy) }) } }, (req) => d.retention.set(ctxOf(req), req.params.orgId, req.params.dataClass, req.body.days));
  app.post<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/retention/run', { schema: { ...tags('retention'), summary: 'Purge expired data of this org now', params: OrgParams, response: withErrors({ 200: Strict({ orgId: Id, atIso: IsoTime, purged: Type.Record(Type.String(), Type.Integer()) }) }) } }, (req) => d.retention.runForOrg(ctxOf(req), req.params.orgId));

  // keys
  app.post<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/keys/rotate', { schema: { ...tags('keys'), summary: 'Rotate the org data key', params: OrgParams, response: withErrors({ 200: Strict({ dataKeyVersion: Type.Integer() }) }) } }, (req) => d.keyAdmin.rotate(ctxOf(req), req.params.orgId));
}
