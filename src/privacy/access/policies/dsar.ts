/**
 * Data-subject requests (R-PRIV-4). Privacy officers handle them: they read the subject's
 * identifier, record requests received by letter or in person, approve, refuse, extend, fulfil and
 * lift. Org admins see the queue (kinds, dates, deadlines, no identifiers) so overdue requests do
 * not go unnoticed. Support staff, site admins, observers and sensors never see requests.
 */
import { orgWide, type Policy } from '../policy.ts';

export const dsarPolicy: Policy<'list' | 'read' | 'intake' | 'decide' | 'fulfil'> = {
  list: orgWide('org_admin', 'privacy_officer'),
  read: orgWide('privacy_officer'),
  intake: orgWide('privacy_officer'),
  decide: orgWide('privacy_officer'),
  fulfil: orgWide('privacy_officer'),
};
