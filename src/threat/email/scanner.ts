/**
 * What the e-mail side needs from the rest of threat analysis, behind two small interfaces: a file
 * verdict for an attachment (`AttachmentScanner.scanBuffer`) and the org's domain allow/block
 * lists (`DomainLists`). `PipelineScanner` fills both from the file pipeline (`analyzeFile`) and
 * the org's list entries in storage; when the file verdict service is wired, app.ts passes that
 * service instead and nothing here changes.
 */
import { analyzeFile, type AnalyzeOptions, type FileVerdict } from '../files/index.ts';
import { ThreatRepo, type Database } from '../../storage/index.ts';

/** A file verdict for one attachment, under the org's lists and rules. */
export interface AttachmentScanner {
  scanBuffer(orgId: string, bytes: Uint8Array, opts?: { name?: string }): Promise<FileVerdict>;
}

/** The org's domain lists: lower-case domains; a listed domain covers its subdomains. */
export interface DomainLists {
  domainLists(orgId: string): Promise<{ block: ReadonlySet<string>; allow: ReadonlySet<string> }>;
}

interface Lists {
  atMs: number;
  hashBlock: Set<string>;
  hashAllow: Set<string>;
  block: Set<string>;
  allow: Set<string>;
}

/**
 * The file pipeline with the org's hash and domain lists read from storage (cached for a few
 * seconds per org, so a burst of mail does not read them per message).
 *
 * @example const s = new PipelineScanner((orgId) => directory.storeOf(orgId)); await s.scanBuffer(orgId, bytes, { name: 'a.pdf' })
 */
export class PipelineScanner implements AttachmentScanner, DomainLists {
  private cache = new Map<string, Lists>();
  constructor(
    private readonly storeOf: (orgId: string) => Promise<Database>,
    private readonly opts: Omit<AnalyzeOptions, 'name' | 'lists'> = {},
    private readonly ttlMs = 5_000,
  ) {}

  private async lists(orgId: string): Promise<Lists> {
    const hit = this.cache.get(orgId);
    if (hit && Date.now() - hit.atMs < this.ttlMs) return hit;
    const entries = await new ThreatRepo(await this.storeOf(orgId)).listEntries(orgId);
    const l: Lists = { atMs: Date.now(), hashBlock: new Set(), hashAllow: new Set(), block: new Set(), allow: new Set() };
    for (const e of entries) {
      const key = e.match_key.trim().toLowerCase();
      if (e.kind === 'hash') (e.list === 'block' ? l.hashBlock : l.hashAllow).add(key);
      if (e.kind === 'domain') (e.list === 'block' ? l.block : l.allow).add(key.replace(/\.$/, ''));
    }
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(orgId, l);
    return l;
  }

  async scanBuffer(orgId: string, bytes: Uint8Array, opts: { name?: string } = {}): Promise<FileVerdict> {
    const l = await this.lists(orgId);
    return analyzeFile(bytes, { ...this.opts, ...(opts.name ? { name: opts.name } : {}), lists: { blockSha256: l.hashBlock, allowSha256: l.hashAllow } });
  }

  async domainLists(orgId: string): Promise<{ block: ReadonlySet<string>; allow: ReadonlySet<string> }> {
    const l = await this.lists(orgId);
    return { block: l.block, allow: l.allow };
  }

  /** Forget cached lists (after a list changed in this process). */
  forget(orgId?: string): void {
    if (orgId) this.cache.delete(orgId);
    else this.cache.clear();
  }
}
