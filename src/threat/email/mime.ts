/**
 * Reading a message (R-ATP-5): a structural check that refuses broken MIME with a reason (header
 * section that is not header fields, multipart without a boundary or whose boundary never
 * appears, nesting or part counts past the limits), then `mailparser` for decoding: text and HTML
 * bodies, attachments and embedded `message/rfc822` parts (kept as attachments, opened by the
 * caller with the depth limit; a broken embedded message is the caller's finding, not a reason to
 * refuse the message that carries it). Nothing here logs or stores content.
 */
import { simpleParser, type AddressObject, type HeaderValue, type ParsedMail } from 'mailparser';
import { CairnError } from '../../kernel/errors.ts';

/** A decoded attachment or embedded message of one message level. */
export interface MimeAttachment {
  /** Position: mailparser's part id (`2`, `1.2`), or `1` for a single-part message. */
  part: string;
  /** R-DATA-10 personal: the file name as sent. */
  name: string | null;
  contentType: string;
  content: Buffer;
}

/** One message level, decoded. Every string here is R-DATA-10 personal data. */
export interface ParsedMessage {
  subject: string | null;
  from: string | null;
  to: string[];
  /** Text of every `text/plain` body part (HTML converted to text when `htmlToText`). */
  text: string;
  /** Every `text/html` body part, concatenated. */
  html: string;
  attachments: MimeAttachment[];
  /** Top-level header fields, decoded, in order. */
  headers: { name: string; value: string }[];
}

/** Bounds of the structural check. */
export interface MimeLimits {
  /** MIME parts over all levels. */
  maxParts: number;
  /** Multipart nesting inside one message. */
  maxNesting: number;
}

const FIELD = /^[!-9;-~]+[ \t]*:/;

function malformed(reason: string, why: string): CairnError {
  return new CairnError('CAIRN_ERR_MIME_MALFORMED', `The e-mail message is malformed: ${why}.`, { reason });
}

/** Index just past the header section's blank line, and where that section ends; -1/len when there is no body. */
function splitHead(s: string, from: number, to: number): { headEnd: number; bodyStart: number } {
  let i = from;
  while (i < to) {
    const nl = s.indexOf('\n', i);
    if (nl < 0 || nl >= to) return { headEnd: to, bodyStart: to };
    const line = s.slice(i, nl).replace(/\r$/, '');
    if (line === '') return { headEnd: i, bodyStart: nl + 1 };
    i = nl + 1;
  }
  return { headEnd: to, bodyStart: to };
}

/** Unfolded header fields of a section: lower-case name → first value. Throws on a line that is not a field. */
function readFields(s: string, from: number, to: number, where: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = s.slice(from, to).split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let name = '';
  let value = '';
  const flush = (): void => {
    if (name && !out.has(name)) out.set(name, value.trim());
  };
  for (const [n, line] of lines.entries()) {
    if (line.includes('\0')) throw malformed('HEADER_NUL', `${where} has a NUL byte in its header section`);
    if (line[0] === ' ' || line[0] === '\t') {
      if (n === 0) throw malformed('HEADER_CONTINUATION_FIRST', `${where} starts with a folded header line`);
      value += ' ' + line.trim();
      continue;
    }
    if (!FIELD.test(line)) throw malformed('HEADER_NOT_A_FIELD', `line ${n + 1} of the header section of ${where} is not a header field`);
    flush();
    const colon = line.indexOf(':');
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return out;
}

function boundaryOf(contentType: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2] ?? '') : null;
  return b === null || b === '' ? null : b;
}

/**
 * Checks the MIME structure of a message (not its content) and throws CAIRN_ERR_MIME_MALFORMED
 * with `details.reason` (`NO_HEADER`, `HEADER_NOT_A_FIELD`, `MULTIPART_NO_BOUNDARY`,
 * `MULTIPART_BOUNDARY_ABSENT`, `TOO_MANY_PARTS`, `NESTED_TOO_DEEP`, ...) when it is broken.
 * Linear in the message size.
 *
 * @example checkStructure(Buffer.from('Subject: x\r\n\r\nhello')) // passes
 */
