/**
 * File threat analysis as a service (R-ATP-1/2/3/6/7, R-DATA-7/8): a caller submits a file with
 * its R-DATA-8 metadata and gets a verdict. Per org, in order: the allow/block lists (hash, and
 * the domain or IP of the download URL), the verdict cache by SHA-256 (same rules, no failed
 * stage), then the pipeline of `files/` (YARA-X, clamd when configured, static analysis). The
 * verdict, the submission with its metadata encrypted under the org key, and the audit event
 * `threat.file.submit` (hash and score, never the file name) are written in one transaction.
 *
 * R-ATP-7: the bytes are held in memory only (never more than the upload limit, at most
 * `MAX_UPLOADS` uploads at once), zeroed and dropped when the analysis ends; a body is kept only
 * when the org set a retention for its category, encrypted under the org key, until the
 * `threat_files` purger removes it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { isCairnError, notFoundOrNoAccess } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import { DAY_MS, toIso } from '../kernel/clock.ts';
import { packagePath } from '../kernel/paths.ts';
import type { Core, Ctx, RetentionService } from '../privacy/index.ts';
import { threatRepo, type Executor, type ThreatSubmissionRow, type ThreatVerdictRow } from '../storage/index.ts';
import { analyzeFile, BLOCK_AT, bundledRulesDir, classifyFile, decide, type ClamdTarget, type FileType, type FileVerdict, type Reason, type StageReport, type VerdictState } from './files/index.ts';
import { canonicalIp, type ListHit, type ListMatcher, type ThreatListService } from './lists.ts';
import { threatError } from './messages.ts';
import type { ThreatYaraRuleService } from './yara-rules.ts';
import type { ThreatSettingsService } from './settings.ts';

/** Uploads held in memory at the same time (each at most the upload limit); more wait. */
export const MAX_UPLOADS = 16;
/** Files analysed at the same time (the pipeline is CPU-bound). */
export const MAX_ANALYSES = 4;

/**
 * R-DATA-8 metadata of one submission. Every field but `vendor`, `userFirewall` and
 * `submittedAtMs` is personal: encrypted under the org key at rest, never logged or audited.
 */
export interface SubmissionMetadata {
  /** The name the client gave the file (also drives the extension rule of R-ATP-1). */
  fileName?: string;
  clientHost?: string;
  /** IPv4 or IPv6 address of the client. */
  clientIp?: string;
  /** Where the file came from; its host is matched against the domain and IP lists. */
  url?: string;
  deviceName?: string;
  /** Stored only when `userFirewall` is true (R-ATP-3). */
  username?: string;
  /** The submitting device reports that its user firewall is on. */
  userFirewall?: boolean;
  /** Vendor or creator of the submitting device (not personal; in clear). */
  vendor?: string;
  /** When the device saw the file (UTC epoch ms); default: when Cairn received it. */
  submittedAtMs?: number;
}

export type SubmissionSource = 'api' | 'email' | 'cli';

/** A verdict as the API shows it: the pipeline's verdict plus what Cairn knows of the file. */
export interface VerdictView extends FileVerdict {
  /** `analysis`: the pipeline ran; `lists`: an allow or block list decided without it. */
  basis: 'analysis' | 'lists';
  /** True when the verdict came from an earlier analysis of the same bytes. */
  cached: boolean;
  analyzedAt: string;
  firstSeen: string;
  lastSeen: string;
  submissionCount: number;
}

/** One submission with its decrypted R-DATA-8 metadata (an audited personal read). */
export interface SubmissionView {
  id: string;
  sha256: string;
  receivedAt: string;
  submittedAt: string;
  source: string;
  vendor: string | null;
  userFirewall: boolean;
  clientHost: string | null;
  clientIp: string | null;
  fileName: string | null;
  url: string | null;
  deviceName: string | null;
  username: string | null;
  score: number;
  state: VerdictState;
}

/** An upload: bytes in memory, or a stream read up to the limit (`declaredBytes` from Content-Length). */
export type UploadInput = Uint8Array | AsyncIterable<Uint8Array>;

const META_LIMITS: Record<string, number> = { fileName: 1024, clientHost: 255, url: 4096, deviceName: 255, username: 256, vendor: 128 };

