/**
 * HTTP routes of personal-data breach records (R-PRIV-8) under `/api/v1/orgs/:orgId/incidents`:
 * record, list (by status, overdue), read with its notices, update the facts, notify the org's
 * admins (e-mail, or a notice given another way), close. Times are ISO 8601 at this edge.
 * Thin: validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CairnError } from '../../kernel/errors.ts';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { DATA_CLASSES } from '../retention/registry.ts';
import { CLOSE_REASONS, INCIDENT_STATUSES, SUBJECT_CATEGORIES, type CloseReason, type IncidentInput, type IncidentService, type SubjectCategory } from './service.ts';
import type { IncidentStatus } from '../../storage/index.ts';

const tags = ['incidents'];
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Status = Type.Union(INCIDENT_STATUSES.map((s) => Type.Literal(s)));
const DataClass = Type.Union(DATA_CLASSES.map((c) => Type.Literal(c.id)));
const Category = Type.Union(SUBJECT_CATEGORIES.map((c) => Type.Literal(c)));
const Count = Type.Union([Type.Integer({ minimum: 0, maximum: 1e12 }), Type.Null()]);
const LongText = Type.Union([Type.String({ maxLength: 10_000 }), Type.Null()]);
const Facts = {
  description: Type.Optional(LongText),
  detectedAt: Type.Optional(IsoTime),
  occurredAt: Type.Optional(Nullable(IsoTime)),
  dataClasses: Type.Optional(Type.Array(DataClass, { maxItems: DATA_CLASSES.length, description: 'Data classes concerned (R-DATA).' })),
  subjectCategories: Type.Optional(Type.Array(Category, { maxItems: SUBJECT_CATEGORIES.length })),
  approxSubjects: Type.Optional(Count),
  approxRecords: Type.Optional(Count),
  consequences: Type.Optional(LongText),
  measures: Type.Optional(LongText),
};
const Create = Strict({ title: Type.String({ minLength: 1, maxLength: 200, description: 'What happened, in a line (may name people: stored encrypted).' }), ...Facts });
const Patch = Strict({ title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...Facts });
const Notice = Strict({ id: Id, channel: Type.String(), userId: Nullable(Id), outcome: Type.String(), smtpCode: Type.Union([Type.Integer(), Type.Null()]), note: Nullable(Type.String()), sentAt: IsoTime, sentBy: Type.String() });
const View = Strict({
  id: Id, orgId: Id, status: Status, title: Type.String(), description: Nullable(Type.String()), consequences: Nullable(Type.String()), measures: Nullable(Type.String()),
  detectedAt: IsoTime, occurredAt: Nullable(IsoTime), deadlineAt: IsoTime, overdue: Type.Boolean(), hoursLeft: Type.Union([Type.Number(), Type.Null()]),
  notifiedAt: Nullable(IsoTime), notifiedLate: Type.Union([Type.Boolean(), Type.Null()]), closedAt: Nullable(IsoTime), closeReason: Nullable(Type.String()),
  dataClasses: Type.Array(Type.String()), subjectCategories: Type.Array(Type.String()), approxSubjects: Count, approxRecords: Count,
  createdAt: IsoTime, createdBy: Type.String(), updatedAt: IsoTime, notices: Type.Optional(Type.Array(Notice)),
});
const Params = Strict({ orgId: Id, incidentId: Id });

type FactsBody = { title?: string; description?: string | null; detectedAt?: string; occurredAt?: string | null; dataClasses?: string[]; subjectCategories?: SubjectCategory[]; approxSubjects?: number | null; approxRecords?: number | null; consequences?: string | null; measures?: string | null };

function ms(iso: string, field: string): number {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new CairnError('CAIRN_ERR_VALIDATION', `${field} must be an ISO 8601 time.`, { field });
  return t;
}

/** The body's times as UTC ms; everything else as given. */
function facts(b: FactsBody): Partial<IncidentInput> {
  const { detectedAt, occurredAt, ...rest } = b;
  return { ...rest, ...(detectedAt !== undefined ? { detectedAtMs: ms(detectedAt, 'detectedAt') } : {}), ...(occurredAt !== undefined ? { occurredAtMs: occurredAt === null ? null : ms(occurredAt, 'occurredAt') } : {}) };
}