export function checkStructure(raw: Buffer, limits: MimeLimits = { maxParts: 1000, maxNesting: 50 }): { parts: number } {
  if (raw.length === 0) throw malformed('EMPTY', 'the message is empty');
  const s = raw.toString('latin1');
  let parts = 0;
  const walk = (from: number, to: number, depth: number, where: string, requireFields: boolean): void => {
    if (++parts > limits.maxParts) throw malformed('TOO_MANY_PARTS', `it has more than ${limits.maxParts} MIME parts`);
    if (depth > limits.maxNesting) throw malformed('NESTED_TOO_DEEP', `multiparts are nested more than ${limits.maxNesting} deep`);
    const { headEnd, bodyStart } = splitHead(s, from, to);
    if (requireFields && headEnd === from) throw malformed('NO_HEADER', 'it has no header fields');
    const fields = readFields(s, from, headEnd, where);
    const ct = fields.get('content-type') ?? '';
    const type = ct.split(';')[0]!.trim().toLowerCase();
    if (type.startsWith('multipart/')) {
      const b = boundaryOf(ct);
      if (!b) throw malformed('MULTIPART_NO_BOUNDARY', `${where} is ${type} without a boundary parameter`);
      if (b.length > 200) throw malformed('MULTIPART_BAD_BOUNDARY', `${where} has a boundary longer than 200 characters`);
      const delim = '--' + b;
      const starts: number[] = [];
      const ends: number[] = [];
      for (let i = s.indexOf(delim, bodyStart); i >= 0 && i < to; i = s.indexOf(delim, i + delim.length)) {
        if (i !== bodyStart && s[i - 1] !== '\n') continue;
        const eol = s.indexOf('\n', i);
        const lineEnd = eol < 0 || eol > to ? to : eol;
        const rest = s.slice(i + delim.length, lineEnd).replace(/\r$/, '');
        const closing = rest.startsWith('--');
        if (!closing && rest.trim() !== '') continue;
        if (starts.length > ends.length) ends.push(i);
        if (closing) break;
        starts.push(Math.min(to, lineEnd + 1));
      }
      if (starts.length === 0) throw malformed('MULTIPART_BOUNDARY_ABSENT', `${where} is ${type} but its boundary never appears`);
      if (ends.length < starts.length) ends.push(to);
      const prefix = where === 'the message' ? 'part ' : `${where}.`;
      for (const [k, start] of starts.entries()) walk(start, Math.max(start, ends[k]!), depth + 1, `${prefix}${k + 1}`, false);
    }
  };
  walk(0, s.length, 0, 'the message', true);
  return { parts };
}

function headerText(v: HeaderValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (Array.isArray(v)) return (v as HeaderValue[]).map(headerText).join(', ');
  if (typeof v === 'object' && v !== null) {
    if ('text' in v && typeof (v as AddressObject).text === 'string') return (v as AddressObject).text;
    if ('value' in v && typeof v.value === 'string') {
      const params = 'params' in v && v.params && typeof v.params === 'object' ? Object.entries(v.params as Record<string, string>).map(([k, p]) => `; ${k}=${p}`).join('') : '';
      return v.value + params;
    }
  }
  return '';
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  const out: string[] = [];
  const visit = (list: { address?: string; group?: { address?: string }[] }[]): void => {
    for (const e of list) {
      if (e.address) out.push(e.address);
      if (e.group) visit(e.group);
    }
  };
  for (const o of [a ?? []].flat()) visit(o.value);
  return out;
}

/**
 * Decodes one message level with mailparser. Embedded messages stay attachments (`message/rfc822`)
 * for the caller to open; `htmlToText` fills `text` from HTML when there is no plain part (the
 * preview needs it; the scan does not). Throws CAIRN_ERR_MIME_MALFORMED when mailparser refuses.
 */
export async function parseMessage(raw: Buffer, opts: { htmlToText?: boolean; maxParts?: number } = {}): Promise<ParsedMessage> {
  let p: ParsedMail;
  try {
    p = await simpleParser(raw, {
      ignoreEmbedded: true,
      keepCidLinks: true,
      skipTextToHtml: true,
      skipImageLinks: true,
      skipTextLinks: true,
      skipHtmlToText: !opts.htmlToText,
      maxHtmlLengthToParse: 2_000_000,
      checksumAlgo: false,
      maxChildNodes: opts.maxParts ?? 1000,
    });
  } catch (e) {
    throw malformed('PARSER', `the MIME parser refused it (${(e as Error).message.slice(0, 120)})`);
  }
  const headers: { name: string; value: string }[] = [];
  for (const h of p.headerLines) {
    const v = p.headers.get(h.key);
    headers.push({ name: h.line.slice(0, Math.max(0, h.line.indexOf(':'))).trim() || h.key, value: v === undefined ? h.line.slice(h.line.indexOf(':') + 1).trim() : headerText(v) });
  }
  return {
    subject: p.subject ?? null,
    from: addresses(p.from)[0] ?? null,
    to: addresses(p.to),
    text: p.text ?? '',
    html: typeof p.html === 'string' ? p.html : '',
    attachments: p.attachments.map((a, i) => ({ part: a.partId ?? String(i + 1), name: a.filename ?? null, contentType: (a.contentType || 'application/octet-stream').toLowerCase(), content: a.content })),
    headers,
  };
}
