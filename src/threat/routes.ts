/**
 * HTTP routes of threat analysis: file submission (streamed raw body, metadata in `X-Cairn-*`
 * headers so it never lands in URLs or access logs), verdict and submission reads, the org's
 * allow/block lists and settings, and the public privacy notice. Answers in English or Dutch
 * (`?lang=en|nl`, else Accept-Language), errors included. Thin: validate, take the caller's
 * context, call the service.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { toCairnError } from '../http/errors.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../http/schema.ts';
import { negotiateLang, localiseError, localiseReasons, threatError, LANGS, type Lang } from './messages.ts';
import { threatNotice } from './notice.ts';
import { LIST_KINDS, type ListKind, type ListName } from './lists.ts';
import { FILE_CATEGORIES } from './settings.ts';
import type { ThreatServices } from './index.ts';
import type { SubmissionMetadata } from './service.ts';

const LangQ = Type.Optional(Type.Union(LANGS.map((l) => Type.Literal(l)), { description: 'Language of messages: en or nl (default: from Accept-Language, else en).' }));
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the file, 64 hex digits.' });
const OrgQ = Type.Optional(Type.String({ pattern: Id.pattern, description: 'The org; needed only when the caller holds roles in several orgs (or none, like operator staff).' }));

const FileTypeS = Strict({
  mime: Type.String(),
  category: Type.Union(FILE_CATEGORIES.map((c) => Type.Literal(c))),
  subtype: Type.String(),
  description: Type.String(),
  basis: Type.Union([Type.Literal('content'), Type.Literal('name')]),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
});
const ReasonS = Strict({
  analyzer: Type.String(),
  code: Type.String({ description: 'Stable reason code (PE_PACKER, ARCHIVE_ENCRYPTED, BLOCK_LIST, …).' }),
  message: Type.String(),
  score: Type.Number({ minimum: 0, maximum: 10 }),
  path: Type.Optional(Type.String()),
  incomplete: Type.Optional(Type.Boolean()),
  certain: Type.Optional(Type.Boolean()),
});
const StageS = Strict({ analyzer: Type.String(), status: Type.Union([Type.Literal('ran'), Type.Literal('skipped'), Type.Literal('failed')]), note: Type.Optional(Type.String()), durationMs: Type.Number() });
const State = Type.Union([Type.Literal('clean'), Type.Literal('suspicious'), Type.Literal('malicious'), Type.Literal('unknown')]);
const Verdict = Strict({
  sha256: Type.String(),
  sizeBytes: Type.Integer(),
  type: FileTypeS,
  score: Type.Number({ minimum: 0, maximum: 10, description: 'Threat score; 7 or more is a recommended block.' }),
  state: State,
  recommendedAction: Type.Union([Type.Literal('allow'), Type.Literal('block')]),
  complete: Type.Boolean({ description: 'False when any part could not be inspected; such a file is never clean.' }),
  reasons: Type.Array(ReasonS),
  stages: Type.Array(StageS),
  durationMs: Type.Number(),
  basis: Type.Union([Type.Literal('analysis'), Type.Literal('lists')]),
  cached: Type.Boolean(),
  analyzedAt: IsoTime,
  firstSeen: IsoTime,
  lastSeen: IsoTime,
  submissionCount: Type.Integer(),
});
const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);
const Submission = Strict({
  id: Id,
  sha256: Type.String(),
  receivedAt: IsoTime,
  submittedAt: IsoTime,
  source: Type.String(),
  vendor: Nullable(Type.String()),
  userFirewall: Type.Boolean(),
  clientHost: Nullable(Type.String()),
  clientIp: Nullable(Type.String()),
  fileName: Nullable(Type.String()),
  url: Nullable(Type.String()),
  deviceName: Nullable(Type.String()),
  username: Nullable(Type.String()),
  score: Type.Number(),
  state: State,
});
const ListKindS = Type.Union(LIST_KINDS.map((k) => Type.Literal(k)));
const ListNameS = Type.Union([Type.Literal('allow'), Type.Literal('block')]);
const Entry = Strict({ id: Id, list: ListNameS, kind: ListKindS, value: Type.String(), note: Nullable(Type.String()), createdAt: IsoTime });
const RetentionDays = Type.Record(Type.String(), Type.Integer());
const Settings = Strict({
  fileRetentionDays: RetentionDays,
  encryptedTrafficAnalysis: Type.Boolean(),
  filesClassDays: Type.Integer({ description: 'Retention of the threat_files data class: no file body is kept longer.' }),
  effectiveFileRetentionDays: RetentionDays,
  updatedAt: Type.Union([IsoTime, Type.Null()]),
});
const Notice = Strict({
  lang: Type.String(),
  version: Type.String(),
  title: Type.String(),
  sections: Type.Array(Strict({ id: Type.String(), refs: Type.Array(Type.String()), heading: Type.String(), paragraphs: Type.Array(Type.String()), items: Type.Optional(Type.Array(Type.String())) })),
});

/** The metadata headers of a submission; values may be percent-encoded UTF-8. */
export const METADATA_HEADERS = {
  'x-cairn-file-name': 'File name as the client saw it (R-DATA-8; encrypted at rest; also drives the extension rule).',
  'x-cairn-client-host': 'Client host name (R-DATA-8; encrypted).',
  'x-cairn-client-ip': 'Client IPv4 or IPv6 address (R-DATA-8; encrypted).',
  'x-cairn-url': 'URL the file came from (R-DATA-8; encrypted); its host is matched against the domain and IP lists.',
  'x-cairn-device-name': 'Name of the submitting device (R-DATA-8; encrypted).',
  'x-cairn-username': 'User name (R-DATA-8; encrypted); kept only with X-Cairn-User-Firewall: on (R-ATP-3).',
  'x-cairn-user-firewall': 'on/off (true/false, 1/0): whether the device\'s user firewall is on.',
  'x-cairn-vendor': 'Vendor or creator of the submitting device (in clear).',
  'x-cairn-submitted-at': 'When the device saw the file, ISO 8601 (default: when Cairn received it).',
} as const;

