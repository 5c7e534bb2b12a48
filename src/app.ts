/**
 * buildApp(config): opens the stores, wires the privacy core, domain services and HTTP routes,
 * and returns them without listening (tests use `app.inject()`; `main.ts serve` listens).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { readFileSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import type { Config } from './config.ts';
import { systemClock, type Clock } from './kernel/clock.ts';
import { EventBus } from './kernel/events.ts';
import { newId } from './kernel/ids.ts';
import { packagePath } from './kernel/paths.ts';
import { createLogger, type Logger } from './kernel/logger.ts';
import { Stores } from './storage/index.ts';
import {
  AccessService, AuditQueries, AuditService, IdentityService, KeyAdmin, KeyService, LocalKeyProvider, OrgDirectory, RetentionService, TenancyService, SubjectRegistry, ExportRegistry, ProcessingRegistry, createConsentServices, createRightsService, createIncidentService, createPortabilityServices, loadMasterKey, registerDsarMetrics, registerIncidentMetrics, type ConsentServices, type IncidentService, type PortabilityServices, type Core, type KeyProvider, type RightsService,
} from './privacy/index.ts';
import { privacyRoutes } from './privacy/routes.ts';
import { consentRoutes } from './privacy/consent/routes.ts';
import { rightsRoutes } from './privacy/rights/routes.ts';
import { portabilityRoutes } from './privacy/portability/routes.ts';
import { incidentRoutes } from './privacy/incidents/routes.ts';
import { DeviceService } from './devices/index.ts';
import { deviceRoutes } from './devices/routes.ts';
import { createIngestServices, type IngestService, type MqttCredentialService } from './ingest/index.ts';
import { ingestRoutes } from './ingest/routes.ts';
import type { SpacesFirehoseService } from './ingest/firehose.ts';
import { firehoseRoutes } from './ingest/firehose-routes.ts';
import { mqttRoutes } from './ingest/mqtt/routes.ts';
import type { LocationHistoryService, SensorService } from './location/index.ts';
import { locationRoutes } from './location/routes.ts';
import { historyRoutes } from './location/history-routes.ts';
import { createThreatServices, type ThreatServices } from './threat/index.ts';
import { threatRoutes } from './threat/routes.ts';
import { EmailService } from './threat/email/index.ts';
import { emailRoutes } from './threat/email/routes.ts';
import { TlsTrafficService, threatIntelSource } from './threat/tls/service.ts';
import { tlsRoutes } from './threat/tls/routes.ts';
import { createJourneyServices, type JourneyService, type PeopleService } from './tracing/index.ts';
import { journeyRoutes } from './tracing/journeys/routes.ts';
import { peopleRoutes } from './tracing/people/routes.ts';
import { createOccupancyServices, type DeliveryService, type OccupancyService } from './tracing/index.ts';
import { occupancyRoutes } from './tracing/occupancy/routes.ts';
import { deliveryRoutes } from './tracing/delivery/routes.ts';
import { createProximityService, type ProximityService } from './tracing/index.ts';
import { proximityRoutes } from './tracing/proximity/routes.ts';
import { createNotifyService, type NotifyService } from './tracing/index.ts';
import { notifyRoutes } from './tracing/notify/routes.ts';
import { installAuth } from './http/auth.ts';
import { installErrorHandling } from './http/errors.ts';
import { Metrics } from './http/metrics.ts';
import { systemRoutes } from './http/system-routes.ts';

export interface BuildOptions {
  clock?: Clock;
  /** Where log lines go (tests capture them). */
  logDestination?: DestinationStream;
  /** Replace the master key provider (a KMS). */
  keyProvider?: KeyProvider;
  /** Skip HTTP wiring (CLI commands that only need services). */
  http?: boolean;
}

export interface Services {
  tenancy: TenancyService;
  identity: IdentityService;
  auditQueries: AuditQueries;
  retention: RetentionService;
  keyAdmin: KeyAdmin;
  /** Notice and consent (R-PRIV-5): terms, guest portals, SDK opt-ins, marketing, records. */
  consent: ConsentServices;
  /** Data-subject requests (R-PRIV-4): intake, verification, deadlines, approval, fulfilment. */
  rights: RightsService;
  devices: DeviceService;
  sensors: SensorService;
  /** Cisco Spaces firehose per org (`start()` in `serve`, stopped by `close()`). */
  firehose: SpacesFirehoseService;
  ingest: IngestService;
  mqtt: MqttCredentialService;
  history: LocationHistoryService;
  threat: ThreatServices;
  mail: EmailService;
  tls: TlsTrafficService;
  journeys: JourneyService;
  people: PeopleService;
  occupancy: OccupancyService;
  /** Outgoing webhooks and e-mail (alerts now, notices later), with a durable queue. */
  delivery: DeliveryService;
  /** Proximity tracing and case reports, over the tracing index fed by every ingest batch. */
  proximity: ProximityService;
  /** Notices to exposed people from case reports (draft → approved → sent, through delivery). */
  notify: NotifyService;
  /** Org export (R-PRIV-3) and records of processing (GDPR Art. 30). */
  portability: PortabilityServices;
  /** Personal-data breach records with the 72-hour clock and notices (R-PRIV-8). */
  incidents: IncidentService;
}

