/**
 * HTTP routes of one device's location history (R-DATA-3): its fixes and association sessions,
 * by pseudonym in the path, or by MAC in the body of a POST search (so the MAC never sits in a
 * URL, an access log or a browser history; it is pseudonymised server-side). Audited reads for
 * admins, the privacy officer and support under a grant. Thin: validate, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { Id, IsoTime, Strict, withErrors } from '../http/schema.ts';
import { PAGE_MAX, type DeviceRef, type HistoryQuery, type LocationHistoryService } from './history.ts';

const DeviceId = Type.String({ pattern: '^[0-9a-f]{32}$', description: 'The device\'s pseudonym in this org (32 hex digits).' });
const Window = {
  from: Type.Optional(IsoTime),
  to: Type.Optional(IsoTime),
  siteId: Type.Optional(Id),
  cursor: Type.Optional(Type.String({ maxLength: 80, description: 'The previous page\'s `next`.' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_MAX, description: 'Items per page (default 1 000).' })),
};
const WindowDoc = 'Window [from, to): default the last 24 hours; at most 7 days for fixes, 31 days for sessions. A site admin sees its own sites only.';
const Fix = Strict({ at: IsoTime, source: Type.String(), kind: Type.String(), floorId: Id, xM: Type.Number(), yM: Type.Number(), accuracyM: Type.Number(), method: Type.String(), zoneId: Type.Union([Id, Type.Null()]) });
const Session = Strict({
  id: Id,
  siteId: Type.Union([Id, Type.Null()]),
  ap: Type.String({ description: 'Co-presence key: the registered AP\'s sensor id, else the AP name the controller logs, lower-cased.' }),
  sensorId: Type.Union([Id, Type.Null()]),
  apKey: Type.String(),
  apMac: Type.Union([Type.String(), Type.Null()]),
  start: IsoTime,
  end: IsoTime,
  open: Type.Boolean({ description: 'Still associated: `end` is its last event so far.' }),
  endReason: Type.Union([Type.String(), Type.Null()]),
  eventCount: Type.Integer(),
  randomized: Type.Boolean(),
  source: Type.String(),
});
const Page = <T extends ReturnType<typeof Strict>>(item: T) => Strict({ deviceId: DeviceId, from: IsoTime, to: IsoTime, items: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) });

interface WindowInput {
  from?: string;
  to?: string;
  siteId?: string;
  cursor?: string;
  limit?: number;
}

function query(w: WindowInput): HistoryQuery {
  const q: HistoryQuery = {};
  if (w.from !== undefined) q.fromMs = Date.parse(w.from);
  if (w.to !== undefined) q.toMs = Date.parse(w.to);
  if (w.siteId !== undefined) q.siteId = w.siteId;
  if (w.cursor !== undefined) q.cursor = w.cursor;
  if (w.limit !== undefined) q.limit = w.limit;
  return q;
}

export function historyRoutes(app: FastifyInstance, history: LocationHistoryService): void {
  const tags = ['devices'];
  const Params = Strict({ orgId: Id, deviceId: DeviceId });
  const OrgOnly = Strict({ orgId: Id });
  const Search = Strict({ mac: Type.String({ minLength: 1, maxLength: 32, description: 'The device\'s MAC (personal: pseudonymised at once, never stored or logged).' }), ...Window });
  const reads = [
    ['fixes', Fix, 'A device\'s fixes, oldest first (audited personal read)', (ctx: ReturnType<typeof ctxOf>, orgId: string, ref: DeviceRef, q: HistoryQuery) => history.fixes(ctx, orgId, ref, q)],
    ['sessions', Session, 'A device\'s association sessions, by start (audited personal read)', (ctx: ReturnType<typeof ctxOf>, orgId: string, ref: DeviceRef, q: HistoryQuery) => history.sessions(ctx, orgId, ref, q)],
  ] as const;
  for (const [what, item, summary, read] of reads) {
    app.get<{ Params: { orgId: string; deviceId: string }; Querystring: WindowInput }>(
      `/api/v1/orgs/:orgId/devices/:deviceId/${what}`,
      { schema: { tags, summary, description: WindowDoc, params: Params, querystring: Strict(Window), response: withErrors({ 200: Page(item) }) } },
      (req) => read(ctxOf(req), req.params.orgId, { id: req.params.deviceId }, query(req.query)),
    );
    app.post<{ Params: { orgId: string }; Body: WindowInput & { mac: string } }>(
      `/api/v1/orgs/:orgId/devices/${what}/search`,
      { schema: { tags, summary: `${summary}, the device named by MAC in the body`, description: WindowDoc, params: OrgOnly, body: Search, response: withErrors({ 200: Page(item) }) } },
      (req) => {
        const { mac, ...w } = req.body;
        return read(ctxOf(req), req.params.orgId, { mac }, query(w));
      },
    );
  }
}
