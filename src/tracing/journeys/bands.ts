/**
 * Dwell bands (R-CT-2): how long a stay in a zone was, in the four bands Mist's engagement
 * analytics uses. Mist's defaults are passerby up to 5 minutes, bounce up to 4 hours, engaged up
 * to 8 hours and stationed beyond; an org may move the three bounds (each inclusive, strictly
 * increasing). Pure.
 */
import { CairnError } from '../../kernel/errors.ts';

export const DWELL_BANDS = ['passerby', 'bounce', 'engaged', 'stationed'] as const;
export type DwellBand = (typeof DWELL_BANDS)[number];

/** Upper bounds of the first three bands, minutes, inclusive. */
export interface DwellBands {
  passerbyMaxMinutes: number;
  bounceMaxMinutes: number;
  engagedMaxMinutes: number;
}

/** Mist's defaults: passerby ≤ 5 min, bounce ≤ 4 h, engaged ≤ 8 h, stationed beyond. */
export const MIST_DWELL_BANDS: Readonly<DwellBands> = { passerbyMaxMinutes: 5, bounceMaxMinutes: 240, engagedMaxMinutes: 480 };

/** The longest bound an org may set: one week, minutes. */
export const MAX_BAND_MINUTES = 7 * 24 * 60;

/**
 * The band of a stay of `dwellSeconds`.
 *
 * @example dwellBand(300, MIST_DWELL_BANDS) === 'passerby'; dwellBand(301, MIST_DWELL_BANDS) === 'bounce'
 */
export function dwellBand(dwellSeconds: number, b: DwellBands): DwellBand {
  if (dwellSeconds <= b.passerbyMaxMinutes * 60) return 'passerby';
  if (dwellSeconds <= b.bounceMaxMinutes * 60) return 'bounce';
  if (dwellSeconds <= b.engagedMaxMinutes * 60) return 'engaged';
  return 'stationed';
}

/** Check an org's bounds: whole minutes, 1 … one week, strictly increasing. Throws CAIRN_ERR_VALIDATION. */
export function checkDwellBands(b: DwellBands): DwellBands {
  const order = ['passerbyMaxMinutes', 'bounceMaxMinutes', 'engagedMaxMinutes'] as const;
  for (const k of order) {
    const v = b[k];
    if (!Number.isInteger(v) || v < 1 || v > MAX_BAND_MINUTES) throw new CairnError('CAIRN_ERR_VALIDATION', `${k} must be a whole number of minutes from 1 to ${MAX_BAND_MINUTES}.`, { field: k });
  }
  if (!(b.passerbyMaxMinutes < b.bounceMaxMinutes && b.bounceMaxMinutes < b.engagedMaxMinutes)) {
    throw new CairnError('CAIRN_ERR_VALIDATION', 'Dwell bands must increase: passerbyMaxMinutes < bounceMaxMinutes < engagedMaxMinutes.', { field: 'bounceMaxMinutes' });
  }
  return { passerbyMaxMinutes: b.passerbyMaxMinutes, bounceMaxMinutes: b.bounceMaxMinutes, engagedMaxMinutes: b.engagedMaxMinutes };
}
