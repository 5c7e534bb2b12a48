/**
 * Notices to exposed people (R-CT-3, R-CT-8): drafting them from a case report, approving and
 * sending them, the templates and people's notice languages. They follow case reports, which are
 * org-wide (a trace crosses sites), so only org admins act on them; privacy officers (who answer
 * for the purpose) and the operator's support staff under an active grant read them. Site admins,
 * observers and sensors never. The four-eyes rule on approval (another admin than the drafter
 * when the org has more than one) is the notice service's, since it depends on the batch.
 */
import { orgWide, type Policy } from '../policy.ts';

const READERS = ['org_admin', 'privacy_officer', 'support'] as const;

export const noticePolicy: Policy<'read' | 'draft' | 'approve' | 'send' | 'readConfig' | 'configure'> = {
  read: orgWide(...READERS),
  draft: orgWide('org_admin'),
  approve: orgWide('org_admin'),
  send: orgWide('org_admin'),
  readConfig: orgWide(...READERS),
  configure: orgWide('org_admin'),
};
