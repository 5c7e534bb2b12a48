/**
 * How proximity tracing is put together once per app: the tracing index hooked into every ingest
 * batch's transaction (dirty hours marked there, open hours fed after the commit), the service,
 * and the retention purgers of what it stores (index rows and case reports: R-DATA-3 `location`,
 * 30 days by default, R-CT-7; badge encounters are purged by ingest, which stores them), and
 * their data-subject request handlers (R-PRIV-4).
 */
import type { Core, RetentionService } from '../../privacy/index.ts';
import { ProximityRepo } from '../../storage/index.ts';
import type { IngestService } from '../../ingest/index.ts';
import type { PeopleService } from '../people/service.ts';
import { ProximityIndex, type ProximityIndexOptions } from './indexer.ts';
import { ProximityService } from './service.ts';
import { proximitySubjectHandlers } from './subject-data.ts';
import { registerProximityGovernance } from '../governance.ts';

/** @example const proximity = createProximityService(core, retention, services.ingest, services.people) */
export function createProximityService(core: Core, retention: RetentionService, ingest: IngestService, people?: PeopleService, opts: ProximityIndexOptions = {}): ProximityService {
  const index = new ProximityIndex(core, opts);
  ingest.addBatchHook((x, orgId, _presence, at) => index.onBatch(x, orgId, at.fixes));
  retention.register('location', (x, orgId, before, limit) => new ProximityRepo(x).purgeIndex(orgId, before, limit));
  retention.register('location', (x, orgId, before, limit) => new ProximityRepo(x).purgeCases(orgId, before, limit));
  for (const h of proximitySubjectHandlers(core)) core.subjects.register(h);
  registerProximityGovernance(core);
  return new ProximityService(core, index, people);
}
