/**
 * What an org lets ingest keep (R-PRIV-1, R-LOC-3, R-LOC-4), and its webhook credentials. The
 * defaults collect the least: location services off (aggregates only), no personal field of any
 * source, no precise tracking of unconnected devices or named BLE assets, SDK phones only after
 * a recorded opt-in. The opt-ins are consent records (`privacy/consent`, R-PRIV-5): the org's app
 * records them, and the settings' `sdkOptIn` patch records an org admin's on the users' behalf;
 * the pipeline reads the consent module's live set. Webhook secrets are encrypted under the org
 * key and never shown again.
 */
import { CairnError } from '../kernel/errors.ts';
import type { Core, Ctx, SdkConsentService } from '../privacy/index.ts';
import { IngestRepo, reposFor, type Executor, type IngestSettingsRow } from '../storage/index.ts';
import type { IngestSource, PersonalField } from './types.ts';

export const PERSONAL_FIELDS: readonly PersonalField[] = ['ip', 'username', 'hostname', 'ssid', 'manufacturer', 'os'];
export const INGEST_SOURCES: readonly IngestSource[] = ['mist', 'meraki', 'spaces', 'syslog', 'mqtt', 'native', 'encounter'];

/** The stored settings (JSON), every field with its default. */
export interface IngestSettings {
  /** R-LOC-4: off keeps only aggregate zone counts, no fixes and no per-device records. */
  locationServices: boolean;
  /** R-LOC-3: precise fixes of unconnected (probing) Wi-Fi devices. Default off. */
  trackUnconnected: boolean;
  /** R-LOC-3: named and passive BLE assets tracked individually. Default off. */
  trackAssets: boolean;
  /** What BLE tags reported by Mist and Meraki are to this org: people's badges or equipment. */
  bleTags: 'ble-badge' | 'ble-asset';
  /** R-PRIV-1: personal fields collected, per source. Default: none anywhere. */
  collect: Partial<Record<IngestSource, PersonalField[]>>;
  /** Vendor map / floor-plan ids (Mist `map_id`, Meraki `floorPlanId`, Spaces floor location id) → Cairn floor id. */
  vendorFloors: Record<string, string>;
  /** The validator string Meraki's GET expects back (not a secret: Meraki shows it to anyone who configures it). */
  merakiValidator: string | null;
  /** Unit of Cisco Spaces x/y on this org's maps. */
  spacesCoordinateUnit: 'ft' | 'm';
}

export const DEFAULT_INGEST_SETTINGS: Readonly<IngestSettings> = Object.freeze({
  locationServices: false,
  trackUnconnected: false,
  trackAssets: false,
  bleTags: 'ble-asset',
  collect: {},
  vendorFloors: {},
  merakiValidator: null,
  spacesCoordinateUnit: 'ft',
});

/** What the API shows: the settings without secrets, the number of SDK opt-ins, and whether secrets are set. */
export interface IngestSettingsView extends IngestSettings {
  sdkOptInCount: number;
  mistSecretSet: boolean;
  merakiSecretSet: boolean;
}

/** A change: any settings field, secrets (null removes), SDK opt-ins to add or remove by app id. */
export interface IngestSettingsPatch extends Partial<IngestSettings> {
  mistSecret?: string | null;
  merakiSecret?: string | null;
  /** Personal (the app installation ids): recorded as consent records (channel admin) by pseudonym. */
  sdkOptIn?: { add?: string[]; remove?: string[] };
}

/** The hot path's view: parsed settings, opt-ins as a set, secrets decrypted. */
export interface EffectiveSettings {
  settings: IngestSettings;
  /** Pseudonyms (kind `app`) of SDK installations with a current opt-in: the consent module's live set. */
  optIns: ReadonlySet<string>;
  collect: ReadonlyMap<IngestSource, ReadonlySet<PersonalField>>;
  mistSecret: string | undefined;
  merakiSecret: string | undefined;
}

const CACHE_MS = 5_000;

function parse(json: string | undefined): IngestSettings {
  // `sdkOptIns` of settings written before the consent module took the opt-ins over (migration 301) is dropped.
  const { sdkOptIns: _old, ...s } = json ? (JSON.parse(json) as Partial<IngestSettings> & { sdkOptIns?: unknown }) : {};
  return { ...DEFAULT_INGEST_SETTINGS, ...s, collect: { ...(s.collect ?? {}) }, vendorFloors: { ...(s.vendorFloors ?? {}) } };
}

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

export class IngestSettingsService {
  private cache = new Map<string, { atMs: number; eff: Promise<EffectiveSettings> }>();

  constructor(
    private readonly core: Core,
    private readonly sdk: SdkConsentService,
  ) {
    core.bus.on('org.deleted', ({ orgId }) => void this.cache.delete(orgId));
  }

