/** The audit log names actors and targets: admins, privacy officers and support under a grant may read and verify it. */
import { orgWide, type Policy } from '../policy.ts';

export const auditPolicy: Policy<'read' | 'verify'> = {
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  verify: orgWide('org_admin', 'privacy_officer', 'support'),
};
