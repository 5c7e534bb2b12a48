/**
 * The public privacy page of an org (R-PRIV-4), server-rendered in English or Dutch, with plain
 * HTML forms and no script (it works in a captive portal's mini browser): ask for a copy,
 * correction, deletion, restriction, objection or opt-out of sale; enter the e-mailed code or
 * prove the device through the guest portal; follow a request with its reference and token and
 * download the archive. Every value shown is escaped; nothing personal is echoed back except
 * what the subject just typed into the form they are looking at.
 */
import { KIND_NAMES, STATUS_NAMES, type Lang } from './messages.ts';
import type { IntakeReceipt, PublicStatus } from './service.ts';
import { DSAR_KINDS } from './types.ts';

/** Escape text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Headers of every privacy page: no script, no framing, nothing cached. */
export const PRIVACY_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

const W = {
  en: {
    title: 'Your privacy rights', intro: 'Ask {org} what it holds about you, or ask it to correct, delete or stop using it. Cairn, the system {org} uses for its network, answers on its behalf. You will not be treated differently for asking.',
    what: 'What do you want?', who: 'How can we find you?', idKinds: { email: 'E-mail address', mac: 'MAC address of your device (Wi-Fi)', badge: 'Badge id', username: 'Username on the network' },
    value: 'Your e-mail address, MAC address, badge id or username', contact: 'E-mail address for the verification code (needed for a badge id or username)', correction: 'For a correction: the right values', name: 'Name', email: 'E-mail address',
    regime: 'Where do you live?', regimes: { gdpr: 'European Union, EEA, UK, or elsewhere (GDPR)', ccpa: 'California (CCPA)' }, send: 'Send request',
    follow: 'Follow a request', reference: 'Reference', token: 'Token', code: 'Code from the e-mail', verify: 'Confirm with the code', resend: 'Send a new code', status: 'Show status', download: 'Download my data (ZIP)', device: 'I connected through the guest portal with this device: confirm',
    received: 'Your request was received.', keep: 'Keep the reference and token: you need both to follow your request and to download your data. The token is shown only now.',
    checkMail: 'We sent a 6-digit code to the e-mail address you gave. Enter it within 10 minutes.', viaPortal: 'To prove the device is yours, connect it to the guest Wi-Fi and accept or decline the terms on the portal page; then press the button below within 30 minutes.',
    noVerify: 'Your opt-out is recorded. Cairn never sells personal information.', statusOf: 'Status', due: 'Answer due by', extended: 'The deadline was extended; you were told why.', lifted: 'The restriction was lifted.',
    error: 'Your request could not be handled', back: 'Back to the privacy page',
  },
  nl: {
    title: 'Uw privacyrechten', intro: 'Vraag {org} welke gegevens het over u heeft, of vraag om ze te corrigeren, te wissen of niet meer te gebruiken. Cairn, het systeem dat {org} voor zijn netwerk gebruikt, antwoordt namens {org}. U wordt niet anders behandeld omdat u dit vraagt.',
    what: 'Wat wilt u?', who: 'Hoe vinden we u?', idKinds: { email: 'E-mailadres', mac: 'MAC-adres van uw apparaat (wifi)', badge: 'Badgenummer', username: 'Gebruikersnaam op het netwerk' },
    value: 'Uw e-mailadres, MAC-adres, badgenummer of gebruikersnaam', contact: 'E-mailadres voor de verificatiecode (nodig bij een badgenummer of gebruikersnaam)', correction: 'Bij een correctie: de juiste gegevens', name: 'Naam', email: 'E-mailadres',
    regime: 'Waar woont u?', regimes: { gdpr: 'Europese Unie, EER, VK of elders (AVG)', ccpa: 'Californië (CCPA)' }, send: 'Verzoek versturen',
    follow: 'Een verzoek volgen', reference: 'Referentie', token: 'Token', code: 'Code uit de e-mail', verify: 'Bevestigen met de code', resend: 'Nieuwe code sturen', status: 'Status tonen', download: 'Mijn gegevens downloaden (ZIP)', device: 'Ik heb met dit apparaat via het gastportaal verbinding gemaakt: bevestigen',
    received: 'Uw verzoek is ontvangen.', keep: 'Bewaar de referentie en het token: u hebt beide nodig om uw verzoek te volgen en uw gegevens te downloaden. Het token wordt alleen nu getoond.',
    checkMail: 'We hebben een code van 6 cijfers naar het opgegeven e-mailadres gestuurd. Voer die binnen 10 minuten in.', viaPortal: 'Om te laten zien dat het apparaat van u is: verbind het met de gastwifi en accepteer of weiger de voorwaarden op de portaalpagina; druk daarna binnen 30 minuten op de knop hieronder.',
    noVerify: 'Uw afmelding is vastgelegd. Cairn verkoopt nooit persoonsgegevens.', statusOf: 'Status', due: 'Antwoord uiterlijk op', extended: 'De termijn is verlengd; u hebt gehoord waarom.', lifted: 'De beperking is opgeheven.',
    error: 'Uw verzoek kon niet worden behandeld', back: 'Terug naar de privacypagina',
  },
} as const;

