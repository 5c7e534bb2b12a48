/**
 * HTTP routes of live occupancy and hot-zone alerts: live counts, their server-sent-event stream
 * and minute history (aggregates: every reader of the site, observers included), org settings
 * and zone baselines (admins configure), alerts (admins, privacy officers, support). Thin:
 * validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, Strict, withErrors } from '../../http/schema.ts';
import type { BaselineInput, OccupancyService } from './service.ts';
import type { OccupancySettingsPatch } from './settings.ts';

const Policy = Type.Union([Type.Literal('count'), Type.Literal('skip'), Type.Literal('separate')], {
  description: 'Randomised addresses: count (every address once; a phone that changes address within the window counts twice), skip (left out), separate (left out of the figure alerts compare, reported beside it).',
});
const AlertSettings = {
  enabled: Type.Boolean(),
  holdMinutes: Type.Integer({ minimum: 0, maximum: 30, description: 'Minutes a zone stays over its limit before a violation is raised (and at or under the clear level before it recovers).' }),
  hysteresisPercent: Type.Integer({ minimum: 0, maximum: 50, description: 'A violation clears at or below the limit minus this percentage of it.' }),
  revealIdentities: Type.Boolean({ description: 'Alerts carry the tracked devices\' pseudonyms (never addresses). Off by default.' }),
};
const Settings = Strict({
  windowMinutes: Type.Integer({ description: 'A device counts where it was last seen for this many minutes.' }),
  randomized: Policy,
  alerts: Strict(AlertSettings),
});
const SettingsBody = Strict({
  windowMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
  randomized: Type.Optional(Policy),
  alerts: Type.Optional(Type.Partial(Strict(AlertSettings))),
});
const Counted = {
  figure: Type.Integer({ description: 'What alerts compare: the randomised-address policy applied.' }),
  devices: Type.Integer({ description: 'Every address counted.' }),
  randomized: Type.Integer({ description: 'Randomised addresses among them.' }),
};
const Phase = Type.Union([Type.Literal('ok'), Type.Literal('over'), Type.Literal('violation'), Type.Literal('clearing')]);
const Source = Type.Union([Type.Literal('fixed'), Type.Literal('learned'), Type.Literal('zone')]);
const SiteLive = Strict({
  orgId: Id,
  siteId: Id,
  name: Type.String(),
  at: IsoTime,
  source: Type.Union([Type.Literal('memory'), Type.Literal('store')]),
  asOf: Type.Union([IsoTime, Type.Null()]),
  windowMinutes: Type.Integer(),
  randomizedPolicy: Policy,
  ...Counted,
  floors: Type.Array(Strict({ floorId: Id, name: Type.String(), level: Type.Integer(), ...Counted, outsideZones: Strict(Counted) })),
  zones: Type.Array(Strict({ zoneId: Id, floorId: Id, name: Type.String(), ...Counted, limit: Type.Union([Type.Integer(), Type.Null()]), baseline: Type.Union([Source, Type.Null()]), alert: Phase })),
});
const Baseline = Strict({
  zoneId: Id,
  mode: Type.Union([Type.Literal('zone'), Type.Literal('fixed'), Type.Literal('learned'), Type.Literal('off')]),
  limit: Type.Union([Type.Integer(), Type.Null()]),
  percentile: Type.Union([Type.Number(), Type.Null()]),
  lookbackDays: Type.Union([Type.Integer(), Type.Null()]),
  learned: Type.Union([Type.Array(Type.Union([Type.Integer(), Type.Null()])), Type.Null()], { description: '168 limits, one per hour of week in the site\'s time zone, Monday 00:00 first.' }),
  learnedAt: Type.Union([IsoTime, Type.Null()]),
  learnedMinutes: Type.Integer(),
  current: Type.Union([Strict({ limit: Type.Integer(), source: Source }), Type.Null()]),
});
const BaselineBody = Strict({
  mode: Type.Union([Type.Literal('zone'), Type.Literal('fixed'), Type.Literal('learned'), Type.Literal('off')], { description: 'fixed: limit; learned: percentile of the history per hour of week; off: no alerts; zone: the zone\'s own occupancy limit.' }),
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  percentile: Type.Optional(Type.Number({ minimum: 50, maximum: 100 })),
  lookbackDays: Type.Optional(Type.Integer({ minimum: 7, maximum: 365 })),
});
const Alert = Strict({
  id: Id,
  type: Type.Union([Type.Literal('COMPLIANCE-VIOLATION'), Type.Literal('COMPLIANCE-OK')]),
  episodeId: Id,
  siteId: Id,
  floorId: Id,
  zoneId: Id,
  at: IsoTime,
  occupancy: Type.Integer(),
  randomized: Type.Integer(),
  limit: Type.Integer(),
  baseline: Type.String(),
  devices: Type.Optional(Type.Array(Type.String(), { description: 'Pseudonyms; only with identities=true, where recorded.' })),
});
const History = Strict({
  at: IsoTime,
  floorId: Id,
  zoneId: Type.String({ description: 'Zone id, or "" for the floor outside every zone.' }),
  sighted: Type.Integer(),
  sightedRandomized: Type.Integer(),
  occupancy: Type.Union([Type.Integer(), Type.Null()]),
  occupancyRandomized: Type.Union([Type.Integer(), Type.Null()]),
  peak: Type.Union([Type.Integer(), Type.Null()]),
  peakRandomized: Type.Union([Type.Integer(), Type.Null()]),
});

export function occupancyRoutes(app: FastifyInstance, occupancy: OccupancyService): void {
  const tags = ['occupancy'];
  const OrgParams = Strict({ orgId: Id });
  const SiteParams = Strict({ orgId: Id, siteId: Id });
  const ZoneParams = Strict({ orgId: Id, zoneId: Id });
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/occupancy/settings',
    { schema: { tags, summary: 'Occupancy window, randomised-address policy and alert rules', params: OrgParams, response: withErrors({ 200: Settings }) } },
    (req) => occupancy.getSettings(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: OccupancySettingsPatch }>(
    '/api/v1/orgs/:orgId/occupancy/settings',
    { schema: { tags, summary: 'Change the occupancy settings (fields left out stay)', params: OrgParams, body: SettingsBody, response: withErrors({ 200: Settings }) } },
    (req) => occupancy.updateSettings(ctxOf(req), req.params.orgId, req.body),
  );
  app.get<{ Params: { orgId: string; siteId: string } }>(
    '/api/v1/orgs/:orgId/sites/:siteId/occupancy',
    { schema: { tags, summary: 'Live counts per zone and floor (aggregates, no device ids)', params: SiteParams, response: withErrors({ 200: SiteLive }) } },
    (req) => occupancy.live(ctxOf(req), req.params.orgId, req.params.siteId),
  );
  app.get<{ Params: { orgId: string; siteId: string }; Querystring: { maxEvents?: number } }>(
    '/api/v1/orgs/:orgId/sites/:siteId/occupancy/stream',
    {
      schema: {
        tags,
        summary: 'Server-sent events: snapshot, then occupancy changes (and alerts, for those who may read them)',
        params: SiteParams,
        querystring: Strict({ maxEvents: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Close after this many events (1: the snapshot only).' })) }),
        response: withErrors({ 200: Type.String({ description: 'text/event-stream' }) }),
      },
    },
    async (req, reply) => {
      await occupancy.stream(ctxOf(req), req.params.orgId, req.params.siteId, () => {
        for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) reply.raw.setHeader(k, v as string);
        reply.hijack();
        return reply.raw;
      }, req.query.maxEvents !== undefined ? { maxEvents: req.query.maxEvents } : {});
    },
  );
  app.get<{ Params: { orgId: string; siteId: string }; Querystring: { from?: string; to?: string; zoneId?: string } }>(
    '/api/v1/orgs/:orgId/sites/:siteId/occupancy/history',
    {
      schema: {
        tags,
        summary: 'Zone-minute aggregates: devices sighted, live count and its peak (default: the last hour; at most 7 days)',
        params: SiteParams,
        querystring: Strict({ from: Type.Optional(IsoTime), to: Type.Optional(IsoTime), zoneId: Type.Optional(Id) }),
        response: withErrors({ 200: Type.Array(History) }),
      },
    },
    (req) => occupancy.history(ctxOf(req), req.params.orgId, req.params.siteId, req.query),
  );
  app.get<{ Params: { orgId: string; zoneId: string } }>(
    '/api/v1/orgs/:orgId/zones/:zoneId/baseline',
    { schema: { tags, summary: 'A zone\'s baseline and the limit in force now', params: ZoneParams, response: withErrors({ 200: Baseline }) } },
    (req) => occupancy.getBaseline(ctxOf(req), req.params.orgId, req.params.zoneId),
  );
  app.put<{ Params: { orgId: string; zoneId: string }; Body: BaselineInput }>(
    '/api/v1/orgs/:orgId/zones/:zoneId/baseline',
    { schema: { tags, summary: 'Set a zone\'s baseline: fixed limit, learned (percentile per hour of week), off, or the zone\'s limit', params: ZoneParams, body: BaselineBody, response: withErrors({ 200: Baseline }) } },
    (req) => occupancy.setBaseline(ctxOf(req), req.params.orgId, req.params.zoneId, req.body),
  );
  app.post<{ Params: { orgId: string; zoneId: string } }>(
    '/api/v1/orgs/:orgId/zones/:zoneId/baseline/learn',
    { schema: { tags, summary: 'Learn a zone\'s limits from its history again now', params: ZoneParams, response: withErrors({ 200: Baseline }) } },
    (req) => occupancy.learn(ctxOf(req), req.params.orgId, req.params.zoneId),
  );
  app.get<{ Params: { orgId: string }; Querystring: { siteId?: string; zoneId?: string; from?: string; to?: string; limit?: number; identities?: boolean } }>(
    '/api/v1/orgs/:orgId/occupancy/alerts',
    {
      schema: {
        tags,
        summary: 'Hot-zone alerts (violations and recoveries), newest first; default the last 7 days',
        params: OrgParams,
        querystring: Strict({
          siteId: Type.Optional(Id),
          zoneId: Type.Optional(Id),
          from: Type.Optional(IsoTime),
          to: Type.Optional(IsoTime),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          identities: Type.Optional(Type.Boolean({ description: 'Include recorded pseudonyms (org admins, privacy officers, support; audited).' })),
        }),
        response: withErrors({ 200: Type.Array(Alert) }),
      },
    },
    (req) => occupancy.alerts(ctxOf(req), req.params.orgId, req.query),
  );
}
