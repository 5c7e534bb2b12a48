/**
 * The hot-zone alert state of one zone (R-CT-1), a small state machine with hold time and
 * hysteresis, pure and driven by evaluations (figure, limit, now):
 *
 *   ok ──figure > limit──▶ over ──held holdMs──▶ violation (event: COMPLIANCE-VIOLATION)
 *   over ──figure ≤ limit──▶ ok (nothing was raised)
 *   violation ──figure ≤ clear level──▶ clearing ──held holdMs──▶ ok (event: COMPLIANCE-OK)
 *   clearing ──figure > clear level──▶ violation (no event)
 *
 * The clear level is the limit minus `hysteresisPercent` of it (rounded down), so a figure
 * hovering at the limit does not raise and clear in turn. With holdMs 0 the events fire on the
 * evaluation that crosses. A zone that loses its limit during an episode clears at once.
 */

export type Phase = 'ok' | 'over' | 'violation' | 'clearing';

export interface AlertState {
  phase: Phase;
  /** When the current phase began (over, clearing), ms. */
  sinceMs: number;
  /** Id of the open violation (the episode), or null. */
  episodeId: string | null;
  /** The limit the episode was raised against (reported with its recovery). */
  limit: number | null;
}

export interface AlertRule {
  holdMs: number;
  hysteresisPercent: number;
}

export function newAlertState(): AlertState {
  return { phase: 'ok', sinceMs: 0, episodeId: null, limit: null };
}

/**
 * The figure at or below which a violation starts clearing.
 *
 * @example clearLevel(40, 10) === 36
 */
export function clearLevel(limit: number, hysteresisPercent: number): number {
  return Math.floor(limit * (1 - hysteresisPercent / 100));
}

/**
 * Advance `s` (mutated) by one evaluation; returns the event to raise, if any. The caller sets
 * `s.episodeId` when it records a violation and clears it with the ok.
 *
 * @example step(s, 45, 40, now, { holdMs: 0, hysteresisPercent: 10 }) === 'violation'
 */
export function step(s: AlertState, figure: number, limit: number | null, nowMs: number, rule: AlertRule): 'violation' | 'ok' | null {
  if (limit === null) {
    if (s.phase === 'violation' || s.phase === 'clearing') {
      s.phase = 'ok';
      return 'ok';
    }
    s.phase = 'ok';
    return null;
  }
  switch (s.phase) {
    case 'ok':
      if (figure <= limit) return null;
      s.phase = 'over';
      s.sinceMs = nowMs;
      return step(s, figure, limit, nowMs, rule);
    case 'over':
      if (figure <= limit) {
        s.phase = 'ok';
        return null;
      }
      if (nowMs - s.sinceMs < rule.holdMs) return null;
      s.phase = 'violation';
      s.limit = limit;
      return 'violation';
    case 'violation':
      if (figure > clearLevel(limit, rule.hysteresisPercent)) return null;
      s.phase = 'clearing';
      s.sinceMs = nowMs;
      return step(s, figure, limit, nowMs, rule);
    case 'clearing':
      if (figure > clearLevel(limit, rule.hysteresisPercent)) {
        s.phase = 'violation';
        return null;
      }
      if (nowMs - s.sinceMs < rule.holdMs) return null;
      s.phase = 'ok';
      return 'ok';
  }
}
