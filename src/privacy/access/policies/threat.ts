/**
 * Threat analysis (R-ATP): sensors and org admins submit files; verdicts (hash, type, score, no
 * personal metadata) are for admins, privacy officers, observers and support under a grant; the
 * R-DATA-8 submission metadata (client host and IP, file name, URL, device, username) only for
 * admins, privacy officers and support; lists and settings are the org admin's (privacy officers
 * may read them).
 */
import { anyOf, anywhere, orgWide, type Policy } from '../policy.ts';

export const threatPolicy: Policy<'submit' | 'readVerdict' | 'readSubmissions' | 'readLists' | 'writeLists' | 'readSettings' | 'writeSettings'> = {
  submit: anyOf(orgWide('org_admin'), anywhere('sensor')),
  readVerdict: orgWide('org_admin', 'privacy_officer', 'observer', 'support'),
  readSubmissions: orgWide('org_admin', 'privacy_officer', 'support'),
  readLists: orgWide('org_admin', 'privacy_officer'),
  writeLists: orgWide('org_admin'),
  readSettings: orgWide('org_admin', 'privacy_officer'),
  writeSettings: orgWide('org_admin'),
};
