/**
 * HTTP routes of proximity tracing (R-CT-3 … R-CT-8): run a trace (stored as a case report),
 * list, view or export (JSON, CSV, printable HTML) and delete case reports, the org's thresholds
 * (R-CT-4), and the badge-encounter upload of the ingest API. A MAC or badge id to trace goes in
 * the POST body, never in a URL.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { parseEncounterBatch, type IngestService } from '../../ingest/index.ts';
import { CairnError } from '../../kernel/errors.ts';
import { PURPOSE_MAX_CHARS, PURPOSE_MIN_CHARS } from './purpose.ts';
import type { CaseFormat, ProximityService, TraceRequest } from './service.ts';
import { PROXIMITY_BOUNDS, type ProximitySettings } from './settings.ts';

const tags = ['contact tracing'];
const DeviceId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'Device id (the org\'s pseudonym, 32 hex digits).' });
const Num = (k: keyof typeof PROXIMITY_BOUNDS, description: string, integer = false) =>
  (integer ? Type.Integer : Type.Number)({ minimum: PROXIMITY_BOUNDS[k][0], maximum: PROXIMITY_BOUNDS[k][1], description });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

const SettingsFields = {
  radiusMeters: Num('radiusMeters', 'Contact distance, metres (default 2).'),
  minMinutes: Num('minMinutes', 'Cumulative time within it that makes a contact, minutes (default 15).'),
  accuracyWidening: Num('accuracyWidening', 'The radius grows by this × √(accuracy₁² + accuracy₂²) of the two smoothed points (default 0.15)…'),
  maxWideningMeters: Num('maxWideningMeters', '…by at most this many metres (default 1).'),
  maxWindowDays: Num('maxWindowDays', 'Longest window one trace may span, days (default 14).', true),
  coPresence: Type.Boolean({ description: 'Devices known only by their AP (association-only data) are in contact while on the same AP (WiFiTrace; default on).' }),
  encounters: Type.Boolean({ description: 'Badge-to-badge encounters count (default on).' }),
  encounterMinRssiDbm: Type.Union([Num('encounterMinRssiDbm', 'Ignore encounters weaker than this, dBm.', true), Type.Null()], { description: 'null (default): all encounters count.' }),
  secondDegreeContacts: Num('secondDegreeContacts', 'A second-degree trace follows at most this many first-degree contacts, strongest first (default 20).', true),
};
const Settings = Strict(SettingsFields);
const SettingsPatch = Type.Partial(Settings);

const Zone = Strict({ zoneId: Type.String(), name: Nullable(Type.String()), minutes: Type.Integer() });
const ContactFields = {
  rank: Type.Integer({ description: '1 = strongest: longest cumulative time, then closest.' }),
  device: Type.String({ description: 'The contact\'s device pseudonym.' }),
  personId: Nullable(Type.String({ description: 'The person the device is linked to, where the org linked it (R-CT-5).' })),
  firstContact: IsoTime,
  lastContact: IsoTime,
  cumulativeMinutes: Type.Number({ description: 'Cumulative time of contact in the window (union of the evidence), minutes.' }),
  cumulativeSeconds: Type.Integer(),
  closestMeters: Type.Union([Type.Number(), Type.Null()], { description: 'Closest measured distance; null when only co-presence or encounters show the contact.' }),
  zones: Type.Array(Zone, { description: 'Zones (of the index device) where the contact happened, with minutes.' }),
  evidence: Type.Array(Type.Union([Type.Literal('proximity'), Type.Literal('co-presence'), Type.Literal('encounter')])),
};
const Contact = Strict(ContactFields);
const SecondContact = Strict({ ...ContactFields, via: Type.String({ description: 'The first-degree contact it was found through.' }) });
const Thresholds = Strict({
  radiusMeters: Type.Number(),
  minMinutes: Type.Number(),
  accuracyWidening: Type.Number(),
  maxWideningMeters: Type.Number(),
  coPresence: Type.Boolean(),
  encounters: Type.Boolean(),
  encounterMinRssiDbm: Type.Union([Type.Integer(), Type.Null()]),
});
const Report = Strict({
  id: Id,
  orgId: Id,
  createdAt: IsoTime,
  createdBy: Type.String(),
  purpose: Type.String(),
  subject: Strict({ kind: Type.Union([Type.Literal('device'), Type.Literal('person')]), devices: Type.Array(Type.String()), personId: Type.Optional(Type.String()) }),
  from: IsoTime,
  to: IsoTime,
  thresholds: Thresholds,
  contacts: Type.Array(Contact),
  secondDegree: Type.Union([Type.Array(SecondContact), Type.Null()]),
  elapsedMs: Type.Integer(),
});
const Summary = Strict({
  id: Id,
  createdAt: IsoTime,
  createdBy: Type.String(),
  purpose: Type.String(),
  subject: Strict({ kind: Type.Union([Type.Literal('device'), Type.Literal('person')]), id: Type.String() }),
  from: IsoTime,
  to: IsoTime,
  contacts: Type.Integer(),
});
const CaseParams = Strict({ orgId: Id, caseId: Id });
const Format = Type.Union([Type.Literal('json'), Type.Literal('csv'), Type.Literal('html')], { description: 'json (default), csv (one line per contact) or html (a printable page).' });

const TraceBody = Strict({
  device: Type.Optional(DeviceId),
  mac: Type.Optional(Type.String({ maxLength: 32, description: 'MAC in any usual notation. Personal data: pseudonymised at once, never stored.' })),
  badge: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Badge id as the badges report it. Personal data: pseudonymised at once, never stored.' })),
  personId: Type.Optional(Id),
  personRef: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'The org\'s own id of a person in its directory. Personal data: not kept.' })),
  from: IsoTime,
  to: IsoTime,
  purpose: Type.String({
    minLength: PURPOSE_MIN_CHARS,
    maxLength: PURPOSE_MAX_CHARS,
    description:
      'Why the trace is run (purpose limitation, R-PRIV-2). Required; recorded in the audit log with the trace and every view of its report. It must NEVER hold health information ' +
      '(R-CT-6: a case is a device or person and a window, never a diagnosis: write "exposure check for incident 17", not what anyone has), nor MACs, e-mail or IP addresses; such text is refused.',
  }),
  radiusMeters: Type.Optional(Num('radiusMeters', 'This trace\'s contact distance instead of the org\'s.')),
  minMinutes: Type.Optional(Num('minMinutes', 'This trace\'s cumulative time instead of the org\'s.')),
  secondDegree: Type.Optional(Type.Boolean({ description: 'Also trace the strongest contacts\' contacts, after each one\'s first contact.' })),
});

const EncounterItem = Strict({
  a: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 0 })], { description: 'Badge id (personal: pseudonymised at once).' }),
  b: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 0 })]),
  rssi: Type.Optional(Type.Number({ description: 'Signal between the badges, dBm (either sign).' })),
  atMs: Type.Integer({ minimum: 0, description: 'Start, epoch ms.' }),
  durationMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: 'Length of the proximity slot, ms (SocioPatterns: 20 000); one minute when absent.' })),
});
const EncounterBody = Type.Union([Type.Array(EncounterItem, { maxItems: 10_000 }), Strict({ encounters: Type.Array(EncounterItem, { maxItems: 10_000 }) })]);
const EncounterSummary = Strict({ accepted: Type.Integer(), stored: Type.Integer(), duplicates: Type.Integer() });

export function proximityRoutes(app: FastifyInstance, proximity: ProximityService, ingest: IngestService): void {
  app.post<{ Params: { orgId: string }; Body: Omit<TraceRequest, 'fromMs' | 'toMs'> & { from: string; to: string } }>(
    '/api/v1/orgs/:orgId/contact-traces',
    {
      schema: {
        tags,
        summary: 'Run a proximity trace for a device or person over a window and store it as a case report (audited with its purpose)',
        description:
          'Contacts are devices within the org\'s radius (widened by the fixes\' accuracy) for its cumulative time, from positions; devices on the same AP for association-only data; and badge encounters. ' +
          'Name the subject by exactly one of device, mac, badge, personId or personRef. The report is kept for the org\'s contact-tracing retention (30 days by default). ' +
          'The purpose must never contain health information.',
        params: OrgParams,
        body: TraceBody,
        response: withErrors({ 200: Report }),
      },
    },
    (req) => {
      const { from, to, ...rest } = req.body;
      return proximity.trace(ctxOf(req), req.params.orgId, { ...rest, fromMs: Date.parse(from), toMs: Date.parse(to) });
    },
  );
  app.get<{ Params: { orgId: string }; Querystring: { limit?: number; before?: string } }>(
    '/api/v1/orgs/:orgId/contact-traces',
    {
      schema: {
        tags,
        summary: 'Stored case reports, newest first, without their contacts (audited)',
        params: OrgParams,
        querystring: Strict({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })), before: Type.Optional(Id) }),
        response: withErrors({ 200: Type.Array(Summary) }),
      },
    },
    (req) => proximity.list(ctxOf(req), req.params.orgId, { ...(req.query.limit !== undefined ? { limit: req.query.limit } : {}), ...(req.query.before !== undefined ? { before: req.query.before } : {}) }),
  );
  app.get<{ Params: { orgId: string; caseId: string }; Querystring: { format?: CaseFormat } }>(
    '/api/v1/orgs/:orgId/contact-traces/:caseId',
    {
      schema: {
        tags,
        summary: 'A case report as JSON, CSV or a printable HTML page (every view audited with the case\'s purpose)',
        params: CaseParams,
        querystring: Strict({ format: Type.Optional(Format) }),
        response: withErrors({ 200: { ...Report, description: 'The report (JSON); with format=csv text/csv, with format=html text/html.' } }),
      },
    },
    async (req, reply) => {
      const format = req.query.format ?? 'json';
      const v = await proximity.view(ctxOf(req), req.params.orgId, req.params.caseId, format);
      if (format === 'json') return v.report;
      reply.header('cache-control', 'no-store');
      if (format === 'csv') reply.header('content-disposition', `attachment; filename="contact-trace-${req.params.caseId}.csv"`);
      else reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
      return reply.type(v.contentType).serializer((s: unknown) => String(s)).send(v.body);
    },
  );
  app.delete<{ Params: { orgId: string; caseId: string } }>(
    '/api/v1/orgs/:orgId/contact-traces/:caseId',
    { schema: { tags, summary: 'Delete a case report before its retention ends (audited)', params: CaseParams, response: withErrors({ 204: Type.Null() }) } },
    async (req, reply) => {
      await proximity.remove(ctxOf(req), req.params.orgId, req.params.caseId);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/contact-tracing/settings',
    { schema: { tags, summary: 'The org\'s contact-tracing thresholds (R-CT-4; defaults until set)', params: OrgParams, response: withErrors({ 200: Settings }) } },
    (req) => proximity.settings(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: Partial<ProximitySettings> }>(
    '/api/v1/orgs/:orgId/contact-tracing/settings',
    { schema: { tags, summary: 'Change the org\'s contact-tracing thresholds (audited)', params: OrgParams, body: SettingsPatch, response: withErrors({ 200: Settings }) } },
    (req) => proximity.updateSettings(ctxOf(req), req.params.orgId, req.body),
  );
  app.post<{ Querystring: { orgId?: string; siteId?: string }; Body: unknown }>(
    '/api/v1/ingest/encounters',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Upload badge-to-badge encounters (sensor tokens); stored pseudonymised before the answer',
        description:
          'Up to 10 000 encounters `{a, b, rssi?, atMs, durationMs?}` as an array or `{encounters: [...]}`. Badge ids are pseudonymised at once (the pseudonym a badge\'s own fixes carry); ' +
          'each pair is kept in one order; an encounter already stored (same pair and start) is stored once. The whole upload is refused (CAIRN_ERR_INGEST_MALFORMED, with the reason and path) on the first invalid encounter. The org is the token\'s (give ?orgId= only when the caller holds roles in several orgs).',
        querystring: Strict({ orgId: Type.Optional(Id), siteId: Type.Optional(Id) }),
        body: EncounterBody,
        response: withErrors({ 200: EncounterSummary }),
      },
    },
    (req) => {
      const store = ingest.encounters;
      if (!store) throw new CairnError('CAIRN_ERR_NOT_READY', 'Encounter storage is not wired in this process.');
      const orgId = ingest.resolveOrg(ctxOf(req), req.query.orgId);
      const siteId = req.query.siteId ?? ingest.callerSite(ctxOf(req), orgId);
      const encounters = parseEncounterBatch(JSON.stringify(req.body), { maxBodyBytes: Number.MAX_SAFE_INTEGER, strict: true });
      return store.store(ctxOf(req), orgId, siteId, encounters);
    },
  );
}