function header(req: FastifyRequest, name: keyof typeof METADATA_HEADERS): string | undefined {
  const raw = req.headers[name];
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined || v === '') return undefined;
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field: name, why: 'bad percent-encoding' }, { field: name });
  }
}

/** R-DATA-8 metadata from the X-Cairn-* headers. */
function metadataOf(req: FastifyRequest): SubmissionMetadata {
  const fw = header(req, 'x-cairn-user-firewall')?.toLowerCase();
  if (fw !== undefined && !['on', 'off', 'true', 'false', '1', '0'].includes(fw)) throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field: 'x-cairn-user-firewall', why: 'use on or off' }, { field: 'x-cairn-user-firewall' });
  const at = header(req, 'x-cairn-submitted-at');
  const atMs = at === undefined ? undefined : Date.parse(at);
  if (atMs !== undefined && !Number.isFinite(atMs)) throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field: 'x-cairn-submitted-at', why: 'not an ISO 8601 time' }, { field: 'x-cairn-submitted-at' });
  const m: SubmissionMetadata = { userFirewall: fw === 'on' || fw === 'true' || fw === '1' };
  const set = (k: keyof SubmissionMetadata, h: keyof typeof METADATA_HEADERS) => {
    const v = header(req, h);
    if (v !== undefined) (m as Record<string, unknown>)[k] = v;
  };
  set('fileName', 'x-cairn-file-name');
  set('clientHost', 'x-cairn-client-host');
  set('clientIp', 'x-cairn-client-ip');
  set('url', 'x-cairn-url');
  set('deviceName', 'x-cairn-device-name');
  set('username', 'x-cairn-username');
  set('vendor', 'x-cairn-vendor');
  if (atMs !== undefined) m.submittedAtMs = atMs;
  return m;
}

function langOf(req: FastifyRequest): Lang {
  const q = req.query as { lang?: string } | undefined;
  const al = req.headers['accept-language'];
  return negotiateLang(q?.lang, Array.isArray(al) ? al[0] : al);
}

