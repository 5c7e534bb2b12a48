/**
 * Answer deadlines of data-subject requests (R-PRIV-4), in UTC epoch milliseconds.
 *
 *  - GDPR (Art. 12(3)): one calendar month from receipt, extendable by two further months. A
 *    month ends on the same day of the next month, or on its last day when it has no such day
 *    (31 January → 28/29 February), as Regulation 1182/71 counts periods.
 *  - CCPA (Cal. Civ. Code 1798.130, regs 7021): 45 calendar days, extendable once by 45; receipt
 *    confirmed within 10 business days (Monday to Friday; public holidays are not modelled, so
 *    the date is never later than the law's).
 */
import { DAY_MS } from '../../kernel/clock.ts';
import type { DsarRegime } from './types.ts';

/**
 * `atMs` moved by `months` calendar months, clamped to the month's last day, same time of day.
 * @example addCalendarMonths(Date.UTC(2025, 0, 31), 1) === Date.UTC(2025, 1, 28)
 */
export function addCalendarMonths(atMs: number, months: number): number {
  const d = new Date(atMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/**
 * `atMs` moved by `days` business days (Monday to Friday, UTC); a request received at the weekend
 * starts counting on Monday.
 * @example addBusinessDays(Date.UTC(2025, 0, 3), 10) === Date.UTC(2025, 0, 17) // Friday → Friday two weeks on
 */
export function addBusinessDays(atMs: number, days: number): number {
  let t = atMs;
  let left = days;
  while (left > 0) {
    t += DAY_MS;
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6) left--;
  }
  return t;
}

export interface Deadlines {
  /** When the answer is due. */
  dueMs: number;
  /** When the receipt must be confirmed (CCPA); null for GDPR. */
  receiptDueMs: number | null;
}

/** The first deadlines of a request received at `receivedMs`. */
export function deadlines(regime: DsarRegime, receivedMs: number): Deadlines {
  return regime === 'gdpr'
    ? { dueMs: addCalendarMonths(receivedMs, 1), receiptDueMs: null }
    : { dueMs: receivedMs + 45 * DAY_MS, receiptDueMs: addBusinessDays(receivedMs, 10) };
}

/** The deadline after the one extension the regime allows (GDPR: two more months; CCPA: 45 more days). */
export function extendedDue(regime: DsarRegime, receivedMs: number): number {
  return regime === 'gdpr' ? addCalendarMonths(receivedMs, 3) : receivedMs + 90 * DAY_MS;
}

/** CCPA look-back of an access request: data collected in the 12 months before receipt. */
export function lookBackStart(regime: DsarRegime, receivedMs: number): number {
  return regime === 'ccpa' ? addCalendarMonths(receivedMs, -12) : 0;
}
