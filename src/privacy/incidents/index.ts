/**
 * Personal-data breach records (R-PRIV-8): the incident service with its 72-hour clock and notices
 * to the org's admins, its wiring (mailer from `smtpUpstream`, the retention purger of class
 * `incidents`) and the `cairn_incidents_overdue` / `cairn_incidents_open` gauges.
 */
import { Gauge, type Registry } from 'prom-client';
import type { Core } from '../core.ts';
import type { RetentionService } from '../retention/index.ts';
import { rightsMailerFromConfig, type RightsMailer } from '../rights/mailer.ts';
import { IncidentService } from './service.ts';

export { IncidentService, NOTIFY_WITHIN_MS, INCIDENT_STATUSES, SUBJECT_CATEGORIES, CLOSE_REASONS, noticeMail, type CloseReason, type IncidentInput, type IncidentNoticeView, type IncidentPatch, type IncidentView, type NotifyResult, type SubjectCategory } from './service.ts';

/**
 * The incident service of one app; notices go out through `smtpUpstream` from `dsarMailFrom` (the
 * privacy sender), unless a mailer is given.
 * @example const incidents = createIncidentService(core, retention);
 */
export function createIncidentService(core: Core, retention: RetentionService, mailer: RightsMailer | undefined = rightsMailerFromConfig(core.cfg)): IncidentService {
  const s = new IncidentService(core, mailer);
  retention.register('incidents', (x, orgId, before, limit) => s.purge(x, orgId, before, limit));
  return s;
}

/** `cairn_incidents_overdue` (open past the 72-hour deadline) and `cairn_incidents_open`, over every org. */
export function registerIncidentMetrics(registry: Registry, incidents: IncidentService): void {
  new Gauge({
    name: 'cairn_incidents_overdue',
    help: 'Personal-data breach records not yet notified 72 hours after detection (R-PRIV-8).',
    registers: [registry],
    async collect() {
      this.set(await incidents.overdueCount());
    },
  });
  new Gauge({
    name: 'cairn_incidents_open',
    help: 'Personal-data breach records not yet notified (R-PRIV-8).',
    registers: [registry],
    async collect() {
      this.set(await incidents.openCount());
    },
  });
}