function shell(lang: Lang, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="stylesheet" href="/assets/privacy.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function langSwitch(lang: Lang, orgId: string): string {
  const other: Lang = lang === 'en' ? 'nl' : 'en';
  return `<p class="lang"><a href="/privacy/${esc(orgId)}?lang=${other}" hreflang="${other}">${other === 'nl' ? 'Nederlands' : 'English'}</a></p>`;
}

function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
}

/** The form that follows a request: reference, token, and the actions the state allows. */
function followForm(lang: Lang, orgId: string, ref: { requestId?: string; token?: string }, actions: readonly ('verify' | 'resend' | 'device' | 'status' | 'archive')[]): string {
  const w = W[lang];
  const fields = ref.requestId && ref.token ? hidden('requestId', ref.requestId) + hidden('token', ref.token) : `<label>${w.reference} <input name="requestId" required maxlength="36" autocomplete="off"></label>\n<label>${w.token} <input name="token" required maxlength="64" autocomplete="off"></label>`;
  const code = actions.includes('verify') ? `<label>${w.code} <input name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"></label>` : '';
  const buttons = actions
    .map((a) => `<button name="action" value="${a}"${a === 'resend' || a === 'status' ? ' class="secondary"' : ''}>${esc(a === 'verify' ? w.verify : a === 'resend' ? w.resend : a === 'device' ? w.device : a === 'status' ? w.status : w.download)}</button>`)
    .join('\n');
  return `<form method="post" action="/privacy/${esc(orgId)}?lang=${lang}" id="follow">\n${hidden('lang', lang)}\n${fields}\n${code}\n${buttons}\n</form>`;
}

/**
 * The privacy page with the request form and the follow-up form.
 * @example intakePage('nl', { id: orgId, name: 'Gemeente' }, 'gdpr')
 */
export function intakePage(lang: Lang, org: { id: string; name: string }, regime: 'gdpr' | 'ccpa'): string {
  const w = W[lang];
  const kinds = DSAR_KINDS.map((k, i) => `<label class="choice"><input type="radio" name="kind" value="${k}"${i === 0 ? ' checked' : ''}> ${esc(KIND_NAMES[lang][k])}</label>`).join('\n');
  const idKinds = (Object.keys(w.idKinds) as (keyof typeof w.idKinds)[]).map((k, i) => `<label class="choice"><input type="radio" name="idKind" value="${k}"${i === 0 ? ' checked' : ''}> ${esc(w.idKinds[k])}</label>`).join('\n');
  const regimes = (['gdpr', 'ccpa'] as const).map((r) => `<label class="choice"><input type="radio" name="regime" value="${r}"${r === regime ? ' checked' : ''}> ${esc(w.regimes[r])}</label>`).join('\n');
  return shell(
    lang,
    `${w.title} · ${org.name}`,
    `${langSwitch(lang, org.id)}
<h1>${esc(w.title)}</h1>
<p>${esc(w.intro.replace(/\{org\}/g, org.name))}</p>
<form method="post" action="/privacy/${esc(org.id)}?lang=${lang}" id="request">
${hidden('action', 'submit')}
${hidden('lang', lang)}
<fieldset><legend>${esc(w.what)}</legend>
${kinds}
</fieldset>
<fieldset><legend>${esc(w.who)}</legend>
${idKinds}
<label>${esc(w.value)} <input name="identifier" required maxlength="254" autocomplete="off"></label>
<label>${esc(w.contact)} <input name="contactEmail" type="email" maxlength="254" autocomplete="email"></label>
</fieldset>
<fieldset><legend>${esc(w.correction)}</legend>
<label>${esc(w.name)} <input name="correctionName" maxlength="200" autocomplete="name"></label>
<label>${esc(w.email)} <input name="correctionEmail" type="email" maxlength="254"></label>
</fieldset>
<fieldset><legend>${esc(w.regime)}</legend>
${regimes}
</fieldset>
<button>${esc(w.send)}</button>
</form>
<h2>${esc(w.follow)}</h2>
${followForm(lang, org.id, {}, ['verify', 'resend', 'status', 'archive'])}`,
  );
}

