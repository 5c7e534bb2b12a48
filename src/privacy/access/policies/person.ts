/**
 * The optional people directory (R-CT-5, R-DATA-11): names, e-mail addresses and device links of
 * people. Org admins keep it (turn it on, import, link); they and privacy officers may remove a
 * person or a link (erasure); reading decrypted identities is for admins, privacy officers and
 * support under a grant. Site admins, observers and sensors never see it.
 */
import { orgWide, type Policy } from '../policy.ts';

export const personPolicy: Policy<'read' | 'manage' | 'remove' | 'readConfig' | 'configure'> = {
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  manage: orgWide('org_admin'),
  remove: orgWide('org_admin', 'privacy_officer'),
  readConfig: orgWide('org_admin', 'privacy_officer', 'support'),
  configure: orgWide('org_admin'),
};
