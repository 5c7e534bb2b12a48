/**
 * Notice and consent (R-PRIV-5, R-DATA-12). Terms are not personal: anyone who reads the org reads
 * them; org admins edit and publish the org's terms, site admins those of their site. A site's
 * guest portal is its admins' to set. Consent records carry pseudonyms and encrypted contact
 * fields: admins, privacy officers and support under a grant read them. The org's app records
 * SDK opt-ins with a machine token (role sensor) or as an org admin. The marketing audience (decrypted
 * contacts) is for org admins only.
 */
import { anywhere, atSite, orgWide, READERS, type Policy } from '../policy.ts';

export const consentPolicy: Policy<'readTerms' | 'editTerms' | 'readPortal' | 'configurePortal' | 'readRecords' | 'recordSdk' | 'readMarketing'> = {
  readTerms: anywhere(...READERS),
  editTerms: atSite('org_admin', 'site_admin'),
  readPortal: atSite('org_admin', 'site_admin', 'privacy_officer', 'support'),
  configurePortal: atSite('org_admin', 'site_admin'),
  readRecords: orgWide('org_admin', 'privacy_officer', 'support'),
  recordSdk: anywhere('sensor', 'org_admin'),
  readMarketing: orgWide('org_admin'),
};
