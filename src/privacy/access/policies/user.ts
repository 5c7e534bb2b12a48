/** User accounts hold e-mail addresses (personal data): org admins manage them; support may read under a grant. */
import { orgWide, type Policy } from '../policy.ts';

export const userPolicy: Policy<'list' | 'read' | 'create' | 'update'> = {
  list: orgWide('org_admin', 'support'),
  read: orgWide('org_admin', 'support'),
  create: orgWide('org_admin'),
  update: orgWide('org_admin'),
};
