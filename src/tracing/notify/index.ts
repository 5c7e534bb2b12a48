/**
 * Notices to exposed people (R-CT-3, R-CT-6, R-CT-8): candidates from a case report, the
 * draft → approved → sent workflow through the delivery channels, per-org templates in English
 * and Dutch. Public API of the folder.
 */
export { createNotifyService } from './wiring.ts';
export {
  NotifyService,
  NOTICE_TOPIC,
  type NoticeBatchSummary,
  type NoticeBatchView,
  type NoticeCandidate,
  type NoticeCandidates,
  type NoticeContactView,
  type NoticeDraftInput,
  type NoticeRecipientView,
  type NoticeSendView,
  type NoticeSettings,
  type NoticeSettingsPatch,
  type NoticeState,
  type RecipientStatus,
  type UnlinkedContact,
} from './service.ts';
export { DEFAULT_TEMPLATES, NOTICE_LANGUAGES, TEMPLATE_FIELDS, checkTemplate, formatDuration, isNoticeLanguage, renderNotice, type NoticeFacts, type NoticeLanguage, type NoticeTemplate, type TemplateField } from './templates.ts';
