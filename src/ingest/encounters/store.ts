/**
 * Storing badge-to-badge encounters (R-CT-3's "badge encounters where those exist", R-DATA-3,
 * class `location`): the badge ids become the org's keyed pseudonyms (kind `badge`, the same
 * pseudonym a badge's own fixes carry, R-LOC-5) before anything is written, each pair is kept in
 * one order, and an encounter already stored (same pair and start) is not stored again, so a
 * re-sent upload is harmless. One transaction per call, audited with counts only. Used by the
 * encounter upload route, `cairn ingest --format encounters` and the simulator's uploads.
 */
import { CairnError } from '../../kernel/errors.ts';
import type { Core, Ctx } from '../../privacy/index.ts';
import { ProximityRepo, type EncounterRow } from '../../storage/index.ts';
import type { Encounter } from '../types.ts';

/** What became of an upload of encounters (counts only). */
export interface EncounterSummary {
  /** Encounters received. */
  accepted: number;
  /** Newly stored. */
  stored: number;
  /** Already stored before (re-delivery), or repeated within the upload. */
  duplicates: number;
}

/** How long an encounter without `durationMs` lasts: one minute, the resolution of proximity from fixes. */
export const DEFAULT_ENCOUNTER_MS = 60_000;

/** Encounters stored per transaction at most (larger uploads are split). */
export const ENCOUNTERS_PER_TX = 5_000;

export class EncounterStore {
  constructor(private readonly core: Core) {}

  /**
   * Pseudonymise and store encounters for an org (access: `ingest.write`, at the site when given).
   *
   * @example await store.store(ctx, orgId, null, parseEncounterBatch(body))
   */
  async store(ctx: Ctx, orgId: string, siteId: string | null, encounters: readonly Encounter[]): Promise<EncounterSummary> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'write', { orgId, siteId });
    const summary: EncounterSummary = { accepted: encounters.length, stored: 0, duplicates: 0 };
    for (let i = 0; i < encounters.length; i += ENCOUNTERS_PER_TX) {
      const part = encounters.slice(i, i + ENCOUNTERS_PER_TX);
      await db.tx(async (x) => {
        const pseudo = await this.core.keys.pseudonymiser(x, orgId);
        const rows: EncounterRow[] = [];
        const seen = new Set<string>();
        // R-PRIV-4: an encounter with a badge whose subject restricted processing is not kept.
        const restricted = this.core.subjects.restrictedDevices(orgId);
        for (const e of part) {
          const pa = pseudo('badge', e.a);
          const pb = pseudo('badge', e.b);
          if (pa === pb) throw new CairnError('CAIRN_ERR_INGEST_MALFORMED', 'An encounter needs two different badges.', { reason: 'self_encounter', source: 'encounter' });
          if (restricted.size > 0 && (restricted.has(pa) || restricted.has(pb))) continue;
          const [a, b] = pa < pb ? [pa, pb] : [pb, pa];
          const key = `${a}|${b}|${e.atMs}`;
          if (seen.has(key)) continue;
          seen.add(key);
          rows.push({ org_id: orgId, a, b, at_ms: e.atMs, duration_ms: e.durationMs ?? DEFAULT_ENCOUNTER_MS, rssi_dbm: e.rssiDbm ?? null });
        }
        const stored = await new ProximityRepo(x).insertEncounters(rows);
        summary.stored += stored;
        summary.duplicates += part.length - stored;
        await this.core.audit.record(x, ctx, orgId, 'ingest.encounters', siteId ? `site:${siteId}` : `org:${orgId}`, { accepted: part.length, stored, duplicates: part.length - stored });
      });
    }
    return summary;
  }
}
