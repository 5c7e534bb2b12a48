/**
 * How journeys and the people directory are put together once per app: the visit recorder hooked
 * into every ingest batch's transaction, the services, and the retention purgers of what they
 * store (zone visits: R-DATA-3 `location`; people and their device links: R-DATA-11
 * `identity_links`, kept until unlinked unless the org sets a period), and their data-subject
 * request handlers (R-PRIV-4).
 */
import type { Core, RetentionService } from '../../privacy/index.ts';
import { JourneysRepo, PeopleRepo } from '../../storage/index.ts';
import type { IngestService } from '../../ingest/index.ts';
import { PeopleService } from '../people/service.ts';
import { VisitRecorder } from './recorder.ts';
import { JourneyService } from './service.ts';
import { journeySubjectHandlers } from './subject-data.ts';
import { registerJourneyGovernance } from '../governance.ts';

export interface JourneyServices {
  journeys: JourneyService;
  people: PeopleService;
  /** Zone visits kept at ingest (its batch hook is registered). */
  visits: VisitRecorder;
}

/** @example const { journeys, people } = createJourneyServices(core, retention, services.ingest) */
export function createJourneyServices(core: Core, retention: RetentionService, ingest: IngestService): JourneyServices {
  const visits = new VisitRecorder(core.bus);
  ingest.addBatchHook(visits.hook);
  retention.register('location', (x, orgId, before, limit) => new JourneysRepo(x).purgeVisits(orgId, before, limit));
  retention.register('identity_links', (x, orgId, before, limit) => new PeopleRepo(x).purge(orgId, before, limit));
  for (const h of journeySubjectHandlers(core)) core.subjects.register(h);
  registerJourneyGovernance(core);
  const people = new PeopleService(core);
  return { journeys: new JourneyService(core, visits, people), people, visits };
}
