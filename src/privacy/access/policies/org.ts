/** Who may see and change an org's own record. */
import { anywhere, orgWide, READERS, type Policy } from '../policy.ts';

export const orgPolicy: Policy<'read' | 'update'> = {
  read: anywhere(...READERS),
  update: orgWide('org_admin'),
};
