/** Key rotation is an org admin's act. */
import { orgWide, type Policy } from '../policy.ts';

export const keysPolicy: Policy<'rotate'> = {
  rotate: orgWide('org_admin'),
};
