/**
 * The threat module's words in English and Dutch (R-PRIV-5: notices and messages exist at least in
 * both): verdict reason messages by reason code, and the module's error messages. Analysers write
 * English; a Dutch reader gets the catalogue's sentence for the code, with language-neutral
 * technical detail (API names, sections, signature names) carried over from the English text.
 */
import { CairnError, ERROR_CATALOGUE, type ErrorCode } from '../kernel/errors.ts';
import type { Reason } from './files/index.ts';

export const LANGS = ['en', 'nl'] as const;
export type Lang = (typeof LANGS)[number];

/**
 * The language to answer in: an explicit `lang` (query or flag) wins, then the first of `en`/`nl`
 * in Accept-Language by preference, then English.
 * @example negotiateLang(undefined, 'nl-NL,nl;q=0.9,en;q=0.8') === 'nl'
 */
export function negotiateLang(explicit?: string, acceptLanguage?: string): Lang {
  if (explicit && (LANGS as readonly string[]).includes(explicit)) return explicit as Lang;
  if (!acceptLanguage) return 'en';
  const prefs = acceptLanguage
    .split(',')
    .slice(0, 32)
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { base: tag.split('-')[0] ?? '', q: q === undefined ? 1 : Number(q), i };
    })
    .filter((p) => p.q > 0 && (LANGS as readonly string[]).includes(p.base))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return (prefs[0]?.base as Lang | undefined) ?? 'en';
}

/** The part of an English message after its first ": " (lists of names), without the final full stop. */
function detail(en: string): string {
  const i = en.indexOf(': ');
  return i < 0 ? '' : en.slice(i + 2).replace(/\.$/, '');
}
const withDetail = (nl: string) => (en: string) => (detail(en) ? `${nl}: ${detail(en)}.` : `${nl}.`);
const num = (en: string): string => /(\d+)/.exec(en)?.[1] ?? '';

type Nl = string | ((en: string) => string);

