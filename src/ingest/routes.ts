/**
 * HTTP routes of ingest.
 *
 * - `POST /api/v1/ingest/observations`: Cairn's native batches (up to 1 000 observations), from
 *   sensor tokens; the org is the token's.
 * - `POST /api/v1/ingest/mist/{orgId}` and `GET|POST /api/v1/ingest/meraki/{orgId}`: vendor
 *   webhooks. They carry no session or token: they authenticate by their own proof, Mist's
 *   `X-Mist-Signature-v2` HMAC over the raw body, Meraki's shared secret in the body, both checked
 *   against the org's ingest settings. An org without that secret is not a receiver.
 * - `GET|PUT /api/v1/orgs/{orgId}/ingest/settings`: what the org collects (R-PRIV-1, R-LOC-3/4).
 *
 * Ingest routes read the raw body (signatures are over bytes; the adapters parse with size caps
 * and name the reason of any refusal); every refusal is counted in `cairn_ingest_rejected_total`
 * by source and reason. A batch is answered only after it is committed.
 *
 * Back-pressure (`backpressure.ts`): at most `maxInFlight` deliveries are read, parsed or waiting
 * for the store at once; more are answered 503 `CAIRN_ERR_INGEST_BACKPRESSURE` with `Retry-After`
 * before their body is read, and counted in `cairn_ingest_busy_total` (not as rejected records).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { CairnError } from '../kernel/errors.ts';
import { ctxOf } from '../http/auth.ts';
import { toCairnError } from '../http/errors.ts';
import { Id, OrgParams, Strict, withErrors } from '../http/schema.ts';
import { MIST_SIGNATURE_HEADER } from './mist/signature.ts';
import { NativeBatchSchema } from './native/schema.ts';
import { ingestReasonOf } from './errors.ts';
import { IngestGate, type IngestSlot } from './backpressure.ts';
import { merakiValidator, receiveMeraki, receiveMist, receiveNative } from './receivers.ts';
import type { IngestService } from './service.ts';
import { PERSONAL_FIELDS, type IngestSettingsPatch } from './settings.ts';
import type { IngestSource } from './types.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The ingest source a route receives, for counting its refusals. */
    ingestSource?: IngestSource;
  }
}

export interface IngestRouteDeps {
  ingest: IngestService;
  /** Largest ingest body, bytes (1 000 native observations with their readings fit). */
  bodyLimitBytes: number;
  /** Deliveries read, parsed or stored at once before 503s (config `ingestMaxInFlight`). */
  maxInFlight: number;
  /** `cairn_ingest_busy_total` (source): deliveries refused by back-pressure. */
  busy?: { inc(labels: { source: string }): void };
  /** `cairn_ingest_in_flight`: deliveries admitted now. */
  inFlight?: { set(n: number): void };
}

/** Seconds a refused sender is asked to wait (`Retry-After`). */
const RETRY_AFTER_SECONDS = 1;

const Counts = Type.Record(Type.String(), Type.Integer());
const Summary = Strict({
  accepted: Type.Integer({ description: 'Observations taken in (re-deliveries excluded).' }),
  duplicates: Type.Integer({ description: 'Records already stored (same source record id), skipped.' }),
  rejected: Counts,
  aggregateOnly: Type.Record(Type.String(), Type.Integer(), { description: 'Observations kept only in zone counts, by reason: location services off, unconnected, asset, SDK without opt-in.' }),
  unlocated: Counts,
  devices: Type.Integer({ description: 'Distinct devices recorded.' }),
  fixes: Type.Integer({ description: 'Fixes stored.' }),
  zoneEvents: Type.Integer({ description: 'Zone enter/exit events emitted.' }),
});

