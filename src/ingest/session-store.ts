/**
 * Association sessions, stored (WiFiTrace: a device's stay at one AP, from association to
 * disassociation). The live syslog listener and `cairn ingest --format syslog` push the
 * association events they parse into a `SessionFeed`; each commit pseudonymises the clients,
 * runs them through the feed's `AssociationSessionBuilder` and writes every session the batch
 * opened, extended or closed, in one transaction with its audit event.
 *
 * Durability: open sessions are written as they change (end reason NULL, end at the last event),
 * not held until they close. A restart, even a SIGKILL, loses no committed session: the feed's
 * next commit loads its open sessions back into a fresh builder and goes on with them (events
 * received but not yet committed, at most one listener flush, are lost like their fixes). The cost is one row
 * rewrite per touched session per commit (batches of up to 1 000 events), which association
 * rates (a few events per device per hour) easily afford; flushing only on close or shutdown would
 * lose every open session on a crash. A failed commit drops the in-memory builder, so the next
 * one resumes from what was committed.
 *
 * Minimisation (R-LOC-4, R-PRIV-1): without location services no per-device session is built or
 * kept; clients the sender already hashed are not identities (skipped, as the pipeline does);
 * only the pseudonym, the AP and times are kept, never IP, username or SSID.
 */
import { newId } from '../kernel/ids.ts';
import type { Core, Ctx } from '../privacy/index.ts';
import { AssociationSessionRepo, IngestRepo, type AssociationSessionRow, type Database } from '../storage/index.ts';
import type { PlanCache } from '../location/index.ts';
import { AssociationSessionBuilder, type SessionBuilderOptions } from './sessions.ts';
import type { EffectiveSettings } from './settings.ts';
import type { Association, AssociationSession, IngestSource } from './types.ts';

/** What one commit did. Counts only. */
export interface SessionCommit {
  /** Sessions that started in this commit. */
  opened: number;
  /** Sessions that ended (disassociation, roam, timeout, end of file). */
  closed: number;
  /** Rows written (opened, extended or closed). */
  written: number;
  /** Events kept only as aggregates: location services are off (R-LOC-4). */
  aggregateOnly: number;
  /** Events whose client the sender had already hashed (no usable identity). */
  hashed: number;
  /** The commit was stored before (a file loaded again): nothing applied. */
  duplicate: boolean;
}

export function emptySessionCommit(): SessionCommit {
  return { opened: 0, closed: 0, written: 0, aggregateOnly: 0, hashed: 0, duplicate: false };
}

/** Where a feed's events come from: the live listener, or one recorded file (by its SHA-256). */
export type FeedOrigin = { kind: 'listener' } | { kind: 'file'; digest: string };

/**
 * One stream of association events for one org (and the site its APs default to), with its
 * builder. Commits are serialised; events are buffered by `push` until the next commit.
 *
 * @example
 * const feed = ingest.sessions!.listenerFeed(orgId, siteId);
 * feed.push(association); await feed.commit(db, ctx, eff);
 */
export class SessionFeed {
  private buffer: Association[] = [];
  private builder: AssociationSessionBuilder | undefined;
  private readonly ids = new WeakMap<AssociationSession, string>();
  private chain: Promise<unknown> = Promise.resolve();
  private name: string | undefined;
  private commits = 0;

  constructor(
    private readonly core: Core,
    private readonly plans: PlanCache,
    readonly orgId: string,
    readonly siteId: string | null,
    private readonly origin: FeedOrigin,
    private readonly builderOptions: SessionBuilderOptions,
  ) {}

  /** Events waiting for the next commit. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Sessions open in memory (0 until the first commit loads them). */
  get openCount(): number {
    return this.builder?.openCount ?? 0;
  }

  /** Buffer one event (raw: it is pseudonymised at commit, and never stored as it is). */
  push(a: Association): void {
    this.buffer.push(a);
  }

