/**
 * Portability and records of processing (R-PRIV-3, GDPR Art. 30). Only org admins export: the
 * archive is every record of the org decrypted (people directory, device IPs and usernames,
 * quarantined mail, data-subject requests), the controller's to take, and least privilege
 * (R-SEC-3) keeps that with the role that already manages everything else. A privacy officer
 * answers one person through a data-subject request (R-PRIV-4) and has no need for the whole
 * set; support staff never take tenant data away. The records of processing hold no personal data
 * beyond the controller's contacts: admins and privacy officers read and complete them.
 */
import { orgWide, type Policy } from '../policy.ts';

export const portabilityPolicy: Policy<'export' | 'readRecords' | 'updateRecords'> = {
  export: orgWide('org_admin'),
  readRecords: orgWide('org_admin', 'privacy_officer'),
  updateRecords: orgWide('org_admin', 'privacy_officer'),
};
