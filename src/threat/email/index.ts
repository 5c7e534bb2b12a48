/**
 * E-mail threat analysis (R-ATP-5, R-DATA-10): the scanning SMTP relay, IMAP watchers, the message
 * verdict (attachments through the file pipeline, links against the org's domain lists) and the
 * encrypted quarantine. Other modules import only from here.
 */
export type { MailAction, MailLanguage, MailLimits, MailPolicy, MailReason, MessageVerdict, AttachmentReport } from './types.ts';
export { DEFAULT_MAIL_LIMITS, MAIL_ACTIONS, MAIL_LANGUAGES } from './types.ts';
export { standaloneScanner, type AttachmentScanner, type DomainLists, type ScanDeps } from './scanner.ts';
export { scanMessage, summarise, type ScannedMessage } from './analyze.ts';
export { checkStructure, parseMessage, type ParsedMessage } from './mime.ts';
export { checkLinks, hostOf } from './links.ts';
export { stampMessage } from './rewrite.ts';
export { subjectTag, warningNotice, releasedNotice } from './i18n.ts';
export { EmailService, actionFor, type Inspection, type MailStats } from './service.ts';
export { purgeQuarantine, type QuarantineEntry, type QuarantinePreview } from './quarantine.ts';
export type { EmailSettings, EmailSettingsInput } from './settings.ts';
