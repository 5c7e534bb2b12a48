/**
 * Languages of the guest portal and the app's terms (R-PRIV-5: at least English and Dutch): the
 * choice from the browser's Accept-Language (q-values honoured, `nl-BE` counts as `nl`, English
 * when nothing fits) and the portal's own words in each language. Terms texts are the org's.
 */

export const LANGUAGES = ['en', 'nl'] as const;
export type Lang = (typeof LANGUAGES)[number];

export function isLang(s: unknown): s is Lang {
  return typeof s === 'string' && (LANGUAGES as readonly string[]).includes(s);
}

/**
 * The language to answer in: an explicit `?lang=` wins, then the best-weighted Accept-Language
 * entry Cairn speaks, else English.
 *
 * @example negotiate('nl-NL,nl;q=0.9,en;q=0.8') === 'nl'
 */
export function negotiate(acceptLanguage: string | undefined, override?: unknown): Lang {
  if (isLang(override)) return override;
  if (!acceptLanguage) return 'en';
  let best: Lang = 'en';
  let bestQ = -1;
  for (const part of acceptLanguage.slice(0, 512).split(',')) {
    const [tag, ...params] = part.trim().split(';');
    const base = (tag ?? '').trim().toLowerCase().split('-')[0];
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (isLang(base) && Number.isFinite(q) && q > bestQ) {
      best = base;
      bestQ = q;
    }
  }
  return best;
}

export interface PortalWords {
  pageTitle: string;
  intro: string;
  version: string;
  contactHeading: string;
  name: string;
  email: string;
  phone: string;
  marketing: string;
  accept: string;
  decline: string;
  note: string;
  acceptedTitle: string;
  acceptedBody: string;
  declinedTitle: string;
  declinedBody: string;
  continue: string;
  errorTitle: string;
  unsubscribeTitle: string;
  unsubscribeQuestion: string;
  unsubscribeButton: string;
  unsubscribedBody: string;
  contactRequired: string;
}

export const WORDS: Record<Lang, PortalWords> = {
  en: {
    pageTitle: 'Guest Wi-Fi',
    intro: 'Please read the terms of use before you connect.',
    version: 'Terms version {n}',
    contactHeading: 'Your details',
    name: 'Name',
    email: 'E-mail address',
    phone: 'Phone number',
    marketing: 'Yes, send me news and offers by e-mail. I can unsubscribe at any time.',
    accept: 'Accept and connect',
    decline: 'Decline',
    note: 'We record your decision with the terms version, the time and a pseudonymous device id, never your device\'s address.',
    acceptedTitle: 'You are connected',
    acceptedBody: 'Thank you: you accepted the terms of use.',
    declinedTitle: 'Not connected',
    declinedBody: 'You declined the terms of use, so we cannot connect you. Only your decision was recorded.',
    continue: 'Continue',
    errorTitle: 'This did not work',
    unsubscribeTitle: 'Unsubscribe',
    unsubscribeQuestion: 'Stop receiving news and offers by e-mail?',
    unsubscribeButton: 'Unsubscribe',
    unsubscribedBody: 'You are unsubscribed. You will receive no more news or offers by e-mail.',
    contactRequired: 'Please fill in your details to accept.',
  },
  nl: {
    pageTitle: 'Gastenwifi',
    intro: 'Lees de gebruiksvoorwaarden voordat je verbinding maakt.',
    version: 'Voorwaarden versie {n}',
    contactHeading: 'Je gegevens',
    name: 'Naam',
    email: 'E-mailadres',
    phone: 'Telefoonnummer',
    marketing: 'Ja, stuur mij nieuws en aanbiedingen per e-mail. Ik kan me altijd afmelden.',
    accept: 'Accepteren en verbinden',
    decline: 'Weigeren',
    note: 'We leggen je keuze vast met de versie van de voorwaarden, het tijdstip en een pseudoniem van je apparaat, nooit het adres van je apparaat.',
    acceptedTitle: 'Je bent verbonden',
    acceptedBody: 'Dank je: je hebt de gebruiksvoorwaarden geaccepteerd.',
    declinedTitle: 'Niet verbonden',
    declinedBody: 'Je hebt de gebruiksvoorwaarden geweigerd, dus we kunnen je niet verbinden. Alleen je keuze is vastgelegd.',
    continue: 'Doorgaan',
    errorTitle: 'Dit is niet gelukt',
    unsubscribeTitle: 'Afmelden',
    unsubscribeQuestion: 'Wil je geen nieuws en aanbiedingen per e-mail meer ontvangen?',
    unsubscribeButton: 'Afmelden',
    unsubscribedBody: 'Je bent afgemeld. Je ontvangt geen nieuws of aanbiedingen per e-mail meer.',
    contactRequired: 'Vul je gegevens in om te accepteren.',
  },
};
