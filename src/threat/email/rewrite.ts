/**
 * Stamping a message on its way out (R-ATP-5): every `X-Cairn-*` header the sender put in is
 * removed (so nobody can pre-mark mail as clean), the verdict goes in as `X-Cairn-Verdict` and
 * `X-Cairn-Score`, and a warned message gets a subject tag and an `X-Cairn-Warning` notice in the
 * org's language. Only the header section changes; the body bytes stay as they arrived.
 */
import type { VerdictState } from '../files/index.ts';
import { ALL_TAGS, releasedNotice, subjectTag, warningNotice } from './i18n.ts';
import type { MailLanguage } from './types.ts';

export interface StampOptions {
  state: VerdictState;
  score: number;
  lang: MailLanguage;
  /** Add the subject tag and the notice (deliver-with-warning). Ignored for clean messages. */
  warn: boolean;
  /** Add `X-Cairn-Released` (a message released from quarantine). */
  released?: boolean;
}

/** Where the header section ends and the body starts (the blank line belongs to neither). */
export function headerBounds(raw: Buffer): { headEnd: number; bodyStart: number } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headEnd: crlf + 2, bodyStart: crlf + 4 };
  if (lf >= 0) return { headEnd: lf + 1, bodyStart: lf + 2 };
  return { headEnd: raw.length, bodyStart: raw.length };
}

/** Splits a header section into fields, each with its continuation lines. */
function fields(head: string): string[] {
  const out: string[] = [];
  for (const line of head.split(/(?<=\n)/)) {
    if ((line[0] === ' ' || line[0] === '\t') && out.length) out[out.length - 1] += line;
    else if (line !== '') out.push(line);
  }
  return out;
}

/**
 * Returns the message with Cairn's headers (and, when warned, the subject tag) in place.
 *
 * @example stampMessage(Buffer.from('Subject: Invoice\r\n\r\nhi'), { state: 'suspicious', score: 5, lang: 'en', warn: true })
 *   // 'X-Cairn-Verdict: suspicious\r\nX-Cairn-Score: 5.0\r\nX-Cairn-Warning: …\r\nSubject: [SUSPICIOUS] Invoice\r\n\r\nhi'
 */
export function stampMessage(raw: Buffer, o: StampOptions): Buffer {
  const { headEnd, bodyStart } = headerBounds(raw);
  const head = raw.subarray(0, headEnd).toString('latin1');
  const eol = head.includes('\r\n') || headEnd === raw.length ? '\r\n' : '\n';
  let list = fields(head).filter((f) => !/^x-cairn-[^:]*:/i.test(f));
  const flagged = o.state !== 'clean';
  const added = [`X-Cairn-Verdict: ${o.state}`, `X-Cairn-Score: ${o.score.toFixed(1)}`];
  if (o.warn && flagged) {
    const state = o.state as Exclude<VerdictState, 'clean'>;
    added.push(`X-Cairn-Warning: ${warningNotice(o.lang, state, o.score)}`);
    const tag = subjectTag(o.lang, state);
    const at = list.findIndex((f) => /^subject[ \t]*:/i.test(f));
    if (at < 0) list.push(`Subject: ${tag}${eol}`);
    else {
      const f = list[at]!;
      const colon = f.indexOf(':');
      const value = f.slice(colon + 1).replace(/^[ \t]+/, '');
      if (!ALL_TAGS.some((t) => value.startsWith(t))) list = list.map((x, i) => (i === at ? `${f.slice(0, colon)}: ${tag} ${value}` : x));
    }
  }
  if (o.released) added.push(`X-Cairn-Released: ${releasedNotice(o.lang)}`);
  const last = list.length ? list[list.length - 1]! : '';
  if (last && !last.endsWith('\n')) list[list.length - 1] = last + eol;
  const newHead = added.map((h) => h + eol).join('') + list.join('');
  const tail = bodyStart <= raw.length && bodyStart > headEnd ? raw.subarray(headEnd) : Buffer.from(eol);
  return Buffer.concat([Buffer.from(newHead, 'latin1'), tail]);
}
