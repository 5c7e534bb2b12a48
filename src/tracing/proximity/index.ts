/**
 * Proximity tracing and case reports (R-CT-3 … R-CT-8): the tracing index derived from fixes, the
 * trace over it (positions, co-presence, badge encounters), case reports and their exports, the
 * org's thresholds. Public API of the folder.
 */
export { createProximityService } from './wiring.ts';
export { ProximityService, type CaseFormat, type TraceRequest } from './service.ts';
export { ProximityIndex, type IndexPlace, type ProximityIndexOptions } from './indexer.ts';
export { DEFAULT_PROXIMITY_SETTINGS, PROXIMITY_BOUNDS, applyProximityPatch, parseProximitySettings, type ProximitySettings } from './settings.ts';
export { DEFAULT_TRACK_PARAMS, MinuteAccumulator, smoothTrack, ASSOCIATION, BRIDGED, type MinutePoint, type TraceFix, type TrackParams } from './minutes.ts';
export { CELL_METERS, cellOf, encodeTrack, decodeTrack, encodeCell, CellReader, type CellPoint } from './codec.ts';
export { contactDistance, measure, mergeEvidence, unionOf, type ContactEvidence, type ContactRule, type Evidence, type MeasuredContact } from './query.ts';
export { caseCsv, caseHtml, CASE_CSV_HEADER, type CaseContact, type CaseReport, type CaseSummary, type CaseThresholds, type SecondDegreeContact } from './report.ts';
export { checkPurpose, healthWordIn, PURPOSE_MAX_CHARS, PURPOSE_MIN_CHARS } from './purpose.ts';
