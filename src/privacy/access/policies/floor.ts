/** Floors (maps, plan images) belong to a site: its readers see them, its admins change them. */
import { atSite, READERS, type Policy } from '../policy.ts';

export const floorPolicy: Policy<'read' | 'create' | 'update' | 'delete'> = {
  read: atSite(...READERS),
  create: atSite('org_admin', 'site_admin'),
  update: atSite('org_admin', 'site_admin'),
  delete: atSite('org_admin', 'site_admin'),
};
