/**
 * The ingest pipeline: parsed observations → minimise → pseudonymise → locate → zone → store, one
 * batch per transaction, acknowledged only after it commits.
 *
 *  - Minimise (R-PRIV-1, R-LOC-3, R-LOC-4): personal fields the org did not enable for the source
 *    are never read; SDK phones without a current opt-in (consent records, R-PRIV-5) are dropped
 *    (counted as rejected `sdk_without_opt_in`, not even in aggregates); without location services,
 *    and for unconnected devices and named BLE assets (unless the org turned their tracking on),
 *    only aggregate zone counts are kept: no fix, no device record.
 *  - Pseudonymise (R-LOC-5): the org's keyed pseudonymiser, loaded once per batch; raw ids are not
 *    kept, logged or put in errors. IP, username and hostname are encrypted under the org key.
 *  - Locate (R-LOC-2): vendor x/y, multi-sensor RSSI (WLS + Kalman) or the AP's position, each with
 *    an accuracy. Zone: the floor's `ZoneIndex`.
 *  - Store: fixes (R-DATA-3), device records (R-DATA-1/2, `DevicesRepo` semantics), zone-minute
 *    counts, in bulk statements; vendor record ids make re-delivery harmless, and a fix already
 *    stored (same device, time and source) is not stored again. Zone enter/exit events go on the
 *    bus after the commit.
 */
import { CairnError } from '../kernel/errors.ts';
import { MINUTE_MS } from '../kernel/clock.ts';
import type { Core, Ctx, IdKind } from '../privacy/index.ts';
import { IngestRepo, LocationRepo, type Database, type DeviceRow, type Executor, type FixRow } from '../storage/index.ts';
import { Locator, PresenceTracker, emptyFix, type PlanCache, type PresenceBatch } from '../location/index.ts';
import type { DeviceIdType, IngestSource, ObservationKind, RawObservation, RssiReading, ZoneTransition } from './types.ts';
import { applyVendorZones } from './vendor-zones.ts';
import type { EffectiveSettings, IngestSettingsService } from './settings.ts';
import { NATIVE_MAX_BATCH } from './native/schema.ts';
import type { AssociationSessionRecorder } from './session-store.ts';
import type { EncounterStore } from './encounters/store.ts';

/** A batch handed to the pipeline. */
export interface IngestBatch {
  source: IngestSource;
  observations: readonly RawObservation[];
  /** Confine the batch to one site's floors and sensors (a site-bound token, the CLI's --site). */
  siteId?: string | null;
  /** Records the adapter skipped inside the payload, by reason (counted as rejected). */
  skipped?: Readonly<Record<string, number>>;
  /**
   * Enter/exit of the vendor's own zones (Mist `zone`): mapped to the Cairn zone carrying the
   * vendor zone id (`vendor-zones.ts`), else counted as `unmapped_vendor_zone`.
   */
  zoneTransitions?: readonly ZoneTransition[];
  /**
   * Written inside the batch's transaction, after its rows (a stream's resume cursor): it commits
   * with the batch or not at all. With a split batch, only the last part's transaction runs it.
   */
  inTx?: (x: Executor) => Promise<void>;
  /**
   * A digest of the delivery (SHA-256 of a webhook body, of a file and batch number): a delivery
   * seen before is skipped whole. Stored only as an HMAC under the org's pseudonym key.
   */
  deliveryId?: string;
  /**
   * Digests of the several deliveries a batch is made of (an MQTT batch: one per message), kept
   * like `deliveryId`. All new: stored; all seen: skipped whole; some seen (re-delivery after a
   * crash, mixed with new messages): CAIRN_ERR_CONFLICT (`partial_redelivery`) and nothing stored,
   * so the caller runs those deliveries one by one.
   */
  deliveryIds?: readonly string[];
}

/** What became of a batch. Counts only: no identifiers. */
export interface IngestSummary {
  /** Observations taken in (re-deliveries excluded). */
  accepted: number;
  /** Re-delivered records (same source record id) skipped. */
  duplicates: number;
  /** Records refused by the adapter, by reason. */
  rejected: Record<string, number>;
  /** Observations kept only in aggregate zone counts, by reason (R-LOC-3, R-LOC-4). */
  aggregateOnly: Record<string, number>;
  /** Observations that could not be placed on a floor, by reason. */
  unlocated: Record<string, number>;
  /** Distinct devices recorded (tracked individually). */
  devices: number;
  /** Fixes stored. */
  fixes: number;
  /** Zone enter and exit events emitted. */
  zoneEvents: number;
}

