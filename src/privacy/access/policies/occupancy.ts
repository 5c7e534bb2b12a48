/**
 * Live occupancy and hot-zone alerts (R-CT-1, R-LOC-4). Live counts and their minute history are
 * aggregates without device ids, so every reader of the site sees them, observers included.
 * Settings and baselines are read by admins, privacy officers and support under a grant; org
 * admins set the org's settings, site admins their site's zone baselines. Alerts are
 * contact-tracing data (R-CT-8): admins, privacy officers and support; the identities an alert
 * may carry (when the org turned them on) only for org admins, privacy officers and support.
 */
import { atSite, orgWide, READERS, type Policy } from '../policy.ts';

export const occupancyPolicy: Policy<'readLive' | 'readConfig' | 'configure' | 'configureZone' | 'readAlerts' | 'readIdentities'> = {
  readLive: atSite(...READERS),
  readConfig: atSite('org_admin', 'site_admin', 'privacy_officer', 'support'),
  configure: orgWide('org_admin'),
  configureZone: atSite('org_admin', 'site_admin'),
  readAlerts: atSite('org_admin', 'site_admin', 'privacy_officer', 'support'),
  readIdentities: orgWide('org_admin', 'privacy_officer', 'support'),
};
