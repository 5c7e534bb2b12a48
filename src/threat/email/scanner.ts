/**
 * What the e-mail side needs from the rest of threat analysis, behind two small interfaces: a file
 * verdict for an attachment (`AttachmentScanner.scanBuffer`, the threat file service: org lists,
 * verdict cache, YARA-X, ClamAV, static analysis, each attachment recorded as a submission with
 * source `email`) and the org's domain allow/block lists (`DomainLists`, the threat list service).
 * `standaloneScanner` runs the bare file pipeline with empty lists, for `cairn mail scan` without
 * an org.
 */
import { analyzeFile, type AnalyzeOptions, type FileVerdict } from '../files/index.ts';

/** A file verdict for one attachment, under the org's lists and rules. */
export interface AttachmentScanner {
  scanBuffer(orgId: string, bytes: Uint8Array, opts?: { name?: string }): Promise<FileVerdict>;
}

/** The org's domain lists: lower-case domains; a listed domain covers its subdomains. */
export interface DomainLists {
  domainLists(orgId: string): Promise<{ block: ReadonlySet<string>; allow: ReadonlySet<string> }>;
}

/** Both, as the threat services provide them (`ThreatServices` has this shape). */
export interface ScanDeps {
  files: AttachmentScanner;
  lists: DomainLists;
}

/**
 * The file pipeline alone (no org, no lists, nothing stored): `analyzeFile` per attachment.
 * @example await scanMessage('none', raw, standaloneScanner())
 */
export function standaloneScanner(opts: Omit<AnalyzeOptions, 'name' | 'lists'> = {}): ScanDeps {
  const empty = new Set<string>();
  return {
    files: { scanBuffer: (_orgId, bytes, o = {}) => analyzeFile(bytes, { ...opts, ...(o.name ? { name: o.name } : {}) }) },
    lists: { domainLists: async () => ({ block: empty, allow: empty }) },
  };
}
