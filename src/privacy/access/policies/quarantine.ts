/**
 * Quarantined e-mail and the e-mail relay's settings (R-ATP-5, R-DATA-10). Org admins see and act
 * on every quarantined message; any person of the org (not a sensor token, not support staff) may
 * reach the quarantine for their own mail only: the service then narrows the request to messages
 * addressed to the caller's own e-mail address and refuses the rest as "not found or no access".
 */
import { anywhere, orgWide, type Policy } from '../policy.ts';

export const quarantinePolicy: Policy<'manage' | 'own' | 'configure' | 'readConfig'> = {
  /** Every message of the org: list, preview, release, delete. */
  manage: orgWide('org_admin'),
  /** The caller's own messages (recipient = the caller's e-mail); org admins pass here too. */
  own: anywhere('org_admin', 'site_admin', 'privacy_officer', 'observer'),
  /** Domains, policy, language and IMAP account of the relay. */
  configure: orgWide('org_admin'),
  readConfig: orgWide('org_admin', 'privacy_officer'),
};
