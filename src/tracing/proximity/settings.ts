/**
 * An org's contact-tracing thresholds (R-CT-4: distance, duration and window are the tenant's to
 * set): the contact radius and how far the fixes' accuracy widens it, the cumulative time that
 * makes a contact, the longest window one trace may span, which evidence counts (co-presence at
 * one AP for association-only data, badge encounters) and how many contacts a second-degree
 * trace follows. Stored as JSON per org; every field has a default, so an org that never set
 * them traces with these.
 */
import { CairnError } from '../../kernel/errors.ts';

export interface ProximitySettings {
  /** Contact distance, metres (default 2). */
  radiusMeters: number;
  /** Cumulative time within it that makes a contact, minutes (default 15). */
  minMinutes: number;
  /**
   * How much the two points' accuracy widens the radius (default 0.15): the radius grows by this
   * factor times √(accuracy₁² + accuracy₂²) of the two smoothed points, up to `maxWideningMeters`.
   */
  accuracyWidening: number;
  /** Cap on the widening, metres (default 1). */
  maxWideningMeters: number;
  /** Longest window a trace may span, days (default 14). */
  maxWindowDays: number;
  /** Count devices known only by their AP (association-only data) as in contact while on the same AP (default on). */
  coPresence: boolean;
  /** Count badge-to-badge encounters (default on). */
  encounters: boolean;
  /** Ignore encounters weaker than this, dBm (default null: all). */
  encounterMinRssiDbm: number | null;
  /** A second-degree trace follows at most this many first-degree contacts, strongest first (default 20). */
  secondDegreeContacts: number;
}

export const DEFAULT_PROXIMITY_SETTINGS: Readonly<ProximitySettings> = Object.freeze({
  radiusMeters: 2,
  minMinutes: 15,
  accuracyWidening: 0.15,
  maxWideningMeters: 1,
  maxWindowDays: 14,
  coPresence: true,
  encounters: true,
  encounterMinRssiDbm: null,
  secondDegreeContacts: 20,
});

/** Bounds of each numeric setting (inclusive). */
export const PROXIMITY_BOUNDS = {
  radiusMeters: [0.5, 10],
  minMinutes: [0, 480],
  accuracyWidening: [0, 2],
  maxWideningMeters: [0, 5],
  maxWindowDays: [1, 90],
  encounterMinRssiDbm: [-120, -1],
  secondDegreeContacts: [0, 100],
} as const;

function num(v: unknown, field: keyof typeof PROXIMITY_BOUNDS, integer = false): number {
  const [lo, hi] = PROXIMITY_BOUNDS[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new CairnError('CAIRN_ERR_VALIDATION', `${field} must be ${integer ? 'a whole number ' : ''}from ${lo} to ${hi}.`, { field, min: lo, max: hi });
  }
  return v;
}

/**
 * `base` with the fields of `patch` checked and applied (unknown fields are refused by the
 * route schema; here they are ignored).
 *
 * @example applyProximityPatch(DEFAULT_PROXIMITY_SETTINGS, { radiusMeters: 1.5 })
 */
export function applyProximityPatch(base: Readonly<ProximitySettings>, patch: Partial<ProximitySettings>): ProximitySettings {
  const s: ProximitySettings = { ...base };
  if (patch.radiusMeters !== undefined) s.radiusMeters = num(patch.radiusMeters, 'radiusMeters');
  if (patch.minMinutes !== undefined) s.minMinutes = num(patch.minMinutes, 'minMinutes');
  if (patch.accuracyWidening !== undefined) s.accuracyWidening = num(patch.accuracyWidening, 'accuracyWidening');
  if (patch.maxWideningMeters !== undefined) s.maxWideningMeters = num(patch.maxWideningMeters, 'maxWideningMeters');
  if (patch.maxWindowDays !== undefined) s.maxWindowDays = num(patch.maxWindowDays, 'maxWindowDays', true);
  if (patch.secondDegreeContacts !== undefined) s.secondDegreeContacts = num(patch.secondDegreeContacts, 'secondDegreeContacts', true);
  if (patch.encounterMinRssiDbm !== undefined) s.encounterMinRssiDbm = patch.encounterMinRssiDbm === null ? null : num(patch.encounterMinRssiDbm, 'encounterMinRssiDbm', true);
  if (patch.coPresence !== undefined) s.coPresence = !!patch.coPresence;
  if (patch.encounters !== undefined) s.encounters = !!patch.encounters;
  return s;
}

/** Stored JSON → settings (fields missing or out of bounds fall back to the defaults). */
export function parseProximitySettings(json: string | undefined): ProximitySettings {
  if (!json) return { ...DEFAULT_PROXIMITY_SETTINGS };
  let stored: Partial<ProximitySettings> = {};
  try {
    stored = JSON.parse(json) as Partial<ProximitySettings>;
  } catch {
    return { ...DEFAULT_PROXIMITY_SETTINGS };
  }
  const out: ProximitySettings = { ...DEFAULT_PROXIMITY_SETTINGS };
  for (const [k, v] of Object.entries(stored)) {
    try {
      Object.assign(out, applyProximityPatch(out, { [k]: v }));
    } catch {
      // a value the bounds no longer allow: the default stays
    }
  }
  return out;
}