export async function threatRoutes(app: FastifyInstance, t: ThreatServices): Promise<void> {
  const tags = ['threat'];
  await app.register(async (scope) => {
    // Errors of these routes (schema validation included) in the caller's language; the app's
    // handler then maps the code to the status.
    scope.setErrorHandler((err, req, reply) => {
      const ce = localiseError(toCairnError(err), langOf(req));
      if (ce.code === 'CAIRN_ERR_FILE_TOO_LARGE') reply.header('connection', 'close');
      throw ce;
    });

    scope.get<{ Querystring: { lang?: Lang } }>('/api/v1/threat/notice', { schema: { tags, summary: 'Threat-analysis privacy notice (R-DATA-7 … 10, R-ATP-7) in English or Dutch; public', security: [], querystring: Strict({ lang: LangQ }), response: withErrors({ 200: Notice }) } }, async (req) => threatNotice(langOf(req)));

    scope.get<{ Params: { sha256: string }; Querystring: { orgId?: string; lang?: Lang } }>(
      '/api/v1/threat/files/:sha256',
      { schema: { tags, summary: 'Verdict on a file by SHA-256 (no personal metadata)', params: Strict({ sha256: Sha256 }), querystring: Strict({ orgId: OrgQ, lang: LangQ }), response: withErrors({ 200: Verdict }) } },
      async (req) => localiseReasons(await t.files.lookup(ctxOf(req), req.query.orgId, req.params.sha256), langOf(req)),
    );
    scope.get<{ Params: { sha256: string }; Querystring: { orgId?: string; limit?: number; lang?: Lang } }>(
      '/api/v1/threat/files/:sha256/submissions',
      { schema: { tags, summary: 'Submissions of a file with their R-DATA-8 metadata, decrypted (personal; audited)', params: Strict({ sha256: Sha256 }), querystring: Strict({ orgId: OrgQ, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), lang: LangQ }), response: withErrors({ 200: Type.Array(Submission) }) } },
      (req) => t.files.submissions(ctxOf(req), req.query.orgId, req.params.sha256, req.query.limit),
    );

    const ListQ = Strict({ kind: Type.Optional(ListKindS), list: Type.Optional(ListNameS), lang: LangQ });
    scope.get<{ Params: { orgId: string }; Querystring: { kind?: ListKind; list?: ListName; lang?: Lang } }>(
      '/api/v1/orgs/:orgId/threat/lists',
      { schema: { tags, summary: 'Allow and block list entries (IP values decrypted; audited)', params: OrgParams, querystring: ListQ, response: withErrors({ 200: Type.Array(Entry) }) } },
      (req) => t.lists.list(ctxOf(req), req.params.orgId, { ...(req.query.kind ? { kind: req.query.kind } : {}), ...(req.query.list ? { list: req.query.list } : {}) }),
    );
    scope.post<{ Params: { orgId: string }; Querystring: { lang?: Lang }; Body: { list: ListName; kind: ListKind; value: string; note?: string } }>(
      '/api/v1/orgs/:orgId/threat/lists',
      {
        schema: {
          tags,
          summary: 'Put a SHA-256, domain (covers subdomains), IP address, JA3 or JA4 on the allow or block list',
          params: OrgParams,
          querystring: Strict({ lang: LangQ }),
          body: Strict({ list: ListNameS, kind: ListKindS, value: Type.String({ minLength: 1, maxLength: 300 }), note: Type.Optional(Type.String({ maxLength: 500 })) }),
          response: withErrors({ 201: Entry }),
        },
      },
      async (req, reply) => reply.status(201).send(await t.lists.add(ctxOf(req), req.params.orgId, req.body)),
    );
    scope.delete<{ Params: { orgId: string; entryId: string }; Querystring: { lang?: Lang } }>(
      '/api/v1/orgs/:orgId/threat/lists/:entryId',
      { schema: { tags, summary: 'Remove a list entry', params: Strict({ orgId: Id, entryId: Id }), querystring: Strict({ lang: LangQ }), response: withErrors({ 204: Type.Null() }) } },
      async (req, reply) => {
        await t.lists.remove(ctxOf(req), req.params.orgId, req.params.entryId);
        return reply.status(204).send();
      },
    );

    const YaraRule = Strict({ id: Id, name: Type.String(), source: Type.String(), createdAt: Type.String() });
    scope.get<{ Params: { orgId: string } }>('/api/v1/orgs/:orgId/threat/yara-rules', { schema: { tags, summary: "The org's own YARA rules, used with the bundled set", params: OrgParams, response: withErrors({ 200: Type.Array(YaraRule) }) } }, (req) => t.yara.list(ctxOf(req), req.params.orgId));
    scope.post<{ Params: { orgId: string }; Body: { name: string; source: string } }>(
      '/api/v1/orgs/:orgId/threat/yara-rules',
      { schema: { tags, summary: 'Add a YARA rule source (must compile with the others, without slow patterns or loops); meta.score weighs a match (default 5)', params: OrgParams, body: Strict({ name: Type.String({ minLength: 1, maxLength: 100 }), source: Type.String({ minLength: 1, maxLength: 65536 }) }), response: withErrors({ 201: YaraRule }) } },
      async (req, reply) => reply.status(201).send(await t.yara.add(ctxOf(req), req.params.orgId, req.body)),
    );
    scope.delete<{ Params: { orgId: string; ruleId: string } }>('/api/v1/orgs/:orgId/threat/yara-rules/:ruleId', { schema: { tags, summary: 'Remove a YARA rule source', params: Strict({ orgId: Id, ruleId: Id }), response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
      await t.yara.remove(ctxOf(req), req.params.orgId, req.params.ruleId);
      return reply.status(204).send();
    });

    scope.get<{ Params: { orgId: string }; Querystring: { lang?: Lang } }>('/api/v1/orgs/:orgId/threat/settings', { schema: { tags, summary: 'File retention per category and encrypted-traffic analysis', params: OrgParams, querystring: Strict({ lang: LangQ }), response: withErrors({ 200: Settings }) } }, (req) => t.settings.read(ctxOf(req), req.params.orgId));
    scope.put<{ Params: { orgId: string }; Querystring: { lang?: Lang }; Body: { fileRetentionDays: Record<string, number | null>; encryptedTrafficAnalysis: boolean } }>(
      '/api/v1/orgs/:orgId/threat/settings',
      {
        schema: {
          tags,
          summary: 'Replace the settings: days to keep file bodies per category (none: discarded after analysis), encrypted-traffic analysis on/off',
          params: OrgParams,
          querystring: Strict({ lang: LangQ }),
          body: Strict({ fileRetentionDays: Type.Record(Type.String({ maxLength: 32 }), Type.Union([Type.Integer(), Type.Null()])), encryptedTrafficAnalysis: Type.Boolean() }),
          response: withErrors({ 200: Settings }),
        },
      },
      (req) => t.settings.update(ctxOf(req), req.params.orgId, req.body),
    );

    // The upload takes the raw body as a stream: no parser buffers it, and the service stops
    // reading (413) as soon as it passes the limit.
    await scope.register(async (upload) => {
      upload.removeAllContentTypeParsers();
      upload.addContentTypeParser('*', (_req, _payload, done) => done(null));
      upload.post<{ Querystring: { orgId?: string; lang?: Lang } }>(
        '/api/v1/threat/files',
        {
          schema: {
            tags,
            summary: 'Submit a file for analysis (sensors, org admins); returns its verdict',
            description:
              `The request body is the file itself (Content-Type: application/octet-stream), streamed; up to ${t.files.uploadLimitBytes} bytes (config threatUploadLimitBytes), larger uploads are refused with 413 CAIRN_ERR_FILE_TOO_LARGE without being read. ` +
              'R-DATA-8 metadata travels in headers (values may be percent-encoded UTF-8), never in the URL: ' +
              Object.entries(METADATA_HEADERS).map(([h, d]) => `${h}: ${d}`).join(' ') +
              ' The org is the caller\'s own; give ?orgId= when the caller holds roles in several orgs.',
            querystring: Strict({ orgId: OrgQ, lang: LangQ }),
            headers: Type.Object(Object.fromEntries(Object.entries(METADATA_HEADERS).map(([h, d]) => [h, Type.Optional(Type.String({ maxLength: 8192, description: d }))]))),
            response: withErrors({ 200: Verdict, 415: Type.Any() }),
          },
        },
        async (req) => {
          const ctx = ctxOf(req);
          if (/^multipart\//i.test(req.headers['content-type'] ?? '')) throw threatError('CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupportedMultipart');
          const len = req.headers['content-length'];
          const declared = len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
          const v = await t.files.submit(ctx, req.query.orgId, req.raw, metadataOf(req), { ...(declared !== undefined ? { declaredBytes: declared } : {}), source: 'api' });
          return localiseReasons(v, langOf(req));
        },
      );
    });
  });
}
