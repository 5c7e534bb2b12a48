/**
 * Notice and consent (R-PRIV-5, R-DATA-12, class `consent`): versioned terms per org and site in
 * English and Dutch, the guest portal of each site with the controllers' external-portal hand-off
 * and a signed, single-use result, contact fields and a separate marketing opt-in with working
 * unsubscribe links, the org's app recording location-sharing opt-ins (the ingest pipeline's
 * opt-in set), and reading a person's records. Part of the privacy core: imports no other domain
 * module; HTTP lives in `routes.ts`.
 */
import { ConsentRepo } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { RetentionService } from '../retention/index.ts';
import { MarketingService } from './marketing.ts';
import { PortalService } from './portal.ts';
import { ConsentRecordService } from './records.ts';
import { SdkConsentService } from './sdk.ts';
import { TermsService } from './terms.ts';
import { consentDeviceProof, consentSubjectHandler } from './subject.ts';

export { LANGUAGES, negotiate, type Lang } from './i18n.ts';
export { parseHandoff, colonMac, type Handoff, type PortalVendor } from './handoff.ts';
export { RESULT_FIELDS, RESULT_TTL_SECONDS, checkResult, resultText, signResult, unsubscribeToken, parseUnsubscribeToken, UNSUBSCRIBE_TOKEN_PATTERN, type PortalResult } from './signing.ts';
export { TermsService, AUDIENCES, type Audience, type Terms, type TermsText, type TermsTexts } from './terms.ts';
export { PortalService, CONTACT_FIELDS, DEFAULT_PORTAL_SETTINGS, portalCtx, resultUrl, type ContactField, type DecisionOutcome, type PortalSettings, type PortalView } from './portal.ts';
export { SdkConsentService, SDK_RECHECK_MS, type SdkDecision, type SdkRecord } from './sdk.ts';
export { MarketingService, type MarketingRecipient } from './marketing.ts';
export { ConsentRecordService, type ConsentRecord, type SubjectQuery } from './records.ts';
export { consentDeviceProof, consentSubjectHandler } from './subject.ts';

export interface ConsentServices {
  terms: TermsService;
  portal: PortalService;
  /** The app's opt-ins; also the ingest pipeline's opt-in set. */
  sdk: SdkConsentService;
  marketing: MarketingService;
  records: ConsentRecordService;
}

/**
 * Wire the consent services once per app; register the purger of class `consent` (it runs only
 * when an org sets a retention period: by default records are kept to prove consent), the
 * data-subject handler of the consent tables and the guest portal's device proof.
 *
 * @example const consent = createConsentServices(core, retention); createIngestServices(core, retention, rejected, consent.sdk)
 */
export function createConsentServices(core: Core, retention: RetentionService): ConsentServices {
  retention.register('consent', (x, orgId, before, limit) => new ConsentRepo(x).purge(orgId, before, limit));
  core.subjects.register(consentSubjectHandler(core));
  core.subjects.setDeviceProof(consentDeviceProof());
  const terms = new TermsService(core);
  return { terms, portal: new PortalService(core, terms), sdk: new SdkConsentService(core, terms), marketing: new MarketingService(core), records: new ConsentRecordService(core) };
}
