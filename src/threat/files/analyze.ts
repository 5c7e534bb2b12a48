/**
 * The file-verdict pipeline (R-ATP-1/2/6): allow/block lists by SHA-256, then YARA-X (bundled and
 * organisation rules), then ClamAV over clamd when configured, then the static stage. It stops as
 * soon as the verdict is certain (a list hit, a score-10 rule, a ClamAV signature). Files over the
 * size limit are not scanned and come back `unknown`, never `clean`. Nothing here stores the bytes
 * (R-ATP-7): the caller discards them after the verdict.
 */
import { createHash } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { asBuffer } from './bytes.ts';
import { clamdScan, type ClamdTarget } from './clamd.ts';
import { classifyFile } from './classify.ts';
import { resolveLimits, staticAnalysis, type ChildScanner } from './inspect.ts';
import type { FileLimits, FileVerdict, Reason, StageReport } from './types.ts';
import { decide, UNKNOWN_FLOOR } from './verdict.ts';
import { bundledRules, orgRules, yaraReasons, type YaraRules } from './yara.ts';

export interface AnalyzeOptions {
  /** The submitted file name (R-DATA-8 metadata): used for the extension rule, never echoed. */
  name?: string;
  /** Overrides of DEFAULT_FILE_LIMITS (32 MiB files, depth 4, 128 MiB unpacked, ratio 100:1 over 10 MiB). */
  limits?: Partial<FileLimits>;
  /** The tenant's lists of lower-case hex SHA-256 values. The block list wins over the allow list. */
  lists?: { allowSha256?: ReadonlySet<string>; blockSha256?: ReadonlySet<string> };
  /** The organisation's own YARA rule sources (compiled once per distinct source, then cached). */
  orgRules?: readonly string[];
  /** clamd to ask; omitted means no ClamAV stage. */
  clamd?: ClamdTarget;
  /** `false` skips YARA entirely; `{ rulesDir }` uses another bundled-rules directory. */
  yara?: false | { rulesDir: string };
}

/**
 * Analyses one file held in memory and returns its verdict: score 0-10 (7+ = recommended block),
 * state, reasons from each analyser and what each stage did. Throws CAIRN_ERR_VALIDATION when
 * the organisation's rules do not compile; every problem with the file itself becomes a reason.
 *
 * @example
 *   const v = await analyzeFile(bytes, { name: 'invoice.docm', lists: { blockSha256: new Set() } });
 *   if (v.recommendedAction === 'block') quarantine();
 */
