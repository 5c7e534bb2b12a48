/**
 * How ingest and location are put together once per app: the plan cache both share, the sensor
 * registry, the settings and the pipeline, and the retention purgers of what they store (fixes
 * and re-delivery records: R-DATA-3 `location`; zone-minute counts: `analytics`).
 */
import type { Core, RetentionService } from '../privacy/index.ts';
import { IngestRepo, LocationRepo } from '../storage/index.ts';
import { PlanCache, SensorService } from '../location/index.ts';
import { IngestService, type IngestDeps } from './service.ts';
import { IngestSettingsService } from './settings.ts';

export interface IngestServices {
  sensors: SensorService;
  ingest: IngestService;
}

/** @example const { sensors, ingest } = createIngestServices(core, retention, metrics.rejected) */
export function createIngestServices(core: Core, retention: RetentionService, rejected?: IngestDeps['rejected']): IngestServices {
  const plans = new PlanCache(core.bus);
  retention.register('location', (x, orgId, before, limit) => new LocationRepo(x).purgeFixes(orgId, before, limit));
  retention.register('location', (x, orgId, before, limit) => new IngestRepo(x).purgeRecords(orgId, before, limit));
  retention.register('analytics', (x, orgId, before, limit) => new LocationRepo(x).purgePresence(orgId, before, limit));
  return {
    sensors: new SensorService(core, plans),
    ingest: new IngestService(core, { settings: new IngestSettingsService(core), plans, ...(rejected ? { rejected } : {}) }),
  };
}
