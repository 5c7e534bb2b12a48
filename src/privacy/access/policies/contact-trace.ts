/**
 * Proximity tracing and case reports (R-CT-3, R-CT-8): running a trace, reading, exporting and
 * deleting case reports. They follow a device across every site and name its contacts, so they
 * are for the tenant's administrators only: org admins, privacy officers (who answer for the
 * purpose), and the operator's support staff under an active grant. Site admins (whose view
 * stops at their sites), observers and sensors never. The thresholds (R-CT-4) are the org
 * admin's to set.
 */
import { orgWide, type Policy } from '../policy.ts';

const TRACERS = ['org_admin', 'privacy_officer', 'support'] as const;

export const contactTracePolicy: Policy<'run' | 'read' | 'delete' | 'readConfig' | 'configure'> = {
  run: orgWide(...TRACERS),
  read: orgWide(...TRACERS),
  delete: orgWide('org_admin', 'privacy_officer'),
  readConfig: orgWide(...TRACERS),
  configure: orgWide('org_admin'),
};
