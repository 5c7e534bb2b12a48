/**
 * The org export (R-PRIV-3): every table of the org that a module registered an exporter for,
 * decrypted for the org, as one ZIP streamed to the caller: `README.txt`, `data/<exporter>.jsonl`
 * (one JSON object per line), and `manifest.json` last, with each file's data class, row count,
 * size and SHA-256. Rows are read a keyset page at a time and compressed as they go, so the
 * server holds about one page per export whatever the org's size, and nothing is written to disk.
 *
 * Only org admins export (the whole data set, decrypted, is the controller's to take; privacy
 * officers answer one person's access request through R-PRIV-4 instead). Every export is audited
 * when it starts and again when it completes (files, rows, bytes, the archive's SHA-256) or is
 * cut short. One export per org at a time, and at most `MAX_RUNNING` per server.
 */
import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { CairnError, isCairnError } from '../../kernel/errors.ts';
import { toIso } from '../../kernel/clock.ts';
import { OrgExportRepo, reposFor, type Database, type ExportRow } from '../../storage/index.ts';
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { DATA_CLASSES } from '../retention/registry.ts';
import type { ExportKeys, OrgExporter } from './registry.ts';
import { ZipStreamWriter } from './zip-stream.ts';

export const EXPORT_FORMAT = 'cairn-org-export/1';
/** Exports running at once on one server (each reads the store continuously). */
export const MAX_RUNNING = 2;
/** Rows per page read from the store (an exporter of large rows asks for fewer). */
export const EXPORT_PAGE_ROWS = 1000;

/**
 * Tables with org data that are deliberately not exported, and why. The coverage check
 * (`PortabilityService.coverage`, and its test) fails for any other table no exporter reads.
 */
export const NOT_EXPORTED: Readonly<Record<string, string>> = {
  org_keys: 'Key material (wrapped data and pseudonym keys) never leaves the server.',
  sessions: 'Dashboard sign-in sessions: hashed, short-lived.',
  audit_heads: 'The chain head: the last audit event repeats it.',
  ingest_records: 'Re-delivery bookkeeping (vendor record ids, keyed digests of deliveries).',
  spaces_firehose_cursor: 'The Cisco Spaces resume cursor.',
  association_session_bounds: 'Derived: the longest association session, kept for queries.',
  trace_devices: 'Contact-tracing index, derived from fixes and rebuilt from them.',
  trace_places: 'Contact-tracing index, derived from fixes and rebuilt from them.',
  trace_tracks: 'Contact-tracing index, derived from fixes and rebuilt from them.',
  trace_cells: 'Contact-tracing index, derived from fixes and rebuilt from them.',
  trace_index_state: 'Contact-tracing index bookkeeping.',
  trace_index_dirty: 'Contact-tracing index bookkeeping.',
  consent_org_state: 'A change counter and the key that signs unsubscribe links.',
  consent_results: 'Single-use guest-portal result nonces (5 minutes).',
};

export interface ManifestFile {
  /** Path inside the archive. */
  name: string;
  exporter: string;
  dataClass: string;
  requirement: string;
  description: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Values whose key was destroyed (crypto-shredded); exported as null. */
  undecryptable: number;
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  org: { id: string; name: string; country: string; region: string };
  requestId: string;
  startedAt: string;
  finishedAt: string;
  files: ManifestFile[];
  /** Every data class of the registry, with what this archive holds of it. */
  dataClasses: { id: string; requirement: string; name: string; rows: number; files: string[] }[];
  notExported: { table: string; reason: string }[];
}

/** An export that passed the access check and is ready to stream. */
export interface ExportJob {
  /** A file name for the download. */
  fileName: string;
  /** Stream the archive into `out` (ended on success, destroyed on failure); resolves to the manifest. */
  run(out: Writable): Promise<ExportManifest>;
}

export interface ExportCoverage {
  /** Tables with an org_id column that some exporter reads. */
  exported: string[];
  /** Tables deliberately left out (`NOT_EXPORTED`). */
  skipped: string[];
  /** Tables with org data that nothing exports: must be empty. */
  uncovered: string[];
}

