/**
 * How notices are put together once per app: the service over the proximity, people and
 * delivery services, the `contact-notices` delivery topic with its recipient resolver (a
 * person's address is decrypted only when a notice is sent), the retention purger of batches,
 * recipients and sends (R-DATA-3 `location`, 30 days by default, R-CT-7) and the data-subject
 * request handler (R-PRIV-4).
 */
import type { Core, RetentionService } from '../../privacy/index.ts';
import { NotifyRepo } from '../../storage/index.ts';
import type { DeliveryService } from '../delivery/index.ts';
import type { PeopleService } from '../people/service.ts';
import type { ProximityService } from '../proximity/index.ts';
import { NOTICE_TOPIC, NotifyService } from './service.ts';
import { noticeSubjectHandlers } from './subject-data.ts';
import { registerNoticeGovernance } from '../governance.ts';

/** @example const notify = createNotifyService(core, retention, { proximity, people: journeys.people, delivery: occupancy.delivery }) */
export function createNotifyService(core: Core, retention: RetentionService, deps: { proximity: ProximityService; people: PeopleService; delivery: DeliveryService }): NotifyService {
  const notify = new NotifyService(core, deps.proximity, deps.people, deps.delivery);
  deps.delivery.registerTopic(NOTICE_TOPIC);
  deps.delivery.registerRecipients(NOTICE_TOPIC, (x, orgId, personId, kind, body) => notify.resolveRecipient(x, orgId, personId, kind, body));
  retention.register('location', (x, orgId, before, limit) => new NotifyRepo(x).purge(orgId, before, limit));
  for (const h of noticeSubjectHandlers(core)) core.subjects.register(h);
  registerNoticeGovernance(core);
  return notify;
}