export function emptySummary(): IngestSummary {
  return { accepted: 0, duplicates: 0, rejected: {}, aggregateOnly: {}, unlocated: {}, devices: 0, fixes: 0, zoneEvents: 0 };
}

/** Add `b`'s counts to `a`. */
export function mergeSummary(a: IngestSummary, b: IngestSummary): IngestSummary {
  a.accepted += b.accepted;
  a.duplicates += b.duplicates;
  a.devices += b.devices;
  a.fixes += b.fixes;
  a.zoneEvents += b.zoneEvents;
  for (const k of ['rejected', 'aggregateOnly', 'unlocated'] as const) for (const [r, n] of Object.entries(b[k])) a[k][r] = (a[k][r] ?? 0) + n;
  return a;
}

export interface IngestDeps {
  settings: IngestSettingsService;
  plans: PlanCache;
  /** `cairn_ingest_rejected_total` (source, reason); absent in the CLI. */
  rejected?: { inc(labels: { source: string; reason: string }, n: number): void };
  /** Seconds without a sighting before a device leaves its zone; default 300. */
  presenceIdleSeconds?: number;
  /** Stores association sessions from syslog (WiFiTrace); absent: sessions are not kept. */
  sessions?: AssociationSessionRecorder;
  /** Stores badge-to-badge encounters (pseudonymised); absent: they are counted, not stored. */
  encounters?: EncounterStore;
}

/**
 * A step another module adds to every stored batch (issue 4: durable zone visits), run inside the
 * batch's transaction after its rows are written, with the batch's presence overlay, its newest
 * observation time, the idle time after which a device leaves its zone and the fixes it stored
 * (issue 4: the proximity index's open hours). It may return what to
 * apply once the batch has committed (before the zone events go out); nothing runs on a rollback.
 */
export type IngestBatchHook = (x: Executor, orgId: string, presence: PresenceBatch, at: { nowMs: number; idleMs: number; fixes: readonly FixRow[] }) => Promise<(() => void) | undefined>;

const ID_KIND: Readonly<Record<DeviceIdType, IdKind>> = { mac: 'mac', badge: 'badge', app: 'app', asset: 'asset' };
const DEVICE_KIND: Readonly<Record<ObservationKind, string>> = { 'wifi-connected': 'wifi', 'wifi-unconnected': 'wifi', 'ble-badge': 'ble', 'ble-asset': 'ble', sdk: 'sdk', wired: 'wired' };
/** A device record is rewritten at most this often when nothing but its last-seen time changed. */
const DEVICE_REFRESH_MS = 5 * MINUTE_MS;
const LAST_WRITTEN_MAX = 500_000;

interface Item {
  o: RawObservation;
  device: string;
  tracked: boolean;
  /** Why only aggregates may be kept for it (R-LOC-3/4), when so. */
  why: string | undefined;
  /** Readings merged in from other single-sensor reports of the same sighting. */
  readings?: RssiReading[];
}

/** Personal fields of a device in this batch, clear until encrypted (R-DATA-1/2; only collected ones). */
interface PendingPersonal {
  ip?: string;
  username?: string;
  hostname?: string;
}

function bump(m: Record<string, number>, k: string, n = 1): void {
  m[k] = (m[k] ?? 0) + n;
}

/** The context webhooks act under: they authenticate by signature or shared secret, not a session. */
export function webhookCtx(source: IngestSource, requestId: string): Ctx {
  return { actor: { kind: 'system', id: `webhook-${source}` }, bindings: [], requestId };
}

export class IngestService {
  private readonly locator = new Locator();
  private readonly trackers = new Map<string, PresenceTracker>();
  /** Per org: device pseudonym → last-seen time last written (skips rewriting unchanged rows). */
  private readonly lastWritten = new Map<string, Map<string, number>>();
  private readonly fix = emptyFix();
  private readonly idleMs: number;
  private readonly hooks: IngestBatchHook[] = [];
  /** Per org, the end of the batches queued so far: an org's batches run one at a time. */
  private readonly orgQueues = new Map<string, Promise<void>>();

