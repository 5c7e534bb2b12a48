/**
 * The Cisco Spaces firehose as a product feature. Per org: on/off, the stream URL (only to hosts
 * the operator allows, `spacesFirehoseHosts`) and the partner API key, encrypted under the org
 * key and never shown again (readers see whether one is set). While `serve` runs, one consumer
 * per enabled org streams into the ingest pipeline; each batch is committed in one transaction
 * together with the stream's resume checkpoint (last `recordTimestamp` and the recordUids inside
 * the resume overlap), so a restart resumes exactly: nothing lost, nothing twice. A settings
 * change restarts the org's consumer; shutdown stops them all. Status (connected, last event,
 * counts, last error) is kept in memory per consumer.
 */
import { CairnError, isCairnError } from '../kernel/errors.ts';
import { toIso } from '../kernel/clock.ts';
import { newId } from '../kernel/ids.ts';
import type { Core, Ctx } from '../privacy/index.ts';
import { IngestRepo, type Executor, type SpacesFirehoseRow } from '../storage/index.ts';
import { SpacesFirehoseConsumer, type FirehoseBatch, type FirehoseCheckpoint, type FirehoseConsumerOptions, type FirehoseStateName } from './spaces/consumer.ts';
import type { SpacesOptions } from './spaces/firehose.ts';
import type { IngestService } from './service.ts';
import type { EffectiveSettings } from './settings.ts';

/** What the API shows: never the key. */
export interface FirehoseSettingsView {
  enabled: boolean;
  url: string | null;
  apiKeySet: boolean;
  updatedAt: string | null;
}

/** A change; `apiKey: null` removes the key. A new URL starts the stream afresh (its cursor is dropped). */
export interface FirehoseSettingsPatch {
  enabled?: boolean;
  url?: string | null;
  /** Secret: encrypted at once under the org key, never logged, audited or shown. */
  apiKey?: string | null;
}

/** `off`: not enabled; `stopped`: enabled but no consumer runs in this process (not serving, key refused, not allowed). */
export type FirehoseStatusState = FirehoseStateName | 'off';

/** How an org's stream is doing. Counts are since its consumer started (`since`). */
export interface FirehoseStatus {
  enabled: boolean;
  state: FirehoseStatusState;
  connected: boolean;
  /** `recordTimestamp` of the newest event committed (the resume point), ISO; survives restarts. */
  lastEventAt: string | null;
  accepted: number;
  rejected: number;
  duplicates: number;
  /** Why the last connection failed or ended: `http_503`, `disconnected`, `ended`, `idle`, `unauthenticated`, `sink_error`, `host_not_allowed`, `not_configured`. */
  lastErrorCode: string | null;
  lastErrorAt: string | null;
  since: string | null;
}

/** Consumer tuning (tests shorten the back-off); the stream URL, key and sink are the service's. */
export type FirehoseTuning = Partial<Pick<FirehoseConsumerOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'idleTimeoutMs' | 'resumeOverlapMs' | 'maxBatch' | 'lingerMs' | 'dedupCapacity'>>;

interface Running {
  consumer: SpacesFirehoseConsumer;
  done: Promise<void>;
  /** The parser's options, refreshed from the org's ingest settings at each batch. */
  parse: SpacesOptions;
  state: FirehoseStateName;
  accepted: number;
  rejected: number;
  /** Records the pipeline already had (the consumer's own drops are in its stats). */
  storedDuplicates: number;
  sinceMs: number;
}

/** The API key's field name in the encryption's additional data. */
const KEY_FIELD = 'ingest.spaces_api_key';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The context firehose batches are written under (audited as `system:spaces-firehose`). */
function firehoseCtx(): Ctx {
  return { actor: { kind: 'system', id: 'spaces-firehose' }, bindings: [], requestId: newId() };
}

function view(row: SpacesFirehoseRow | undefined): FirehoseSettingsView {
  return { enabled: row?.enabled === 1, url: row?.url ?? null, apiKeySet: !!row?.api_key_enc, updatedAt: row ? toIso(row.updated_at) : null };
}

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

/**
 * Whether `url` may be streamed from: http(s) without credentials, query or fragment, to a host
 * in `allowed` (exact, or `*.domain` for its subdomains); plain http only to a loopback host.
 *
 * @example firehoseUrlProblem('https://partners.ciscospaces.io/api/partners/v1/firehose/events', ['*.ciscospaces.io']) // undefined
 */
export function firehoseUrlProblem(url: string, allowed: readonly string[]): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'url is not a URL.';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'url must be https.';
  if (u.username || u.password || u.search || u.hash) return 'url must not carry credentials, a query or a fragment (the key goes in apiKey).';
  const host = u.hostname.toLowerCase();
  const ok = allowed.some((a) => {
    const p = a.toLowerCase();
    return p.startsWith('*.') ? host.endsWith(p.slice(1)) : host === p;
  });
  if (!ok) return 'url must point at a Cisco Spaces host this server allows (spacesFirehoseHosts).';
  if (u.protocol === 'http:' && !LOOPBACK_HOSTS.has(host)) return 'url must be https.';
  return undefined;
}

