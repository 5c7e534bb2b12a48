/** Machine tokens (sensors, integrations): only org admins issue, list and revoke them. */
import { orgWide, type Policy } from '../policy.ts';

export const tokenPolicy: Policy<'list' | 'create' | 'revoke'> = {
  list: orgWide('org_admin'),
  create: orgWide('org_admin'),
  revoke: orgWide('org_admin'),
};
