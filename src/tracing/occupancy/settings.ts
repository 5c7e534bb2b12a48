/**
 * An org's occupancy settings and their rules (R-CT-1, R-LOC-4, R-LOC-5). Stated plainly, since
 * counts must say how they were made:
 *  - window: a device counts in the zone (and on the floor) where it was last seen, for
 *    `windowMinutes` after that sighting (1 up to the presence timeout, 5 minutes by default:
 *    a device unseen that long has left);
 *  - randomised addresses (`randomized`): `count` counts every address once, so a phone that
 *    changes its random address inside the window counts twice; `skip` leaves them out of the
 *    figures and of alerts; `separate` leaves them out of the figure alerts compare, and reports
 *    them beside it;
 *  - alerts: a zone is over when its figure exceeds its limit; after `holdMinutes` (0-30, 5 by
 *    default, as Mist) over, a violation is raised; it is cleared (a recovery event) after the
 *    figure stays at or below the limit minus `hysteresisPercent` for as long again. Alerts name
 *    no device unless `revealIdentities` is on (then the tracked devices' pseudonyms, never an
 *    address).
 */
import { CairnError } from '../../kernel/errors.ts';

export type RandomizedPolicy = 'count' | 'skip' | 'separate';

export interface OccupancySettings {
  windowMinutes: number;
  randomized: RandomizedPolicy;
  alerts: {
    enabled: boolean;
    holdMinutes: number;
    hysteresisPercent: number;
    revealIdentities: boolean;
  };
}

export const DEFAULT_OCCUPANCY_SETTINGS: Readonly<OccupancySettings> = Object.freeze({
  windowMinutes: 5,
  randomized: 'count',
  alerts: Object.freeze({ enabled: true, holdMinutes: 5, hysteresisPercent: 10, revealIdentities: false }),
}) as OccupancySettings;

/** A change: any field; `alerts` fields one by one. */
export interface OccupancySettingsPatch {
  windowMinutes?: number;
  randomized?: RandomizedPolicy;
  alerts?: Partial<OccupancySettings['alerts']>;
}

/** Stored JSON → settings, every field defaulted. */
export function parseOccupancySettings(json: string | undefined): OccupancySettings {
  const s = json ? (JSON.parse(json) as Partial<OccupancySettings>) : {};
  return { ...DEFAULT_OCCUPANCY_SETTINGS, ...s, alerts: { ...DEFAULT_OCCUPANCY_SETTINGS.alerts, ...(s.alerts ?? {}) } };
}

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

/**
 * Apply `patch` to `s` and check the result; `maxWindowMinutes` is the presence timeout.
 *
 * @example applyOccupancyPatch(DEFAULT_OCCUPANCY_SETTINGS, { alerts: { holdMinutes: 0 } }, 5)
 */
export function applyOccupancyPatch(s: OccupancySettings, patch: OccupancySettingsPatch, maxWindowMinutes: number): OccupancySettings {
  const out: OccupancySettings = { ...s, ...(patch.windowMinutes !== undefined ? { windowMinutes: patch.windowMinutes } : {}), ...(patch.randomized !== undefined ? { randomized: patch.randomized } : {}), alerts: { ...s.alerts } };
  for (const [k, v] of Object.entries(patch.alerts ?? {})) if (v !== undefined) (out.alerts as unknown as Record<string, unknown>)[k] = v;
  if (!Number.isInteger(out.windowMinutes) || out.windowMinutes < 1 || out.windowMinutes > maxWindowMinutes) {
    throw bad('windowMinutes', `windowMinutes must be 1-${maxWindowMinutes}: a device unseen for the presence timeout (${maxWindowMinutes} min) has left its zone.`);
  }
  if (!['count', 'skip', 'separate'].includes(out.randomized)) throw bad('randomized', 'randomized must be count, skip or separate.');
  const a = out.alerts;
  if (!Number.isInteger(a.holdMinutes) || a.holdMinutes < 0 || a.holdMinutes > 30) throw bad('alerts.holdMinutes', 'alerts.holdMinutes must be 0-30.');
  if (!Number.isInteger(a.hysteresisPercent) || a.hysteresisPercent < 0 || a.hysteresisPercent > 50) throw bad('alerts.hysteresisPercent', 'alerts.hysteresisPercent must be 0-50.');
  return out;
}
