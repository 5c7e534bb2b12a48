/**
 * The words recipients see, in English and Dutch (the org's `language` setting): the subject tag
 * of a message delivered with a warning, the notice header that explains it, and the header of a
 * released message. Headers must stay ASCII, so the Dutch texts avoid diacritics.
 */
import type { VerdictState } from '../files/index.ts';
import type { MailLanguage } from './types.ts';

type Flagged = Exclude<VerdictState, 'clean'>;

const TAGS: Record<MailLanguage, Record<Flagged, string>> = {
  en: { malicious: '[MALICIOUS]', suspicious: '[SUSPICIOUS]', unknown: '[NOT SCANNED]' },
  nl: { malicious: '[KWAADAARDIG]', suspicious: '[VERDACHT]', unknown: '[NIET GESCAND]' },
};

const STATE_WORDS: Record<MailLanguage, Record<Flagged, string>> = {
  en: { malicious: 'malicious', suspicious: 'suspicious', unknown: 'not fully scanned' },
  nl: { malicious: 'kwaadaardig', suspicious: 'verdacht', unknown: 'niet volledig gescand' },
};

/**
 * Subject tag for a flagged message.
 * @example subjectTag('nl', 'suspicious') === '[VERDACHT]'
 */
export function subjectTag(lang: MailLanguage, state: Flagged): string {
  return TAGS[lang][state];
}

/** Every tag in every language (a message already tagged is not tagged twice). */
export const ALL_TAGS: readonly string[] = Object.values(TAGS).flatMap((t) => Object.values(t));

/**
 * One sentence for the `X-Cairn-Warning` header.
 * @example warningNotice('en', 'suspicious', 5.8) // 'Cairn marked this message as suspicious (threat score 5.8 of 10). Be careful with its links and attachments.'
 */
export function warningNotice(lang: MailLanguage, state: Flagged, score: number): string {
  const s = score.toFixed(1);
  return lang === 'nl'
    ? `Cairn heeft dit bericht als ${STATE_WORDS.nl[state]} gemarkeerd (dreigingsscore ${s.replace('.', ',')} van 10). Wees voorzichtig met de links en bijlagen.`
    : `Cairn marked this message as ${STATE_WORDS.en[state]} (threat score ${s} of 10). Be careful with its links and attachments.`;
}

/**
 * Header text of a message an administrator or the recipient released from quarantine.
 * @example releasedNotice('nl') === 'Vrijgegeven uit de quarantaine van Cairn.'
 */
export function releasedNotice(lang: MailLanguage): string {
  return lang === 'nl' ? 'Vrijgegeven uit de quarantaine van Cairn.' : 'Released from Cairn quarantine.';
}
