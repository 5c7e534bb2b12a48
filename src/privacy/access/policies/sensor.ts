/**
 * The sensor/AP registry and a site's path-loss calibration: infrastructure, no personal data.
 * Site readers see where sensors are; org and site admins place, move and calibrate them.
 */
import { atSite, READERS, type Policy } from '../policy.ts';

export const sensorPolicy: Policy<'read' | 'create' | 'update' | 'delete' | 'calibrate'> = {
  read: atSite(...READERS),
  create: atSite('org_admin', 'site_admin'),
  update: atSite('org_admin', 'site_admin'),
  delete: atSite('org_admin', 'site_admin'),
  calibrate: atSite('org_admin', 'site_admin'),
};
