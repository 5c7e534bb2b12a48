/**
 * Location sharing in the org's own app (R-PRIV-5, R-LOC-3): the app records its user's opt-in
 * and opt-out (a machine token of the org, role sensor, or an org admin), each decision a consent
 * record against the SDK terms version shown, by the installation's keyed pseudonym (kind `app`,
 * the same the ingest pipeline computes) and never the installation id itself.
 *
 * The records are the source of truth of the ingest pipeline's opt-in set: `optIns(x, orgId)`
 * gives one live `Set` per org, loaded once from `consent_sdk_state` and changed in place after
 * every commit in this process, so a batch pays one `Set.has` per SDK observation. Changes made by
 * another process (a second server on the same PostgreSQL) bump the org's counter
 * (`consent_org_state.sdk_version`); the set compares it at most every 5 s and reloads in place
 * when it moved. SDK observations of an installation without a current opt-in are dropped at
 * ingest.
 */
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { ConsentRepo, type ConsentRecordRow, type Executor } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { Ctx } from '../context.ts';
import { negotiate } from './i18n.ts';
import type { Terms, TermsService } from './terms.ts';

/** How often a cached set compares the org's change counter, ms. */
export const SDK_RECHECK_MS = 5_000;

/** One opt-in or opt-out of an installation. */
export interface SdkDecision {
  /** Personal: the app installation id; pseudonymised at once, never stored. */
  appId: string;
  optedIn: boolean;
  /** The SDK terms version the app showed; omitted: the version in force now. */
  termsId?: string | null;
  /** Where it was recorded: the app (sdk), an org admin (admin). */
  channel?: 'sdk' | 'admin';
}

/** What was recorded. */
export interface SdkRecord {
  recordId: string;
  /** The installation's pseudonym (device id of its SDK observations). */
  device: string;
  optedIn: boolean;
  termsVersion: number | null;
  at: string;
}

interface Entry {
  set: Set<string>;
  version: number;
  checkedAtMs: number;
  loading: Promise<void> | undefined;
}

