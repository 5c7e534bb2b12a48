/**
 * Encrypted-traffic analysis in English and Dutch (R-PRIV-5): the errors its routes and CLI answer
 * with and the score reasons. Analysers write English; a Dutch reader gets the sentence for the
 * code with the technical values (fingerprints, host names, list entries) carried over. The
 * threat module's own catalogue (`../messages.ts`) covers the shared codes.
 */
import { CairnError, type ErrorCode } from '../../kernel/errors.ts';
import { localiseError, type Lang } from '../messages.ts';
import type { ThreatReason } from './score.ts';

/** Dutch for the codes only this engine answers with; `{name}` is filled from the error's details. */
const CODES_NL: Partial<Record<ErrorCode, { nl: string; keepEnglish?: boolean }>> = {
  CAIRN_ERR_FEATURE_DISABLED: { nl: 'De analyse van versleuteld verkeer staat uit voor deze organisatie; een beheerder van de organisatie kan haar aanzetten in de dreigingsinstellingen (encryptedTrafficAnalysis).' },
  CAIRN_ERR_BODY_TOO_LARGE: { nl: 'De opname is groter dan {limitBytes} bytes, de grens voor analyse van versleuteld verkeer (tlsPcapLimitBytes).' },
  CAIRN_ERR_PCAP_CORRUPT: { nl: 'Het opnamebestand is beschadigd of afgekapt', keepEnglish: true },
  CAIRN_ERR_PCAP_UNSUPPORTED: { nl: 'Het formaat of linktype van het opnamebestand wordt niet ondersteund', keepEnglish: true },
};

/**
 * The error with its message in `lang` (same code and details). Capture errors keep the reader's
 * English technical detail (offsets, magic numbers) in parentheses.
 * @example localiseTlsError(new CairnError('CAIRN_ERR_FEATURE_DISABLED'), 'nl').message // 'De analyse van versleuteld verkeer staat uit …'
 */
export function localiseTlsError(e: CairnError, lang: Lang): CairnError {
  if (lang === 'en') return e;
  const m = CODES_NL[e.code];
  if (!m) return localiseError(e, lang);
  const text = m.nl.replace(/\{(\w+)\}/g, (all, k: string) => (e.details && k in e.details ? String(e.details[k]) : all));
  return new CairnError(e.code, m.keepEnglish ? `${text} (${e.message})` : text, e.details);
}

/** Dutch for each reason code: English pattern → Dutch replacement (values carried over). */
const REASONS_NL: Record<string, [RegExp, string]> = {
  ja4_blocklisted: [/^JA4 (\S+) is on the block list(.*)\.$/, 'JA4 $1 staat op de blokkeerlijst$2.'],
  ja3_blocklisted: [/^JA3 (\S+) is on the block list(.*)\.$/, 'JA3 $1 staat op de blokkeerlijst$2.'],
  domain_blocklisted: [/^Host name (\S+) is covered by (\S+)(.*)\.$/, 'Hostnaam $1 valt onder $2$3 op de blokkeerlijst.'],
  ip_blocklisted: [/^The (server|client) address (\S+) is covered by (\S+)(.*)\.$/, 'Het $1adres $2 valt onder $3$4 op de blokkeerlijst.'],
  legacy_protocol: [/^The client offers at most (.+)\.$/, 'De client biedt hoogstens $1 aan.'],
  weak_cipher_offered: [/^The client offers (\d+) NULL\/EXPORT\/RC4\/DES cipher suite\(s\), e\.g\. (0x[0-9a-f]+)\.$/, 'De client biedt $1 NULL/EXPORT/RC4/DES-cijfersuite(s) aan, bijvoorbeeld $2.'],
  no_server_name: [/^.*$/, 'De client stuurde geen servernaam (hij verbindt met een kaal IP-adres).'],
  allow_listed: [/^(.*) is on the allow list\.$/, '$1 staat op de toestaanlijst.'],
};

const WORDS_NL: [RegExp, string][] = [
  [/^Host name /, 'Hostnaam '],
  [/^Address range /, 'Adresbereik '],
];

/**
 * The reasons with their details in `lang`; a detail whose shape is unknown stays English.
 * @example localiseTlsReasons([{ code: 'no_server_name', weight: 1, detail: '…' }], 'nl')[0].detail
 */
export function localiseTlsReasons(reasons: ThreatReason[], lang: Lang): ThreatReason[] {
  if (lang === 'en') return reasons;
  return reasons.map((r) => {
    const rule = REASONS_NL[r.code];
    if (!rule || !rule[0].test(r.detail)) return r;
    let detail = r.detail.replace(rule[0], rule[1]);
    for (const [re, nl] of WORDS_NL) detail = detail.replace(re, nl);
    return { ...r, detail };
  });
}
