/**
 * Encrypted-traffic analysis as a service (R-ATP-4, R-DATA-9). A sensor or org admin uploads a
 * packet capture; it streams through the pipeline (never held whole, never stored: only the
 * hellos are analysed) and every TLS handshake is scored against the org's block and allow lists
 * plus the bundled known-bad JA3 list, then stored as R-DATA-9 metadata: addresses, requested
 * host name and score reasons encrypted under the org key, the client grouped by a keyed
 * pseudonym of its address. Stored in batches while the upload streams, each batch with its
 * audit event; a capture that turns out corrupt or too large is taken back, so a refused upload
 * leaves no handshakes behind.
 *
 * Analysis is off unless the org turned on `encryptedTrafficAnalysis` in its threat settings;
 * then uploads are refused with CAIRN_ERR_FEATURE_DISABLED before a byte is read.
 */
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import type { Core, Ctx, RetentionService } from '../../privacy/index.ts';
import { tlsRepo, type Database, type Executor, type TlsHandshakeRow } from '../../storage/index.ts';
import { canonicalIp, type ThreatListService } from '../lists.ts';
import type { ThreatSettingsService } from '../settings.ts';
import type { CaptureStats, TlsHandshakeRecord } from './analyze.ts';
import type { ServerHello } from './hello.ts';
import { buildIntel, type OrgIntelLists } from './intel.ts';
import { analyzeScoredStream, type ScoredHandshake } from './pipeline.ts';
import type { ThreatReason } from './score.ts';
import { tlsSubjectHandler } from './subject-data.ts';

/** Score from which a client counts as flagged (the recommended-block threshold of R-ATP-6). */
export const FLAG_AT = 7;
/** Handshakes stored per transaction while an upload streams. */
const BATCH = 500;
/** Uploads analysed at once; more are refused with CAIRN_ERR_RATE_LIMITED (retry later). */
const MAX_CONCURRENT_UPLOADS = 4;
/** Reassembly memory one upload may hold (bounds memory whatever the capture holds). */
const MAX_BUFFERED_BYTES = 32 << 20;
const TOP = 10;

/** Where the TLS engine gets the org's switch and lists (the threat settings and list services). */
export interface TlsIntelSource {
  /** True when the org turned on encrypted-traffic analysis (default off). */
  analysisEnabled(orgId: string): Promise<boolean>;
  /** The org's block and allow lists (IP addresses decrypted in memory only). */
  intelFor(orgId: string): Promise<OrgIntelLists>;
}

/**
 * The intel source backed by the threat module's settings (`encryptedTrafficAnalysis`) and its
 * allow/block lists of kind ja3, ja4, domain (matched against SNI) and ip (server or client).
 * `threat` is read at call time, so the services can be wired in any order.
 * @example new TlsTrafficService(core, retention, threatIntelSource(() => services.threat))
 */
export function threatIntelSource(threat: () => { settings: Pick<ThreatSettingsService, 'get'>; lists: Pick<ThreatListService, 'intel'> }): TlsIntelSource {
  return {
    analysisEnabled: async (orgId) => (await threat().settings.get(orgId)).encryptedTrafficAnalysis,
    intelFor: (orgId) => threat().lists.intel(orgId),
  };
}

/** One of the highest-scoring handshakes of an upload: no addresses or host names. */
export interface TlsTopHandshake {
  id: string;
  client: string;
  transport: string;
  ja3_hash: string;
  ja4: string;
  score: number;
  reasons: { code: string; weight: number }[];
}

export interface TlsUploadSummary {
  uploadId: string;
  bytes: number;
  packets: number;
  handshakes: number;
  stored: number;
  /** Payload packets of finished handshakes that were skipped unread (R-ATP-4). */
  skippedAfterHandshake: number;
  warnings: string[];
  stats: CaptureStats;
  /** Highest scores first, at most ten. */
  top: TlsTopHandshake[];
  durationMs: number;
}

/** The fields of an analysed handshake that a stored one keeps as they were. */
type KeptFields =
  | 'srcAddress' | 'srcPort' | 'dstAddress' | 'dstPort' | 'sni' | 'alpn' | 'legacyVersion' | 'supportedVersions' | 'ciphers' | 'extensions'
  | 'signatureAlgorithms' | 'supportedGroups' | 'ecPointFormats' | 'ja3' | 'ja3_hash' | 'ja4' | 'ja4_r' | 'ja4_o' | 'ja4_ro' | 'server';

/**
 * A stored handshake with its personal fields decrypted (an audited read). `srcAddress`,
 * `dstAddress` and `sni` are R-DATA-9 personal data, stored encrypted under the org key.
 */