  /**
   * Apply the buffered events and store the sessions they touched, in one transaction on `db`
   * (the caller has checked `ingest.write`). `final` closes every open session afterwards (end of
   * a file, reason `flush`). A file's commits are numbered and claimed, so loading the same file
   * again applies nothing twice.
   */
  commit(db: Database, ctx: Ctx, eff: EffectiveSettings, opts: { final?: boolean } = {}): Promise<SessionCommit> {
    const events = this.buffer;
    this.buffer = [];
    const run = this.chain.then(() => this.apply(db, ctx, eff, events, opts.final === true));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(db: Database, ctx: Ctx, eff: EffectiveSettings, raw: readonly Association[], final: boolean): Promise<SessionCommit> {
    const out = emptySessionCommit();
    const commitNo = this.commits++;
    if (!eff.settings.locationServices) {
      out.aggregateOnly = raw.length;
      return out;
    }
    if (raw.length === 0 && !final) return out;
    const { orgId } = this;
    const pseudo = await this.core.keys.pseudonymiser(db, orgId);
    const plan = await this.plans.get(db, orgId);
    this.name ??= this.origin.kind === 'listener' ? 'listener' : `file:${pseudo('asset', `session-feed:${this.origin.digest}`)}`;
    const feed = this.name;
    // Pseudonymise first: the builder, the store and any error see only pseudonyms.
    const events: Association[] = [];
    let maxAtMs = -Infinity;
    // R-PRIV-4: a device whose subject restricted processing (or objected) gets no session.
    const restricted = this.core.subjects.restrictedDevices(orgId);
    for (const a of raw) {
      if (a.idType !== 'mac') {
        out.hashed++;
        continue;
      }
      const e: Association = { source: a.source, type: a.type, deviceId: pseudo('mac', a.deviceId), idType: 'mac', randomized: a.randomized, apKey: a.apKey, atMs: a.atMs, eventId: a.eventId };
      if (restricted.size > 0 && restricted.has(e.deviceId)) continue;
      if (a.apName !== undefined) e.apName = a.apName;
      if (a.apMac !== undefined) e.apMac = a.apMac;
      events.push(e);
      if (a.atMs > maxAtMs) maxAtMs = a.atMs;
    }
    events.sort((x, y) => x.atMs - y.atMs);
    try {
      return await db.tx(async (x) => {
        const repo = new AssociationSessionRepo(x);
        if (this.origin.kind === 'file') {
          const claim = { id: `sessions:${feed}#${commitNo}`, atMs: Number.isFinite(maxAtMs) ? maxAtMs : this.core.clock.nowMs() };
          if ((await new IngestRepo(x).claimRecords(orgId, 'syslog', [claim])).size === 0) {
            out.duplicate = true;
            return out;
          }
        }
        const b = this.builder ?? (await this.resume(repo, feed));
        this.builder = b;
        const touched = new Set<AssociationSession>();
        const closed = new Set<AssociationSession>();
        for (const e of events) {
          for (const s of b.push(e)) closed.add(s);
          const cur = b.current(e);
          if (cur) touched.add(cur.session);
        }
        if (Number.isFinite(maxAtMs)) for (const s of b.expire(maxAtMs)) closed.add(s);
        if (final) for (const s of b.flush()) closed.add(s);
        for (const s of closed) touched.add(s);
        const rows: AssociationSessionRow[] = [];
        let longestMs = 0;
        for (const s of touched) {
          const lastMs = closed.has(s) ? undefined : b.lastActivityMs(s);
          let id = this.ids.get(s);
          if (id === undefined) {
            id = newId(this.core.clock.nowMs());
            this.ids.set(s, id);
            out.opened++;
          }
          const endMs = lastMs ?? s.endMs;
          const sensor = (s.apMac !== undefined ? plan.sensor(s.apMac) : undefined) ?? plan.sensor(s.apKey);
          rows.push({
            id,
            org_id: orgId,
            device: s.deviceId,
            site_id: sensor?.siteId ?? this.siteId,
            ap: sensor?.id ?? s.apKey.toLowerCase(),
            ap_key: s.apKey,
            sensor_id: sensor?.id ?? null,
            ap_mac: s.apMac ?? null,
            start_ms: s.startMs,
            end_ms: endMs,
            end_reason: lastMs === undefined ? s.endReason : null,
            event_count: s.eventCount,
            randomized: s.randomized ? 1 : 0,
            source: s.source,
            feed,
          });
          if (endMs - s.startMs > longestMs) longestMs = endMs - s.startMs;
        }
        out.closed = closed.size;
        out.written = rows.length;
        if (rows.length === 0) return out;
        await repo.upsert(rows);
        await repo.widenBound(orgId, longestMs);
        await this.core.audit.record(x, ctx, orgId, 'ingest.sessions', this.siteId ? `site:${this.siteId}` : `org:${orgId}`, { source: 'syslog', opened: out.opened, closed: out.closed, written: out.written });
        return out;
      });
    } catch (e) {
      // The builder may be ahead of the store now: start again from what was committed.
      this.builder = undefined;
      throw e;
    }
  }

  /** A builder holding the sessions this feed left open in the store (after a restart). */
  private async resume(repo: AssociationSessionRepo, feed: string): Promise<AssociationSessionBuilder> {
    const b = new AssociationSessionBuilder(this.builderOptions);
    for (const r of await repo.openOfFeed(this.orgId, feed)) {
      const s: AssociationSession = {
        source: r.source as IngestSource,
        deviceId: r.device,
        idType: 'mac',
        randomized: r.randomized === 1,
        apKey: r.ap_key,
        startMs: r.start_ms,
        endMs: r.start_ms,
        endReason: 'flush',
        eventCount: r.event_count,
      };
      if (r.ap_mac !== null) s.apMac = r.ap_mac;
      this.ids.set(s, r.id);
      b.restore(s, r.end_ms);
    }
    return b;
  }
}

/**
 * The session feeds of one app: one shared live feed per org (the syslog listener's), and a
 * fresh feed per recorded file.
 *
 * @example const rec = new AssociationSessionRecorder(core, plans); rec.listenerFeed(orgId, siteId)
 */
export class AssociationSessionRecorder {
  private readonly live = new Map<string, SessionFeed>();

  constructor(
    private readonly core: Core,
    private readonly plans: PlanCache,
    private readonly builderOptions: SessionBuilderOptions = {},
  ) {
    core.bus.on('org.deleted', ({ orgId }) => void this.live.delete(orgId));
  }

  /** The org's live feed (shared by every listener of the org in this process; resumes stored open sessions). */
  listenerFeed(orgId: string, siteId: string | null): SessionFeed {
    let f = this.live.get(orgId);
    if (!f) {
      f = new SessionFeed(this.core, this.plans, orgId, siteId, { kind: 'listener' }, this.builderOptions);
      this.live.set(orgId, f);
    }
    return f;
  }

  /** A feed for one recorded file, identified by the file's SHA-256 (hex). */
  fileFeed(orgId: string, siteId: string | null, digest: string): SessionFeed {
    return new SessionFeed(this.core, this.plans, orgId, siteId, { kind: 'file', digest }, this.builderOptions);
  }
}