export function incidentRoutes(app: FastifyInstance, incidents: IncidentService): void {
  app.post<{ Params: { orgId: string }; Body: FactsBody & { title: string } }>(
    '/api/v1/orgs/:orgId/incidents',
    { bodyLimit: 64 * 1024, schema: { tags, summary: 'Record a personal-data breach; the 72-hour notification clock runs from detectedAt (default now)', params: OrgParams, body: Create, response: withErrors({ 201: View }) } },
    async (req, reply) => reply.status(201).send(await incidents.create(ctxOf(req), req.params.orgId, { ...facts(req.body), title: req.body.title })),
  );
  app.get<{ Params: { orgId: string }; Querystring: { status?: IncidentStatus; overdue?: boolean; limit?: number } }>(
    '/api/v1/orgs/:orgId/incidents',
    { schema: { tags, summary: 'Incidents of the org, newest first; overdue=true: open ones past their 72-hour deadline', params: OrgParams, querystring: Strict({ status: Type.Optional(Status), overdue: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }), response: withErrors({ 200: Type.Array(View) }) } },
    (req) => incidents.list(ctxOf(req), req.params.orgId, req.query),
  );
  app.get<{ Params: { orgId: string; incidentId: string } }>(
    '/api/v1/orgs/:orgId/incidents/:incidentId',
    { schema: { tags, summary: 'One incident with its notices', params: Params, response: withErrors({ 200: View }) } },
    (req) => incidents.get(ctxOf(req), req.params.orgId, req.params.incidentId),
  );
  app.patch<{ Params: { orgId: string; incidentId: string }; Body: FactsBody }>(
    '/api/v1/orgs/:orgId/incidents/:incidentId',
    { bodyLimit: 64 * 1024, schema: { tags, summary: 'Change the facts of an incident that is not closed (a new detectedAt moves the deadline)', params: Params, body: Patch, response: withErrors({ 200: View }) } },
    (req) => incidents.update(ctxOf(req), req.params.orgId, req.params.incidentId, facts(req.body)),
  );
  app.post<{ Params: { orgId: string; incidentId: string }; Body: { manual?: string } }>(
    '/api/v1/orgs/:orgId/incidents/:incidentId/notify',
    {
      bodyLimit: 8 * 1024,
      schema: {
        tags,
        summary: 'Notify the org: e-mail every org admin and privacy officer (through the configured mail server), or record with "manual" a notice given another way; each notice is recorded',
        params: Params,
        body: Strict({ manual: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'How and to whom the notice was given (stored encrypted).' })) }, { description: 'Send {} to e-mail the admins.' }),
        response: withErrors({ 200: Strict({ incident: View, sent: Type.Integer(), failed: Type.Integer() }) }),
      },
    },
    (req) => incidents.notify(ctxOf(req), req.params.orgId, req.params.incidentId, req.body.manual !== undefined ? { manual: req.body.manual } : {}),
  );
  app.post<{ Params: { orgId: string; incidentId: string }; Body: { reason?: CloseReason; measures?: string | null } }>(
    '/api/v1/orgs/:orgId/incidents/:incidentId/close',
    {
      bodyLimit: 64 * 1024,
      schema: {
        tags,
        summary: 'Close an incident: resolved after its notice, or false_positive / no_personal_data without one',
        params: Params,
        body: Strict({ reason: Type.Optional(Type.Union(CLOSE_REASONS.map((r) => Type.Literal(r)))), measures: Type.Optional(LongText) }),
        response: withErrors({ 200: View }),
      },
    },
    (req) => incidents.close(ctxOf(req), req.params.orgId, req.params.incidentId, req.body),
  );
}