export interface TlsHandshakeView extends Pick<TlsHandshakeRecord, KeptFields> {
  id: string;
  uploadId: string;
  receivedAt: string;
  seenAt: string;
  transport: string;
  /** Keyed pseudonym of the client address: the same client in every record. */
  client: string;
  score: number;
  reasons: ThreatReason[];
}

export interface TlsClientView {
  client: string;
  handshakes: number;
  maxScore: number;
  firstSeen: string;
  lastSeen: string;
  /** JA4 fingerprints the client used, most used first (at most five). */
  fingerprints: { ja4: string; handshakes: number }[];
  distinctFingerprints: number;
}

export interface TlsSummaryView {
  handshakes: number;
  clients: number;
  fingerprints: number;
  /** Clients whose highest score is at least `flagAt`. */
  flaggedClients: number;
  flagAt: number;
}

export interface TlsListQuery {
  ja4?: string;
  ja3Hash?: string;
  client?: string;
  minScore?: number;
  fromMs?: number;
  toMs?: number;
  before?: string;
  limit?: number;
}

const F = {
  src: 'tls_handshakes.src_ip',
  dst: 'tls_handshakes.dst_ip',
  sni: 'tls_handshakes.sni',
  reasons: 'tls_handshakes.reasons',
} as const;

function validate(q: { ja4?: string; ja3Hash?: string; client?: string; fromMs?: number; toMs?: number }): void {
  const bad = (field: string, what: string) => new CairnError('CAIRN_ERR_VALIDATION', `${field} must be ${what}.`, { field });
  if (q.ja4 !== undefined && !/^[tqd][0-9a-z]{2}[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(q.ja4)) throw bad('ja4', 'a JA4 fingerprint such as t13d1516h2_8daaf6152771_e5627efa2ab1');
  if (q.ja3Hash !== undefined && !/^[0-9a-f]{32}$/.test(q.ja3Hash)) throw bad('ja3Hash', 'a JA3 hash of 32 lower-case hexadecimal digits');
  if (q.client !== undefined && !/^[0-9a-f]{32}$/.test(q.client)) throw bad('client', 'a client pseudonym (32 hexadecimal digits)');
  if (q.fromMs !== undefined && q.toMs !== undefined && q.fromMs >= q.toMs) throw bad('from', 'earlier than to');
}

export class TlsTrafficService {
  private active = 0;

  constructor(
    private readonly core: Core,
    retention: RetentionService,
    private readonly intel: TlsIntelSource,
  ) {
    // R-DATA-9: handshakes go when the org's tls_metadata period has passed since Cairn received them.
    retention.register('tls_metadata', (x, orgId, beforeMs, limit) => tlsRepo(x).purgeBefore(orgId, beforeMs, limit));
    core.subjects.register(tlsSubjectHandler(core));
  }

  /** Largest capture accepted, in bytes (config `tlsPcapLimitBytes`). */
  get limitBytes(): number {
    return this.core.cfg.tlsPcapLimitBytes;
  }

  /**
   * Analyse a capture and store its handshakes (sensors and org admins, org switch on). The
   * capture is read as it streams; `onHandshake` sees each scored handshake (the CLI prints them).
   * @example const summary = await tls.upload(ctx, orgId, req.raw, { declaredBytes: 48_213 });
   */
  async upload(ctx: Ctx, orgId: string, input: AsyncIterable<Uint8Array>, opts: { declaredBytes?: number; onHandshake?: (h: ScoredHandshake, id: string) => void } = {}): Promise<TlsUploadSummary> {
    const { db } = await this.core.access.enforce(ctx, 'tls', 'upload', { orgId });
    if (!(await this.intel.analysisEnabled(orgId))) {
      throw new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'Encrypted-traffic analysis is off for this org; an org admin can turn it on in the threat settings (encryptedTrafficAnalysis).', { feature: 'encryptedTrafficAnalysis' });
    }
    if (this.active >= MAX_CONCURRENT_UPLOADS) throw new CairnError('CAIRN_ERR_RATE_LIMITED', `Already analysing ${MAX_CONCURRENT_UPLOADS} captures; try again in a moment.`);
    this.active++;
    try {
      return await this.analyzeAndStore(ctx, db, orgId, input, opts);
    } finally {
      this.active--;
    }
  }

  private async analyzeAndStore(ctx: Ctx, db: Database, orgId: string, input: AsyncIterable<Uint8Array>, opts: { declaredBytes?: number; onHandshake?: (h: ScoredHandshake, id: string) => void }): Promise<TlsUploadSummary> {
    const { keys, audit, clock } = this.core;
    const started = performance.now();
    const now = clock.nowMs();
    const uploadId = newId(now);
    const intel = buildIntel(await this.intel.intelFor(orgId));
    const pseudo = await keys.pseudonymiser(db, orgId);
    const pending: { id: string; h: ScoredHandshake }[] = [];
    let stored = 0;
    let top: TlsTopHandshake[] = [];

    const toRow = async ({ id, h }: { id: string; h: ScoredHandshake }): Promise<TlsHandshakeRow> => {
      const r = h.record;
      const client = pseudo('ip', canonicalIp(r.srcAddress) ?? r.srcAddress);
      if (top.length < TOP || h.score > top[top.length - 1]!.score) {
        top.push({ id, client, transport: r.transport, ja3_hash: r.ja3_hash, ja4: r.ja4, score: h.score, reasons: h.reasons.map(({ code, weight }) => ({ code, weight })) });
        top = top.sort((a, b) => b.score - a.score).slice(0, TOP);
      }
      return {
        id,
        org_id: orgId,
        upload_id: uploadId,
        received_at: now,
        seen_at: Number.isFinite(r.timestampMs) ? Math.floor(r.timestampMs) : now,
        transport: r.transport,
        client_pseudonym: client,
        src_ip_enc: await keys.encrypt(db, orgId, F.src, r.srcAddress),
        src_port: r.srcPort,
        dst_ip_enc: await keys.encrypt(db, orgId, F.dst, r.dstAddress),
        dst_port: r.dstPort,
        sni_enc: await keys.encryptOptional(db, orgId, F.sni, r.sni),
        alpn: JSON.stringify(r.alpn),
        legacy_version: r.legacyVersion,
        supported_versions: JSON.stringify(r.supportedVersions),
        ciphers: JSON.stringify(r.ciphers),
        extensions: JSON.stringify(r.extensions),
        signature_algorithms: JSON.stringify(r.signatureAlgorithms),
        supported_groups: JSON.stringify(r.supportedGroups),
        ec_point_formats: JSON.stringify(r.ecPointFormats),
        ja3: r.ja3,
        ja3_hash: r.ja3_hash,
        ja4: r.ja4,
        ja4_r: r.ja4_r,
        ja4_o: r.ja4_o,
        ja4_ro: r.ja4_ro,
        score: h.score,
        reasons_enc: await keys.encrypt(db, orgId, F.reasons, JSON.stringify(h.reasons)),
        server: r.server ? JSON.stringify(r.server) : null,
      };
    };
    /** Stores one batch in one transaction with its audit event; the last one summarises the upload. */
    const store = async (batch: { id: string; h: ScoredHandshake }[], final?: Record<string, unknown>): Promise<void> => {
      const rows: TlsHandshakeRow[] = [];
      for (const p of batch) rows.push(await toRow(p));
      await db.tx(async (x) => {
        await tlsRepo(x).insertMany(rows);
        if (final) await audit.record(x, ctx, orgId, 'tls.capture.upload', `tls-upload:${uploadId}`, { ...final, stored: stored + rows.length, maxScore: top[0]?.score ?? 0 });
        else await audit.record(x, ctx, orgId, 'tls.handshakes.store', `tls-upload:${uploadId}`, { count: rows.length });
      });
      stored += rows.length;
    };
    /** Stores full batches; the final call stores the rest with the upload's summary event. */
    const flush = async (final?: Record<string, unknown>): Promise<void> => {
      while (pending.length >= BATCH + (final ? 1 : 0)) await store(pending.splice(0, BATCH));
      if (final) await store(pending.splice(0), final);
    };

    try {
      const r = await analyzeScoredStream(input, {
        intel,
        limitBytes: this.limitBytes,
        declaredBytes: opts.declaredBytes,
        analyzer: { maxBufferedBytes: MAX_BUFFERED_BYTES },
        onHandshake: (h) => {
          const id = newId(now);
          pending.push({ id, h });
          opts.onHandshake?.(h, id);
        },
        afterChunk: () => (pending.length >= BATCH ? flush() : undefined),
      });
      await flush({ bytes: r.bytes, packets: r.stats.packets, handshakes: r.handshakes, skippedAfterHandshake: r.stats.skippedAfterHandshake, warnings: r.warnings.length });
      return {
        uploadId,
        bytes: r.bytes,
        packets: r.stats.packets,
        handshakes: r.handshakes,
        stored,
        skippedAfterHandshake: r.stats.skippedAfterHandshake,
        warnings: r.warnings,
        stats: r.stats,
        top,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (e) {
      // A refused capture leaves nothing behind: take back the batches already stored.
      if (stored > 0) {
        const code = e instanceof CairnError ? e.code : 'CAIRN_ERR_INTERNAL';
        await db.tx(async (x) => {
          const removed = await tlsRepo(x).deleteUpload(orgId, uploadId);
          await audit.record(x, ctx, orgId, 'tls.capture.discard', `tls-upload:${uploadId}`, { removed, code });
        });
      }
      throw e;
    }
  }

  /** Stored handshakes with decrypted addresses and host names, newest first (audited personal read). */
  async list(ctx: Ctx, orgId: string, q: TlsListQuery = {}): Promise<TlsHandshakeView[]> {
    const { db } = await this.core.access.enforce(ctx, 'tls', 'read', { orgId });
    validate(q);
    const limit = Math.min(Math.max(1, q.limit ?? 100), 1000);
    const rows = await tlsRepo(db).list(orgId, { ...q, limit });
    const out: TlsHandshakeView[] = [];
    for (const r of rows) out.push(await this.view(db, r));
    const filters = Object.fromEntries(Object.entries({ ja4: q.ja4, ja3Hash: q.ja3Hash, minScore: q.minScore }).filter(([, v]) => v !== undefined));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'tls.read', q.client ? `tls-client:${q.client}` : `org:${orgId}`, { count: out.length, ...filters }));
    return out;
  }

  /** Per client pseudonym: handshakes, highest score and fingerprints; highest score first (audited). */
  async clients(ctx: Ctx, orgId: string, q: { minScore?: number; fromMs?: number; toMs?: number; limit?: number; offset?: number } = {}): Promise<TlsClientView[]> {
    const { db } = await this.core.access.enforce(ctx, 'tls', 'read', { orgId });
    validate(q);
    const window = { fromMs: q.fromMs, toMs: q.toMs };
    const repo = tlsRepo(db);
    const rows = await repo.clients(orgId, { ...window, minScore: q.minScore, limit: Math.min(Math.max(1, q.limit ?? 100), 1000), offset: Math.max(0, q.offset ?? 0) });
    const fps = await repo.clientFingerprints(orgId, rows.map((r) => r.client_pseudonym), window);
    const byClient = new Map<string, { ja4: string; handshakes: number }[]>();
    for (const f of fps) {
      const list = byClient.get(f.client_pseudonym) ?? [];
      if (list.length < 5) list.push({ ja4: f.ja4, handshakes: f.handshakes });
      byClient.set(f.client_pseudonym, list);
    }
    const out = rows.map((r) => ({
      client: r.client_pseudonym,
      handshakes: r.handshakes,
      maxScore: r.max_score,
      firstSeen: toIso(r.first_seen),
      lastSeen: toIso(r.last_seen),
      fingerprints: byClient.get(r.client_pseudonym) ?? [],
      distinctFingerprints: r.fingerprints,
    }));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'tls.clients.read', `org:${orgId}`, { count: out.length }));
    return out;
  }

  /** Aggregate counts only, no pseudonyms or addresses (observers may read it). */
  async summary(ctx: Ctx, orgId: string, q: { fromMs?: number; toMs?: number } = {}): Promise<TlsSummaryView> {
    const { db } = await this.core.access.enforce(ctx, 'tls', 'count', { orgId });
    validate(q);
    const s = await tlsRepo(db).summary(orgId, { fromMs: q.fromMs, toMs: q.toMs, flagAt: FLAG_AT });
    return { ...s, flagAt: FLAG_AT };
  }

  private async view(x: Executor, r: TlsHandshakeRow): Promise<TlsHandshakeView> {
    const k = this.core.keys;
    const org = r.org_id;
    return {
      id: r.id,
      uploadId: r.upload_id,
      receivedAt: toIso(Number(r.received_at)),
      seenAt: toIso(Number(r.seen_at)),
      transport: r.transport,
      client: r.client_pseudonym,
      srcAddress: await k.decrypt(x, org, F.src, r.src_ip_enc),
      srcPort: r.src_port,
      dstAddress: await k.decrypt(x, org, F.dst, r.dst_ip_enc),
      dstPort: r.dst_port,
      sni: await k.decryptOptional(x, org, F.sni, r.sni_enc),
      alpn: JSON.parse(r.alpn) as string[],
      legacyVersion: r.legacy_version,
      supportedVersions: JSON.parse(r.supported_versions) as number[],
      ciphers: JSON.parse(r.ciphers) as number[],
      extensions: JSON.parse(r.extensions) as number[],
      signatureAlgorithms: JSON.parse(r.signature_algorithms) as number[],
      supportedGroups: JSON.parse(r.supported_groups) as number[],
      ecPointFormats: JSON.parse(r.ec_point_formats) as number[],
      ja3: r.ja3,
      ja3_hash: r.ja3_hash,
      ja4: r.ja4,
      ja4_r: r.ja4_r,
      ja4_o: r.ja4_o,
      ja4_ro: r.ja4_ro,
      score: Number(r.score),
      reasons: JSON.parse(await k.decrypt(x, org, F.reasons, r.reasons_enc)) as ThreatReason[],
      server: r.server ? (JSON.parse(r.server) as ServerHello) : null,
    };
  }
}
