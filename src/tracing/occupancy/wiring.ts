/**
 * How occupancy and delivery are put together once per app: the delivery service (channels,
 * queue, sender; its `location`-class purger) and the occupancy service reading the ingest
 * pipeline's presence state through a narrow accessor (its alert purger under `location`; the
 * zone-minute aggregates are purged with `zone_presence` under `analytics`), and the data-subject
 * request handlers of alert identities and message payloads (R-PRIV-4).
 */
import type { Core, RetentionService } from '../../privacy/index.ts';
import { DeliveryService } from '../delivery/service.ts';
import { OccupancyService, type OccupancyDeps } from './service.ts';
import { occupancySubjectHandlers } from './subject-data.ts';
import { registerOccupancyGovernance } from '../governance.ts';

export interface OccupancyServices {
  delivery: DeliveryService;
  occupancy: OccupancyService;
}

/** @example const { delivery, occupancy } = createOccupancyServices(core, retention, { presence: (o) => ingest.presence(o), presenceTimeoutMs: ingest.presenceIdleMs }) */
export function createOccupancyServices(core: Core, retention: RetentionService, presence: Pick<OccupancyDeps, 'presence' | 'presenceTimeoutMs'>): OccupancyServices {
  const delivery = new DeliveryService(core, retention);
  for (const h of occupancySubjectHandlers(core)) core.subjects.register(h);
  registerOccupancyGovernance(core);
  return { delivery, occupancy: new OccupancyService(core, { ...presence, delivery }, retention) };
}
