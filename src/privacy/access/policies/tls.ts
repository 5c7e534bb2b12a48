/**
 * Encrypted-traffic analysis (R-ATP-4, R-DATA-9): sensors and org admins upload captures; the
 * handshake records (client and server addresses, requested host names) are personal and only
 * for admins, privacy officers and support under a grant; observers get aggregate counts only.
 */
import { anyOf, anywhere, orgWide, type Policy } from '../policy.ts';

export const tlsPolicy: Policy<'upload' | 'read' | 'count'> = {
  upload: anyOf(orgWide('org_admin'), anywhere('sensor')),
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  count: orgWide('org_admin', 'privacy_officer', 'observer', 'support'),
};
