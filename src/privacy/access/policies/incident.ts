/**
 * Personal-data breach records (R-PRIV-8). Org admins and privacy officers record, update, notify
 * and close them. Support staff (the operator, under the org's grant) may record and read them
 * and send the notice too: R-PRIV-8 is the processor telling the controller, and the operator is
 * the one who finds a breach in what it runs. Updating and closing stay with the org.
 */
import { orgWide, type Policy } from '../policy.ts';

export const incidentPolicy: Policy<'list' | 'read' | 'create' | 'update' | 'notify' | 'close'> = {
  list: orgWide('org_admin', 'privacy_officer', 'support'),
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  create: orgWide('org_admin', 'privacy_officer', 'support'),
  update: orgWide('org_admin', 'privacy_officer'),
  notify: orgWide('org_admin', 'privacy_officer', 'support'),
  close: orgWide('org_admin', 'privacy_officer'),
};
