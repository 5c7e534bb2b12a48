import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isCairnError } from '../../kernel/errors.ts';
import { CaptureReader, TlsCaptureAnalyzer, analyzeCaptureBytes, type CaptureAnalysis } from './index.ts';
import { cookedFrame, encodePcap, encodePcapng, ethernetFrame, extractTcpSegments, nullFrame, type SynthPacket } from './testkit.ts';

const PCAPS = new URL('../../../../shared/data/ja4/pcap/', import.meta.url).pathname;
const JA4_V4 = 't13d1715h2_5b57614c22b0_3d5424432f57'; // tls12.pcap: one ClientHello over IPv4
const JA4_V6 = 't12d4605h2_85626a9a5f7f_aaf95bb78ec9'; // ipv6.pcapng: a handshake over IPv6
const segments = [...extractTcpSegments(readFileSync(`${PCAPS}ipv6.pcapng`)), ...extractTcpSegments(readFileSync(`${PCAPS}tls12.pcap`))];

const frames = (wrap: (ip: Uint8Array) => Uint8Array, iface?: (i: number) => number): SynthPacket[] =>
  segments.map((s, i) => ({ data: wrap(s.ip), timestampMs: s.timestampMs, interfaceId: iface?.(i) ?? 0 }));

const ja4s = (r: CaptureAnalysis): string[] => r.records.map((x) => x.ja4).sort();
const isCode = (code: string) => (e: unknown) => isCairnError(e) && e.code === code;

test('reads the same hellos from every container, byte order, time resolution and link type', () => {
  const variants: Record<string, Uint8Array> = {
    'pcap, little-endian, µs, Ethernet': encodePcap(frames((ip) => ethernetFrame(ip)), { linkType: 1 }),
    'pcap, big-endian, ns, Ethernet with QinQ': encodePcap(frames((ip) => ethernetFrame(ip, [0x88a8, 0x8100])), { linkType: 1, bigEndian: true, nanoseconds: true }),
    'pcap, raw IP': encodePcap(frames((ip) => ip), { linkType: 101 }),
    'pcap, Linux cooked v1': encodePcap(frames((ip) => cookedFrame(ip, 1)), { linkType: 113 }),
    'pcap, Linux cooked v2': encodePcap(frames((ip) => cookedFrame(ip, 2)), { linkType: 276, bigEndian: true }),
    'pcap, BSD loopback': encodePcap(frames(nullFrame), { linkType: 0 }),
    'pcapng, big-endian, three interfaces with different link types': encodePcapng(
      segments.map((s, i) => ({
        data: [ethernetFrame, (ip: Uint8Array) => cookedFrame(ip, 2), (ip: Uint8Array) => ip][i % 3]!(s.ip),
        timestampMs: s.timestampMs,
        interfaceId: i % 3,
      })),
      { interfaces: [{ linkType: 1, tsresol: 9 }, { linkType: 276 }, { linkType: 101, tsresol: 0x80 | 20 }], bigEndian: true },
    ),
    'pcapng, little-endian, simple packet blocks': encodePcapng(frames((ip) => ethernetFrame(ip, [0x8100])), { interfaces: [{ linkType: 1 }], simpleBlocks: true }),
  };
  for (const [name, bytes] of Object.entries(variants)) {
    const r = analyzeCaptureBytes(bytes);
    assert.deepEqual(ja4s(r), [JA4_V6, JA4_V4].sort(), name);
    assert.deepEqual(r.warnings, [], name);
  }
  // IPv4-only and IPv6-only raw link types.
  const v4 = segments.filter((s) => s.ip[0]! >> 4 === 4).map((s) => ({ data: s.ip, timestampMs: s.timestampMs }));
  const v6 = segments.filter((s) => s.ip[0]! >> 4 === 6).map((s) => ({ data: s.ip, timestampMs: s.timestampMs }));
  assert.deepEqual(ja4s(analyzeCaptureBytes(encodePcap(v4, { linkType: 228 }))), [JA4_V4]);
  assert.deepEqual(ja4s(analyzeCaptureBytes(encodePcap(v6, { linkType: 229 }))), [JA4_V6]);
});

test('keeps capture timestamps, including nanosecond and binary resolutions', () => {
  const first = segments.find((s) => s.payload.length > 0 && s.payload[0] === 22 && s.ip[0]! >> 4 === 4)!;
  const ns = analyzeCaptureBytes(encodePcap(frames((ip) => ip), { linkType: 101, nanoseconds: true }));
  const ng = analyzeCaptureBytes(encodePcapng(frames((ip) => ip), { interfaces: [{ linkType: 101, tsresol: 0x80 | 20 }] }));
  for (const r of [ns, ng]) {
    const rec = r.records.find((x) => x.ja4 === JA4_V4)!;
    assert.ok(Math.abs(rec.timestampMs - first.timestampMs) < 0.01, `${rec.timestampMs} vs ${first.timestampMs}`);
  }
});

test('gives the same result whatever the chunk sizes of a streamed capture', () => {
  const bytes = encodePcapng(frames((ip) => ethernetFrame(ip), (i) => i % 2), { interfaces: [{ linkType: 1 }, { linkType: 1 }], bigEndian: true });
  const whole = JSON.stringify(analyzeCaptureBytes(bytes));
  for (const size of [1, 3, 7, 64, 1000, 65_536]) {
    const a = new TlsCaptureAnalyzer();
    for (let off = 0; off < bytes.length; off += size) a.push(bytes.subarray(off, off + size));
    assert.equal(JSON.stringify(a.end()), whole, `chunk size ${size}`);
  }
});

