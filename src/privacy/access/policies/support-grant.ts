/** The support grant (R-SEC-4) is the tenant's to renew or revoke; support staff can only see it. */
import { orgWide, type Policy } from '../policy.ts';

export const supportGrantPolicy: Policy<'read' | 'update'> = {
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  update: orgWide('org_admin'),
};