  async read(ctx: Ctx, orgId: string): Promise<IngestSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'readSettings', { orgId });
    return view(await new IngestRepo(db).getSettings(orgId), await this.sdk.count(db, orgId));
  }

  /** Change what is collected; audited with the names of the fields changed (never their values). */
  async update(ctx: Ctx, orgId: string, patch: IngestSettingsPatch): Promise<IngestSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'updateSettings', { orgId });
    const { keys, audit, clock } = this.core;
    let afterCommit: (() => void) | undefined;
    const result = await db.tx(async (x) => {
      const repo = new IngestRepo(x);
      const row: IngestSettingsRow = (await repo.getSettings(orgId)) ?? { org_id: orgId, settings: '{}', mist_secret_enc: null, meraki_secret_enc: null, updated_at: 0 };
      const s = parse(row.settings);
      const { mistSecret, merakiSecret, sdkOptIn, ...fields } = patch;
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) (s as unknown as Record<string, unknown>)[k] = v;
      await this.validate(x, orgId, s);
      if (sdkOptIn) {
        const decisions = [...(sdkOptIn.add ?? []).map((appId) => ({ appId, optedIn: true })), ...(sdkOptIn.remove ?? []).map((appId) => ({ appId, optedIn: false }))];
        afterCommit = (await this.sdk.recordInTx(x, ctx, orgId, decisions.map((d) => ({ ...d, channel: 'admin' as const })))).afterCommit;
      }
      if (mistSecret !== undefined) row.mist_secret_enc = mistSecret ? await keys.encrypt(x, orgId, 'ingest.mist_secret', mistSecret) : null;
      if (merakiSecret !== undefined) row.meraki_secret_enc = merakiSecret ? await keys.encrypt(x, orgId, 'ingest.meraki_secret', merakiSecret) : null;
      row.settings = JSON.stringify(s);
      row.updated_at = clock.nowMs();
      await repo.putSettings(row);
      await audit.record(x, ctx, orgId, 'ingest.settings.update', `org:${orgId}`, { fields: Object.keys(patch).sort() });
      return view(row, await this.sdk.count(x, orgId));
    });
    afterCommit?.();
    this.cache.delete(orgId);
    return result;
  }

  private async validate(x: Executor, orgId: string, s: IngestSettings): Promise<void> {
    for (const [src, fields] of Object.entries(s.collect)) {
      if (!INGEST_SOURCES.includes(src as IngestSource)) throw bad('collect', `collect names an unknown source; sources: ${INGEST_SOURCES.join(', ')}.`);
      if (!Array.isArray(fields) || fields.some((f) => !PERSONAL_FIELDS.includes(f))) throw bad('collect', `collect fields must be among ${PERSONAL_FIELDS.join(', ')}.`);
    }
    const t = reposFor(x).tenancy;
    for (const floorId of new Set(Object.values(s.vendorFloors))) {
      if (!(await t.getFloor(orgId, floorId))) throw bad('vendorFloors', 'vendorFloors maps to a floor that is not in this org.');
    }
    if (Object.keys(s.vendorFloors).length > 10_000) throw bad('vendorFloors', 'vendorFloors holds at most 10 000 entries.');
  }

  /**
   * The settings as the pipeline uses them, cached for a few seconds (another process, such as
   * the CLI, may change them; this process's own changes apply at once).
   */
  effective(x: Executor, orgId: string): Promise<EffectiveSettings> {
    const now = this.core.clock.nowMs();
    const hit = this.cache.get(orgId);
    if (hit && now - hit.atMs < CACHE_MS) return hit.eff;
    const eff = (async (): Promise<EffectiveSettings> => {
      const row = await new IngestRepo(x).getSettings(orgId);
      const settings = parse(row?.settings);
      const collect = new Map<IngestSource, ReadonlySet<PersonalField>>();
      for (const [src, fields] of Object.entries(settings.collect)) collect.set(src as IngestSource, new Set(fields));
      const keys = this.core.keys;
      return {
        settings,
        optIns: await this.sdk.optIns(x, orgId),
        collect,
        mistSecret: row?.mist_secret_enc ? await keys.decrypt(x, orgId, 'ingest.mist_secret', row.mist_secret_enc) : undefined,
        merakiSecret: row?.meraki_secret_enc ? await keys.decrypt(x, orgId, 'ingest.meraki_secret', row.meraki_secret_enc) : undefined,
      };
    })();
    this.cache.set(orgId, { atMs: now, eff });
    eff.catch(() => this.cache.delete(orgId));
    return eff;
  }
}

function view(row: IngestSettingsRow | undefined, sdkOptInCount: number): IngestSettingsView {
  return { ...parse(row?.settings), sdkOptInCount, mistSecretSet: !!row?.mist_secret_enc, merakiSecretSet: !!row?.meraki_secret_enc };
}
