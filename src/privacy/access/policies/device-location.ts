/**
 * One device's location history: its fixes and association sessions (R-DATA-3, personal;
 * R-CT-8). The tenant's administrators (a site admin for its own sites only), the privacy
 * officer, and the operator's support staff only under the tenant's active grant. Never
 * observers (aggregates only, R-SEC-3) nor sensors (they only report). Every read is audited.
 */
import { atSite, type Policy } from '../policy.ts';

export const deviceLocationPolicy: Policy<'read'> = {
  read: atSite('org_admin', 'site_admin', 'privacy_officer', 'support'),
};