export class SpacesFirehoseService {
  private readonly running = new Map<string, Running>();
  /** Per org, the last settings change or start still being applied (changes apply in order). */
  private readonly applying = new Map<string, Promise<void>>();
  /** Per org: why its consumer is not running or last failed, and when. */
  private readonly lastError = new Map<string, { code: string; atMs: number }>();
  private active = false;
  /** Consumer tuning; tests shorten the back-off. */
  tuning: FirehoseTuning = {};

  constructor(
    private readonly core: Core,
    private readonly ingest: IngestService,
  ) {
    core.bus.on('org.deleted', ({ orgId }) => this.apply(orgId, () => this.stopOrg(orgId)));
  }

  /** The org's firehose settings (never the key). */
  async read(ctx: Ctx, orgId: string): Promise<FirehoseSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'readSettings', { orgId });
    return view(await new IngestRepo(db).getFirehose(orgId));
  }

  /**
   * Change the org's firehose (org admins); audited with the names of the fields changed. When
   * `serve` runs, the org's consumer is stopped first (so no batch of the old stream commits its
   * cursor after the change) and started again with the new settings before this returns.
   */
  async update(ctx: Ctx, orgId: string, patch: FirehoseSettingsPatch): Promise<FirehoseSettingsView> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'updateSettings', { orgId });
    const { keys, audit, clock, cfg } = this.core;
    if (patch.url !== undefined && patch.url !== null) {
      const problem = firehoseUrlProblem(patch.url, cfg.spacesFirehoseHosts);
      if (problem) throw bad('url', problem);
    }
    await this.apply(orgId, () => this.stopOrg(orgId));
    try {
      return await db.tx(async (x) => {
        const repo = new IngestRepo(x);
        const row: SpacesFirehoseRow = (await repo.getFirehose(orgId)) ?? { org_id: orgId, enabled: 0, url: null, api_key_enc: null, updated_at: 0 };
        if (patch.url !== undefined && patch.url !== row.url) {
          row.url = patch.url;
          await repo.deleteFirehoseCursor(orgId);
        }
        if (patch.apiKey !== undefined) row.api_key_enc = patch.apiKey === null ? null : await keys.encrypt(x, orgId, KEY_FIELD, patch.apiKey);
        if (patch.enabled !== undefined) row.enabled = patch.enabled ? 1 : 0;
        if (row.enabled === 1 && (!row.url || !row.api_key_enc)) throw bad(row.url ? 'apiKey' : 'url', 'Set the stream url and apiKey before turning the firehose on.');
        row.updated_at = clock.nowMs();
        await repo.putFirehose(row);
        await audit.record(x, ctx, orgId, 'ingest.firehose.update', `org:${orgId}`, { fields: Object.keys(patch).sort(), enabled: row.enabled === 1 });
        return view(row);
      });
    } finally {
      await this.apply(orgId, () => this.restartOrg(orgId));
    }
  }

  /** How the org's stream is doing (readers of the ingest settings). */
  async status(ctx: Ctx, orgId: string): Promise<FirehoseStatus> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'readSettings', { orgId });
    const repo = new IngestRepo(db);
    const settings = await repo.getFirehose(orgId);
    const cursor = await repo.getFirehoseCursor(orgId);
    const r = this.running.get(orgId);
    const err = this.lastError.get(orgId);
    const enabled = settings?.enabled === 1;
    return {
      enabled,
      state: r ? r.state : enabled ? 'stopped' : 'off',
      connected: r?.state === 'streaming',
      lastEventAt: cursor ? toIso(cursor.record_ms) : null,
      accepted: r?.accepted ?? 0,
      rejected: r?.rejected ?? 0,
      duplicates: r ? r.storedDuplicates + r.consumer.stats.duplicates : 0,
      lastErrorCode: err?.code ?? null,
      lastErrorAt: err ? toIso(err.atMs) : null,
      since: r ? toIso(r.sinceMs) : null,
    };
  }

  /** Start a consumer for every org with the firehose on (`serve`); later changes restart theirs. Returns how many run. */
  async start(): Promise<number> {
    this.active = true;
    for (const region of this.core.stores.regions) {
      for (const row of await new IngestRepo(this.core.stores.region(region)).listEnabledFirehoses()) await this.apply(row.org_id, () => this.restartOrg(row.org_id));
    }
    return this.running.size;
  }

  /** Stop every consumer (complete lines already received are committed first). */
  async stop(): Promise<void> {
    this.active = false;
    await Promise.all([...this.applying.values()]);
    await Promise.all([...this.running.keys()].map((orgId) => this.stopOrg(orgId)));
  }

  /** Run changes to one org's consumer one after another. */
  private apply(orgId: string, fn: () => Promise<void>): Promise<void> {
    const next = (this.applying.get(orgId) ?? Promise.resolve()).then(fn).catch((e: unknown) => this.core.log.error({ err: e, orgId }, 'spaces firehose: could not apply settings'));
    this.applying.set(orgId, next);
    void next.then(() => {
      if (this.applying.get(orgId) === next) this.applying.delete(orgId);
    });
    return next;
  }

  private failed(orgId: string, code: string): void {
    this.lastError.set(orgId, { code, atMs: this.core.clock.nowMs() });
  }

  private async stopOrg(orgId: string): Promise<void> {
    const r = this.running.get(orgId);
    if (!r) return;
    await r.consumer.stop();
    await r.done;
    this.running.delete(orgId);
  }

  private async restartOrg(orgId: string): Promise<void> {
    await this.stopOrg(orgId);
    if (!this.active) return;
    const db = await this.core.directory.storeOf(orgId).catch(() => undefined);
    if (!db) return;
    const repo = new IngestRepo(db);
    const row = await repo.getFirehose(orgId);
    if (!row || row.enabled !== 1) return;
    if (!row.url || !row.api_key_enc) return this.failed(orgId, 'not_configured');
    if (firehoseUrlProblem(row.url, this.core.cfg.spacesFirehoseHosts)) return this.failed(orgId, 'host_not_allowed');
    const apiKey = await this.core.keys.decrypt(db, orgId, KEY_FIELD, row.api_key_enc);
    const cursor = await repo.getFirehoseCursor(orgId);
    const checkpoint: FirehoseCheckpoint | undefined = cursor ? { recordTimestamp: cursor.record_ms, boundaryUids: JSON.parse(cursor.boundary_uids) as string[] } : undefined;
    const { eff } = await this.ingest.webhookSettings(orgId);
    const parse: SpacesOptions = {};
    refreshParse(parse, eff);
    let r: Running | undefined;
    const consumer = new SpacesFirehoseConsumer({
      ...this.tuning,
      url: row.url,
      apiKey,
      parse,
      ...(checkpoint ? { checkpoint } : {}),
      onBatch: (batch) => this.commit(orgId, r!, batch),
      onSkip: (reason) => {
        if (r) r.rejected++;
        this.ingest.countRejected('spaces', reason);
      },
      onStateChange: (s) => {
        if (!r) return;
        r.state = s.state;
        if (s.reason !== undefined) this.failed(orgId, s.reason);
      },
    });
    r = { consumer, done: Promise.resolve(), parse, state: 'connecting', accepted: 0, rejected: 0, storedDuplicates: 0, sinceMs: this.core.clock.nowMs() };
    this.running.set(orgId, r);
    const run = r;
    run.done = consumer.run().catch((e: unknown) => {
      run.state = 'stopped';
      this.failed(orgId, isCairnError(e) && e.code === 'CAIRN_ERR_UNAUTHENTICATED' ? 'unauthenticated' : 'internal');
      this.core.log.warn({ orgId, code: isCairnError(e) ? e.code : 'CAIRN_ERR_INTERNAL' }, 'spaces firehose stopped');
    });
  }

  /** One batch: its observations through the pipeline and the checkpoint, in one transaction. */
  private async commit(orgId: string, r: Running, batch: FirehoseBatch): Promise<void> {
    try {
      const { db, eff } = await this.ingest.webhookSettings(orgId);
      refreshParse(r.parse, eff);
      const observations = batch.records.flatMap((rec) => rec.observations);
      const save = (x: Executor) => saveCursor(x, orgId, batch.checkpoint, this.core.clock.nowMs());
      if (observations.length === 0) {
        await db.tx(save);
        r.accepted += batch.records.length;
        return;
      }
      const s = await this.ingest.run(db, firehoseCtx(), orgId, eff, { source: 'spaces', observations, inTx: save });
      r.accepted += batch.records.length - s.duplicates;
      r.storedDuplicates += s.duplicates;
    } catch (e) {
      this.core.log.warn({ orgId, code: isCairnError(e) ? e.code : 'CAIRN_ERR_INTERNAL' }, 'spaces firehose batch not committed; it is replayed after the reconnect');
      throw e;
    }
  }
}

/** The parser follows the org's ingest settings (fields collected, map units). */
function refreshParse(parse: SpacesOptions, eff: EffectiveSettings): void {
  parse.collect = [...(eff.collect.get('spaces') ?? [])];
  parse.coordinateUnit = eff.settings.spacesCoordinateUnit;
}

function saveCursor(x: Executor, orgId: string, cp: FirehoseCheckpoint, nowMs: number): Promise<void> {
  return new IngestRepo(x).putFirehoseCursor({ org_id: orgId, record_ms: cp.recordTimestamp, boundary_uids: JSON.stringify(cp.boundaryUids), updated_at: nowMs });
}

