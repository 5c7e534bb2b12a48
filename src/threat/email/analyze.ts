/**
 * The verdict on one message (R-ATP-5): its MIME structure is checked (broken MIME is refused
 * with CAIRN_ERR_MIME_MALFORMED), every attachment and every embedded message goes through the
 * file pipeline, embedded messages are opened in turn (depth-limited), and the links of every
 * text and HTML body are checked against the org's domain lists. The message score is its
 * strongest finding; a message not fully inspected (an attachment not scanned, an embedded
 * message that could not be read, the time budget spent) is never clean.
 */
import { CairnError } from '../../kernel/errors.ts';
import { BLOCK_AT, SUSPICIOUS_AT, UNKNOWN_FLOOR } from '../files/index.ts';
import { checkLinks } from './links.ts';
import { checkStructure, parseMessage, type ParsedMessage } from './mime.ts';
import type { ScanDeps } from './scanner.ts';
import { DEFAULT_MAIL_LIMITS, type AttachmentReport, type MailLimits, type MailReason, type MessageVerdict, type VerdictState } from './types.ts';

/** A scanned message: its verdict, plus the top level decoded (for quarantine metadata). */
export interface ScannedMessage {
  verdict: MessageVerdict;
  top: ParsedMessage | null;
}

const EMBEDDED = new Set(['message/rfc822', 'message/global']);

/**
 * From findings to score and state, on the file verdict's scale.
 * @example summarise([{ source: 'link', code: 'LINK_TEXT_MISMATCH', score: 4, message: '' }]) // { score: 4, state: 'suspicious', complete: true }
 */
export function summarise(reasons: MailReason[]): { score: number; state: VerdictState; complete: boolean } {
  const complete = !reasons.some((r) => r.incomplete);
  let score = Math.max(0, ...reasons.map((r) => Math.min(10, Math.max(0, r.score))));
  if (!complete) score = Math.max(score, UNKNOWN_FLOOR);
  score = Math.round(score * 10) / 10;
  const state: VerdictState = score >= BLOCK_AT ? 'malicious' : score >= SUSPICIOUS_AT ? 'suspicious' : complete ? 'clean' : 'unknown';
  return { score, state, complete };
}

/**
 * Scans one message for an org. Throws CAIRN_ERR_MIME_MALFORMED (details.reason says why) when
 * the message itself is broken; everything wrong below the top level becomes a finding.
 *
 * @example
 *   const { verdict } = await scanMessage(orgId, raw, { files: threat.files, lists: threat.lists });
 *   if (verdict.state === 'malicious') quarantine();
 */
export async function scanMessage(orgId: string, raw: Buffer, deps: ScanDeps, limitsIn: Partial<MailLimits> = {}): Promise<ScannedMessage> {
  const started = performance.now();
  const limits = { ...DEFAULT_MAIL_LIMITS, ...limitsIn };
  const reasons: MailReason[] = [];
  const attachments: AttachmentReport[] = [];
  const hosts = new Set<string>();
  if (raw.length > limits.maxMessageBytes) {
    reasons.push({ source: 'limits', code: 'MESSAGE_TOO_LARGE', score: UNKNOWN_FLOOR, incomplete: true, message: `Not scanned: the message is larger than ${limits.maxMessageBytes} bytes.` });
    return { verdict: finish(), top: null };
  }
  checkStructure(raw, { maxParts: limits.maxParts, maxNesting: 50 });
  const lists = await deps.lists.domainLists(orgId);
  let top: ParsedMessage | null = null;
  let timedOut = false;
  let linksLeft = limits.maxLinks;

  const level = async (bytes: Buffer, depth: number, prefix: string): Promise<void> => {
    const parsed = await parseMessage(bytes, { maxParts: limits.maxParts });
    if (depth === 0) top = parsed;
    const l = checkLinks(parsed.text, parsed.html, lists, linksLeft, prefix || undefined);
    linksLeft = Math.max(0, linksLeft - l.hosts.length);
    for (const h of l.hosts) hosts.add(h);
    reasons.push(...l.reasons);
    for (const a of parsed.attachments) {
      if (timedOut) return;
      const part = prefix ? `${prefix}/${a.part}` : a.part;
      const v = await deps.files.scanBuffer(orgId, a.content, a.name ? { name: a.name } : {});
      const codes = [...v.reasons].sort((x, y) => y.score - x.score).map((r) => r.code).filter((c, i, all) => all.indexOf(c) === i);
      attachments.push({ part, name: a.name, contentType: a.contentType, sizeBytes: a.content.length, sha256: v.sha256, subtype: v.type.subtype, score: v.score, state: v.state, codes });
      if (v.score > 0 || !v.complete) {
        reasons.push({ source: 'attachment', code: `ATTACHMENT_${v.state.toUpperCase()}`, score: v.score, part, message: `Attachment ${part} (${v.type.subtype}) is ${v.state}, score ${v.score}${codes.length ? `: ${codes.slice(0, 5).join(', ')}` : ''}.`, ...(v.complete ? {} : { incomplete: true }) });
      }
      if (EMBEDDED.has(a.contentType) || v.type.subtype === 'eml') {
        if (depth + 1 > limits.maxDepth) {
          reasons.push({ source: 'limits', code: 'EMBEDDED_TOO_DEEP', score: UNKNOWN_FLOOR, incomplete: true, part, message: `Embedded messages nest deeper than ${limits.maxDepth}; ${part} was not opened.` });
          continue;
        }
        try {
          checkStructure(a.content, { maxParts: limits.maxParts, maxNesting: 50 });
          await level(a.content, depth + 1, part);
        } catch (e) {
          if (!(e instanceof CairnError) || e.code !== 'CAIRN_ERR_MIME_MALFORMED') throw e;
          reasons.push({ source: 'mime', code: 'EMBEDDED_MALFORMED', score: UNKNOWN_FLOOR, incomplete: true, part, message: `The embedded message ${part} could not be read: ${e.message}` });
        }
      }
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), limits.timeoutMs);
  });
  try {
    const work = level(raw, 0, '').then(() => 'done' as const);
    work.catch(() => undefined); // after a time-out the work may still fail; nobody waits for it then
    const r = await Promise.race([work, budget]);
    if (r === 'timeout') {
      timedOut = true;
      reasons.push({ source: 'limits', code: 'SCAN_TIMEOUT', score: UNKNOWN_FLOOR, incomplete: true, message: `Not fully scanned: the ${limits.timeoutMs} ms budget ran out.` });
    }
  } finally {
    clearTimeout(timer);
  }
  return { verdict: finish(), top };

  function finish(): MessageVerdict {
    return { ...summarise(reasons), reasons: [...reasons], attachments: [...attachments], linkHosts: [...hosts], durationMs: Math.round((performance.now() - started) * 10) / 10 };
  }
}