/**
 * The clamd target of the configuration (`clamdSocket`: a unix socket path or host:port), or
 * undefined when ClamAV is not configured.
 * @example clamdTargetOf({ clamdSocket: '127.0.0.1:3310' }) // { host: '127.0.0.1', port: 3310 }
 */
export function clamdTargetOf(cfg: Pick<Config, 'clamdSocket'>): ClamdTarget | undefined {
  const s = cfg.clamdSocket;
  if (!s) return undefined;
  const m = /^\[([0-9a-fA-F:]+)\]:(\d+)$/.exec(s) ?? /^([A-Za-z0-9.-]+):(\d+)$/.exec(s);
  return m ? { host: m[1]!, port: Number(m[2]) } : { socketPath: s };
}

/**
 * The pipeline as configured, without storage (the CLI without --org): no lists, no cache.
 * @example const v = await analyzeConfigured(cfg, bytes, 'invoice.pdf');
 */
export function analyzeConfigured(cfg: Pick<Config, 'clamdSocket' | 'threatUploadLimitBytes'>, bytes: Uint8Array, name?: string): Promise<FileVerdict> {
  const clamd = clamdTargetOf(cfg);
  return analyzeFile(bytes, { ...(name ? { name } : {}), limits: { maxFileBytes: cfg.threatUploadLimitBytes }, ...(clamd ? { clamd } : {}) });
}

/** A small counting semaphore: at most `n` holders at once, the rest wait in order. */
class Slots {
  private free: number;
  private waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }
}

/**
 * Reads an upload into one buffer of its own, refusing it as soon as it passes `limit` bytes
 * (before reading at all when the declared length is already too large). The stream is not
 * destroyed on refusal, so the HTTP layer can still answer 413.
 */
export async function readUpload(input: AsyncIterable<Uint8Array>, limit: number, declaredBytes?: number): Promise<Buffer> {
  if (declaredBytes !== undefined && declaredBytes > limit) throw threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit }, { limitBytes: limit });
  const it = (typeof (input as { iterator?: unknown }).iterator === 'function' ? (input as unknown as { iterator(o: { destroyOnReturn: boolean }): AsyncIterable<Uint8Array> }).iterator({ destroyOnReturn: false }) : input) as AsyncIterable<Uint8Array>;
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of it) {
      n += c.length;
      if (n > limit) throw threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit }, { limitBytes: limit });
      chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    }
  } catch (e) {
    if (isCairnError(e)) throw e;
    // The client went away mid-upload: its problem, not a server error.
    throw threatError('CAIRN_ERR_VALIDATION', 'uploadAborted', {}, { receivedBytes: n });
  }
  return Buffer.concat(chunks, n);
}

function sha256Of(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The host of a download URL (lower case, IPv6 without brackets), or undefined. */
function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const h = new URL(url).hostname.toLowerCase();
    return h.startsWith('[') ? h.slice(1, -1) : h || undefined;
  } catch {
    return undefined;
  }
}

const LIST_MESSAGES: Record<string, string> = {
  BLOCK_LIST: 'The SHA-256 is on the block list.',
  ALLOW_LIST: 'The SHA-256 is on the allow list.',
  BLOCK_LIST_DOMAIN: 'The file comes from a domain on the block list.',
  ALLOW_LIST_DOMAIN: 'The file comes from a domain on the allow list.',
  BLOCK_LIST_IP: 'The file comes from an IP address on the block list.',
  ALLOW_LIST_IP: 'The file comes from an IP address on the allow list.',
};
const HOST_LIST_CODES = new Set(['BLOCK_LIST_DOMAIN', 'ALLOW_LIST_DOMAIN', 'BLOCK_LIST_IP', 'ALLOW_LIST_IP']);

function skippedAfter(note: string): StageReport[] {
  return [{ analyzer: 'lists', status: 'ran', durationMs: 0 }, ...(['yara', 'clamav', 'static'] as const).map((analyzer) => ({ analyzer, status: 'skipped' as const, note, durationMs: 0 }))];
}