/** Dutch for every reason code the file pipeline, the bundled YARA rules and this service emit. */
export const REASONS_NL: Record<string, Nl> = {
  // lists and limits
  BLOCK_LIST: 'De SHA-256 staat op de blokkeerlijst.',
  ALLOW_LIST: 'De SHA-256 staat op de toestaanlijst.',
  BLOCK_LIST_DOMAIN: 'Het bestand komt van een domein op de blokkeerlijst.',
  ALLOW_LIST_DOMAIN: 'Het bestand komt van een domein op de toestaanlijst.',
  BLOCK_LIST_IP: 'Het bestand komt van een IP-adres op de blokkeerlijst.',
  ALLOW_LIST_IP: 'Het bestand komt van een IP-adres op de toestaanlijst.',
  NOT_ANALYZED: 'Niet geanalyseerd: een lijst besliste eerder, maar bevat het bestand niet meer. Dien het bestand opnieuw in.',
  TOO_LARGE: (en) => `Niet gescand: te groot${num(en) ? ` (${num(en)} bytes)` : ''}.`,
  TIME_BUDGET: 'Gestopt na de tijdslimiet; niet elk deel is geïnspecteerd.',
  UNPARSABLE: 'Kon het bestand niet ontleden.',
  CONTAINER_ENTRIES: (en) => `${num(en)} ingesloten bestand(en) geïnspecteerd.`,
  // scanners
  YARA_UNAVAILABLE: 'Kon de YARA-regels niet uitvoeren.',
  CLAMAV_FOUND: (en) => `ClamAV-signatuur ${en.replace(/^ClamAV signature /, '').replace(/\.$/, '')}.`,
  CLAMAV_ERROR: 'ClamAV kon het bestand niet scannen.',
  CLAMAV_UNAVAILABLE: 'ClamAV is niet bereikbaar.',
  EICAR: 'EICAR-antivirustestbestand.',
  // archives and containers
  ARCHIVE_BOMB: 'Uitpakken gestopt: het archief overschrijdt de grenzen voor grootte of compressieverhouding (archiefbom?).',
  ARCHIVE_BUDGET: 'Meer uitgepakt dan de limiet toestaat; de rest is niet geïnspecteerd.',
  ARCHIVE_CLAMAV_ONLY: 'De inhoud van dit archief is alleen door ClamAV gecontroleerd.',
  ARCHIVE_ENCRYPTED: 'Kon niet inspecteren: versleuteld archief.',
  ARCHIVE_ENCRYPTED_EXECUTABLE: withDetail('Versleuteld archief verbergt namen van uitvoerbare bestanden of scripts'),
  ARCHIVE_ENTRY_TOO_LARGE: 'Een item is groter dan de limiet per item; niet uitgepakt.',
  ARCHIVE_ENTRY_UNREADABLE: 'Een item kon niet worden gelezen.',
  ARCHIVE_METHOD_UNSUPPORTED: 'Kon niet inspecteren: niet-ondersteunde compressiemethode.',
  ARCHIVE_NOT_INSPECTED: 'Kon de inhoud van dit archiefformaat niet inspecteren (wordt hier niet uitgepakt).',
  ARCHIVE_OVERLAPPING_ENTRIES: 'Items delen of overlappen hun gegevens (een platte zip-bom); niets is uitgepakt.',
  ARCHIVE_SIZE_MISMATCH: 'Een item pakt uit tot een andere grootte dan het opgeeft.',
  ARCHIVE_TOO_DEEP: 'Dieper geneste archieven zijn niet geopend (geneste archiefbom?).',
  ARCHIVE_TOO_MANY_ENTRIES: 'Te veel items; de rest is niet geïnspecteerd.',
  ARCHIVE_TRUNCATED: 'Het archief is afgekapt of beschadigd; niet elk item kon worden gelezen.',
  EMAIL_ATTACHMENTS: (en) => `${num(en)} base64-deel/delen gedecodeerd en geïnspecteerd.`,
  IMAGE_APPENDED_PAYLOAD: 'In de afbeelding zit een ander bestand verborgen.',
  DOCUMENT_EMBEDDED_EXECUTABLE: 'Het document bevat een uitvoerbaar bestand.',
  ENCODED_EXECUTABLE: 'Base64-tekst van de kop van een Windows-programma.',
  // PE
  PE_ANTI_DEBUG: withDetail('Importeert controles op debuggers'),
  PE_DOS_ONLY: 'MS-DOS-programma zonder PE-kop.',
  PE_DOWNLOAD_EXECUTE_APIS: withDetail('Importeert API\'s om te downloaden en uit te voeren'),
  PE_ENTRY_IN_LAST_SECTION: 'Het startpunt ligt in de laatste sectie, een bekend kenmerk van packers.',
  PE_ENTRY_OUTSIDE_SECTIONS: 'Het startpunt ligt buiten elke sectie.',
  PE_FEW_IMPORTS: 'Weinig geïmporteerde functies, met dynamisch opzoeken (GetProcAddress/LoadLibrary).',
  PE_HIGH_ENTROPY_CODE: withDetail('Uitvoerbare sectie(s) met entropie boven 7,2 bits/byte (ingepakte of versleutelde code)'),
  PE_INJECTION_APIS: withDetail('Importeert API\'s voor procesinjectie'),
  PE_KEYLOGGER_APIS: withDetail('Importeert API\'s om toetsaanslagen af te vangen'),
  PE_OVERLAY: 'Gegevens (overlay) na de laatste sectie.',
  PE_OVERLAY_PAYLOAD: 'De overlay bevat een ander bestand.',
  PE_PACKER: (en) => {
    const m = /point to (.+?)\.?$/.exec(en);
    return m ? `Ingepakt: sectienamen wijzen op ${m[1]}.` : 'Ingepakt door een packer.';
  },
  PE_SIGNATURE_PRESENT: 'Bevat een Authenticode-handtekening (niet geverifieerd).',
  PE_TLS_CALLBACKS: 'Heeft een TLS-directory (code kan vóór het startpunt draaien).',
  PE_TRUNCATED: 'Misvormd of afgekapt PE-bestand.',
  PE_WX_SECTION: withDetail('Sectie(s) die zowel schrijfbaar als uitvoerbaar zijn'),
  // ELF
  ELF_EXEC_STACK: 'Vraagt een uitvoerbare stack.',
  ELF_FACTS: (en) => `ELF-gegevens: ${en.replace(/^ELF /, '').replace(/\.$/, '').replace('not stripped', 'niet gestript').replace(/\bstripped\b/, 'gestript')}.`,
  ELF_HIGH_ENTROPY_CODE: withDetail('Uitvoerbare sectie(s) met entropie boven 7,2'),
  ELF_NO_SECTIONS: 'Geen sectiekoppen: gestript door een packer of met de hand gemaakt.',
  ELF_ODD_INTERPRETER: 'Ongebruikelijke programma-interpreter.',
  ELF_PACKER: 'Ingepakt met UPX (UPX!-markering).',
  ELF_TRUNCATED: 'Misvormd of afgekapt ELF-bestand.',
  ELF_WX_SEGMENT: 'Een laadbaar segment is zowel schrijfbaar als uitvoerbaar.',
  // Office and RTF
  ODF_MACROS: 'OpenDocument-macro\'s (Basic/ of Scripts/).',
  OFFICE_ACTIVEX: 'Bevat ActiveX-besturingselementen.',
  OFFICE_AUTOEXEC: withDetail('Macro start automatisch'),
  OFFICE_AUTOEXEC_EXECUTION: 'Macro start automatisch en kan programma\'s starten of downloaden.',
  OFFICE_DDE: 'Bevat een DDE-veld dat een opdracht kan uitvoeren.',
  OFFICE_EMBEDDED_OBJECT: 'Ingesloten OLE-object(en).',
  OFFICE_ENCRYPTED: 'Kon niet inspecteren: het document is met een wachtwoord versleuteld.',
  OFFICE_EXTERNAL_HANDLER: 'Externe relatie naar een protocolhandler (MSHTML/MSDT).',
  OFFICE_EXTERNAL_OLE: 'Koppelt een extern OLE-object.',
  OFFICE_EXTERNAL_RELATIONSHIP: 'Externe relaties.',
  OFFICE_MACROS: 'VBA-macro\'s aanwezig.',
  OFFICE_REMOTE_TEMPLATE: 'Laadt een sjabloon van buiten.',
  OFFICE_SUSPICIOUS_VBA: withDetail('Macro gebruikt'),
  OFFICE_VBA_OBFUSCATION: 'Macro bouwt tekenreeksen op uit veel Chr()-aanroepen (verhulling).',
  OFFICE_VBA_UNREADABLE: 'Kon de VBA-code niet uitpakken.',
  OFFICE_XLM_MACROS: 'Excel 4-macrobladen (XLM).',
  ONENOTE_EMBEDDED_FILES: 'OneNote-sectie met ingesloten bestanden.',
  RTF_EQUATION_EDITOR: 'Bevat een Equation Editor-object (aanvalsvector CVE-2017-11882).',
  RTF_OBJECT: 'Ingesloten OLE-object(en).',
  RTF_OBJUPDATE: 'Een ingesloten object werkt zichzelf bij zodra het document opent (\\objupdate).',
  RTF_PACKAGE: 'Bevat een OLE-pakket (een bestand dat op de schijf van de gebruiker wordt gezet).',
  // PDF
  PDF_ACROFORM: 'Heeft een interactief formulier (/AcroForm).',
  PDF_AUTO_ACTION: 'Heeft automatische acties (/OpenAction of /AA) zonder JavaScript.',
  PDF_AUTO_JAVASCRIPT: 'JavaScript samen met een automatische actie (/OpenAction of /AA).',
  PDF_EMBEDDED_FILE: 'Bevat ingesloten bestanden.',
  PDF_EMBEDDED_FILE_ACTION: 'PDF met een ingesloten bestand en een actie die het kan openen.',
  PDF_ENCRYPTED: 'Kon niet inspecteren: de PDF is versleuteld.',
  PDF_JAVASCRIPT: 'Bevat JavaScript.',
  PDF_LAUNCH: 'Heeft een /Launch-actie: kan een programma starten.',
  PDF_OBFUSCATED_NAMES: withDetail('Bewaakte namen geschreven met #xx-escapes'),
  PDF_REMOTE_ACTION: 'Heeft acties die inhoud versturen, importeren of van buiten openen.',
  PDF_RICHMEDIA: 'Heeft /RichMedia (ingesloten Flash of media).',
  PDF_STREAM_BUDGET: 'Kon niet elke stream inspecteren: het decompressiebudget was op.',
  PDF_UNPARSABLE: 'Kon niet ontleden: geen PDF-objecten gevonden.',
  PDF_XFA: 'Heeft een XFA-formulier (programmeerbaar).',
  // scripts and shortcuts (bundled YARA rules)
  SCRIPT_VBA_AUTOEXEC_EXECUTION: 'VBA-code die bij openen draait en programma\'s start of downloadt.',
  SCRIPT_DOWNLOAD_EXECUTE: 'PowerShell die een bestand downloadt en uitvoert.',
  SCRIPT_ENCODED_COMMAND: 'PowerShell gestart met een lang -EncodedCommand-argument.',
  SCRIPT_WSH_DROPPER: 'Windows Script Host-code die een bestand ophaalt, wegschrijft en uitvoert.',
  SCRIPT_OBFUSCATION: 'JavaScript dat code uitvoert die het uit tekencodes of escapes samenstelt.',
  SCRIPT_LOLBIN: 'Opdrachtregel die een Windows-programma misbruikt om iets te downloaden of te decoderen.',
  SCRIPT_HTA: 'HTML-toepassing (draait met alle rechten van de gebruiker via mshta).',
  LNK_COMMAND: 'Windows-snelkoppeling die een opdrachtinterpreter of scripthost start.',
};

