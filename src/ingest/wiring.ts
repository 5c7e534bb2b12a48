/**
 * How ingest and location are put together once per app: the plan cache both share, the sensor
 * registry, the settings and the pipeline, the association-session store and the audited location
 * history reads, and the retention purgers of what they store (fixes, association sessions and
 * re-delivery records, badge encounters: R-DATA-3 `location`; zone-minute counts: `analytics`),
 * and their data-subject request handlers (R-PRIV-4).
 */
import type { Core, RetentionService, SdkConsentService } from '../privacy/index.ts';
import { AssociationSessionRepo, IngestRepo, LocationRepo, ProximityRepo } from '../storage/index.ts';
import { LocationHistoryService, PlanCache, SensorService } from '../location/index.ts';
import { IngestService, type IngestDeps } from './service.ts';
import { IngestSettingsService } from './settings.ts';
import { AssociationSessionRecorder } from './session-store.ts';
import { EncounterStore } from './encounters/store.ts';
import { MqttCredentialService } from './mqtt/credentials.ts';
import { SpacesFirehoseService } from './firehose.ts';
import { ingestSubjectHandlers } from './subject-data.ts';
import { registerIngestGovernance } from './governance.ts';

export interface IngestServices {
  sensors: SensorService;
  ingest: IngestService;
  /** Audited reads of one device's fixes and association sessions (R-DATA-3). */
  history: LocationHistoryService;
  /** Per-sensor MQTT broker credentials (infrastructure, not personal: deleted with their sensor, no retention class). */
  mqtt: MqttCredentialService;
  /** Cisco Spaces firehose per org: settings, the consumers `serve` runs, status. */
  firehose: SpacesFirehoseService;
}

/**
 * `sdk` is the consent module's SDK opt-ins: the pipeline keeps SDK observations only of
 * installations with a current opt-in (R-LOC-3, R-PRIV-5).
 *
 * @example const { sensors, ingest } = createIngestServices(core, retention, metrics.rejected, consent.sdk)
 */
export function createIngestServices(core: Core, retention: RetentionService, rejected: IngestDeps['rejected'] | undefined, sdk: SdkConsentService): IngestServices {
  const plans = new PlanCache(core.bus);
  retention.register('location', (x, orgId, before, limit) => new LocationRepo(x).purgeFixes(orgId, before, limit));
  retention.register('location', (x, orgId, before, limit) => new IngestRepo(x).purgeRecords(orgId, before, limit));
  retention.register('location', (x, orgId, before, limit) => new AssociationSessionRepo(x).purge(orgId, before, limit));
  retention.register('analytics', (x, orgId, before, limit) => new LocationRepo(x).purgePresence(orgId, before, limit));
  retention.register('location', (x, orgId, before, limit) => new ProximityRepo(x).purgeEncounters(orgId, before, limit));
  for (const h of ingestSubjectHandlers()) core.subjects.register(h);
  registerIngestGovernance(core);
  const ingest = new IngestService(core, { settings: new IngestSettingsService(core, sdk), plans, sessions: new AssociationSessionRecorder(core, plans), encounters: new EncounterStore(core), ...(rejected ? { rejected } : {}) });
  return {
    sensors: new SensorService(core, plans),
    ingest,
    history: new LocationHistoryService(core),
    mqtt: new MqttCredentialService(core),
    firehose: new SpacesFirehoseService(core, ingest),
  };
}