const README = `Cairn organisation export (${EXPORT_FORMAT})

manifest.json   every file with its data class, number of rows, size and SHA-256
                (check with: sha256sum data/*.jsonl), and what was left out and why
data/*.jsonl    one file per kind of record, one JSON object per line

Conventions
- Times: columns ending _at or _ms are UTC epoch milliseconds.
- Lengths: columns ending _m are metres; _dbm is dBm.
- device, subject, a, b: the organisation's keyed pseudonym of a device (MAC address, badge or
  app id), never the raw identifier; Cairn never stores that.
- Encrypted fields are decrypted: a column that was <name>_enc appears as <name>. Bytes are
  base64 in <name>_base64. A value whose key was destroyed (erasure) is null and counted
  in the manifest as undecryptable.
- Secrets are not exported: password and token hashes, webhook and API secrets, signing keys.
- audit.events: canon and hash let you verify the chain (SHA-256 of previous hash, U+001F,
  org id, U+001F, canon); the public keys of the signed checkpoints are at
  /api/v1/orgs/{orgId}/audit/keys.
`;

/** Counts bytes, hashes them and passes them on (the archive's own SHA-256). */
class Tap extends Transform {
  readonly hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null, d?: Buffer) => void): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

export class PortabilityService {
  private readonly running = new Set<string>();

  constructor(private readonly core: Core) {}

