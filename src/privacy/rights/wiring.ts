/**
 * How data-subject requests are put together once per app: the mailer for subjects (from
 * `smtpUpstream`), the request service with its limits from the configuration, the retention
 * purger of class `dsar`, and the `cairn_dsar_overdue` gauge.
 */
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type { Core } from '../core.ts';
import type { RetentionService } from '../retention/index.ts';
import { rightsMailerFromConfig, type RightsMailer } from './mailer.ts';
import { RightsService } from './service.ts';

/**
 * @example const rights = createRightsService(core, retention); // modules then register handlers with core.subjects
 */
export function createRightsService(core: Core, retention: RetentionService, mailer: RightsMailer | undefined = rightsMailerFromConfig(core.cfg)): RightsService {
  const rights = new RightsService(core, {
    registry: core.subjects,
    ...(mailer ? { mailer } : {}),
    perIpPerHour: core.cfg.dsarPerIpPerHour,
    perSubjectPerDay: core.cfg.dsarPerSubjectPerDay,
    verifyPerIpPerHour: core.cfg.dsarVerifyPerIpPerHour,
    archiveDays: core.cfg.dsarArchiveDays,
  });
  retention.register('dsar', (x, orgId, before, limit) => rights.purge(x, orgId, before, limit));
  return rights;
}

/** `cairn_dsar_overdue`: open requests past their answer or receipt deadline, over every org. */
export function registerDsarMetrics(registry: Registry, rights: RightsService): void {
  new Gauge({
    name: 'cairn_dsar_overdue',
    help: 'Open data-subject requests past their answer (or receipt) deadline (R-PRIV-4).',
    registers: [registry],
    async collect() {
      this.set(await rights.overdueCount());
    },
  });
}