export async function analyzeFile(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<FileVerdict> {
  const started = performance.now();
  const buf = asBuffer(bytes);
  const limits = resolveLimits(opts.limits);
  const sha256 = createHash('sha256').update(buf).digest('hex');
  const type = classifyFile(buf.length > limits.maxFileBytes ? buf.subarray(0, 1 << 20) : buf, opts.name);
  const reasons: Reason[] = [];
  const stages: StageReport[] = [];
  const skip = (analyzer: StageReport['analyzer'], note: string): void => void stages.push({ analyzer, status: 'skipped', note, durationMs: 0 });
  const certain = (): boolean => reasons.some((r) => r.certain);
  const finish = (): FileVerdict => ({
    sha256, sizeBytes: buf.length, type, ...decide(reasons), reasons, stages, durationMs: Math.round((performance.now() - started) * 10) / 10,
  });
  const skipRest = (after: StageReport['analyzer'], note: string): FileVerdict => {
    const order: StageReport['analyzer'][] = ['lists', 'yara', 'clamav', 'static'];
    for (const a of order.slice(order.indexOf(after) + 1)) skip(a, note);
    return finish();
  };

  // 1. Lists.
  let t = performance.now();
  if (opts.lists) {
    const blocked = opts.lists.blockSha256?.has(sha256);
    const allowed = !blocked && opts.lists.allowSha256?.has(sha256);
    stages.push({ analyzer: 'lists', status: 'ran', durationMs: ms(t) });
    if (blocked) {
      reasons.push({ analyzer: 'lists', code: 'BLOCK_LIST', score: 10, certain: true, message: 'The SHA-256 is on the block list.' });
      return skipRest('lists', 'verdict certain after the block list');
    }
    if (allowed) {
      reasons.push({ analyzer: 'lists', code: 'ALLOW_LIST', score: 0, message: 'The SHA-256 is on the allow list.' });
      return skipRest('lists', 'verdict certain after the allow list');
    }
  } else skip('lists', 'no lists given');

  // 2. Size limit: not scanned, never clean.
  if (buf.length > limits.maxFileBytes) {
    reasons.push({ analyzer: 'limits', code: 'TOO_LARGE', score: UNKNOWN_FLOOR, incomplete: true, message: `Not scanned: too large (${buf.length} bytes; the limit is ${limits.maxFileBytes}).` });
    return skipRest('lists', 'not scanned: too large');
  }

  // 3. YARA-X.
  let scanChild: ChildScanner | undefined;
  t = performance.now();
  if (opts.yara === false) skip('yara', 'disabled by the caller');
  else {
    try {
      const sets: YaraRules[] = [await bundledRules(opts.yara?.rulesDir)];
      if (opts.orgRules && opts.orgRules.length > 0) sets.push(await orgRules(opts.orgRules));
      scanChild = async (b) => (await Promise.all(sets.map(async (s) => yaraReasons(await s.scan(b), s.origin)))).flat();
      reasons.push(...(await scanChild(buf)));
      stages.push({ analyzer: 'yara', status: 'ran', note: `${sets.length} rule set(s)`, durationMs: ms(t) });
    } catch (e) {
      if (!(e instanceof CairnError) || e.code === 'CAIRN_ERR_VALIDATION') throw e;
      reasons.push({ analyzer: 'yara', code: 'YARA_UNAVAILABLE', score: 0, incomplete: true, message: `Could not run YARA rules: ${e.message}` });
      stages.push({ analyzer: 'yara', status: 'failed', note: e.code, durationMs: ms(t) });
    }
    if (certain()) return skipRest('yara', 'verdict certain after YARA');
  }

  // 4. ClamAV.
  let clamdClean = false;
  t = performance.now();
  if (!opts.clamd) skip('clamav', 'not configured');
  else {
    const required = opts.clamd.required ?? true;
    try {
      const r = await clamdScan(buf, opts.clamd);
      stages.push({ analyzer: 'clamav', status: 'ran', note: r.reply, durationMs: ms(t) });
      if (r.status === 'infected') {
        reasons.push({ analyzer: 'clamav', code: 'CLAMAV_FOUND', score: 10, certain: true, message: `ClamAV signature ${r.signature}.` });
        return skipRest('clamav', 'verdict certain after ClamAV');
      }
      if (r.status === 'clean') clamdClean = true;
      else reasons.push({ analyzer: 'clamav', code: 'CLAMAV_ERROR', score: 0, message: `ClamAV could not scan the file: ${r.reply}.`, ...(required ? { incomplete: true } : {}) });
    } catch (e) {
      if (!(e instanceof CairnError)) throw e;
      stages.push({ analyzer: 'clamav', status: 'failed', note: e.code, durationMs: ms(t) });
      reasons.push({ analyzer: 'clamav', code: 'CLAMAV_UNAVAILABLE', score: 0, message: e.message, ...(required ? { incomplete: true } : {}) });
    }
  }

  // 5. Static analysis, recursing into containers.
  t = performance.now();
  const s = await staticAnalysis(buf, { type, limits, clamdClean, ...(scanChild ? { scanChild } : {}) });
  reasons.push(...s.reasons);
  stages.push({ analyzer: 'static', status: 'ran', durationMs: ms(t) });
  return finish();
}

function ms(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