test('reads a pcapng file with several sections of different byte orders', () => {
  const le = encodePcapng(frames((ip) => ethernetFrame(ip)).slice(0, 9), { interfaces: [{ linkType: 1 }] });
  const be = encodePcapng(frames((ip) => ip).slice(9), { interfaces: [{ linkType: 101 }], bigEndian: true });
  const both = new Uint8Array(le.length + be.length);
  both.set(le);
  both.set(be, le.length);
  assert.deepEqual(ja4s(analyzeCaptureBytes(both)), [JA4_V6, JA4_V4].sort());
});

test('rejects empty input, unknown formats and unusable headers with stable codes', () => {
  const pcap = encodePcap(frames((ip) => ip), { linkType: 101 });
  assert.throws(() => analyzeCaptureBytes(new Uint8Array(0)), isCode('CAIRN_ERR_PCAP_CORRUPT'));
  assert.throws(() => analyzeCaptureBytes(pcap.subarray(0, 20)), isCode('CAIRN_ERR_PCAP_CORRUPT'));
  assert.throws(() => analyzeCaptureBytes(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), isCode('CAIRN_ERR_PCAP_UNSUPPORTED'));
  assert.throws(() => analyzeCaptureBytes(encodePcap([], { linkType: 147 })), isCode('CAIRN_ERR_PCAP_UNSUPPORTED'));
  const v3 = pcap.slice();
  v3[4] = 3; // major version 3
  assert.throws(() => analyzeCaptureBytes(v3), isCode('CAIRN_ERR_PCAP_UNSUPPORTED'));
  const ng = encodePcapng([], { interfaces: [{ linkType: 1 }] });
  const ng2 = ng.slice();
  ng2[12] = 2; // pcapng major version 2
  assert.throws(() => analyzeCaptureBytes(ng2), isCode('CAIRN_ERR_PCAP_UNSUPPORTED'));
});

test('rejects impossible lengths instead of allocating or skipping blindly', () => {
  const pcap = encodePcap(frames((ip) => ip), { linkType: 101 });
  const huge = pcap.slice();
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true); // first record's captured length
  assert.throws(() => analyzeCaptureBytes(huge), isCode('CAIRN_ERR_PCAP_CORRUPT'));

  const ng = encodePcapng(frames((ip) => ip), { interfaces: [{ linkType: 101 }] });
  const shbLen = new DataView(ng.buffer).getUint32(4, true);
  const badTrailer = ng.slice();
  const idbLen = new DataView(badTrailer.buffer).getUint32(shbLen + 4, true);
  new DataView(badTrailer.buffer).setUint32(shbLen + idbLen - 4, idbLen + 4, true);
  assert.throws(() => analyzeCaptureBytes(badTrailer), isCode('CAIRN_ERR_PCAP_CORRUPT'));
  const oddLength = ng.slice();
  new DataView(oddLength.buffer).setUint32(shbLen + 4, 21, true);
  assert.throws(() => analyzeCaptureBytes(oddLength), isCode('CAIRN_ERR_PCAP_CORRUPT'));

  const undeclared = encodePcapng(frames((ip) => ip, () => 5), { interfaces: [{ linkType: 101 }] });
  assert.throws(() => analyzeCaptureBytes(undeclared), isCode('CAIRN_ERR_PCAP_CORRUPT'));

  // The error says how far the read got; an operator can decide whether that is enough.
  const corruptLater = encodePcap(frames((ip) => ip), { linkType: 101 });
  const lastRecord = corruptLater.length - 16 - segments[segments.length - 1]!.ip.length;
  new DataView(corruptLater.buffer).setUint32(lastRecord + 8, 0x7fffffff, true);
  assert.throws(
    () => analyzeCaptureBytes(corruptLater),
    (e: unknown) => isCairnError(e) && e.code === 'CAIRN_ERR_PCAP_CORRUPT' && e.details?.packetsRead === segments.length - 1 && e.details?.handshakesFound === 1,
  );
});

test('a capture cut inside its last packet keeps the hellos before it and says so', () => {
  const ordered = [...segments.filter((s) => s.ip[0]! >> 4 === 6), ...segments.filter((s) => s.ip[0]! >> 4 === 4)];
  const bytes = encodePcap(
    ordered.map((s) => ({ data: s.ip, timestampMs: s.timestampMs })),
    { linkType: 101 },
  );
  const r = analyzeCaptureBytes(bytes.subarray(0, bytes.length - 100));
  assert.deepEqual(ja4s(r), [JA4_V6]);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /ends inside its last packet/);
});

test('skips interfaces with an unsupported link type and warns once', () => {
  const bytes = encodePcapng(frames((ip) => ip, (i) => (i % 2 === 0 ? 0 : 1)), { interfaces: [{ linkType: 101 }, { linkType: 147 }] });
  const r = analyzeCaptureBytes(bytes);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /link type 147/);
});

test('the reader hands out packets without copying when they sit inside one chunk', () => {
  const bytes = encodePcap(frames((ip) => ip), { linkType: 101 });
  const seen: Uint8Array[] = [];
  const r = new CaptureReader((p) => seen.push(p.data));
  r.push(bytes);
  r.end();
  assert.equal(r.packets, segments.length);
  assert.ok(seen.every((d) => d === bytes));
});