const Field = Type.Union(PERSONAL_FIELDS.map((f) => Type.Literal(f)));
const SettingsFields = {
  locationServices: Type.Boolean({ description: 'R-LOC-4: off (default) keeps only aggregate zone counts: no fixes, no device records.' }),
  trackUnconnected: Type.Boolean({ description: 'R-LOC-3: precise fixes of unconnected (probing) Wi-Fi devices. Default off.' }),
  trackAssets: Type.Boolean({ description: 'R-LOC-3: track named and passive BLE assets individually. Default off.' }),
  bleTags: Type.Union([Type.Literal('ble-badge'), Type.Literal('ble-asset')], { description: 'What Mist and Meraki BLE tags are here: badges people wear, or equipment (default).' }),
  collect: Type.Record(Type.String(), Type.Array(Field, { maxItems: 6 }), { description: 'R-PRIV-1: personal fields collected per source (mist, meraki, spaces, syslog, mqtt, native, encounter). Default none.' }),
  vendorFloors: Type.Record(Type.String({ maxLength: 256 }), Id, { description: 'Vendor map / floor-plan id → Cairn floor id.' }),
  merakiValidator: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()], { description: 'The validator string Meraki\'s GET expects back.' }),
  spacesCoordinateUnit: Type.Union([Type.Literal('ft'), Type.Literal('m')], { description: 'Unit of Cisco Spaces x/y on this org\'s maps.' }),
};
const SettingsView = Strict({
  ...SettingsFields,
  sdkOptInCount: Type.Integer({ description: 'SDK installations with a current opt-in (consent records, kept as pseudonyms).' }),
  mistSecretSet: Type.Boolean(),
  merakiSecretSet: Type.Boolean(),
});
const SettingsPatch = Strict({
  ...Object.fromEntries(Object.entries(SettingsFields).map(([k, v]) => [k, Type.Optional(v)])),
  mistSecret: Type.Optional(Type.Union([Type.String({ minLength: 8, maxLength: 256 }), Type.Null()], { description: 'Mist webhook secret (X-Mist-Signature-v2); stored encrypted, never shown; null removes it.' })),
  merakiSecret: Type.Optional(Type.Union([Type.String({ minLength: 8, maxLength: 256 }), Type.Null()], { description: 'Meraki Scanning API shared secret; stored encrypted, never shown; null removes it.' })),
  sdkOptIn: Type.Optional(Strict({ add: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10_000 })), remove: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 10_000 })) }, { description: 'SDK installation ids whose users opted in (or withdrew) inside the app, recorded as consent records by pseudonym (the app itself uses POST /api/v1/orgs/{orgId}/consent/sdk).' })),
});

/** Routes whose bodies are raw bytes: body schemas are for OpenAPI only, params/query are checked here. */
function rawBodyValidator({ schema, httpPart }: { schema: unknown; httpPart?: string }) {
  if (httpPart === 'body') return () => true;
  let check: TypeCheck<TSchema> | undefined;
  return (data: unknown) => {
    check ??= TypeCompiler.Compile(schema as TSchema);
    if (check.Check(data)) return true;
    const e = check.Errors(data).First();
    return { error: new CairnError('CAIRN_ERR_VALIDATION', `${httpPart ?? 'request'}${e?.path ?? ''} ${e?.message ?? 'is invalid'}`, { field: `${httpPart ?? ''}${e?.path ?? ''}` }) };
  };
}

function sourceOf(req: FastifyRequest): IngestSource | undefined {
  return req.routeOptions.config?.ingestSource;
}