  constructor(
    private readonly core: Core,
    private readonly deps: IngestDeps,
  ) {
    this.idleMs = (deps.presenceIdleSeconds ?? 300) * 1000;
    core.bus.on('retention.purged', ({ orgId }) => void this.lastWritten.delete(orgId));
    core.bus.on('org.deleted', ({ orgId }) => {
      this.lastWritten.delete(orgId);
      this.trackers.delete(orgId);
      this.locator.forgetOrg(orgId);
    });
  }

  get settings(): IngestSettingsService {
    return this.deps.settings;
  }

  /** Where encounter uploads are stored (undefined when not wired). */
  get encounters(): EncounterStore | undefined {
    return this.deps.encounters;
  }

  /** Where the syslog receivers store association sessions (undefined when not wired). */
  get sessions(): AssociationSessionRecorder | undefined {
    return this.deps.sessions;
  }

  /** Run `hook` in every stored batch's transaction (see {@link IngestBatchHook}). */
  addBatchHook(hook: IngestBatchHook): void {
    this.hooks.push(hook);
  }

  /** Count refused records in `cairn_ingest_rejected_total`. */
  countRejected(source: IngestSource, reason: string, n = 1): void {
    if (n > 0) this.deps.rejected?.inc({ source, reason }, n);
  }

  /**
   * This process's presence state of an org, read-only, for live occupancy (which counts it and
   * keeps no identifier); undefined before the org's first batch here.
   */
  presence(orgId: string): PresenceTracker | undefined {
    return this.trackers.get(orgId);
  }

  /** How long a device may go unseen before it leaves its zone, ms. */
  get presenceIdleMs(): number {
    return this.idleMs;
  }

  private tracker(orgId: string): PresenceTracker {
    let t = this.trackers.get(orgId);
    if (!t) {
      t = new PresenceTracker(orgId, this.idleMs);
      this.trackers.set(orgId, t);
    }
    return t;
  }

  /**
   * The org a call is about: the one given, else the caller's only org (a sensor token's). A
   * caller with roles in several orgs, or none, must name it.
   */
  resolveOrg(ctx: Ctx, orgId: string | undefined): string {
    if (orgId) return orgId;
    const orgs = [...new Set(ctx.bindings.map((b) => b.orgId))];
    if (orgs.length === 1) return orgs[0]!;
    throw new CairnError('CAIRN_ERR_VALIDATION', 'Name the org (?orgId=): the caller holds roles in several orgs, or none.', { field: 'orgId' });
  }

  /** The site a caller bound to exactly one site of the org writes to (null when it is org-wide). */
  callerSite(ctx: Ctx, orgId: string): string | null {
    const mine = ctx.bindings.filter((b) => b.orgId === orgId);
    if (mine.length === 0 || mine.some((b) => b.siteId === null)) return null;
    const sites = new Set(mine.map((b) => b.siteId));
    return sites.size === 1 ? [...sites][0]! : null;
  }

  /** Check the caller may write to the org (and site), then give its store and settings. */
  async open(ctx: Ctx, orgId: string, siteId: string | null): Promise<{ db: Database; eff: EffectiveSettings }> {
    const { db } = await this.core.access.enforce(ctx, 'ingest', 'write', { orgId, siteId });
    return { db, eff: await this.deps.settings.effective(db, orgId) };
  }

  /** Settings of an org a webhook names; an unknown org is "not found or no access". */
  async webhookSettings(orgId: string): Promise<{ db: Database; eff: EffectiveSettings }> {
    const db = await this.core.directory.storeOf(orgId);
    return { db, eff: await this.deps.settings.effective(db, orgId) };
  }

  /**
   * Whether `key` (a sensor's Cairn id, MAC or vendor id) names a sensor registered at the site:
   * receivers whose topic or channel names the sensor (MQTT) check it before ingesting. Answered
   * from the cached plan.
   *
   * @example if (!(await ingest.sensorAt(db, orgId, siteId, 'b1-f0-ble07'))) reject('unknown_sensor')
   */
  async sensorAt(db: Database, orgId: string, siteId: string, key: string): Promise<boolean> {
    return (await this.deps.plans.get(db, orgId)).sensor(key)?.siteId === siteId;
  }

  /**
   * Run one batch through the pipeline in one transaction (access checked here). Batches larger
   * than the native maximum are split, each committed on its own.
   *
   * @example const s = await ingest.ingest(ctx, orgId, { source: 'native', observations })
   */
  async ingest(ctx: Ctx, orgId: string, batch: IngestBatch, seen?: Set<string>): Promise<IngestSummary> {
    const { db, eff } = await this.open(ctx, orgId, batch.siteId ?? null);
    return this.run(db, ctx, orgId, eff, batch, seen);
  }