/**
 * A reason's message in `lang`. Unknown codes (an organisation's own YARA rules) keep the rule's
 * own description, prefixed in Dutch.
 */
export function reasonMessage(r: Pick<Reason, 'code' | 'message' | 'analyzer'>, lang: Lang): string {
  if (lang === 'en') return r.message;
  const nl = REASONS_NL[r.code];
  if (nl === undefined) return r.analyzer === 'yara' ? `YARA-regel: ${r.message.replace(/^(Organisation rule|Rule) /, '')}` : r.message;
  // A YARA rule's message is its own (English) description: only the Dutch sentence is used.
  return typeof nl === 'string' ? nl : nl(r.analyzer === 'yara' ? '' : r.message);
}

/** The same object with every reason's message in `lang`. */
export function localiseReasons<T extends { reasons: Reason[] }>(v: T, lang: Lang): T {
  return lang === 'en' ? v : { ...v, reasons: v.reasons.map((r) => ({ ...r, message: reasonMessage(r, lang) })) };
}

/** The module's own error messages; `{name}` placeholders are filled from the params. */
export const THREAT_ERRORS = {
  orgRequiredNone: { en: 'Give the orgId query parameter: the caller holds no role in an org of its own.', nl: 'Geef de queryparameter orgId op: de aanroeper heeft zelf geen rol in een organisatie.' },
  orgRequiredMany: { en: 'Give the orgId query parameter: the caller holds roles in several orgs.', nl: 'Geef de queryparameter orgId op: de aanroeper heeft rollen in meerdere organisaties.' },
  fileTooLarge: { en: 'The file is larger than the analysis limit of {limit} bytes.', nl: 'Het bestand is groter dan de analysegrens van {limit} bytes.' },
  badSha256: { en: 'A SHA-256 is 64 hexadecimal digits.', nl: 'Een SHA-256 bestaat uit 64 hexadecimale tekens.' },
  badListValue: { en: 'Not a valid {kind} value: {why}', nl: 'Geen geldige waarde voor {kind}: {why}' },
  listDuplicate: { en: 'This {kind} value is already on the {list} list.', nl: 'Deze {kind}-waarde staat al op de {list}lijst.' },
  badMetadata: { en: 'The {field} metadata is not valid: {why}', nl: 'De metadata {field} is niet geldig: {why}' },
  badRetention: { en: 'Retention for {category} must be a whole number of days between 1 and {max}, or null.', nl: 'De bewaartermijn voor {category} moet een geheel aantal dagen tussen 1 en {max} zijn, of null.' },
  badCategory: { en: 'Unknown file category "{category}"; known: {known}.', nl: 'Onbekende bestandscategorie "{category}"; bekend: {known}.' },
  uploadAborted: { en: 'The upload ended before the whole file arrived.', nl: 'Het uploaden stopte voordat het hele bestand binnen was.' },
  cannotRead: { en: 'Cannot read {file} ({why}).', nl: 'Kan {file} niet lezen ({why}).' },
  unsupportedMultipart: { en: 'Send the file as the raw request body (Content-Type: application/octet-stream), not as a form.', nl: 'Stuur het bestand als ruwe body (Content-Type: application/octet-stream), niet als formulier.' },
} as const satisfies Record<string, Record<Lang, string>>;
export type ThreatErrorKey = keyof typeof THREAT_ERRORS;

