/**
 * Per-sensor MQTT credentials (R-SEC-1): org and site admins issue, rotate, revoke and see them
 * for the sensors of their site (the password is shown only once, at issue or rotation). The
 * broker files of the whole org (every sensor's password hash and topic ACL) are the org admin's.
 */
import { atSite, orgWide, type Policy } from '../policy.ts';

export const mqttPolicy: Policy<'read' | 'issue' | 'rotate' | 'revoke' | 'brokerConfig'> = {
  read: atSite('org_admin', 'site_admin'),
  issue: atSite('org_admin', 'site_admin'),
  rotate: atSite('org_admin', 'site_admin'),
  revoke: atSite('org_admin', 'site_admin'),
  brokerConfig: orgWide('org_admin'),
};
