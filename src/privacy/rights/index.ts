/**
 * Data-subject requests (R-PRIV-4): the subject-data registry modules register their handlers
 * with, the request service (intake, verification, deadlines, approval, fulfilment), the access
 * archive writer and the mailer for subjects.
 */
export { SubjectRegistry } from './registry.ts';
export { RightsService, CODE_TTL_MS, MAX_CODE_ATTEMPTS, DEVICE_PROOF_WINDOW_MS, REJECT_REASONS, EXTEND_REASONS, type DsarDetail, type DsarView, type FulfilResult, type IntakeInput, type IntakeReceipt, type ProcessingDocument, type PublicMeta, type PublicStatus, type RejectReason, type ExtendReason, type RightsOptions, type Verification } from './service.ts';
export { DSAR_ID_KINDS, DSAR_KINDS, DSAR_REGIMES, newSubject, type Correction, type DeviceProof, type ProcessingInfo, type Subject, type SubjectDataHandler, type SubjectRecords } from './types.ts';
export { normaliseEmail, normaliseIdentifier } from './identifiers.ts';
export { addBusinessDays, addCalendarMonths, deadlines, extendedDue, lookBackStart } from './deadlines.ts';
export { zip, unzip, crc32 } from './archive.ts';
export { rightsMailerFromConfig, SmtpRightsMailer, type RightsMail, type RightsMailer } from './mailer.ts';
export { pickLang as pickRightsLang } from './messages.ts';
export { createRightsService, registerDsarMetrics } from './wiring.ts';