/** Dutch default messages for the codes the threat routes can answer with. */
const CODES_NL: Partial<Record<ErrorCode, string>> = {
  CAIRN_ERR_VALIDATION: 'Het verzoek is niet geldig.',
  CAIRN_ERR_MALFORMED_JSON: 'De body van het verzoek is geen geldige JSON.',
  CAIRN_ERR_BODY_TOO_LARGE: 'De body van het verzoek is groter dan toegestaan.',
  CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE: 'Dit inhoudstype wordt niet ondersteund.',
  CAIRN_ERR_UNAUTHENTICATED: 'Meld u aan of gebruik een geldig token.',
  CAIRN_ERR_NOT_FOUND: 'Niet gevonden of geen toegang.',
  CAIRN_ERR_CONFLICT: 'Het verzoek botst met de huidige toestand.',
  CAIRN_ERR_RATE_LIMITED: 'Te veel verzoeken; probeer het later opnieuw.',
  CAIRN_ERR_FILE_TOO_LARGE: 'Het bestand is groter dan de analysegrens.',
  CAIRN_ERR_KEY_DESTROYED: 'De sleutel voor deze gegevens is vernietigd.',
  CAIRN_ERR_SCANNER_UNAVAILABLE: 'Een externe scanner (ClamAV) is niet bereikbaar.',
  CAIRN_ERR_NOT_READY: 'De server is niet gereed.',
  CAIRN_ERR_INTERNAL: 'Interne fout.',
};

const keyed = new WeakMap<CairnError, { key: ThreatErrorKey; params: Record<string, string | number> }>();

function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m));
}

/**
 * A CairnError with the module's English message, remembered by key so `localiseError` can give
 * the Dutch one. Details never carry personal data.
 * @example throw threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit: 33554432 })
 */
export function threatError(code: ErrorCode, key: ThreatErrorKey, params: Record<string, string | number> = {}, details?: Record<string, unknown>): CairnError {
  const e = new CairnError(code, fill(THREAT_ERRORS[key].en, params), details);
  keyed.set(e, { key, params });
  return e;
}

/** The error with its message in `lang` (same code and details). */
export function localiseError(e: CairnError, lang: Lang): CairnError {
  if (lang === 'en') return e;
  const k = keyed.get(e);
  if (k) return new CairnError(e.code, fill(THREAT_ERRORS[k.key].nl, k.params), e.details);
  const nl = CODES_NL[e.code];
  if (!nl) return e;
  // A specific English message (schema validation names the field) is kept as the detail.
  return new CairnError(e.code, e.message === ERROR_CATALOGUE[e.code].message ? nl : `${nl} (${e.message})`, e.details);
}