  /**
   * The pipeline after the access check (webhooks come here having proven their signature).
   * Batches of one org run one at a time, in arrival order: the org's presence overlay and Kalman
   * state are not re-entrant, and on PostgreSQL two batches upserting the same devices, zone
   * counts and visits in different orders would deadlock (batches of different orgs still overlap).
   */
  async run(db: Database, ctx: Ctx, orgId: string, eff: EffectiveSettings, batch: IngestBatch, seen?: Set<string>): Promise<IngestSummary> {
    // A batch to be split queues each part on its own (runBatch calls run per part).
    if (batch.observations.length > NATIVE_MAX_BATCH) return this.runBatch(db, ctx, orgId, eff, batch, seen);
    const before = this.orgQueues.get(orgId);
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.orgQueues.set(orgId, mine);
    try {
      if (before) await before;
      return await this.runBatch(db, ctx, orgId, eff, batch, seen);
    } finally {
      done();
      if (this.orgQueues.get(orgId) === mine) this.orgQueues.delete(orgId);
    }
  }

  private async runBatch(db: Database, ctx: Ctx, orgId: string, eff: EffectiveSettings, batch: IngestBatch, seen?: Set<string>): Promise<IngestSummary> {
    const all = batch.observations;
    if (all.length > NATIVE_MAX_BATCH) {
      const total = emptySummary();
      for (let i = 0; i < all.length; i += NATIVE_MAX_BATCH) {
        const part: IngestBatch = { ...batch, observations: all.slice(i, i + NATIVE_MAX_BATCH) };
        if (batch.deliveryId !== undefined) part.deliveryId = `${batch.deliveryId}#${i}`;
        if (batch.deliveryIds !== undefined) part.deliveryIds = batch.deliveryIds.map((d) => `${d}#${i}`);
        if (i > 0) {
          delete part.skipped;
          delete part.zoneTransitions;
        }
        if (i + NATIVE_MAX_BATCH < all.length) delete part.inTx;
        mergeSummary(total, await this.run(db, ctx, orgId, eff, part, seen));
      }
      return total;
    }
    const summary = emptySummary();
    const source = batch.source;
    for (const [reason, n] of Object.entries(batch.skipped ?? {})) {
      bump(summary.rejected, reason, n);
      this.countRejected(source, reason, n);
    }
    const zones = batch.zoneTransitions ?? [];
    if (all.length === 0 && zones.length === 0) return summary;

    const siteId = batch.siteId ?? null;
    const s = eff.settings;
    const collect = eff.collect.get(source);
    const plan = await this.deps.plans.get(db, orgId);
    const pseudo = await this.core.keys.pseudonymiser(db, orgId);

    // Time order, so smoothing and zone transitions see each device's sightings in sequence.
    let obs = all;
    for (let i = 1; i < obs.length; i++) {
      if (obs[i]!.atMs < obs[i - 1]!.atMs) {
        obs = [...all].sort((a, b) => a.atMs - b.atMs);
        break;
      }
    }

    // Minimise and pseudonymise (no I/O).
    const items: Item[] = [];
    let singles: Map<string, Item> | undefined;
    let noOptIn = 0;
    // R-PRIV-4: devices whose subject restricted processing (or objected) are dropped whole.
    const restricted = this.core.subjects.restrictedDevices(orgId);
    let restrictedN = 0;
    for (let i = 0; i < obs.length; i++) {
      const o = obs[i]!;
      const device = pseudo(ID_KIND[o.idType], o.idType === 'app' ? o.deviceId.toLowerCase() : o.deviceId);
      if (restricted.size > 0 && restricted.has(device)) {
        restrictedN++;
        continue;
      }
      // R-PRIV-5, R-LOC-3: an app user who has not opted in shares nothing, not even a count.
      if (o.kind === 'sdk' && !eff.optIns.has(device)) {
        noOptIn++;
        continue;
      }
      let why: string | undefined;
      if (!s.locationServices) why = 'location_services_off';
      else if (o.kind === 'wifi-unconnected' && !s.trackUnconnected) why = 'unconnected';
      else if (o.kind === 'ble-asset' && !s.trackAssets) why = 'asset';
      const item: Item = { o, device, tracked: why === undefined, why };
      // Single-sensor reports of one sighting (Mist raw RSSI: one event per AP) are solved together.
      if (o.vendorX === undefined && o.sourceRecordId === undefined && o.rssiDbm !== undefined && o.sensorId !== undefined && (o.readings === undefined || o.readings.length <= 1)) {
        singles ??= new Map();
        const key = `${device}|${o.atMs}`;
        const first = singles.get(key);
        if (first) {
          first.readings ??= [...(first.o.readings ?? [{ sensorId: first.o.sensorId!, rssiDbm: first.o.rssiDbm! }])];
          first.readings.push({ sensorId: o.sensorId, rssiDbm: o.rssiDbm });
          summary.accepted++;
          if (why !== undefined) bump(summary.aggregateOnly, why);
          continue;
        }
        singles.set(key, item);
      }
      items.push(item);
    }
    if (restrictedN > 0) {
      bump(summary.rejected, 'subject_restricted', restrictedN);
      this.countRejected(source, 'subject_restricted', restrictedN);
    }
    if (noOptIn > 0) {
      bump(summary.rejected, 'sdk_without_opt_in', noOptIn);
      this.countRejected(source, 'sdk_without_opt_in', noOptIn);
    }

    const tracker = this.tracker(orgId);
    const presence = tracker.begin();
    const fix = this.fix;
    const vendorFloors = s.vendorFloors;
    // Device rows of the batch; personal fields apart, so a device without them costs one object.
    const devices = new Map<string, DeviceRow>();
    let personal: Map<string, PendingPersonal> | undefined;
    const fixRows: FixRow[] = [];
    let maxAt = -Infinity;
    const afterCommit: (() => void)[] = [];

    await db.tx(async (x) => {
      const records = new IngestRepo(x);
      const deliveries = batch.deliveryIds ?? (batch.deliveryId !== undefined ? [batch.deliveryId] : undefined);
      if (deliveries !== undefined && deliveries.length > 0) {
        const atMs = (obs[obs.length - 1] ?? zones[0]!).atMs;
        const claims = [...new Set(deliveries)].map((d) => ({ id: `delivery:${pseudo('asset', `delivery:${d}`)}`, atMs }));
        const fresh = (await records.claimRecords(orgId, source, claims)).size;
        if (fresh > 0 && fresh < claims.length) throw new CairnError('CAIRN_ERR_CONFLICT', 'Part of this batch was delivered before; send its deliveries one by one.', { reason: 'partial_redelivery' });
        if (fresh === 0) {
          summary.duplicates = all.length + zones.length;
          summary.accepted = 0;
          for (const k of Object.keys(summary.aggregateOnly)) delete summary.aggregateOnly[k];
          await this.core.audit.record(x, ctx, orgId, 'ingest.batch', siteId ? `site:${siteId}` : `org:${orgId}`, { source, accepted: 0, duplicates: summary.duplicates, fixes: 0, devices: 0 });
          await batch.inTx?.(x);
          return;
        }
      }
      let fresh: Set<string> | undefined;
      const ids: { id: string; atMs: number }[] = [];
      for (const it of items) if (it.o.sourceRecordId !== undefined) ids.push({ id: it.o.sourceRecordId, atMs: it.o.atMs });
      if (ids.length > 0) fresh = await records.claimRecords(orgId, source, ids);

      for (let i = 0; i < items.length; i++) {
        const it = items[i]!;
        const o = it.o;
        if (o.sourceRecordId !== undefined && !fresh!.delete(o.sourceRecordId)) {
          summary.duplicates++;
          continue;
        }
        summary.accepted++;
        if (it.why !== undefined) bump(summary.aggregateOnly, it.why);
        if (o.atMs > maxAt) maxAt = o.atMs;
        const sighting = it.readings ? { ...o, readings: it.readings } : o;
        const where = this.locator.locate(plan, sighting, it.device, siteId, vendorFloors, fix);
        let deviceSite = siteId;
        if (typeof where === 'string') {
          bump(summary.unlocated, where);
        } else {
          deviceSite = where.siteId;
          const zoneIdx = where.zones.zoneIndexAt(fix.xMeters, fix.yMeters);
          const zoneId = zoneIdx < 0 ? null : where.zoneIds[zoneIdx]!;
          presence.observe(it.device, it.tracked, o.randomized, where, zoneIdx, o.atMs);
          if (it.tracked) {
            fixRows.push({
              org_id: orgId,
              at_ms: o.atMs,
              device: it.device,
              source,
              kind: o.kind,
              floor_id: where.id,
              x_m: fix.xMeters,
              y_m: fix.yMeters,
              accuracy_m: fix.accuracyMeters,
              method: fix.method,
              zone_id: zoneId,
            });
          }
        }
        if (!it.tracked) continue;
        let d = devices.get(it.device);
        if (!d) {
          d = { org_id: orgId, pseudonym: it.device, site_id: deviceSite, kind: DEVICE_KIND[o.kind], randomized: o.randomized ? 1 : 0, first_seen: o.atMs, last_seen: o.atMs, ip_enc: null, username_enc: null, hostname_enc: null };
          devices.set(it.device, d);
        } else {
          if (o.atMs < d.first_seen) d.first_seen = o.atMs;
          if (o.atMs > d.last_seen) d.last_seen = o.atMs;
          if (deviceSite !== null) d.site_id = deviceSite;
        }
        // R-PRIV-1: a field the org did not enable for this source is never read.
        if (collect !== undefined) {
          const ip = o.ip !== undefined && collect.has('ip') ? o.ip : undefined;
          const username = o.username !== undefined && collect.has('username') ? o.username : undefined;
          const hostname = o.hostname !== undefined && collect.has('hostname') ? o.hostname : undefined;
          if (ip !== undefined || username !== undefined || hostname !== undefined) {
            personal ??= new Map();
            let p = personal.get(it.device);
            if (!p) {
              p = {};
              personal.set(it.device, p);
            }
            if (ip !== undefined) p.ip = ip;
            if (username !== undefined) p.username = username;
            if (hostname !== undefined) p.hostname = hostname;
          }
        }
      }

      if (zones.length > 0) maxAt = Math.max(maxAt, applyVendorZones(zones, { siteId, plan, pseudo, eff, presence, summary }));
      const written = this.lastWritten.get(orgId);
      const rows: DeviceRow[] = [];
      for (const d of devices.values()) {
        const p = personal?.get(d.pseudonym);
        const last = written?.get(d.pseudonym);
        if (p === undefined && last !== undefined && d.last_seen < last + DEVICE_REFRESH_MS) continue;
        if (p !== undefined) {
          const k = this.core.keys;
          d.ip_enc = await k.encryptOptional(x, orgId, 'devices.ip', p.ip);
          d.username_enc = await k.encryptOptional(x, orgId, 'devices.username', p.username);
          d.hostname_enc = await k.encryptOptional(x, orgId, 'devices.hostname', p.hostname);
        }
        rows.push(d);
      }
      const loc = new LocationRepo(x);
      summary.fixes = await loc.insertFixes(fixRows);
      await records.upsertDevices(rows);
      await loc.addPresence(presence.counts.map((c) => ({ org_id: orgId, floor_id: c.floorId, zone_id: c.zoneId, bucket_ms: c.bucketMs, site_id: c.siteId, devices: c.devices, randomized: c.randomized })));
      await batch.inTx?.(x);
      for (const h of this.hooks) {
        const a = await h(x, orgId, presence, { nowMs: maxAt, idleMs: this.idleMs, fixes: fixRows });
        if (a) afterCommit.push(a);
      }
      await this.core.audit.record(x, ctx, orgId, 'ingest.batch', siteId ? `site:${siteId}` : `org:${orgId}`, { source, accepted: summary.accepted, duplicates: summary.duplicates, fixes: summary.fixes, devices: devices.size });
      this.remember(orgId, rows);
    });
    summary.devices = devices.size;
    if (seen) for (const k of devices.keys()) seen.add(k);
    for (const a of afterCommit) a();
    summary.zoneEvents = presence.commit(this.core.bus);
    if (maxAt > -Infinity) {
      tracker.expire(maxAt, this.core.bus);
      this.locator.evictIdle(orgId, maxAt - 5 * MINUTE_MS);
    }
    return summary;
  }

  /** Note rows as written (called as the transaction's last step: a failure before it leaves no note). */
  private remember(orgId: string, rows: readonly DeviceRow[]): void {
    let m = this.lastWritten.get(orgId);
    if (!m) {
      m = new Map();
      this.lastWritten.set(orgId, m);
    }
    if (m.size > LAST_WRITTEN_MAX) m.clear();
    for (const r of rows) m.set(r.pseudonym, r.last_seen);
  }
}
