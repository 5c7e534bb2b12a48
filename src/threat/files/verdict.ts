/**
 * From reasons to a verdict (R-ATP-6): one threat score on 0-10, a state and a recommended action.
 * Reasons with the same code count once (the strongest), so a trait seen by both a YARA rule and a
 * static analyser is not double-counted. A file that could not be fully inspected is never
 * `clean`: its score is at least `UNKNOWN_FLOOR` and its state `unknown` unless the findings
 * already make it suspicious or malicious.
 */
import type { FileVerdict, Reason, VerdictState } from './types.ts';

/** Scores at or above this are a recommended block. */
export const BLOCK_AT = 7;
/** Scores at or above this (and below BLOCK_AT) are suspicious. */
export const SUSPICIOUS_AT = 4;
/** Minimum score of a file that could not be fully inspected. */
export const UNKNOWN_FLOOR = 3;

/**
 * Combines reason scores: the strongest counts fully, the next ones with falling weight
 * (1/2, 1/4, ...), so several weak hints add up without ever outweighing one strong finding by much.
 * A `certain` reason gives 10.
 *
 * @example combineScores([{ score: 6 }, { score: 4 }]) // 8
 */
export function combineScores(reasons: Pick<Reason, 'score' | 'code' | 'certain'>[]): number {
  if (reasons.some((r) => r.certain)) return 10;
  const best = new Map<string, number>();
  for (const r of reasons) best.set(r.code, Math.max(best.get(r.code) ?? 0, Math.max(0, Math.min(10, r.score))));
  const sorted = [...best.values()].filter((s) => s > 0).sort((a, b) => b - a);
  let total = 0;
  sorted.forEach((s, i) => {
    total += s / 2 ** i;
  });
  return Math.round(Math.min(10, total) * 10) / 10;
}

/**
 * Decides score, state and action.
 *
 * @example decide([{ analyzer: 'archive', code: 'ARCHIVE_ENCRYPTED', score: 2, incomplete: true, message: '' }])
 *   // { score: 3, state: 'unknown', recommendedAction: 'allow', complete: false }
 */
export function decide(reasons: Reason[]): Pick<FileVerdict, 'score' | 'state' | 'recommendedAction' | 'complete'> {
  const complete = !reasons.some((r) => r.incomplete);
  let score = combineScores(reasons);
  if (!complete) score = Math.max(score, UNKNOWN_FLOOR);
  let state: VerdictState;
  if (score >= BLOCK_AT) state = 'malicious';
  else if (score >= SUSPICIOUS_AT) state = 'suspicious';
  else if (!complete) state = 'unknown';
  else state = 'clean';
  return { score, state, recommendedAction: score >= BLOCK_AT ? 'block' : 'allow', complete };
}