export class SdkConsentService {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly core: Core,
    private readonly terms: TermsService,
  ) {
    core.bus.on('org.deleted', ({ orgId }) => void this.cache.delete(orgId));
    core.bus.on('retention.purged', ({ orgId, dataClass }) => {
      if (dataClass === 'consent') this.stale(orgId);
    });
  }

  /**
   * The pseudonyms of the org's installations with a current opt-in: a live set (the same object
   * for the life of the process, kept current in place). For the ingest hot path.
   *
   * @example if (!(await sdk.optIns(db, orgId)).has(device)) drop()
   */
  async optIns(x: Executor, orgId: string): Promise<ReadonlySet<string>> {
    let e = this.cache.get(orgId);
    const now = this.core.clock.nowMs();
    if (!e) {
      e = { set: new Set(), version: -1, checkedAtMs: -Infinity, loading: undefined };
      this.cache.set(orgId, e);
    }
    if (now - e.checkedAtMs >= SDK_RECHECK_MS) await this.refresh(x, orgId, e);
    return e.set;
  }

  /** How many installations have a current opt-in. */
  async count(x: Executor, orgId: string): Promise<number> {
    return new ConsentRepo(x).countSdkOptedIn(orgId);
  }

  private refresh(x: Executor, orgId: string, e: Entry): Promise<void> {
    e.loading ??= (async () => {
      try {
        const repo = new ConsentRepo(x);
        const v = await repo.sdkVersion(orgId);
        if (v !== e.version) {
          const now = await repo.sdkOptedIn(orgId);
          e.set.clear();
          for (const s of now) e.set.add(s);
          e.version = v;
        }
        e.checkedAtMs = this.core.clock.nowMs();
      } finally {
        e.loading = undefined;
      }
    })();
    return e.loading;
  }

  private stale(orgId: string): void {
    const e = this.cache.get(orgId);
    if (!e) return;
    e.checkedAtMs = -Infinity;
    e.version = -1;
    void this.core.directory
      .storeOf(orgId)
      .then((db) => this.refresh(db, orgId, e))
      .catch((err) => this.core.log.error({ err }, 'consent: reloading SDK opt-ins failed'));
  }

  /** The SDK terms in force (for the app to show), or null when none are published. */
  async currentTerms(ctx: Ctx, orgId: string, lang?: string): Promise<(Terms & { language: string }) | null> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'recordSdk', { orgId });
    const t = await this.terms.current(db, orgId, 'sdk', null);
    return t ? { ...t, language: negotiate(undefined, lang) } : null;
  }

  /** Record one decision from the app; audited. */
  async record(ctx: Ctx, orgId: string, d: SdkDecision): Promise<SdkRecord> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'recordSdk', { orgId });
    let after: () => void = () => undefined;
    const out = await db.tx(async (x) => {
      const r = await this.recordInTx(x, ctx, orgId, [{ ...d, channel: d.channel ?? 'sdk' }]);
      after = r.afterCommit;
      return r.records[0]!;
    });
    after();
    return out;
  }

  /**
   * Record decisions inside the caller's transaction (the caller has checked access: the app's
   * route above, or ingest's settings for an org admin). Returns what was recorded and what to run
   * once the transaction has committed (it updates this process's opt-in set).
   */
  async recordInTx(x: Executor, ctx: Ctx, orgId: string, decisions: readonly SdkDecision[]): Promise<{ records: SdkRecord[]; afterCommit: () => void }> {
    const repo = new ConsentRepo(x);
    const now = this.core.clock.nowMs();
    const pseudo = await this.core.keys.pseudonymiser(x, orgId);
    const current = await this.terms.current(x, orgId, 'sdk', null);
    const rows: ConsentRecordRow[] = [];
    const out: SdkRecord[] = [];
    const changes = new Map<string, boolean>();
    for (const d of decisions) {
      const appId = d.appId.trim().toLowerCase();
      if (appId === '' || appId.length > 128 || /[\u0000-\u001f\u007f]/.test(appId)) throw new CairnError('CAIRN_ERR_VALIDATION', 'appId must be 1-128 printable characters.', { field: 'appId' });
      let terms = current;
      if (d.termsId) {
        const row = await repo.getTerms(orgId, d.termsId);
        if (!row || row.audience !== 'sdk' || row.status !== 'published') throw new CairnError('CAIRN_ERR_VALIDATION', 'termsId is not a published version of this org\'s SDK terms.', { field: 'termsId' });
        terms = { version: Number(row.version), id: row.id } as Terms;
      }
      const device = pseudo('app', appId);
      const row: ConsentRecordRow = { id: newId(now), org_id: orgId, site_id: null, channel: d.channel ?? 'sdk', purpose: 'location_sharing', subject: device, subject_kind: 'app', granted: d.optedIn ? 1 : 0, terms_id: terms?.id ?? null, terms_version: terms?.version ?? null, language: null, contact_enc: null, email_key: null, at_ms: now };
      rows.push(row);
      changes.set(device, d.optedIn);
      out.push({ recordId: row.id, device, optedIn: d.optedIn, termsVersion: row.terms_version, at: toIso(now) });
    }
    await repo.insertRecords(rows);
    for (const r of rows) await repo.putSdkState(orgId, r.subject, r.granted === 1, r.id, now);
    const version = rows.length > 0 ? await repo.bumpSdkVersion(orgId, now) : -1;
    if (rows.length > 0) {
      const optedIn = rows.filter((r) => r.granted === 1).length;
      await this.core.audit.record(x, ctx, orgId, 'consent.sdk.record', rows.length === 1 ? `device:${rows[0]!.subject}` : `org:${orgId}`, { optedIn, optedOut: rows.length - optedIn, termsVersion: rows[0]!.terms_version });
    }
    return {
      records: out,
      afterCommit: () => {
        if (version < 0) return;
        const e = this.cache.get(orgId);
        if (!e) return;
        if (e.version === version - 1) {
          for (const [device, on] of changes) {
            if (on) e.set.add(device);
            else e.set.delete(device);
          }
          e.version = version;
        } else {
          this.stale(orgId);
        }
      },
    };
  }
}
