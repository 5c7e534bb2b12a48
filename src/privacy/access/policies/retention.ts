/** Retention policy: privacy officers and admins set it; only admins trigger a purge by hand. */
import { orgWide, type Policy } from '../policy.ts';

export const retentionPolicy: Policy<'read' | 'update' | 'run'> = {
  read: orgWide('org_admin', 'privacy_officer', 'support'),
  update: orgWide('org_admin', 'privacy_officer'),
  run: orgWide('org_admin'),
};
