/** Zones (polygons with occupancy limits) follow their floor's site. */
import { atSite, READERS, type Policy } from '../policy.ts';

export const zonePolicy: Policy<'read' | 'create' | 'update' | 'delete'> = {
  read: atSite(...READERS),
  create: atSite('org_admin', 'site_admin'),
  update: atSite('org_admin', 'site_admin'),
  delete: atSite('org_admin', 'site_admin'),
};
