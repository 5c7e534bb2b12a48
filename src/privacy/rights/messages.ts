/**
 * What data subjects read (R-PRIV-4, notices in English and Dutch as R-PRIV-5 asks): the e-mails
 * (verification code, receipt, answer) and the words of the public privacy page. Texts only; no
 * personal data is put into them except the code and the request's public reference.
 */
import type { DsarKind, DsarRegime, DsarStatus } from './types.ts';

export type Lang = 'en' | 'nl';
export const LANGS: readonly Lang[] = ['en', 'nl'];

/**
 * The language from `?lang=` or the browser's Accept-Language (first of en, nl that it names).
 * @example pickLang(undefined, 'nl-NL,nl;q=0.9,en;q=0.8') === 'nl'
 */
export function pickLang(explicit: string | undefined, acceptLanguage: string | undefined): Lang {
  if (explicit === 'en' || explicit === 'nl') return explicit;
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .map((p) => {
      const [tag, ...params] = p.trim().toLowerCase().split(';');
      const q = params.map((x) => /^q=([\d.]+)$/.exec(x.trim())?.[1]).find(Boolean);
      return { tag: (tag ?? '').split('-')[0] ?? '', q: q === undefined ? 1 : Number(q) };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const w of wanted) if (w.tag === 'en' || w.tag === 'nl') return w.tag;
  return 'en';
}

export const KIND_NAMES: Record<Lang, Record<DsarKind, string>> = {
  en: { access: 'A copy of my data', correction: 'Correct my data', deletion: 'Delete my data', restriction: 'Restrict processing of my data', objection: 'Object to processing of my data', opt_out_sale: 'Opt out of the sale of my data' },
  nl: { access: 'Een kopie van mijn gegevens', correction: 'Mijn gegevens corrigeren', deletion: 'Mijn gegevens wissen', restriction: 'Verwerking van mijn gegevens beperken', objection: 'Bezwaar maken tegen verwerking', opt_out_sale: 'Afmelden voor verkoop van mijn gegevens' },
};

export const STATUS_NAMES: Record<Lang, Record<DsarStatus, string>> = {
  en: { unverified: 'waiting for verification', verified: 'verified, waiting for the privacy officer', approved: 'approved, being carried out', fulfilled: 'answered', rejected: 'refused', locked: 'locked after too many wrong codes' },
  nl: { unverified: 'wacht op verificatie', verified: 'geverifieerd, wacht op de privacyfunctionaris', approved: 'goedgekeurd, wordt uitgevoerd', fulfilled: 'beantwoord', rejected: 'geweigerd', locked: 'geblokkeerd na te veel foute codes' },
};

const REGIME_TERMS: Record<Lang, Record<DsarRegime, string>> = {
  en: { gdpr: 'within one month (the GDPR allows two more months for complex requests; you will be told if so)', ccpa: 'within 45 days (the CCPA allows 45 more days when needed; you will be told if so)' },
  nl: { gdpr: 'binnen een maand (de AVG staat twee maanden extra toe bij complexe verzoeken; u hoort het dan)', ccpa: 'binnen 45 dagen (de CCPA staat zo nodig 45 dagen extra toe; u hoort het dan)' },
};

/** The verification e-mail: the 6-digit code, valid 10 minutes. */
export function codeMail(lang: Lang, orgName: string, code: string, reference: string): { subject: string; text: string } {
  return lang === 'nl'
    ? { subject: `Uw verificatiecode voor ${orgName}`, text: `Uw code is ${code}.\n\nVoer deze code in op de privacypagina om uw verzoek (referentie ${reference}) te bevestigen. De code is 10 minuten geldig. Heeft u niets aangevraagd, dan kunt u dit bericht negeren.\n` }
    : { subject: `Your verification code for ${orgName}`, text: `Your code is ${code}.\n\nEnter it on the privacy page to confirm your request (reference ${reference}). The code is valid for 10 minutes. If you did not ask for this, you can ignore this message.\n` };
}

/** The receipt confirmation (CCPA asks for it within 10 business days; sent at once). */
export function receiptMail(lang: Lang, orgName: string, kind: DsarKind, regime: DsarRegime, reference: string, dueIso: string): { subject: string; text: string } {
  return lang === 'nl'
    ? { subject: `Uw privacyverzoek bij ${orgName} is ontvangen`, text: `We hebben uw verzoek ontvangen: ${KIND_NAMES.nl[kind]} (referentie ${reference}).\n\nWe antwoorden ${REGIME_TERMS.nl[regime]}, uiterlijk ${dueIso.slice(0, 10)}. U wordt niet anders behandeld omdat u uw rechten gebruikt.\n` }
    : { subject: `Your privacy request to ${orgName} was received`, text: `We received your request: ${KIND_NAMES.en[kind]} (reference ${reference}).\n\nWe will answer ${REGIME_TERMS.en[regime]}, by ${dueIso.slice(0, 10)} at the latest. You will not be treated differently for using your rights.\n` };
}

/** The notice that a request was answered (or refused), pointing to the status page. */
export function answerMail(lang: Lang, orgName: string, kind: DsarKind, status: 'fulfilled' | 'rejected', reference: string, extra: string): { subject: string; text: string } {
  const done = status === 'fulfilled';
  return lang === 'nl'
    ? { subject: `Uw privacyverzoek bij ${orgName}: ${done ? 'uitgevoerd' : 'geweigerd'}`, text: `Uw verzoek "${KIND_NAMES.nl[kind]}" (referentie ${reference}) is ${done ? 'uitgevoerd' : 'geweigerd'}.\n${extra}\nU kunt een klacht indienen bij de toezichthouder (in Nederland de Autoriteit Persoonsgegevens).\n` }
    : { subject: `Your privacy request to ${orgName}: ${done ? 'done' : 'refused'}`, text: `Your request "${KIND_NAMES.en[kind]}" (reference ${reference}) has been ${done ? 'carried out' : 'refused'}.\n${extra}\nYou may complain to a data protection authority.\n` };
}
