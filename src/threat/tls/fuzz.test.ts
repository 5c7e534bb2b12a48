/**
 * Robustness: thousands of mutated captures (bit flips, interesting values in length fields,
 * truncations, deleted and duplicated ranges, corrupted TLS/QUIC lengths) from the real
 * samples, with a fixed seed. Every run must either return or throw a `CairnError`, within
 * bounded time; and reading a capture in random chunks must give the same outcome as reading
 * it whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isCairnError } from '../../kernel/errors.ts';
import { TlsCaptureAnalyzer, analyzeCaptureBytes, ja3, ja4, parseClientHello, type CaptureAnalysis } from './index.ts';
import { encodePcap, encodePcapng, extractTcpSegments, seededRandom } from './testkit.ts';

const PCAPS = new URL('../../../../shared/data/ja4/pcap/', import.meta.url).pathname;
const SAMPLES = [
  'tls12.pcap',
  'tls-non-ascii-alpn.pcapng',
  'quic-tls-handshake.pcapng',
  'quic-with-several-tls-frames.pcapng',
  'ipv6.pcapng',
  'https-connect.pcap',
  'badcurveball.pcap',
  'gre-erspan-vxlan.pcap',
  'dhcp.pcapng',
  'tcpdump-geneve.pcap',
  'socks-https-example.pcap',
  'macos_tcp_flags.pcap',
  'chrome-cloudflare-quic-with-secrets.pcapng',
].filter((n) => existsSync(PCAPS + n));

const ITERATIONS = 3000;
const MAX_MS_PER_CASE = 5000; // a hang guard, not a speed test

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = SAMPLES.map((n) => new Uint8Array(readFileSync(PCAPS + n)));
  if (out.length > 0) {
    // Big-endian pcapng with simple packet blocks and a nanosecond big-endian pcap, too.
    const segs = extractTcpSegments(out[0]!);
    const packets = segs.map((s) => ({ data: s.ip, timestampMs: s.timestampMs }));
    out.push(encodePcapng(packets, { interfaces: [{ linkType: 101, tsresol: 9 }], bigEndian: true, simpleBlocks: true }));
    out.push(encodePcap(packets, { linkType: 101, bigEndian: true, nanoseconds: true }));
  }
  return out;
}

const U32 = [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];
const U16 = [0, 1, 4, 0x7f, 0x80, 0xff, 0x3fff, 0x4000, 0x7fff, 0xffff];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const at = (n = 1): number => Math.floor(rnd() * Math.max(1, src.length - n));
  let b = src.slice();
  const kind = Math.floor(rnd() * 8);
  switch (kind) {
    case 0: // bit flips
      for (let i = 0, n = 1 + Math.floor(rnd() * 16); i < n; i++) b[at()]! ^= 1 << Math.floor(rnd() * 8);
      break;
    case 1: {
      // an interesting 32-bit value at an aligned offset (pcap/pcapng length fields)
      const o = at(4) & ~3;
      new DataView(b.buffer).setUint32(o, pick(U32), rnd() < 0.5);
      break;
    }
    case 2: {
      // an interesting 16-bit value anywhere (IP/TCP/UDP/TLS length fields)
      const o = at(2);
      new DataView(b.buffer).setUint16(o, pick(U16), false);
      break;
    }
    case 3: // truncation
      b = b.slice(0, Math.floor(rnd() * b.length));
      break;
    case 4: {
      // delete a range (shifts all framing after it)
      const o = at();
      b = new Uint8Array([...b.subarray(0, o), ...b.subarray(Math.min(b.length, o + 1 + Math.floor(rnd() * 64)))]);
      break;
    }
    case 5: {
      // duplicate a range
      const o = at();
      const piece = b.subarray(o, o + 1 + Math.floor(rnd() * 64));
      b = new Uint8Array([...b.subarray(0, o), ...piece, ...b.subarray(o)]);
      break;
    }
    case 6: {
      // corrupt the lengths inside a TLS record: record length, handshake length, a list length
      const starts: number[] = [];
      for (let i = 0; i + 9 < b.length; i++) if (b[i] === 22 && b[i + 1] === 3 && b[i + 5]! <= 2) starts.push(i);
      if (starts.length === 0) break;
      const s = pick(starts);
      const field = pick([3, 4, 6, 7, 8, 9 + 34, 9 + 35, 9 + 36, 9 + 37, 9 + 38, 9 + 39]);
      if (s + field < b.length) b[s + field] = pick([0, 1, 0x7f, 0x80, 0xff]);
      if (rnd() < 0.5) {
        const o = s + 9 + Math.floor(rnd() * 200);
        if (o + 1 < b.length) new DataView(b.buffer).setUint16(o, pick(U16), false);
      }
      break;
    }
    default: {
      // random bytes over a random range
      const o = at();
      for (let i = o, n = Math.min(b.length, o + 1 + Math.floor(rnd() * 32)); i < n; i++) b[i] = Math.floor(rnd() * 256);
    }
  }
  return b;
}

type Outcome = { ok: CaptureAnalysis } | { code: string };

function whole(bytes: Uint8Array): Outcome {
  try {
    return { ok: analyzeCaptureBytes(bytes) };
  } catch (e) {
    if (!isCairnError(e)) throw e;
    return { code: e.code };
  }
}

function chunked(bytes: Uint8Array, rnd: () => number): Outcome {
  try {
    const a = new TlsCaptureAnalyzer();
    for (let off = 0; off < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 700);
      a.push(bytes.subarray(off, off + n));
      off += n;
    }
    return { ok: a.end() };
  } catch (e) {
    if (!isCairnError(e)) throw e;
    return { code: e.code };
  }
}

const summary = (o: Outcome): string => ('code' in o ? o.code : JSON.stringify(o.ok.records.map((r) => [r.flowIndex, r.ja4, r.ja3_hash, r.sni, r.server])));

test(`${ITERATIONS} mutated captures either return or throw a CairnError, quickly`, { skip: SAMPLES.length === 0 && 'no sample captures' }, (t) => {
  const rnd = seededRandom(20_261_123);
  const corpus = seeds();
  const heapBefore = process.memoryUsage().heapUsed;
  const counts = { ok: 0, CAIRN_ERR_PCAP_CORRUPT: 0, CAIRN_ERR_PCAP_UNSUPPORTED: 0 } as Record<string, number>;
  let slowest = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    let bytes = corpus[i % corpus.length]!;
    for (let m = 0, n = 1 + Math.floor(rnd() * 3); m < n; m++) bytes = mutate(bytes, rnd);
    const t0 = performance.now();
    let outcome: Outcome;
    try {
      outcome = whole(bytes);
    } catch (e) {
      assert.fail(`case ${i}: threw a non-CairnError: ${(e as Error).stack}`);
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < MAX_MS_PER_CASE, `case ${i} took ${ms.toFixed(0)} ms`);
    const key = 'code' in outcome ? outcome.code : 'ok';
    counts[key] = (counts[key] ?? 0) + 1;
    if (i % 10 === 0) assert.equal(summary(chunked(bytes, rnd)), summary(outcome), `case ${i}: chunked read differs`);
  }
  t.diagnostic(`outcomes ${JSON.stringify(counts)}, slowest case ${slowest.toFixed(1)} ms`);
  // Both outcomes occur, so the mutations reach past the file header and into the packets.
  assert.ok(counts.ok! > ITERATIONS / 10, JSON.stringify(counts));
  assert.ok(counts.CAIRN_ERR_PCAP_CORRUPT! > 0, JSON.stringify(counts));
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 256 << 20, 'heap grew by more than 256 MiB');
  assert.ok(slowest < MAX_MS_PER_CASE);
});

test('random bytes behind valid file headers are rejected or read, never hang', () => {
  const rnd = seededRandom(99);
  const headers = [encodePcap([], { linkType: 1 }), encodePcap([], { linkType: 101, bigEndian: true }), encodePcapng([], { interfaces: [{ linkType: 1 }] })];
  for (let i = 0; i < 500; i++) {
    const h = headers[i % headers.length]!;
    const body = new Uint8Array(Math.floor(rnd() * 4096));
    for (let j = 0; j < body.length; j++) body[j] = Math.floor(rnd() * 256);
    const bytes = new Uint8Array([...h, ...body]);
    const o = whole(bytes);
    if ('code' in o) assert.match(o.code, /^CAIRN_ERR_PCAP_(CORRUPT|UNSUPPORTED)$/);
  }
});

test('mutated ClientHello messages parse and fingerprint, or throw CAIRN_ERR_TLS_MALFORMED', { skip: SAMPLES.length === 0 && 'no sample captures' }, () => {
  // Every ClientHello record that starts a segment in the samples.
  const hellos: Uint8Array[] = [];
  for (const name of SAMPLES) {
    for (const s of extractTcpSegments(readFileSync(PCAPS + name))) {
      const p = s.payload;
      const end = 5 + ((p[3]! << 8) | p[4]!);
      if (p.length >= end && p[0] === 22 && p[5] === 1) hellos.push(p.subarray(5, end)); // whole records only
    }
  }
  assert.ok(hellos.length > 3);
  const rnd = seededRandom(4242);
  let parsed = 0;
  for (let i = 0; i < 5000; i++) {
    let msg = hellos[i % hellos.length]!.slice();
    const o = 4 + Math.floor(rnd() * (msg.length - 4));
    if (rnd() < 0.5) msg[o] = Math.floor(rnd() * 256);
    else if (rnd() < 0.5) msg = msg.subarray(0, o);
    else new DataView(msg.buffer, msg.byteOffset).setUint16(Math.min(o, msg.length - 2), U16[Math.floor(rnd() * U16.length)]!, false);
    // Keep the 24-bit handshake length consistent with what is left, so the body parser is reached.
    const len = msg.length - 4;
    msg[1] = (len >> 16) & 0xff;
    msg[2] = (len >> 8) & 0xff;
    msg[3] = len & 0xff;
    try {
      const h = parseClientHello(msg);
      ja4(h, 't');
      ja3(h);
      parsed++;
    } catch (e) {
      assert.ok(isCairnError(e) && e.code === 'CAIRN_ERR_TLS_MALFORMED', String(e));
    }
  }
  assert.ok(parsed > 1000, `only ${parsed} mutated hellos parsed`);
});
