/**
 * Contact tracing (issue 4, R-CT-1 … R-CT-8): occupancy and hot zones (`occupancy/`), journeys
 * and the optional people directory (`journeys/`, `people/`), proximity tracing and case reports
 * (`proximity/`), notices to exposed people (`notify/`). Public API of the module.
 */
export { createJourneyServices, type JourneyServices } from './journeys/wiring.ts';
export { JourneyService, journeyCsv, JOURNEY_CSV_HEADER, JOURNEY_MAX_VISITS, JOURNEY_MAX_WINDOW_DAYS, type Journey, type JourneyQuery, type JourneySubject, type JourneyVisit } from './journeys/service.ts';
export { VisitRecorder, VisitRules, VISIT_REFRESH_MS, VISIT_SETTLE_MS, VISIT_SWEEP_MS, recoveryWindowMs, replayVisits, type OpenVisit } from './journeys/recorder.ts';
export { DWELL_BANDS, MIST_DWELL_BANDS, MAX_BAND_MINUTES, checkDwellBands, dwellBand, type DwellBand, type DwellBands } from './journeys/bands.ts';
export { csvCell, toCsv } from './journeys/csv.ts';
export { PeopleService, type DeviceRef, type ImportSummary as PeopleImportSummary, type LinkKind, type PeopleSettings, type Person } from './people/service.ts';
export { PEOPLE_IMPORT_MAX, csvRows, parsePeople, parsePeopleCsv, parsePeopleJson, personRecord, type ParsedPeople, type PersonRecord } from './people/parse.ts';
export { createOccupancyServices, type OccupancyServices } from './occupancy/wiring.ts';
export { OccupancyService, OCCUPANCY_TOPIC, mistOccupancyPayload, type AlertView as OccupancyAlertView, type BaselineInput, type BaselineView, type OccupancySettings, type OccupancySettingsPatch, type SiteLive } from './occupancy/index.ts';
export { DeliveryService, SseStream, signatureHeaders, verifyCairnSignature, verifyMistCompatibleSignature, type ChannelInput, type ChannelPatch, type ChannelView, type DeliveryMessage, type DeliveryView } from './delivery/index.ts';
export {
  createProximityService,
  ProximityService,
  ProximityIndex,
  DEFAULT_PROXIMITY_SETTINGS,
  PROXIMITY_BOUNDS,
  DEFAULT_TRACK_PARAMS,
  caseCsv,
  caseHtml,
  checkPurpose,
  type CaseFormat,
  type CaseContact,
  type CaseReport,
  type CaseSummary,
  type ProximitySettings,
  type TraceRequest,
  type TrackParams,
} from './proximity/index.ts';
export {
  createNotifyService,
  NotifyService,
  NOTICE_TOPIC,
  NOTICE_LANGUAGES,
  DEFAULT_TEMPLATES as DEFAULT_NOTICE_TEMPLATES,
  type NoticeBatchSummary,
  type NoticeBatchView,
  type NoticeCandidates,
  type NoticeLanguage,
  type NoticeSettings,
  type NoticeTemplate,
} from './notify/index.ts';
