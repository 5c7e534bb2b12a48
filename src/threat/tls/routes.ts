/**
 * HTTP routes of encrypted-traffic analysis: sensors and org admins upload a capture as the raw
 * request body (pcap or pcapng, streamed into the analyzer, never buffered or stored); admins,
 * privacy officers and support read the handshake records (audited); observers get counts.
 * The routes live in their own Fastify scope so that their raw-stream body parsers for capture
 * media types do not change how other modules' routes read bodies.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { ErrorBody, toCairnError } from '../../http/errors.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import { LANGS, negotiateLang, type Lang } from '../messages.ts';
import { localiseTlsError, localiseTlsReasons } from './messages.ts';
import type { TlsTrafficService } from './service.ts';

/** Media types a capture may be sent as; the format is recognised by its magic number. */
export const CAPTURE_MEDIA_TYPES = ['application/vnd.tcpdump.pcap', 'application/x-pcapng', 'application/octet-stream'];

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Numbers = Type.Array(Type.Integer());
const Reason = Strict({ code: Type.String(), weight: Type.Number(), detail: Type.String() });
const Server = Strict({ version: Type.Integer(), cipher: Type.Integer(), alpn: Nullable(Type.String()), helloRetryRequest: Type.Boolean(), extensions: Numbers });
const Handshake = Strict({
  id: Id,
  uploadId: Id,
  receivedAt: IsoTime,
  seenAt: IsoTime,
  transport: Type.String(),
  client: Type.String({ description: 'Keyed pseudonym of the client address.' }),
  srcAddress: Type.String(),
  srcPort: Type.Integer(),
  dstAddress: Type.String(),
  dstPort: Type.Integer(),
  sni: Nullable(Type.String()),
  alpn: Type.Array(Type.String()),
  legacyVersion: Type.Integer(),
  supportedVersions: Numbers,
  ciphers: Numbers,
  extensions: Numbers,
  signatureAlgorithms: Numbers,
  supportedGroups: Numbers,
  ecPointFormats: Numbers,
  ja3: Type.String(),
  ja3_hash: Type.String(),
  ja4: Type.String(),
  ja4_r: Type.String(),
  ja4_o: Type.String(),
  ja4_ro: Type.String(),
  score: Type.Number(),
  reasons: Type.Array(Reason),
  server: Nullable(Server),
});
const Summary = Type.Object({
  uploadId: Id,
  bytes: Type.Integer(),
  packets: Type.Integer(),
  handshakes: Type.Integer(),
  stored: Type.Integer(),
  skippedAfterHandshake: Type.Integer(),
  warnings: Type.Array(Type.String()),
  stats: Type.Object({}, { additionalProperties: Type.Number() }),
  top: Type.Array(Strict({ id: Id, client: Type.String(), transport: Type.String(), ja3_hash: Type.String(), ja4: Type.String(), score: Type.Number(), reasons: Type.Array(Strict({ code: Type.String(), weight: Type.Number() })) })),
  durationMs: Type.Integer(),
});
const Client = Strict({ client: Type.String(), handshakes: Type.Integer(), maxScore: Type.Number(), firstSeen: IsoTime, lastSeen: IsoTime, fingerprints: Type.Array(Strict({ ja4: Type.String(), handshakes: Type.Integer() })), distinctFingerprints: Type.Integer() });
const Counts = Strict({ handshakes: Type.Integer(), clients: Type.Integer(), fingerprints: Type.Integer(), flaggedClients: Type.Integer(), flagAt: Type.Number() });

const Window = { from: Type.Optional(IsoTime), to: Type.Optional(IsoTime) };
const Score = Type.Number({ minimum: 0, maximum: 10 });

/** `from`/`to` query times as epoch ms. */
function windowOf(q: { from?: string; to?: string }): { fromMs: number | undefined; toMs: number | undefined } {
  return { fromMs: q.from ? Date.parse(q.from) : undefined, toMs: q.to ? Date.parse(q.to) : undefined };
}

/** The caller's language: `?lang=` wins, then Accept-Language, then English. */
function langOf(req: FastifyRequest): Lang {
  const q = req.query as { lang?: string } | undefined;
  const al = req.headers['accept-language'];
  return negotiateLang(q?.lang, Array.isArray(al) ? al[0] : al);
}

const LangQ = Type.Optional(Type.Union(LANGS.map((l) => Type.Literal(l)), { description: 'Language of messages and reasons (default: Accept-Language, then en).' }));

