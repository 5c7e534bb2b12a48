/**
 * Threat intelligence for TLS scoring: the bundled list of known-bad JA3 fingerprints (abuse.ch
 * SSLBL, see `intel/README.md`) merged with an org's own block and allow lists, compiled once per
 * analysis. Bundled entries weigh 5: on their own they raise a client's score but stay below the
 * blocking score of 7, because JA3 collides across unrelated software and the snapshot is old.
 */
import { readFileSync } from 'node:fs';
import { packagePath } from '../../kernel/paths.ts';
import { compileThreatIntel, type IntelEntry, type ThreatIntel, type ThreatIntelLists } from './score.ts';

/** Severity of a bundled known-bad JA3 match. */
export const BUNDLED_JA3_SEVERITY = 5;

/** Block and allow lists ready for scoring (`allow` is null when the org has none). */
export interface CompiledIntel {
  block: ThreatIntel;
  allow: ThreatIntel | null;
  /** Entries that came from the bundled list. */
  bundledEntries: number;
}

/** An org's lists as strings, the shape `ThreatListService.intel()` returns. */
export interface OrgIntelLists {
  block: ThreatIntelLists;
  allow: ThreatIntelLists;
}

/**
 * Reads an SSLBL-style CSV (`ja3_md5,first seen,last seen,reason`; `#` comments) into entries.
 * @example parseJa3Csv('b386946a5a44d1ddcc843bc75336dfce,2017-07-14,2019-07-27,Dridex\n')[0].label === 'abuse.ch SSLBL: Dridex'
 */
export function parseJa3Csv(text: string, severity = BUNDLED_JA3_SEVERITY): IntelEntry[] {
  const out: IntelEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const cols = t.split(',');
    const hash = cols[0]!.toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(hash)) continue;
    const reason = cols[3]?.trim();
    out.push({ value: hash, label: reason && reason !== 'None' ? `abuse.ch SSLBL: ${reason}` : 'abuse.ch SSLBL', severity });
  }
  return out;
}

let bundled: IntelEntry[] | undefined;

/** The bundled known-bad JA3 entries (read once). */
export function bundledJa3(): IntelEntry[] {
  bundled ??= parseJa3Csv(readFileSync(packagePath('src', 'threat', 'tls', 'intel', 'sslbl-ja3.csv'), 'utf8'));
  return bundled;
}

/**
 * Compiles the bundled list plus an org's lists. An org's own block entry for the same value wins
 * over the bundled one, and its allow entry removes it. Throws `CAIRN_ERR_VALIDATION` if an org entry is malformed.
 * @example const intel = buildIntel({ block: { ja4: ['t13d1516h2_8daaf6152771_e5627efa2ab1'] }, allow: {} });
 */
export function buildIntel(org: OrgIntelLists = { block: {}, allow: {} }, opts: { bundled?: boolean } = {}): CompiledIntel {
  // An org's allow entry for a bundled JA3 drops it (a known false positive in that network).
  const allowed = new Set((org.allow.ja3 ?? []).map((e) => (typeof e === 'string' ? e : e.value).trim().toLowerCase()));
  const extra = opts.bundled === false ? [] : bundledJa3().filter((e) => !allowed.has(e.value));
  const block = compileThreatIntel({ ...org.block, ja3: [...extra, ...(org.block.ja3 ?? [])] });
  const allowSize = (org.allow.ja3?.length ?? 0) + (org.allow.ja4?.length ?? 0) + (org.allow.domains?.length ?? 0) + (org.allow.ips?.length ?? 0);
  return { block, allow: allowSize > 0 ? compileThreatIntel(org.allow) : null, bundledEntries: extra.length };
}
