/**
 * Notice templates (R-CT-3, R-CT-6): the text a person gets when one of their devices was in
 * contact, in English or Dutch. A template is plain text with `{{field}}` placeholders, and the
 * only fields there are say when (`date`, `from`, `to`, `timezone`), where (`zones`: zone names)
 * and for how long (`duration`) the contact happened. Nothing else can be put in: not who the
 * index person is, not the case or its purpose, not the person's own name or address, and no
 * health words (the purpose check's English and Dutch list, applied to the templates when they are
 * saved and to every rendered notice; a zone whose name carries such a word is named neutrally).
 */
import { CairnError } from '../../kernel/errors.ts';
import { healthWordIn } from '../proximity/index.ts';

export const NOTICE_LANGUAGES = ['en', 'nl'] as const;
export type NoticeLanguage = (typeof NOTICE_LANGUAGES)[number];

/** The fields a template may use, with what they hold (shown to admins editing templates). */
export const TEMPLATE_FIELDS = {
  date: 'Day of the first contact, in the site\'s time zone ("Monday, 4 March 2024").',
  from: 'First contact, date and time in the site\'s time zone ("4 March 2024 at 10:00").',
  to: 'Last contact, date and time in the site\'s time zone.',
  timezone: 'The time zone the times are in ("Europe/Amsterdam").',
  duration: 'Cumulative time of the contact ("25 minutes", "1 hour and 5 minutes").',
  zones: 'Where it happened: the zone names, longest first ("Meeting room and Kitchen").',
} as const;
export type TemplateField = keyof typeof TEMPLATE_FIELDS;

export interface NoticeTemplate {
  /** One line, 1-200 characters. */
  subject: string;
  /** Plain text, 1-5000 characters. */
  body: string;
}

export const SUBJECT_MAX_CHARS = 200;
export const BODY_MAX_CHARS = 5000;

/** Cairn's templates, used for a language until the org saves its own. */
export const DEFAULT_TEMPLATES: Readonly<Record<NoticeLanguage, NoticeTemplate>> = Object.freeze({
  en: {
    subject: 'Notice: a close contact on {{date}}',
    body:
      'Hello,\n\n' +
      'Our records show that one of your devices was close to another device for {{duration}} in total, ' +
      'between {{from}} and {{to}} ({{timezone}}), in: {{zones}}.\n\n' +
      'We are letting you know so that you can follow the guidance your organisation gives for such contacts. ' +
      'This message does not say who the other person was.\n',
  },
  nl: {
    subject: 'Bericht: een nauw contact op {{date}}',
    body:
      'Beste,\n\n' +
      'Volgens onze gegevens was een van uw apparaten in totaal {{duration}} dicht bij een ander apparaat, ' +
      'tussen {{from}} en {{to}} ({{timezone}}), in: {{zones}}.\n\n' +
      'We laten u dit weten zodat u de richtlijnen kunt volgen die uw organisatie voor zulke contacten geeft. ' +
      'Dit bericht zegt niet wie de andere persoon was.\n',
  },
});

const LOCALE: Record<NoticeLanguage, string> = { en: 'en-GB', nl: 'nl-NL' };
const WORDS: Record<NoticeLanguage, { minute: [string, string]; hour: [string, string]; and: string; elsewhere: string; unnamed: string; more: (n: number) => string }> = {
  en: { minute: ['minute', 'minutes'], hour: ['hour', 'hours'], and: 'and', elsewhere: 'one of the organisation\'s sites', unnamed: 'another area', more: (n) => `${n} other area${n === 1 ? '' : 's'}` },
  nl: { minute: ['minuut', 'minuten'], hour: ['uur', 'uur'], and: 'en', elsewhere: 'een van de locaties van de organisatie', unnamed: 'een andere ruimte', more: (n) => `${n} andere ruimte${n === 1 ? '' : 's'}` },
};
/** Zone names a notice lists at most; the rest are counted. */
const MAX_ZONES = 5;
const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Whether `v` is a notice language. */
export function isNoticeLanguage(v: unknown): v is NoticeLanguage {
  return typeof v === 'string' && (NOTICE_LANGUAGES as readonly string[]).includes(v);
}

function bad(field: string, message: string, details: Record<string, unknown> = {}): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field, ...details });
}

/** Check one part of a template: only known placeholders, no stray braces, no health words. */
function checkPart(field: string, text: string): void {
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (!(m[1]! in TEMPLATE_FIELDS)) throw bad(field, `${field} uses {{${m[1]}}}; a notice may only say when, where and for how long: {{${Object.keys(TEMPLATE_FIELDS).join('}}, {{')}}}.`, { reason: 'unknown_field', allowed: Object.keys(TEMPLATE_FIELDS) });
  }
  if (/\{\{|\}\}/.test(text.replace(PLACEHOLDER, ''))) throw bad(field, `${field} has a "{{" or "}}" that is not a field; write fields as {{duration}}.`, { reason: 'syntax' });
  const health = healthWordIn(text);
  if (health) throw bad(field, `${field} must not hold health information (R-CT-6); it mentions "${health}". A notice says when, where and for how long, nothing about anyone's health.`, { reason: 'health_information' });
}

