/** TCP syslog framing: octet counting and newline framing, split chunks, oversize and bad headers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CairnError } from '../../kernel/errors.ts';
import { prng } from '../fuzz.ts';
import { SyslogFramer } from './framing.ts';

const A = '<34>Oct 11 22:14:15 h a: first é';
const B = '<165>1 2003-10-11T22:14:15.003Z h app - - - second\nwith a newline inside';
const C = '<13>Mar 10 11:58:00 ap hostapd: wlan0: AP-STA-CONNECTED 11:22:33:44:55:66';

function octet(s: string): string {
  return `${Buffer.byteLength(s)} ${s}`;
}

/** Feed `wire` in random-sized pieces (split even inside multi-byte characters). */
function feed(wire: Buffer, f: SyslogFramer, seed: number): string[] {
  const rnd = prng(seed);
  const out: string[] = [];
  for (let i = 0; i < wire.length; ) {
    const n = 1 + Math.floor(rnd() * 7);
    out.push(...f.push(wire.subarray(i, i + n)));
    i += n;
  }
  out.push(...f.end());
  return out;
}

test('octet counting and newline framing, mixed on one connection and split anywhere', () => {
  const wire = Buffer.from(octet(A) + octet(B) + C + '\r\n' + A + '\n' + octet(C) + C);
  for (let seed = 1; seed <= 20; seed++) {
    assert.deepEqual(feed(wire, new SyslogFramer(), seed), [A, B, C, A, C, C]);
  }
});

test('forced modes: octet counting keeps embedded newlines, non-transparent splits on LF and NUL', () => {
  assert.deepEqual(new SyslogFramer({ mode: 'octet-counting' }).push(Buffer.from(octet(B) + octet(A))), [B, A]);
  const f = new SyslogFramer({ mode: 'non-transparent' });
  assert.deepEqual(f.push(Buffer.from(`${A}\u0000${C}\n\n12 not a count\n`)), [A, C, '12 not a count']);
});

test('oversized frames are dropped and reported, and the stream stays in sync', () => {
  const errors: CairnError[] = [];
  const big = 'x'.repeat(300);
  const f = new SyslogFramer({ maxFrameBytes: 100, onError: (e) => errors.push(e) });
  const wire = Buffer.from(octet(big) + octet(A) + big + '\n' + C + '\n');
  assert.deepEqual(feed(wire, f, 3), [A, C]);
  assert.deepEqual(errors.map((e) => e.details?.['reason']), ['frame_too_large', 'frame_too_large']);
});

test('a bad count in octet-counting mode is reported and skipped to the next line', () => {
  const errors: CairnError[] = [];
  const f = new SyslogFramer({ mode: 'octet-counting', onError: (e) => errors.push(e) });
  assert.deepEqual(f.push(Buffer.from(`xx garbage\n${octet(A)}`)), [A]);
  assert.equal(errors[0]?.details?.['reason'], 'bad_frame_header');
});

test('a counted frame cut by the connection closing is not delivered', () => {
  const f = new SyslogFramer();
  assert.deepEqual(f.push(Buffer.from(octet(A).slice(0, 20))), []);
  assert.deepEqual(f.end(), []);
});