/** After intake: the reference and token (shown once) and how to verify. */
export function receiptPage(lang: Lang, org: { id: string; name: string }, r: IntakeReceipt): string {
  const w = W[lang];
  const next = r.verification === 'email_code' ? `<p>${esc(w.checkMail)}</p>\n${followForm(lang, org.id, { requestId: r.requestId, token: r.statusToken }, ['verify', 'resend'])}` : r.verification === 'portal_device' ? `<p>${esc(w.viaPortal)}</p>\n${followForm(lang, org.id, { requestId: r.requestId, token: r.statusToken }, ['device'])}` : `<p>${esc(w.noVerify)}</p>`;
  return shell(
    lang,
    `${w.title} · ${org.name}`,
    `<h1>${esc(w.received)}</h1>
<dl class="ref"><dt>${esc(w.reference)}</dt><dd id="reference">${esc(r.requestId)}</dd><dt>${esc(w.token)}</dt><dd id="token">${esc(r.statusToken)}</dd><dt>${esc(w.due)}</dt><dd>${esc(r.dueAt.slice(0, 10))}</dd></dl>
<p>${esc(w.keep)}</p>
${next}`,
  );
}

/** Where a request stands, with the download when an archive waits. */
export function statusPage(lang: Lang, org: { id: string; name: string }, s: PublicStatus, token: string): string {
  const w = W[lang];
  const actions: ('verify' | 'resend' | 'device' | 'status' | 'archive')[] = s.status === 'unverified' ? (s.verification === 'portal_device' ? ['device', 'status'] : ['verify', 'resend', 'status']) : s.archiveAvailable ? ['archive', 'status'] : ['status'];
  return shell(
    lang,
    `${w.title} · ${org.name}`,
    `<h1>${esc(KIND_NAMES[lang][s.kind])}</h1>
<dl class="ref"><dt>${esc(w.reference)}</dt><dd id="reference">${esc(s.requestId)}</dd><dt>${esc(w.statusOf)}</dt><dd id="status" data-status="${esc(s.status)}">${esc(STATUS_NAMES[lang][s.status])}</dd><dt>${esc(w.due)}</dt><dd>${esc(s.dueAt.slice(0, 10))}</dd></dl>
${s.extended ? `<p>${esc(w.extended)}</p>` : ''}${s.lifted ? `<p>${esc(w.lifted)}</p>` : ''}
${followForm(lang, org.id, { requestId: s.requestId, token }, actions)}
<p><a href="/privacy/${esc(org.id)}?lang=${lang}">${esc(w.back)}</a></p>`,
  );
}

/** A refusal as a page that names its code (the same codes the API answers with). */
export function errorPage(lang: Lang, orgId: string, code: string, message: string): string {
  const w = W[lang];
  return shell(lang, w.error, `<h1>${esc(w.error)}</h1>\n<p>${esc(message)}</p>\n<p class="code" id="code">${esc(code)}</p>\n<p><a href="/privacy/${esc(orgId)}?lang=${lang}">${esc(w.back)}</a></p>`);
}