export async function ingestRoutes(app: FastifyInstance, d: IngestRouteDeps): Promise<void> {
  const { ingest } = d;
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/ingest/settings',
    { schema: { tags: ['ingest'], summary: 'What the org collects, per source (secrets never shown)', params: OrgParams, response: withErrors({ 200: SettingsView }) } },
    (req) => ingest.settings.read(ctxOf(req), req.params.orgId),
  );
  app.put<{ Params: { orgId: string }; Body: IngestSettingsPatch }>(
    '/api/v1/orgs/:orgId/ingest/settings',
    { schema: { tags: ['ingest'], summary: 'Change what the org collects, its webhook secrets and SDK opt-ins (audited)', params: OrgParams, body: SettingsPatch, response: withErrors({ 200: SettingsView }) } },
    (req) => ingest.settings.update(ctxOf(req), req.params.orgId, req.body),
  );

  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: d.bodyLimitBytes }, (_req, body, done) => done(null, body));
    scope.setValidatorCompiler(rawBodyValidator);
    // Back-pressure: every delivery (POST) takes a slot when its headers arrive, before its body is
    // read, and frees it when its answer has gone and its handler has returned, whichever is last.
    const gate = new IngestGate(d.maxInFlight, (n) => d.inFlight?.set(n));
    const slots = new WeakMap<FastifyRequest, IngestSlot>();
    scope.addHook('onRequest', (req, reply, done) => {
      if (req.method !== 'POST') return done();
      const slot = gate.tryAcquire();
      if (!slot) {
        d.busy?.inc({ source: sourceOf(req) ?? 'native' });
        void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return done(new CairnError('CAIRN_ERR_INGEST_BACKPRESSURE', `Ingest is saturated (${gate.maxInFlight} deliveries in flight); send the same delivery again after ${RETRY_AFTER_SECONDS} s.`, { maxInFlight: gate.maxInFlight, retryAfterSeconds: RETRY_AFTER_SECONDS }));
      }
      slots.set(req, slot);
      reply.raw.once('close', slot.release);
      done();
    });
    scope.addHook('onRoute', (route) => {
      if (route.method !== 'POST') return;
      const handler = route.handler;
      route.handler = async function gated(this: FastifyInstance, req, reply) {
        const slot = slots.get(req);
        slot?.hold();
        try {
          return await handler.call(this, req, reply);
        } finally {
          slot?.release();
        }
      };
    });
    // Count every refusal by source and reason, then let the app's handler answer it.
    scope.setErrorHandler((err, req) => {
      const ce = toCairnError(err);
      const source = sourceOf(req);
      if (source && ce.code !== 'CAIRN_ERR_INGEST_BACKPRESSURE') {
        const r = ingestReasonOf(ce);
        ingest.countRejected(source, r === 'internal' ? ce.code.replace(/^CAIRN_ERR_/, '').toLowerCase() : r);
      }
      // The original error, so the app's handler logs what really failed (it maps it the same way).
      throw err;
    });
    const tags = ['ingest'];
    const bodyLimit = d.bodyLimitBytes;
    const raw = (req: FastifyRequest): Buffer => {
      if (!Buffer.isBuffer(req.body)) throw new CairnError('CAIRN_ERR_INGEST_MALFORMED', 'The body is empty.', { reason: 'empty_body', source: sourceOf(req) ?? 'native' });
      return req.body;
    };

    scope.post<{ Querystring: { orgId?: string; siteId?: string } }>(
      '/api/v1/ingest/observations',
      {
        bodyLimit,
        config: { ingestSource: 'native' },
        schema: {
          tags,
          summary: 'Ingest a batch of observations (sensor tokens); stored and committed before the answer',
          description:
            'Up to 1 000 observations in Cairn\'s own format. The org is the token\'s (give ?orgId= only when the caller holds roles in several orgs); a token bound to a site writes to that site. ' +
            'The whole batch is refused (CAIRN_ERR_INGEST_MALFORMED, with the reason and path) on the first invalid observation. Re-sending a batch is harmless: records with the same sourceRecordId, ' +
            'and fixes of the same device, time and source, are stored once. Identifiers are pseudonymised at once; personal fields are kept only when the org collects them.',
          querystring: Strict({ orgId: Type.Optional(Id), siteId: Type.Optional(Id) }),
          body: NativeBatchSchema,
          response: withErrors({ 200: Summary, 422: Type.Any(), 503: Type.Any() }),
        },
      },
      (req) => receiveNative(ingest, ctxOf(req), req.query.orgId, req.query.siteId, raw(req), bodyLimit),
    );

    scope.post<{ Params: { orgId: string } }>(
      '/api/v1/ingest/mist/:orgId',
      {
        bodyLimit,
        config: { ingestSource: 'mist' },
        schema: {
          tags,
          summary: 'Juniper Mist location webhook (authenticated by X-Mist-Signature-v2, not a session)',
          description: 'Topics location, location_client, location_unclient, location_asset, location_sdk, zone, discovered-raw-rssi, sdkclient_scan_data and ping. The org must have set its Mist webhook secret; the HMAC-SHA256 of the raw body must match.',
          security: [],
          params: OrgParams,
          headers: Type.Object({ [MIST_SIGNATURE_HEADER]: Type.Optional(Type.String({ description: 'HMAC-SHA256 of the raw body under the webhook secret, hex.' })) }),
          response: withErrors({ 200: Summary, 422: Type.Any() }),
        },
      },
      (req) => receiveMist(ingest, req.params.orgId, raw(req), req.headers, req.id, bodyLimit),
    );

    scope.get<{ Params: { orgId: string } }>(
      '/api/v1/ingest/meraki/:orgId',
      { config: { ingestSource: 'meraki' }, schema: { tags, summary: 'Meraki Scanning API validator: answers the org\'s validator string as text', security: [], params: OrgParams, response: withErrors({ 200: Type.String() }) } },
      async (req, reply) => {
        const r = await merakiValidator(ingest, req.params.orgId);
        return reply.status(r.status).type(r.contentType).serializer((s: unknown) => String(s)).send(r.body);
      },
    );
    scope.post<{ Params: { orgId: string } }>(
      '/api/v1/ingest/meraki/:orgId',
      {
        bodyLimit,
        config: { ingestSource: 'meraki' },
        schema: { tags, summary: 'Meraki Scanning API v3 POST (authenticated by the shared secret in the body, not a session)', security: [], params: OrgParams, response: withErrors({ 200: Summary, 422: Type.Any() }) },
      },
      (req) => receiveMeraki(ingest, req.params.orgId, raw(req), req.id, bodyLimit),
    );
  });
}