/**
 * A template as saved: trimmed, checked (lengths, fields, health words), or a
 * `CAIRN_ERR_VALIDATION` naming the part and the reason.
 *
 * @example checkTemplate('nl', { subject: 'Contact op {{date}}', body: 'U was {{duration}} in {{zones}}.' })
 */
export function checkTemplate(language: NoticeLanguage, t: NoticeTemplate): NoticeTemplate {
  const subject = String(t.subject ?? '').trim();
  // eslint-disable-next-line no-control-regex
  const body = String(t.body ?? '').replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '');
  const where = `templates.${language}`;
  if (subject.length < 1 || subject.length > SUBJECT_MAX_CHARS || /[\r\n]/.test(subject)) throw bad(`${where}.subject`, `The subject must be one line of 1 to ${SUBJECT_MAX_CHARS} characters.`);
  if (body.trim().length < 1 || body.length > BODY_MAX_CHARS) throw bad(`${where}.body`, `The body must be 1 to ${BODY_MAX_CHARS} characters.`);
  checkPart(`${where}.subject`, subject);
  checkPart(`${where}.body`, body);
  return { subject, body };
}

/** When, where and how long one person's contact was: all a notice can say. */
export interface NoticeFacts {
  firstMs: number;
  lastMs: number;
  /** Cumulative minutes of contact. */
  minutes: number;
  /** Zone names, longest contact first (null: a zone without a name). */
  zones: (string | null)[];
  /** IANA time zone of the site where it happened. */
  timeZone: string;
}

/**
 * A duration as words: whole minutes, at least one.
 *
 * @example formatDuration(65, 'en') === '1 hour and 5 minutes'; formatDuration(30, 'nl') === '30 minuten'
 */
export function formatDuration(minutes: number, language: NoticeLanguage): string {
  const w = WORDS[language];
  const total = Math.max(1, Math.round(minutes));
  const h = Math.floor(total / 60);
  const m = total % 60;
  const part = (n: number, [one, many]: [string, string]) => `${n} ${n === 1 ? one : many}`;
  if (h === 0) return part(m, w.minute);
  return m === 0 ? part(h, w.hour) : `${part(h, w.hour)} ${w.and} ${part(m, w.minute)}`;
}

/** The zone names a notice shows: a name with a health word, or none, becomes a neutral phrase. */
export function zoneWords(zones: readonly (string | null)[], language: NoticeLanguage): string {
  const w = WORDS[language];
  const names = [...new Set(zones.map((z) => (z === null || z.trim() === '' || healthWordIn(z) ? w.unnamed : z.trim())))];
  if (names.length === 0) return w.elsewhere;
  const shown = names.slice(0, MAX_ZONES);
  if (names.length > MAX_ZONES) shown.push(w.more(names.length - MAX_ZONES));
  return new Intl.ListFormat(LOCALE[language], { type: 'conjunction' }).format(shown);
}

/** The values of every template field for one person's contact, in `language`. */
export function fieldValues(f: NoticeFacts, language: NoticeLanguage): Record<TemplateField, string> {
  const locale = LOCALE[language];
  const clean = (s: string) => s.replace(/[\u202f\u00a0]/g, ' ');
  const dateTime = new Intl.DateTimeFormat(locale, { timeZone: f.timeZone, dateStyle: 'long', timeStyle: 'short' });
  return {
    date: clean(new Intl.DateTimeFormat(locale, { timeZone: f.timeZone, dateStyle: 'full' }).format(f.firstMs)),
    from: clean(dateTime.format(f.firstMs)),
    to: clean(dateTime.format(f.lastMs)),
    timezone: f.timeZone,
    duration: formatDuration(f.minutes, language),
    zones: zoneWords(f.zones, language),
  };
}

/**
 * Render a (checked) template for one person's contact. The result is checked for health words
 * once more; a hit is a validation error, never a sent notice.
 *
 * @example renderNotice('en', DEFAULT_TEMPLATES.en, { firstMs, lastMs, minutes: 25, zones: ['Kitchen'], timeZone: 'Europe/Amsterdam' })
 */
export function renderNotice(language: NoticeLanguage, t: NoticeTemplate, f: NoticeFacts): { subject: string; text: string } {
  const values = fieldValues(f, language);
  const fill = (s: string) => s.replace(PLACEHOLDER, (_m, name: string) => values[name as TemplateField] ?? '');
  const subject = fill(t.subject).replace(/[\r\n]+/g, ' ');
  const text = fill(t.body);
  const health = healthWordIn(`${subject}\n${text}`);
  if (health) throw bad('templates', `A rendered notice mentions "${health}" (R-CT-6); change the template.`, { reason: 'health_information' });
  return { subject, text };
}