/** The verdict an allow or block list gives, without running the pipeline. */
function listVerdict(sha256: string, sizeBytes: number, type: FileType, hit: ListHit): FileVerdict {
  const code = hit.kind === 'hash' ? `${hit.list.toUpperCase()}_LIST` : `${hit.list.toUpperCase()}_LIST_${hit.kind.toUpperCase()}`;
  const reason: Reason = { analyzer: 'lists', code, score: hit.list === 'block' ? 10 : 0, message: LIST_MESSAGES[code] ?? code, ...(hit.list === 'block' ? { certain: true } : {}) };
  return { sha256, sizeBytes, type, ...decide([reason]), reasons: [reason], stages: skippedAfter(`verdict certain after the ${hit.list} list`), durationMs: 0 };
}

/** Never "clean" for a file a list once decided but no longer holds: it was not analysed. */
function notAnalyzed(sha256: string, sizeBytes: number, type: FileType): FileVerdict {
  const reason: Reason = { analyzer: 'lists', code: 'NOT_ANALYZED', score: 0, incomplete: true, message: 'Not analysed: a list decided before but no longer holds the file; submit it again for analysis.' };
  return { sha256, sizeBytes, type, ...decide([reason]), reasons: [reason], stages: skippedAfter('not analysed'), durationMs: 0 };
}

/** The audit target of a hash read; anything that is not a SHA-256 is not echoed into the log. */
function fileLabel(sha256: string): string | undefined {
  return /^[0-9a-fA-F]{64}$/.test(sha256) ? `file:${sha256.toLowerCase()}` : undefined;
}

function typeOf(r: ThreatVerdictRow): FileType {
  return { mime: r.mime, category: r.category as FileType['category'], subtype: r.subtype, description: r.description, basis: r.type_basis as FileType['basis'], details: JSON.parse(r.type_details) as FileType['details'] };
}

export class ThreatFileService {
  private readonly uploads = new Slots(MAX_UPLOADS);
  private readonly analyses = new Slots(MAX_ANALYSES);
  private readonly clamd: ClamdTarget | undefined;
  private version: string | undefined;

  constructor(
    private readonly core: Core,
    private readonly lists: ThreatListService,
    private readonly settings: ThreatSettingsService,
    retention: RetentionService,
    private readonly yara: ThreatYaraRuleService,
  ) {
    this.clamd = clamdTargetOf(core.cfg);
    // R-DATA-8: submissions older than the threat_metadata period go first, then verdicts of
    // files not seen since. R-DATA-7: kept bodies go at their category's expiry, and at the latest
    // after the threat_files period.
    retention.register('threat_metadata', async (x, orgId, beforeMs, limit) => {
      const repo = threatRepo(x);
      const n = await repo.purgeSubmissionsBefore(orgId, beforeMs, limit);
      return n < limit ? n + (await repo.purgeVerdictsBefore(orgId, beforeMs, limit - n)) : n;
    });
    retention.register('threat_files', (x, orgId, beforeMs, limit) => threatRepo(x).purgeBodies(orgId, this.core.clock.nowMs(), beforeMs, limit));
  }

  /** Largest upload accepted, in bytes (config `threatUploadLimitBytes`). */
  get uploadLimitBytes(): number {
    return this.core.cfg.threatUploadLimitBytes;
  }

  /**
   * The org a call is about: the one given, else the caller's only org. A caller with roles in
   * several orgs (or none, like operator staff) must name it.
   */
  resolveOrg(ctx: Ctx, orgId: string | undefined): string {
    if (orgId) return orgId;
    const orgs = [...new Set(ctx.bindings.map((b) => b.orgId))];
    if (orgs.length === 1) return orgs[0]!;
    throw threatError('CAIRN_ERR_VALIDATION', orgs.length === 0 ? 'orgRequiredNone' : 'orgRequiredMany', {}, { field: 'orgId' });
  }

