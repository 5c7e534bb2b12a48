/**
 * Journeys (R-CT-2, R-CT-8): the zones a device or a person's linked devices visited, with enter,
 * exit and dwell. Precise location history of individuals: org admins, privacy officers and
 * support under a grant see every site; site admins (and site-bound privacy officers) only the
 * visits at their own sites; observers and sensors never. The dwell bands are the org admin's.
 */
import { anywhere, atSite, orgWide, type Policy } from '../policy.ts';

const JOURNEY_READERS = ['org_admin', 'site_admin', 'privacy_officer', 'support'] as const;

export const journeyPolicy: Policy<'query' | 'read' | 'readConfig' | 'configure'> = {
  /** Ask for a journey at all (the answer is then narrowed to the sites `read` allows). */
  query: anywhere(...JOURNEY_READERS),
  /** See the visits at one site. */
  read: atSite(...JOURNEY_READERS),
  readConfig: anywhere(...JOURNEY_READERS),
  configure: orgWide('org_admin'),
};