export interface CairnApp {
  app: FastifyInstance;
  core: Core;
  services: Services;
  metrics: Metrics;
  masterKeySource: string;
  /** Every route registered (method and URL pattern), for the access-matrix test and docs. */
  routes: { method: string; url: string }[];
  /** Start the periodic jobs of a long-running server: retention purges, audit checkpoints. */
  startSchedulers(): void;
  close(): Promise<void>;
}

const PKG = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string; description: string };

export async function buildApp(cfg: Config, opts: BuildOptions = {}): Promise<CairnApp> {
  const clock = opts.clock ?? systemClock;
  const log: Logger = createLogger({ level: cfg.logLevel, ...(opts.logDestination ? { destination: opts.logDestination } : {}) });
  const stores = new Stores({ engine: cfg.store, regions: cfg.regions, dataDir: cfg.dataDir, pgUrl: cfg.pgUrl, pgSchemaPrefix: cfg.pgSchemaPrefix });
  let masterKeySource = 'key provider';
  let provider = opts.keyProvider;
  if (!provider) {
    const mk = loadMasterKey(cfg);
    masterKeySource = mk.source;
    provider = new LocalKeyProvider(mk.key);
  }
  try {
    await stores.migrate();
  } catch (e) {
    await stores.close().catch(() => undefined);
    throw e;
  }
  const bus = new EventBus((err, event) => log.error({ err, event }, 'event handler failed'));
  const keys = new KeyService(provider, clock);
  await keys.initServerSecrets(stores.control);
  const audit = new AuditService(keys, clock, cfg.auditCheckpointEvery, bus);
  for (const r of stores.regions) await audit.init(stores.region(r));
  const directory = new OrgDirectory(stores);
  const access = new AccessService(directory, audit, clock);
  const subjects = new SubjectRegistry();
  await subjects.load(stores);
  const core: Core = { cfg, stores, clock, bus, log, keys, audit, access, directory, subjects, exporters: new ExportRegistry(), activities: new ProcessingRegistry() };
  const retention = new RetentionService(core);
  const rights = createRightsService(core, retention);
  const portability = createPortabilityServices(core);
  const incidents = createIncidentService(core, retention);
  const consent = createConsentServices(core, retention);
  const ingestion = createIngestServices(core, retention, { inc: (labels, n) => metrics.rejected.inc(labels, n) }, consent.sdk);
  const journeys = createJourneyServices(core, retention, ingestion.ingest);
  const proximity = createProximityService(core, retention, ingestion.ingest, journeys.people);
  const occupancy = createOccupancyServices(core, retention, { presence: (orgId) => ingestion.ingest.presence(orgId), presenceTimeoutMs: ingestion.ingest.presenceIdleMs });
  const services: Services = {
    tenancy: new TenancyService(core),
    identity: new IdentityService(core),
    auditQueries: new AuditQueries(core),
    retention,
    keyAdmin: new KeyAdmin(core),
    consent,
    rights,
    devices: new DeviceService(core),
    sensors: ingestion.sensors,
    ingest: ingestion.ingest,
    firehose: ingestion.firehose,
    mqtt: ingestion.mqtt,
    history: ingestion.history,
    threat: createThreatServices(core, retention),
    mail: new EmailService(core, () => services.threat, retention),
    tls: new TlsTrafficService(core, retention, threatIntelSource(() => services.threat)),
    journeys: journeys.journeys,
    people: journeys.people,
    occupancy: occupancy.occupancy,
    delivery: occupancy.delivery,
    proximity,
    notify: createNotifyService(core, retention, { proximity, people: journeys.people, delivery: occupancy.delivery }),
    portability,
    incidents,
  };
  const metrics = new Metrics(opts.http !== false);
  registerDsarMetrics(metrics.registry, rights);
  registerIncidentMetrics(metrics.registry, incidents);

  const tls = cfg.tlsCert && cfg.tlsKey ? { cert: readFileSync(cfg.tlsCert), key: readFileSync(cfg.tlsKey) } : undefined;
  const app = Fastify({
    loggerInstance: log,
    bodyLimit: cfg.bodyLimitBytes,
    trustProxy: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[A-Za-z0-9._-]{8,128}$/.test(h) ? h : newId();
    },
    ...(tls ? { https: tls } : {}),
  }) as unknown as FastifyInstance;

  // Bodies are validated strictly (no type coercion, unknown fields refused); path and query
  // strings are text by nature, so there numbers and booleans are coerced.
  const strictAjv = addFormats.default(new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, strict: false }));
  const coercingAjv = addFormats.default(new Ajv({ removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, strict: false }));
  // Validators compile on a route's first request, not at start-up (cold start < 1 s with ~50
  // routes); responses are plain JSON.stringify of the services' already-shaped objects.
  app.setValidatorCompiler(({ schema, httpPart }) => {
    let fn: ReturnType<Ajv['compile']> | undefined;
    const validate = (data: unknown) => {
      fn ??= (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema);
      const ok = fn(data);
      (validate as { errors?: unknown }).errors = fn.errors;
      return ok;
    };
    return validate as never;
  });
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (r) => {
    for (const m of [r.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
  });
  if (opts.http !== false) {
    await app.register(cookie);
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'Cairn API', version: PKG.version, description: PKG.description },
        components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'cairn_session' }, token: { type: 'http', scheme: 'bearer' } } },
        security: [{ session: [] }, { token: [] }],
      },
    });
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    app.addContentTypeParser(['image/png', 'image/jpeg', 'image/webp'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    installErrorHandling(app, (code) => metrics.errors.inc({ code }));
    installAuth(app, services.identity);
    app.addHook('onRequest', async (req, reply) => {
      reply.header('x-request-id', req.id);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('x-frame-options', 'DENY');
      reply.header('referrer-policy', 'no-referrer');
      if (tls) reply.header('strict-transport-security', 'max-age=31536000');
    });
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
      metrics.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    });
    systemRoutes(app, { identity: services.identity, metrics, ready: () => stores.ping(), tls: !!tls, loginPerMinute: cfg.loginRateLimitPerMinute, nowMs: () => clock.nowMs(), lookup: (e) => keys.lookupHash('email', e) });
    privacyRoutes(app, services);
    await consentRoutes(app, services.consent, { nowMs: () => clock.nowMs() });
    await rightsRoutes(app, services.rights);
    deviceRoutes(app, services.devices);
    locationRoutes(app, services.sensors);
    historyRoutes(app, services.history);
    mqttRoutes(app, services.mqtt, cfg.mqttUsername);
    firehoseRoutes(app, services.firehose);
    await ingestRoutes(app, { ingest: services.ingest, bodyLimitBytes: cfg.ingestBodyLimitBytes, maxInFlight: cfg.ingestMaxInFlight, busy: metrics.ingestBusy, inFlight: metrics.ingestInFlight });
    await threatRoutes(app, services.threat);
    emailRoutes(app, services.mail);
    await tlsRoutes(app, services.tls);
    journeyRoutes(app, services.journeys);
    await peopleRoutes(app, services.people);
    occupancyRoutes(app, services.occupancy);
    deliveryRoutes(app, services.delivery);
    proximityRoutes(app, services.proximity, services.ingest);
    notifyRoutes(app, services.notify);
    portabilityRoutes(app, services.portability);
    incidentRoutes(app, services.incidents);
  }

  let checkpointTimer: NodeJS.Timeout | undefined;
  return {
    app,
    core,
    services,
    metrics,
    masterKeySource,
    routes,
    startSchedulers() {
      services.retention.start();
      subjects.startRefresh(stores, 60_000, (e) => log.error({ err: e }, 'restriction reload failed'));
      services.delivery.start();
      services.occupancy.start();
      services.proximity.index.start();
      if (cfg.auditCheckpointIntervalMinutes > 0 && !checkpointTimer) {
        checkpointTimer = setInterval(() => {
          audit.checkpointAll(directory, (r) => stores.region(r)).catch((e) => log.error({ err: e }, 'audit checkpoint run failed'));
        }, cfg.auditCheckpointIntervalMinutes * 60_000);
        checkpointTimer.unref();
      }
    },
    async close() {
      if (checkpointTimer) clearInterval(checkpointTimer);
      services.retention.stop();
      subjects.stopRefresh();
      services.rights.close();
      services.incidents.shutdown();
      await services.occupancy.stop();
      await services.proximity.index.stop();
      await services.delivery.stop();
      await services.mail.stop();
      await services.firehose.stop();
      await app.close();
      await stores.close();
    },
  };
}
