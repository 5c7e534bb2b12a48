/**
 * Ingest: sensors (machine tokens) and org admins write observations, at their site when bound
 * to one. What an org collects (R-PRIV-1, R-LOC-3/4) and its webhook secrets are the org admin's
 * to set; privacy officers and support (under a grant) read the settings, never the secrets.
 */
import { atSite, orgWide, type Policy } from '../policy.ts';

export const ingestPolicy: Policy<'write' | 'readSettings' | 'updateSettings'> = {
  write: atSite('sensor', 'org_admin'),
  readSettings: orgWide('org_admin', 'privacy_officer', 'support'),
  updateSettings: orgWide('org_admin'),
};
