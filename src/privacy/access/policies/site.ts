/** Sites: org admins create and delete; site admins change their own site; readers see theirs. */
import { anywhere, atSite, orgWide, READERS, type Policy } from '../policy.ts';

export const sitePolicy: Policy<'list' | 'read' | 'create' | 'update' | 'delete'> = {
  list: anywhere(...READERS),
  read: atSite(...READERS),
  create: orgWide('org_admin'),
  update: atSite('org_admin', 'site_admin'),
  delete: orgWide('org_admin'),
};