export async function tlsRoutes(app: FastifyInstance, tls: TlsTrafficService): Promise<void> {
  const tags = ['threat: encrypted traffic'];
  await app.register(async (scope) => {
    // Errors of these routes (schema validation included) in the caller's language; the app's
    // handler then maps the code to the status.
    scope.setErrorHandler((err, req) => {
      throw localiseTlsError(toCairnError(err), langOf(req));
    });
    await scope.register(async (upload) => {
      // The body stays a stream: the analyzer reads it chunk by chunk and enforces its own limit.
      for (const type of CAPTURE_MEDIA_TYPES) {
        if (upload.hasContentTypeParser(type)) upload.removeContentTypeParser(type);
        upload.addContentTypeParser(type, (_req, payload, done) => done(null, payload));
      }
      upload.post<{ Params: { orgId: string }; Querystring: { lang?: Lang } }>(
        '/api/v1/orgs/:orgId/threat/pcaps',
        {
          schema: {
            tags,
            summary: 'Upload a pcap/pcapng capture (raw body); its TLS handshakes are fingerprinted (JA3, JA4), scored and stored. The capture itself is never stored. Needs encrypted-traffic analysis turned on for the org.',
            description:
              `The request body is the capture itself (Content-Type: ${CAPTURE_MEDIA_TYPES.join(', ')}), streamed into the analyzer as it arrives; up to ${tls.limitBytes} bytes (config tlsPcapLimitBytes), larger captures are refused with 413 CAIRN_ERR_BODY_TOO_LARGE. ` +
              'Corrupt or unsupported captures: 422 CAIRN_ERR_PCAP_CORRUPT / CAIRN_ERR_PCAP_UNSUPPORTED, and nothing of the upload is kept. Analysis turned off for the org: 409 CAIRN_ERR_FEATURE_DISABLED. ' +
              'The answer summarises the upload: handshakes found and stored, warnings, capture counters, and the ten highest scores (fingerprints and reason codes, no addresses or host names).',
            params: OrgParams,
            querystring: Strict({ lang: LangQ }),
            response: { ...withErrors({ 200: Summary }), 422: ErrorBody },
          },
        },
        async (req) => {
          const length = Number(req.headers['content-length']);
          return tls.upload(ctxOf(req), req.params.orgId, req.body as AsyncIterable<Uint8Array>, Number.isFinite(length) ? { declaredBytes: length } : {});
        },
      );
    });
    scope.get<{ Params: { orgId: string }; Querystring: { ja4?: string; ja3Hash?: string; client?: string; minScore?: number; from?: string; to?: string; before?: string; limit?: number; lang?: Lang } }>(
      '/api/v1/orgs/:orgId/threat/tls',
      {
        schema: {
          tags,
          summary: 'TLS handshakes with decrypted addresses and host names, newest first (audited personal read)',
          params: OrgParams,
          querystring: Strict({ ja4: Type.Optional(Type.String({ maxLength: 64 })), ja3Hash: Type.Optional(Type.String({ maxLength: 32 })), client: Type.Optional(Type.String({ maxLength: 32 })), minScore: Type.Optional(Score), ...Window, before: Type.Optional(Id), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), lang: LangQ }),
          response: withErrors({ 200: Type.Array(Handshake) }),
        },
      },
      async (req) => {
        const { from, to, lang: _lang, ...q } = req.query;
        const lang = langOf(req);
        const rows = await tls.list(ctxOf(req), req.params.orgId, { ...q, ...windowOf({ from, to }) });
        return lang === 'en' ? rows : rows.map((r) => ({ ...r, reasons: localiseTlsReasons(r.reasons, lang) }));
      },
    );
    scope.get<{ Params: { orgId: string }; Querystring: { minScore?: number; from?: string; to?: string; limit?: number; offset?: number; lang?: Lang } }>(
      '/api/v1/orgs/:orgId/threat/tls/clients',
      {
        schema: {
          tags,
          summary: 'TLS clients by pseudonym with their highest score and fingerprints, highest score first (audited)',
          params: OrgParams,
          querystring: Strict({ minScore: Type.Optional(Score), ...Window, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), offset: Type.Optional(Type.Integer({ minimum: 0 })), lang: LangQ }),
          response: withErrors({ 200: Type.Array(Client) }),
        },
      },
      (req) => {
        const { from, to, lang: _lang, ...q } = req.query;
        return tls.clients(ctxOf(req), req.params.orgId, { ...q, ...windowOf({ from, to }) });
      },
    );
    scope.get<{ Params: { orgId: string }; Querystring: { from?: string; to?: string; lang?: Lang } }>(
      '/api/v1/orgs/:orgId/threat/tls/summary',
      { schema: { tags, summary: 'How many TLS handshakes, clients and fingerprints, and how many clients are flagged (aggregate, no ids)', params: OrgParams, querystring: Strict({ ...Window, lang: LangQ }), response: withErrors({ 200: Counts }) } },
      (req) => tls.summary(ctxOf(req), req.params.orgId, windowOf(req.query)),
    );
  });
}
