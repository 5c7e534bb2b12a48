/** HTTP routes of device records: sensors report, admins read (audited), observers count. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../http/schema.ts';
import type { DeviceReport, DeviceService } from './service.ts';

const Device = Strict({ id: Type.String(), siteId: Type.Union([Id, Type.Null()]), kind: Type.String(), randomized: Type.Boolean(), firstSeen: IsoTime, lastSeen: IsoTime, ip: Type.Union([Type.String(), Type.Null()]), username: Type.Union([Type.String(), Type.Null()]), hostname: Type.Union([Type.String(), Type.Null()]) });
const Report = Strict({
  mac: Type.String({ maxLength: 32 }),
  kind: Type.Union([Type.Literal('wifi'), Type.Literal('wired'), Type.Literal('ble')]),
  siteId: Type.Optional(Type.Union([Id, Type.Null()])),
  seenAt: IsoTime,
  ip: Type.Optional(Type.String({ maxLength: 64 })),
  username: Type.Optional(Type.String({ maxLength: 256 })),
  hostname: Type.Optional(Type.String({ maxLength: 256 })),
});

export function deviceRoutes(app: FastifyInstance, devices: DeviceService): void {
  const tags = ['devices'];
  app.post<{ Params: { orgId: string }; Body: { devices: (Omit<DeviceReport, 'seenAtMs'> & { seenAt: string })[] } }>('/api/v1/orgs/:orgId/devices', { schema: { tags, summary: 'Report devices seen (sensor tokens); identifiers are pseudonymised at once', params: OrgParams, body: Strict({ devices: Type.Array(Report, { minItems: 1, maxItems: 1000 }) }), response: withErrors({ 200: Strict({ accepted: Type.Integer(), ids: Type.Array(Type.String()) }) }) } }, async (req) => {
    const ids = await devices.report(ctxOf(req), req.params.orgId, req.body.devices.map(({ seenAt, ...r }) => ({ ...r, seenAtMs: Date.parse(seenAt) })));
    return { accepted: ids.length, ids };
  });
  app.get<{ Params: { orgId: string }; Querystring: { siteId?: string; limit?: number; after?: string } }>('/api/v1/orgs/:orgId/devices', { schema: { tags, summary: 'Devices with decrypted personal fields (audited)', params: OrgParams, querystring: Strict({ siteId: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), after: Type.Optional(Type.String({ maxLength: 64 })) }), response: withErrors({ 200: Type.Array(Device) }) } }, (req) => devices.list(ctxOf(req), req.params.orgId, req.query));
  app.get<{ Params: { orgId: string }; Querystring: { siteId?: string; windowMinutes?: number } }>('/api/v1/orgs/:orgId/devices/count', { schema: { tags, summary: 'How many devices were seen recently (aggregate, no ids)', params: OrgParams, querystring: Strict({ siteId: Type.Optional(Id), windowMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440 })) }), response: withErrors({ 200: Strict({ total: Type.Integer(), randomized: Type.Integer(), windowMinutes: Type.Integer() }) }) } }, (req) => devices.count(ctxOf(req), req.params.orgId, req.query));
}
