/**
 * Framing for syslog over TCP (RFC 6587): octet counting (`<len> <message>`, RFC 5425/6587
 * §3.4.1) and non-transparent framing (messages ended by LF, optionally CR LF or NUL, §3.4.2).
 * Senders mix them in practice, so by default each frame is detected by its first byte: a digit
 * starts an octet count, anything else (normally `<`) a newline-framed message. Chunks may split
 * frames anywhere, including inside a UTF-8 sequence; frames are decoded only once complete.
 */
import type { CairnError } from '../../kernel/errors.ts';
import { reject } from '../errors.ts';

export interface SyslogFramerOptions {
  /** `auto` (default) detects per frame; the others force one framing. */
  mode?: 'auto' | 'octet-counting' | 'non-transparent';
  /** Largest frame kept, bytes (default 65 536). Larger frames are dropped and reported; the stream stays in sync. */
  maxFrameBytes?: number;
  /** Told about every dropped frame (`frame_too_large`, `bad_frame_header`). */
  onError?: (e: CairnError) => void;
}

/**
 * Incremental TCP syslog framer: feed it chunks, get back complete messages as strings.
 *
 * @example
 * const f = new SyslogFramer(); socket.on('data', (c) => f.push(c).forEach(handleLine)); socket.on('end', () => f.end().forEach(handleLine));
 */
export class SyslogFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of an oversized octet-counted frame still to discard. */
  private skipBytes = 0;
  /** Discarding an oversized newline-framed message until its LF. */
  private skipLine = false;
  private readonly max: number;

  constructor(private readonly opts: SyslogFramerOptions = {}) {
    this.max = opts.maxFrameBytes ?? 65_536;
  }

  private report(reason: 'frame_too_large' | 'bad_frame_header', message: string): void {
    this.opts.onError?.(reject('CAIRN_ERR_SYSLOG_MALFORMED', 'syslog', reason, message, reason === 'frame_too_large' ? { limit: this.max } : undefined));
  }

  /** Feed one chunk; returns the messages it completed, in order. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let b: Buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.skipBytes > 0) {
      const n = Math.min(this.skipBytes, b.length);
      this.skipBytes -= n;
      b = b.subarray(n);
    }
    this.buf = this.buf.length > 0 ? Buffer.concat([this.buf, b]) : b;
    let i = 0;
    const buf = this.buf;
    while (i < buf.length) {
      if (this.skipLine) {
        const nl = buf.indexOf(10, i);
        if (nl < 0) {
          i = buf.length;
          break;
        }
        this.skipLine = false;
        i = nl + 1;
        continue;
      }
      const mode = this.opts.mode ?? 'auto';
      const first = buf[i]!;
      if (mode === 'octet-counting' || (mode === 'auto' && first >= 49 && first <= 57)) {
        // MSG-LEN: NONZERO-DIGIT *DIGIT, then SP.
        let j = i;
        let len = 0;
        while (j < buf.length && j - i < 10 && buf[j]! >= 48 && buf[j]! <= 57) {
          len = len * 10 + (buf[j]! - 48);
          j++;
        }
        if (j === buf.length && j - i < 10) break; // header not complete yet
        const headerOk = j > i && j - i < 10 && buf[j] === 32 && buf[i] !== 48;
        if (!headerOk) {
          if (mode === 'octet-counting') {
            this.report('bad_frame_header', 'An octet-counted frame does not start with a length and a space.');
            this.skipLine = true; // resynchronise on the next LF
            continue;
          }
          // auto: not a count after all; treat as a newline-framed message.
        } else {
          const start = j + 1;
          if (len > this.max) {
            this.report('frame_too_large', `A frame is larger than ${this.max} bytes.`);
            const avail = buf.length - start;
            if (avail >= len) {
              i = start + len;
              continue;
            }
            this.skipBytes = len - avail;
            i = buf.length;
            break;
          }
          if (buf.length - start < len) break; // wait for the rest
          out.push(trimEnd(buf, start, start + len));
          i = start + len;
          continue;
        }
      }
      // Non-transparent framing: up to LF (or NUL).
      let nl = buf.indexOf(10, i);
      const nul = buf.indexOf(0, i);
      if (nul >= 0 && (nl < 0 || nul < nl)) nl = nul;
      if (nl < 0) {
        if (buf.length - i > this.max) {
          this.report('frame_too_large', `A message is longer than ${this.max} bytes without a line end.`);
          this.skipLine = true;
          i = buf.length;
        }
        break;
      }
      if (nl - i > this.max) this.report('frame_too_large', `A message is longer than ${this.max} bytes.`);
      else if (nl > i) out.push(trimEnd(buf, i, nl));
      i = nl + 1;
    }
    this.buf = i >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(i));
    return out;
  }

  /** At connection close: a last newline-framed message without its LF, if any. */
  end(): string[] {
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    if (rest.length === 0 || this.skipLine || this.skipBytes > 0) return [];
    if ((this.opts.mode ?? 'auto') === 'octet-counting' || (rest[0]! >= 49 && rest[0]! <= 57 && rest.indexOf(32) > 0 && rest.indexOf(32) < 10)) return []; // a truncated counted frame
    return [trimEnd(rest, 0, rest.length)];
  }
}

/** Decode bytes [a, b) as UTF-8, dropping a trailing CR. */
function trimEnd(buf: Buffer, a: number, b: number): string {
  if (b > a && buf[b - 1] === 13) b--;
  return buf.toString('utf8', a, b);
}
