/**
 * The purpose of a trace (R-PRIV-2 purpose limitation, R-CT-6): required free text that is
 * audited with every trace and every view of its report. It must never carry health information
 * (a case is a device and a window, never a diagnosis) nor identifiers (MACs, e-mail or IP
 * addresses): such text is refused with a message that says why, before anything is stored.
 * The word list catches the obvious in English and Dutch; it cannot catch everything, which is
 * why the API documentation says it too.
 */
import { CairnError } from '../../kernel/errors.ts';

export const PURPOSE_MIN_CHARS = 3;
export const PURPOSE_MAX_CHARS = 500;

/** Health words in English and Dutch a purpose may not contain: whole words, and stems (a word starting with one). */
const HEALTH_WORDS = ['ill', 'flu', 'mers', 'sars', 'tbc', 'pcr', 'griep', 'ziek'];
const HEALTH_STEMS = [
  'covid', 'corona', 'virus', 'viral', 'infect', 'contagio', 'besmet', 'positive', 'positief', 'symptom', 'symptoom', 'sick', 'ziekte', 'illness', 'disease',
  'diagnos', 'fever', 'koorts', 'influenza', 'measles', 'mazelen', 'tubercul', 'patient', 'patiënt', 'pandemi', 'epidemi', 'outbreak', 'uitbraak', 'hospitali',
  'ziekenhuisopname', 'medical', 'medisch', 'vaccin', 'antigen', 'quarantaine',
];
const HEALTH_RE = new RegExp(`(^|[^\\p{L}])(${HEALTH_STEMS.join('|')}|(?:${HEALTH_WORDS.join('|')})(?![\\p{L}]))`, 'iu');
const MAC_RE = /\b[0-9a-f]{2}([:-]?)[0-9a-f]{2}(\1[0-9a-f]{2}){4}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b/i;
const EMAIL_RE = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const IPV4_RE = /\b\d{1,3}(\.\d{1,3}){3}\b/;
const IPV6_RE = /\b[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}\b/i;

/**
 * The first health word (lower-cased) in `text`, or null: the same English and Dutch list the
 * purpose check uses, for other free text that must not carry health information (notice
 * templates and what they render, R-CT-6).
 *
 * @example healthWordIn('You may have the flu') === 'flu'; healthWordIn('Meeting room 2') === null
 */
export function healthWordIn(text: string): string | null {
  const m = HEALTH_RE.exec(text);
  return m ? m[2]!.toLowerCase() : null;
}

/**
 * The purpose, trimmed, or a `CAIRN_ERR_VALIDATION` (field `purpose`) that says what is wrong.
 *
 * @example checkPurpose('Exposure check requested by the site safety officer, case 2024-17')
 */
export function checkPurpose(raw: unknown): string {
  if (typeof raw !== 'string') throw new CairnError('CAIRN_ERR_VALIDATION', 'A trace needs a purpose: why it is run (free text, never health information).', { field: 'purpose' });
  // eslint-disable-next-line no-control-regex
  const p = raw.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (p.length < PURPOSE_MIN_CHARS || p.length > PURPOSE_MAX_CHARS) {
    throw new CairnError('CAIRN_ERR_VALIDATION', `The purpose must be ${PURPOSE_MIN_CHARS} to ${PURPOSE_MAX_CHARS} characters.`, { field: 'purpose', min: PURPOSE_MIN_CHARS, max: PURPOSE_MAX_CHARS });
  }
  const health = healthWordIn(p);
  if (health !== null) {
    throw new CairnError('CAIRN_ERR_VALIDATION', `The purpose must not hold health information (R-CT-6); it mentions "${health}". Say why the trace is run, e.g. "exposure check for incident 17".`, { field: 'purpose', reason: 'health_information' });
  }
  if (MAC_RE.test(p) || EMAIL_RE.test(p) || IPV4_RE.test(p) || IPV6_RE.test(p)) {
    throw new CairnError('CAIRN_ERR_VALIDATION', 'The purpose must not name devices or addresses (MAC, e-mail, IP): give the subject as the device or person of the trace.', { field: 'purpose', reason: 'identifier' });
  }
  return p;
}
