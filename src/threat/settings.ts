/**
 * Per-org threat settings: which file categories keep their bodies after analysis and for how
 * many days (R-ATP-7; default none: bodies are discarded), and whether encrypted-traffic analysis
 * is on (R-ATP-4, R-DATA-9; default off). Org admins change them, privacy officers read them; other
 * threat engines read the effective settings through `get(orgId)`.
 */
import { toIso } from '../kernel/clock.ts';
import { dataClass, type Core, type Ctx } from '../privacy/index.ts';
import { reposFor, threatRepo, type Executor } from '../storage/index.ts';
import type { FileCategory } from './files/index.ts';
import { threatError } from './messages.ts';

export const FILE_CATEGORIES: readonly FileCategory[] = ['executable', 'document', 'archive', 'script', 'email', 'image', 'other'];

export interface ThreatSettings {
  /** Days a file body of each category is kept after analysis; a category not listed is discarded at once. */
  fileRetentionDays: Partial<Record<FileCategory, number>>;
  /** R-ATP-4: analyse TLS session set-up packets (R-DATA-9). Off unless the org turns it on. */
  encryptedTrafficAnalysis: boolean;
}

/** What the API shows: the settings plus the data-class ceiling that also bounds kept files. */
export interface ThreatSettingsView extends ThreatSettings {
  /** Retention of the `threat_files` data class for this org: no body is kept longer. */
  filesClassDays: number;
  /** Per category, the days a body is really kept: min(category setting, filesClassDays). */
  effectiveFileRetentionDays: Partial<Record<FileCategory, number>>;
  updatedAt: string | null;
}

export const DEFAULT_THREAT_SETTINGS: Readonly<ThreatSettings> = Object.freeze({ fileRetentionDays: {}, encryptedTrafficAnalysis: false });

export class ThreatSettingsService {
  constructor(private readonly core: Core) {}

  /**
   * The org's effective settings, for the threat engines themselves (file pipeline, TLS analysis,
   * mail): not an API read and not personal data, so there is no caller context or audit.
   * @example if (!(await settings.get(orgId)).encryptedTrafficAnalysis) return; // skip TLS analysis
   */
  async get(orgId: string): Promise<ThreatSettings> {
    const db = await this.core.directory.storeOf(orgId);
    return this.load(db, orgId);
  }

  /** Days the org keeps file bodies of `category` now (0: discarded after analysis). */
  async retentionDaysFor(x: Executor, orgId: string, category: FileCategory): Promise<number> {
    const s = await this.load(x, orgId);
    const days = s.fileRetentionDays[category];
    return days ? Math.min(days, await this.filesClassDays(x, orgId)) : 0;
  }

  async read(ctx: Ctx, orgId: string): Promise<ThreatSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'readSettings', { orgId });
    return this.view(db, orgId);
  }

  /**
   * Replace the org's settings. Retention days are whole days from 1 to the configured maximum;
   * `null` (or leaving a category out) means the category's bodies are discarded after analysis.
   */
  async update(ctx: Ctx, orgId: string, input: { fileRetentionDays: Record<string, number | null>; encryptedTrafficAnalysis: boolean }): Promise<ThreatSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'writeSettings', { orgId });
    const max = this.core.cfg.retentionMaxDays;
    const retention: Partial<Record<FileCategory, number>> = {};
    for (const [category, days] of Object.entries(input.fileRetentionDays)) {
      if (!(FILE_CATEGORIES as readonly string[]).includes(category)) throw threatError('CAIRN_ERR_VALIDATION', 'badCategory', { category: category.slice(0, 32), known: FILE_CATEGORIES.join(', ') }, { field: 'fileRetentionDays' });
      if (days === null) continue;
      if (!Number.isInteger(days) || days < 1 || days > max) throw threatError('CAIRN_ERR_VALIDATION', 'badRetention', { category, max }, { field: `fileRetentionDays.${category}` });
      retention[category as FileCategory] = days;
    }
    await db.tx(async (x) => {
      await threatRepo(x).putSettings({ org_id: orgId, file_retention: JSON.stringify(retention), encrypted_traffic: input.encryptedTrafficAnalysis ? 1 : 0, updated_at: this.core.clock.nowMs(), updated_by: `${ctx.actor.kind}:${ctx.actor.id}` });
      await this.core.audit.record(x, ctx, orgId, 'threat.settings.update', `org:${orgId}`, { fileRetentionDays: retention, encryptedTrafficAnalysis: input.encryptedTrafficAnalysis });
    });
    return this.view(db, orgId);
  }

  private async load(x: Executor, orgId: string): Promise<ThreatSettings> {
    const row = await threatRepo(x).getSettings(orgId);
    if (!row) return { fileRetentionDays: {}, encryptedTrafficAnalysis: false };
    return { fileRetentionDays: JSON.parse(row.file_retention) as ThreatSettings['fileRetentionDays'], encryptedTrafficAnalysis: row.encrypted_traffic === 1 };
  }

  private async filesClassDays(x: Executor, orgId: string): Promise<number> {
    const o = (await reposFor(x).retention.list(orgId)).find((r) => r.data_class === 'threat_files');
    return o?.days ?? dataClass('threat_files')?.defaultDays ?? 1;
  }

  private async view(x: Executor, orgId: string): Promise<ThreatSettingsView> {
    const s = await this.load(x, orgId);
    const cap = await this.filesClassDays(x, orgId);
    const effective: Partial<Record<FileCategory, number>> = {};
    for (const [c, d] of Object.entries(s.fileRetentionDays)) effective[c as FileCategory] = Math.min(d, cap);
    const row = await threatRepo(x).getSettings(orgId);
    return { ...s, filesClassDays: cap, effectiveFileRetentionDays: effective, updatedAt: row ? toIso(row.updated_at) : null };
  }
}
