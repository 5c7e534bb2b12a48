/**
 * Device records (R-DATA-1/2). Sensors report (ingest only); observers get aggregates only, never
 * device ids (R-SEC-3); personal reads (pseudonyms with decrypted IP, username, hostname) are for
 * admins, privacy officers and support under a grant.
 */
import { atSite, READERS, type Policy } from '../policy.ts';

export const devicePolicy: Policy<'report' | 'readPersonal' | 'count'> = {
  report: atSite('sensor', 'org_admin'),
  readPersonal: atSite('org_admin', 'site_admin', 'privacy_officer', 'support'),
  count: atSite(...READERS),
};