  /**
   * Submit a file for analysis (sensors and org admins). The upload is refused with
   * CAIRN_ERR_FILE_TOO_LARGE as soon as it passes the limit; the caller's access is checked
   * before a byte is read.
   * @example await files.submit(ctx, undefined, req.raw, { fileName: 'invoice.docm', userFirewall: false }, { declaredBytes: 5120 })
   */
  async submit(ctx: Ctx, orgId: string | undefined, input: UploadInput, meta: SubmissionMetadata, opts: { declaredBytes?: number; source?: SubmissionSource } = {}): Promise<VerdictView> {
    const org = this.resolveOrg(ctx, orgId);
    await this.core.access.enforce(ctx, 'threat', 'submit', { orgId: org });
    const clean = this.checkMetadata(meta);
    const limit = this.uploadLimitBytes;
    const release = await this.uploads.acquire();
    let owned: Buffer | undefined;
    try {
      let bytes: Buffer;
      if (input instanceof Uint8Array) {
        if (input.length > limit) throw threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit }, { limitBytes: limit });
        bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      } else bytes = owned = await readUpload(input, limit, opts.declaredBytes);
      return await this.process(ctx, org, bytes, clean, opts.source ?? 'api');
    } finally {
      owned?.fill(0);
      release();
    }
  }

  /**
   * Scan bytes held by another threat engine (e-mail attachments): the org's lists, cache and
   * pipeline, stored and audited like a submission with source `email`. Without `ctx` it acts as
   * the system actor `system:threat-scan`. Files over the upload limit come back `unknown`
   * ("not scanned: too large"), never clean.
   * @example const v = await threat.files.scanBuffer(orgId, attachment, { name: 'invoice.pdf' });
   */
  async scanBuffer(orgId: string, bytes: Uint8Array, opts: { name?: string; url?: string; ctx?: Ctx } = {}): Promise<VerdictView> {
    const ctx = opts.ctx ?? { actor: { kind: 'system', id: 'threat-scan' }, bindings: [], requestId: newId() };
    await this.core.access.enforce(ctx, 'threat', 'submit', { orgId });
    const meta = this.checkMetadata({ ...(opts.name ? { fileName: opts.name } : {}), ...(opts.url ? { url: opts.url } : {}) });
    const release = await this.uploads.acquire();
    try {
      return await this.process(ctx, orgId, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), meta, 'email');
    } finally {
      release();
    }
  }

  /** The verdict on a hash (no personal metadata): admins, privacy officers, observers, support. */
  async lookup(ctx: Ctx, orgId: string | undefined, sha256: string): Promise<VerdictView> {
    const org = this.resolveOrg(ctx, orgId);
    const { db } = await this.core.access.enforce(ctx, 'threat', 'readVerdict', { orgId: org }, fileLabel(sha256));
    if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw threatError('CAIRN_ERR_VALIDATION', 'badSha256', {}, { field: 'sha256' });
    const sha = sha256.toLowerCase();
    const row = await threatRepo(db).getVerdict(org, sha);
    if (!row) throw notFoundOrNoAccess();
    const hit = (await this.lists.matcher(org, db)).decide(sha);
    let verdict: FileVerdict;
    let basis = row.basis;
    if (hit) {
      verdict = listVerdict(sha, row.size_bytes, typeOf(row), hit);
      basis = 'lists';
    } else {
      verdict = await this.fromRow(db, row);
      if (row.basis === 'lists' && !verdict.reasons.some((r) => HOST_LIST_CODES.has(r.code))) verdict = notAnalyzed(sha, row.size_bytes, typeOf(row));
    }
    return this.view(verdict, row, basis, true);
  }

  /** Submissions of a file with their decrypted R-DATA-8 metadata, newest first (audited). */
  async submissions(ctx: Ctx, orgId: string | undefined, sha256: string, limit = 100): Promise<SubmissionView[]> {
    const org = this.resolveOrg(ctx, orgId);
    const { db } = await this.core.access.enforce(ctx, 'threat', 'readSubmissions', { orgId: org }, fileLabel(sha256));
    if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw threatError('CAIRN_ERR_VALIDATION', 'badSha256', {}, { field: 'sha256' });
    const sha = sha256.toLowerCase();
    const rows = await threatRepo(db).listSubmissions(org, sha, Math.min(Math.max(1, limit), 1000));
    if (rows.length === 0 && !(await threatRepo(db).getVerdict(org, sha))) throw notFoundOrNoAccess();
    const k = this.core.keys;
    const dec = (field: string, b: Buffer | null) => k.decryptOptional(db, org, `threat_submissions.${field}`, b);
    const out: SubmissionView[] = [];
    for (const r of rows) {
      out.push({
        id: r.id,
        sha256: r.sha256,
        receivedAt: toIso(r.received_at),
        submittedAt: toIso(r.submitted_at),
        source: r.source,
        vendor: r.vendor,
        userFirewall: r.user_firewall === 1,
        clientHost: await dec('client_host', r.client_host_enc),
        clientIp: await dec('client_ip', r.client_ip_enc),
        fileName: await dec('file_name', r.file_name_enc),
        url: await dec('url', r.url_enc),
        deviceName: await dec('device_name', r.device_name_enc),
        username: await dec('username', r.username_enc),
        score: r.score,
        state: r.state as VerdictState,
      });
    }
    await db.tx((x) => this.core.audit.record(x, ctx, org, 'threat.submission.read', `file:${sha}`, { count: out.length }));
    return out;
  }

  /** Validated, trimmed metadata; the username is dropped unless the user firewall is on (R-ATP-3). */
  private checkMetadata(meta: SubmissionMetadata): SubmissionMetadata {
    const out: SubmissionMetadata = { userFirewall: meta.userFirewall === true };
    for (const field of ['fileName', 'clientHost', 'url', 'deviceName', 'username', 'vendor'] as const) {
      const v = meta[field]?.trim();
      if (!v) continue;
      if (v.length > META_LIMITS[field]!) throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field, why: `longer than ${META_LIMITS[field]} characters` }, { field });
      if (field === 'username' && !out.userFirewall) continue;
      out[field] = v;
    }
    if (meta.clientIp?.trim()) {
      const ip = canonicalIp(meta.clientIp);
      if (!ip) throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field: 'clientIp', why: 'not an IPv4 or IPv6 address' }, { field: 'clientIp' });
      out.clientIp = ip;
    }
    if (meta.submittedAtMs !== undefined) {
      if (!Number.isFinite(meta.submittedAtMs)) throw threatError('CAIRN_ERR_VALIDATION', 'badMetadata', { field: 'submittedAt', why: 'not a time' }, { field: 'submittedAt' });
      out.submittedAtMs = meta.submittedAtMs;
    }
    return out;
  }

  /** Lists, cache, pipeline; then verdict, submission, kept body and audit in one transaction. */
  private async process(ctx: Ctx, orgId: string, bytes: Buffer, meta: SubmissionMetadata, source: SubmissionSource): Promise<VerdictView> {
    const db = await this.core.directory.storeOf(orgId);
    const now = this.core.clock.nowMs();
    const sha = sha256Of(bytes);
    const matcher: ListMatcher = await this.lists.matcher(orgId, db);
    const hit = matcher.decide(sha, hostOf(meta.url));
    const existing = await threatRepo(db).getVerdict(orgId, sha);
    const rules = await this.yara.forOrg(orgId, db);
    let verdict: FileVerdict;
    let basis: 'analysis' | 'lists' = 'analysis';
    let cached = false;
    if (hit) {
      verdict = listVerdict(sha, bytes.length, existing ? typeOf(existing) : classifyFile(bytes, meta.fileName), hit);
      basis = 'lists';
    } else if (existing && this.reusable(existing, rules.version)) {
      verdict = await this.fromRow(db, existing);
      cached = true;
    } else {
      const release = await this.analyses.acquire();
      try {
        verdict = await analyzeFile(bytes, {
          ...(meta.fileName ? { name: meta.fileName } : {}),
          limits: { maxFileBytes: this.uploadLimitBytes },
          lists: { allowSha256: matcher.sha256.allow, blockSha256: matcher.sha256.block },
          ...(rules.sources.length ? { orgRules: rules.sources } : {}),
          ...(this.clamd ? { clamd: this.clamd } : {}),
        });
      } finally {
        release();
      }
    }
    const { keys, audit } = this.core;
    const row = await db.tx(async (x) => {
      const repo = threatRepo(x);
      // A list verdict never replaces a content verdict; it only counts the submission.
      const keepContent = cached || (basis === 'lists' && existing?.basis === 'analysis');
      if (keepContent) await repo.touchVerdict(orgId, sha, now);
      else await repo.upsertVerdict(await this.toRow(x, orgId, verdict, basis, now, rules.version));
      const enc = (field: string, v: string | undefined) => keys.encryptOptional(x, orgId, `threat_submissions.${field}`, v);
      const sub: ThreatSubmissionRow = {
        id: newId(now),
        org_id: orgId,
        sha256: sha,
        received_at: now,
        submitted_at: meta.submittedAtMs ?? now,
        source,
        actor: `${ctx.actor.kind}:${ctx.actor.id}`,
        vendor: meta.vendor ?? null,
        user_firewall: meta.userFirewall ? 1 : 0,
        client_host_enc: await enc('client_host', meta.clientHost),
        client_ip_enc: await enc('client_ip', meta.clientIp),
        file_name_enc: await enc('file_name', meta.fileName),
        url_enc: await enc('url', meta.url),
        device_name_enc: await enc('device_name', meta.deviceName),
        username_enc: meta.userFirewall ? await enc('username', meta.username) : null,
        score: verdict.score,
        state: verdict.state,
      };
      await repo.insertSubmission(sub);
      const days = await this.settings.retentionDaysFor(x, orgId, verdict.type.category);
      if (days > 0) {
        // AES-256-GCM under the org key, bound to its own field name.
        const body = await keys.encryptBytes(x, orgId, 'threat_file_bodies.body', bytes);
        await repo.putBody({ org_id: orgId, sha256: sha, category: verdict.type.category, size_bytes: bytes.length, body_enc: body, stored_at: now, expires_at: now + days * DAY_MS });
      }
      await audit.record(x, ctx, orgId, 'threat.file.submit', `file:${sha}`, { sha256: sha, score: verdict.score, state: verdict.state, category: verdict.type.category, source, basis, cached, retainedDays: days });
      return (await repo.getVerdict(orgId, sha))!;
    });
    return this.view(verdict, row, basis, cached);
  }

  /** A cached verdict is reused when the same rules and scanners made it and no stage failed. */
  private reusable(r: ThreatVerdictRow, orgRulesVersion: string): boolean {
    return r.basis === 'analysis' && r.analysis_version === this.analysisVersion() + orgRulesVersion && !(JSON.parse(r.stages) as StageReport[]).some((s) => s.status === 'failed');
  }

  /** Fingerprint of what produced a verdict: package version, bundled rules, clamd on/off, limit. */
  private analysisVersion(): string {
    if (this.version) return this.version;
    const h = createHash('sha256');
    try {
      h.update(readFileSync(packagePath('package.json')));
      const dir = bundledRulesDir();
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.yar')).sort()) h.update(f).update(readFileSync(join(dir, f)));
    } catch {
      h.update('no-rules');
    }
    h.update(`|clamd:${this.clamd ? 1 : 0}|limit:${this.uploadLimitBytes}`);
    return (this.version = h.digest('hex').slice(0, 16));
  }

  private async toRow(x: Executor, orgId: string, v: FileVerdict, basis: 'analysis' | 'lists', now: number, orgRulesVersion: string): Promise<ThreatVerdictRow> {
    return {
      org_id: orgId,
      sha256: v.sha256,
      size_bytes: v.sizeBytes,
      mime: v.type.mime,
      category: v.type.category,
      subtype: v.type.subtype,
      description: v.type.description,
      type_basis: v.type.basis,
      type_details: JSON.stringify(v.type.details),
      score: v.score,
      state: v.state,
      complete: v.complete ? 1 : 0,
      basis,
      reasons_enc: await this.core.keys.encrypt(x, orgId, 'threat_verdicts.reasons', JSON.stringify(v.reasons)),
      stages: JSON.stringify(v.stages),
      analysis_version: basis === 'analysis' ? this.analysisVersion() + orgRulesVersion : '',
      analyzed_at: now,
      first_seen: now,
      last_seen: now,
      submission_count: 1,
    };
  }

  private async fromRow(x: Executor, r: ThreatVerdictRow): Promise<FileVerdict> {
    const reasons = JSON.parse(await this.core.keys.decrypt(x, r.org_id, 'threat_verdicts.reasons', r.reasons_enc)) as Reason[];
    return {
      sha256: r.sha256,
      sizeBytes: r.size_bytes,
      type: typeOf(r),
      score: r.score,
      state: r.state as VerdictState,
      recommendedAction: r.score >= BLOCK_AT ? 'block' : 'allow',
      complete: r.complete === 1,
      reasons,
      stages: JSON.parse(r.stages) as StageReport[],
      durationMs: 0,
    };
  }

  private view(v: FileVerdict, r: ThreatVerdictRow, basis: 'analysis' | 'lists', cached: boolean): VerdictView {
    return { ...v, basis, cached, analyzedAt: toIso(r.analyzed_at), firstSeen: toIso(r.first_seen), lastSeen: toIso(r.last_seen), submissionCount: r.submission_count };
  }
}