  /**
   * Check access and start an export of `orgId` (audited); the caller then streams it with
   * `run`. Refusals and a busy server are thrown here, before any byte is sent.
   * @example const job = await portability.open(ctx, orgId); await job.run(createWriteStream(file));
   */
  async open(ctx: Ctx, orgId: string): Promise<ExportJob> {
    const { db } = await this.core.access.enforce(ctx, 'portability', 'export', { orgId });
    if (this.running.has(orgId) || this.running.size >= MAX_RUNNING) throw new CairnError('CAIRN_ERR_EXPORT_BUSY');
    const org = await reposFor(db).tenancy.getOrg(orgId);
    if (!org) throw new CairnError('CAIRN_ERR_NOT_FOUND');
    this.running.add(orgId);
    const startedMs = this.core.clock.nowMs();
    try {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'export.started', `org:${orgId}`, { files: this.core.exporters.list().length }));
    } catch (e) {
      this.running.delete(orgId);
      throw e;
    }
    let started = false;
    return {
      fileName: `cairn-export-${orgId}-${toIso(startedMs).slice(0, 10)}.zip`,
      run: async (out) => {
        if (started) throw new CairnError('CAIRN_ERR_CONFLICT', 'This export ran already.');
        started = true;
        try {
          return await this.stream(ctx, db, { id: org.id, name: org.name, country: org.country, region: org.region }, startedMs, out);
        } finally {
          this.running.delete(orgId);
        }
      },
    };
  }

  private async stream(ctx: Ctx, db: Database, org: ExportManifest['org'], startedMs: number, out: Writable): Promise<ExportManifest> {
    const tap = new Tap();
    const done = new Promise<void>((resolve, reject) => {
      tap.pipe(out);
      out.once('finish', resolve);
      out.once('close', resolve);
      out.once('error', reject);
    });
    done.catch(() => undefined); // awaited at the end; a failure before then surfaces through the writes
    // The tap must stop when the receiver does (a client that hung up), so writes fail fast.
    out.once('close', () => tap.destroy());
    const zip = new ZipStreamWriter(tap, startedMs);
    const files: ManifestFile[] = [];
    try {
      await zip.entry('README.txt', [Buffer.from(README, 'utf8')]);
      for (const e of this.core.exporters.list()) files.push(await this.file(db, org.id, e, zip));
      const manifest: ExportManifest = {
        format: EXPORT_FORMAT,
        org,
        requestId: ctx.requestId,
        startedAt: toIso(startedMs),
        finishedAt: toIso(this.core.clock.nowMs()),
        files,
        dataClasses: [...DATA_CLASSES.map((c) => ({ id: c.id, requirement: c.requirement, name: c.name })), { id: 'config', requirement: 'R-PRIV-3', name: 'Organisation configuration' }].map((c) => {
          const mine = files.filter((f) => f.dataClass === c.id);
          return { ...c, rows: mine.reduce((n, f) => n + f.rows, 0), files: mine.map((f) => f.name) };
        }),
        notExported: Object.entries(NOT_EXPORTED).map(([table, reason]) => ({ table, reason })),
      };
      await zip.entry('manifest.json', [Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8')]);
      const bytes = await zip.finish();
      await done;
      await db.tx((x) =>
        this.core.audit.record(x, ctx, org.id, 'export.completed', `org:${org.id}`, { files: files.length, rows: files.reduce((n, f) => n + f.rows, 0), bytes, sha256: tap.hash.digest('hex') }),
      );
      return manifest;
    } catch (e) {
      tap.destroy();
      if (!out.destroyed) out.destroy(e as Error);
      const code = isCairnError(e) ? e.code : 'CAIRN_ERR_INTERNAL';
      await db
        .tx((x) => this.core.audit.record(x, ctx, org.id, 'export.aborted', `org:${org.id}`, { files: files.length, bytes: zip.bytesWritten, code }))
        .catch((err: unknown) => this.core.log.error({ err }, 'export abort could not be audited'));
      if (!isCairnError(e)) this.core.log.error({ err: e }, 'org export failed');
      throw e;
    }
  }

  /** One exporter's file: its pages as JSON lines, and what they amounted to. */
  private async file(db: Database, orgId: string, e: OrgExporter, zip: ZipStreamWriter): Promise<ManifestFile> {
    let rows = 0;
    let undecryptable = 0;
    const k = this.core.keys;
    const guard = async <T>(f: () => Promise<T>): Promise<T | null> => {
      try {
        return await f();
      } catch (err) {
        // A destroyed key version, or ciphertext that no longer opens: the value is gone (crypto-shredded).
        // A wrong field name reads the same way; the export test asserts none, so a bad exporter is caught there.
        if (isCairnError(err) && (err.code === 'CAIRN_ERR_KEY_DESTROYED' || err.code === 'CAIRN_ERR_DECRYPT')) {
          undecryptable++;
          return null;
        }
        throw err;
      }
    };
    const keys: ExportKeys = {
      text: (field, blob) => (blob ? guard(() => k.decrypt(db, orgId, field, blob)) : Promise.resolve(null)),
      bytes: (field, blob) => (blob ? guard(() => k.decryptBytes(db, orgId, field, blob)) : Promise.resolve(null)),
    };
    const pages = e.pages(db, orgId, { keys, pageRows: EXPORT_PAGE_ROWS });
    async function* lines(): AsyncGenerator<Buffer> {
      for await (const page of pages) {
        rows += page.length;
        yield Buffer.from(page.map((r: ExportRow) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
      }
    }
    const r = await zip.entry(`data/${e.id}.jsonl`, lines());
    const c = DATA_CLASSES.find((d) => d.id === e.dataClass);
    return { name: r.name, exporter: e.id, dataClass: e.dataClass, requirement: c?.requirement ?? 'R-PRIV-3', description: e.description, rows, bytes: r.bytes, sha256: r.sha256, undecryptable };
  }

  /**
   * Which tables with org data the registered exporters cover, in one region store. `uncovered`
   * must stay empty: a new table needs an exporter or a line in `NOT_EXPORTED`.
   */
  async coverage(db: Database): Promise<ExportCoverage> {
    const all = await new OrgExportRepo(db).tablesWithOrgColumn();
    const read = new Set(this.core.exporters.list().flatMap((e) => e.tables as readonly string[]));
    return {
      exported: all.filter((t) => read.has(t)),
      skipped: all.filter((t) => !read.has(t) && t in NOT_EXPORTED),
      uncovered: all.filter((t) => !read.has(t) && !(t in NOT_EXPORTED)),
    };
  }
}
