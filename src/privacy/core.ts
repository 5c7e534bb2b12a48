/** What every privacy-core and domain service is built from (wired once in app.ts). */
import type { Config } from '../config.ts';
import type { Clock } from '../kernel/clock.ts';
import type { EventBus } from '../kernel/events.ts';
import type { Logger } from '../kernel/logger.ts';
import type { Stores } from '../storage/index.ts';
import type { AccessService } from './access/index.ts';
import type { AuditService } from './audit/index.ts';
import type { KeyService } from './keys/index.ts';
import type { OrgDirectory } from './tenancy/directory.ts';
import type { SubjectRegistry } from './rights/registry.ts';
import type { ExportRegistry } from './portability/registry.ts';
import type { ProcessingRegistry } from './portability/activities.ts';

export interface Core {
  cfg: Config;
  stores: Stores;
  clock: Clock;
  bus: EventBus;
  log: Logger;
  keys: KeyService;
  audit: AuditService;
  access: AccessService;
  directory: OrgDirectory;
  /**
   * Data-subject requests (R-PRIV-4): modules register a handler for every table that holds data
   * about people, and ingest asks it which devices are restricted.
   */
  subjects: SubjectRegistry;
  /** Org export (R-PRIV-3): modules register an exporter for every table they keep. */
  exporters: ExportRegistry;
  /** Records of processing (GDPR Art. 30): modules register their processing activities. */
  activities: ProcessingRegistry;
}
