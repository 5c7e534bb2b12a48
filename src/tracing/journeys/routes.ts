/**
 * HTTP routes of journeys (R-CT-2): a device's or person's zone visits as JSON or CSV, by device
 * id or person id in the path, or by MAC or the org's own person id in a POST body (those never
 * go in a URL), and the org's dwell bands.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { MAX_BAND_MINUTES, type DwellBands } from './bands.ts';
import { JOURNEY_MAX_VISITS, journeyCsv, type Journey, type JourneyService } from './service.ts';

const tags = ['journeys'];
const DeviceId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Device id (the org\'s pseudonym, 32 hex digits).' });
const Format = Type.Union([Type.Literal('json'), Type.Literal('csv')], { description: 'json (default) or csv (text/csv, one line per visit).' });
const Limit = Type.Integer({ minimum: 1, maximum: JOURNEY_MAX_VISITS, description: `At most this many visits (default ${JOURNEY_MAX_VISITS}).` });
const Band = Type.Union([Type.Literal('passerby'), Type.Literal('bounce'), Type.Literal('engaged'), Type.Literal('stationed')]);
const Bands = Strict({
  passerbyMaxMinutes: Type.Integer({ minimum: 1, maximum: MAX_BAND_MINUTES, description: 'Passerby: dwell up to this (Mist: 5).' }),
  bounceMaxMinutes: Type.Integer({ minimum: 1, maximum: MAX_BAND_MINUTES, description: 'Bounce: dwell up to this (Mist: 240).' }),
  engagedMaxMinutes: Type.Integer({ minimum: 1, maximum: MAX_BAND_MINUTES, description: 'Engaged: dwell up to this (Mist: 480); stationed beyond.' }),
});
const NullableName = Type.Union([Type.String(), Type.Null()]);
const Visit = Strict({
  device: Type.String(),
  siteId: Type.String(),
  siteName: NullableName,
  floorId: Type.String(),
  floorName: NullableName,
  zoneId: Type.String(),
  zoneName: NullableName,
  enter: IsoTime,
  exit: Type.Union([IsoTime, Type.Null()]),
  dwellSeconds: Type.Integer(),
  band: Band,
  ongoing: Type.Boolean(),
});
const JourneyBody = Strict({
  orgId: Type.String(),
  subject: Strict({ kind: Type.Union([Type.Literal('device'), Type.Literal('person')]), devices: Type.Array(Type.String()), personId: Type.Optional(Type.String()) }),
  from: IsoTime,
  to: IsoTime,
  bands: Bands,
  visits: Type.Array(Visit),
  totals: Strict({ visits: Type.Integer(), dwellSeconds: Type.Integer(), byBand: Strict({ passerby: Type.Integer(), bounce: Type.Integer(), engaged: Type.Integer(), stationed: Type.Integer() }) }),
  truncated: Type.Boolean(),
  narrowed: Type.Boolean(),
});
const JourneyResponse = { ...JourneyBody, description: 'The journey (JSON); with format=csv the same visits as text/csv.' };

interface WindowQuery {
  from?: string | undefined;
  to?: string | undefined;
  limit?: number | undefined;
  format?: 'json' | 'csv' | undefined;
}

/** The window's ends and limit that were given (the service defaults the rest). */
function window(q: WindowQuery): { fromMs?: number; toMs?: number; limit?: number } {
  return { ...(q.from !== undefined ? { fromMs: Date.parse(q.from) } : {}), ...(q.to !== undefined ? { toMs: Date.parse(q.to) } : {}), ...(q.limit !== undefined ? { limit: q.limit } : {}) };
}

function send(reply: FastifyReply, j: Journey, format: 'json' | 'csv' | undefined): Journey | FastifyReply {
  if (format !== 'csv') return j;
  return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="journey.csv"').send(journeyCsv(j));
}

export function journeyRoutes(app: FastifyInstance, journeys: JourneyService): void {
  const Window = Strict({ from: Type.Optional(IsoTime), to: Type.Optional(IsoTime), limit: Type.Optional(Limit), format: Type.Optional(Format) });
  const windowDoc = 'The window is [from, to), the last 24 hours by default. Site admins see the visits at their own sites only (narrowed: true).';
  app.get<{ Params: { orgId: string; deviceId: string }; Querystring: WindowQuery }>(
    '/api/v1/orgs/:orgId/devices/:deviceId/journey',
    {
      schema: {
        tags,
        summary: 'Zone visits of a device, with enter, exit, dwell and dwell band, as JSON or CSV (audited)',
        description: `${windowDoc} To name the device by MAC, POST …/journeys/search: a MAC never goes in a URL.`,
        params: Strict({ orgId: Id, deviceId: DeviceId }),
        querystring: Window,
        response: withErrors({ 200: JourneyResponse }),
      },
    },
    async (req, reply) => send(reply, await journeys.query(ctxOf(req), req.params.orgId, { device: req.params.deviceId, ...window(req.query) }), req.query.format),
  );
  app.get<{ Params: { orgId: string; personId: string }; Querystring: WindowQuery }>(
    '/api/v1/orgs/:orgId/people/:personId/journey',
    {
      schema: {
        tags,
        summary: 'Zone visits of the devices linked to a person of the org\'s directory, as JSON or CSV (audited)',
        description: windowDoc,
        params: Strict({ orgId: Id, personId: Id }),
        querystring: Window,
        response: withErrors({ 200: JourneyResponse }),
      },
    },
    async (req, reply) => send(reply, await journeys.query(ctxOf(req), req.params.orgId, { personId: req.params.personId, ...window(req.query) }), req.query.format),
  );
  app.post<{ Params: { orgId: string }; Body: { device?: string; mac?: string; personId?: string; personRef?: string; from?: string; to?: string; limit?: number; format?: 'json' | 'csv' } }>(
    '/api/v1/orgs/:orgId/journeys/search',
    {
      schema: {
        tags,
        summary: 'The same journey, the device named by MAC (pseudonymised at once, never stored) or the person by the org\'s own person id (audited)',
        params: OrgParams,
        body: Strict({
          device: Type.Optional(DeviceId),
          mac: Type.Optional(Type.String({ maxLength: 32, description: 'MAC in any usual notation. Personal data: pseudonymised, not kept.' })),
          personId: Type.Optional(Id),
          personRef: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The org\'s own id of the person (directory id). Personal data: not kept.' })),
          from: Type.Optional(IsoTime),
          to: Type.Optional(IsoTime),
          limit: Type.Optional(Limit),
          format: Type.Optional(Format),
        }),
        response: withErrors({ 200: JourneyResponse }),
      },
    },
    async (req, reply) => {
      const { from, to, format, limit, ...subject } = req.body;
      const j = await journeys.query(ctxOf(req), req.params.orgId, { ...subject, ...window({ from, to, limit }) });
      return send(reply, j, format);
    },
  );
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/journeys/settings',
    { schema: { tags, summary: 'The org\'s dwell bands (Mist\'s defaults until set)', params: OrgParams, response: withErrors({ 200: Bands }) } },
    (req) => journeys.bands(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: DwellBands }>(
    '/api/v1/orgs/:orgId/journeys/settings',
    { schema: { tags, summary: 'Set the org\'s dwell bands (whole minutes, strictly increasing; audited)', params: OrgParams, body: Bands, response: withErrors({ 200: Bands }) } },
    (req) => journeys.setBands(ctxOf(req), req.params.orgId, req.body),
  );
}
