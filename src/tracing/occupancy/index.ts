/**
 * Occupancy and hot zones (R-CT-1, R-LOC-4): live counts per zone and floor from the presence
 * tracker, minute aggregates, baselines (fixed or learned per hour of week), alerts with hold
 * time and hysteresis in Mist's `occupancy-alerts` shape, delivered through `../delivery`.
 */
export { OccupancyService, EVAL_INTERVAL_MS, type AlertView, type BaselineInput, type BaselineView, type Counted, type FloorLive, type HistoryRow, type OccupancyDeps, type SiteLive, type ZoneLive } from './service.ts';
export { DEFAULT_OCCUPANCY_SETTINGS, applyOccupancyPatch, parseOccupancySettings, type OccupancySettings, type OccupancySettingsPatch, type RandomizedPolicy } from './settings.ts';
export { clearLevel, newAlertState, step, type AlertRule, type AlertState, type Phase } from './alerts.ts';
export { HourOfWeek, HOURS_OF_WEEK, MIN_LEARN_MINUTES, learnLimits, limitFor, percentileWithZeros, type BaselineSource, type Learned, type MinuteSample, type ZoneBaseline } from './baseline.ts';
export { cellKey, countCells, identitiesIn, policyFigure, type CellCount, type PresenceView } from './live.ts';
export { OCCUPANCY_TOPIC, mistOccupancyPayload, occupancyEmail, type AlertType, type HotZoneAlert } from './mist.ts';
