import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCapture, analyzeCaptureBytes, parseClientHello, ja4, TlsCaptureAnalyzer, type TlsHandshakeRecord } from './index.ts';
import { buildClientHello, buildServerHello, encodePcap, ext, ipTcp, ipWrap, seededRandom, tlsRecord, type SynthPacket } from './testkit.ts';

const CLIENT = new Uint8Array([192, 0, 2, 10]);
const SERVER = new Uint8Array([198, 51, 100, 7]);
const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;

/** A realistic client hello (Chrome-like lists) large enough to span several segments. */
function clientHelloRecord(host = 'www.example.com', padTo = 0): Uint8Array {
  const extensions = [
    ext.empty(0x2a2a),
    ext.sni(host),
    ext.empty(0x0017),
    ext.empty(0xff01),
    ext.groups([0x4a4a, 0x001d, 0x0017, 0x0018]),
    ext.pointFormats([0]),
    ext.empty(0x0023),
    ext.alpn(['h2', 'http/1.1']),
    ext.sigAlgs([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]),
    ext.supportedVersions([0x6a6a, 0x0304, 0x0303]),
    ...(padTo > 0 ? [{ type: 0x0015, data: new Uint8Array(padTo) }] : []),
  ];
  return tlsRecord(buildClientHello({ version: 0x0303, ciphers: [0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f], extensions }));
}

const serverHelloRecord = (cipher = 0x1301, hrr = false): Uint8Array =>
  tlsRecord(buildServerHello({ version: 0x0303, cipher, helloRetryRequest: hrr, extensions: [{ type: 0x2b, data: new Uint8Array([3, 4]) }] }), 22, 0x0303);

interface Conn {
  client?: Uint8Array;
  server?: Uint8Array;
  cport?: number;
  sport?: number;
}

/** Builds raw-IP packets of one connection; returns helpers that append segments. */
function connection(c: Conn = {}) {
  const src = c.client ?? CLIENT;
  const dst = c.server ?? SERVER;
  const cport = c.cport ?? 50_000;
  const sport = c.sport ?? 443;
  let cseq = 1000;
  let sseq = 900_000;
  let t = 1_700_000_000_000;
  const packets: SynthPacket[] = [];
  const add = (ip: Uint8Array): void => void packets.push({ data: ip, timestampMs: (t += 1) });
  return {
    packets,
    syn(): void {
      add(ipTcp({ src, dst, sport: cport, dport: sport, seq: cseq - 1, flags: SYN }));
      add(ipTcp({ src: dst, dst: src, sport, dport: cport, seq: sseq - 1, flags: SYN | ACK }));
    },
    /** Client data at a byte offset of its stream (default: next). */
    client(payload: Uint8Array, at?: number): void {
      const seq = at === undefined ? cseq : 1000 + at;
      add(ipTcp({ src, dst, sport: cport, dport: sport, seq, flags: PSH_ACK, payload }));
      if (at === undefined) cseq += payload.length;
    },
    server(payload: Uint8Array): void {
      add(ipTcp({ src: dst, dst: src, sport, dport: cport, seq: sseq, flags: PSH_ACK, payload }));
      sseq += payload.length;
    },
    fin(): void {
      add(ipTcp({ src, dst, sport: cport, dport: sport, seq: cseq, flags: FIN_ACK }));
      add(ipTcp({ src: dst, dst: src, sport, dport: cport, seq: sseq, flags: FIN_ACK }));
    },
  };
}

const pcap = (packets: SynthPacket[]): Uint8Array => encodePcap(packets, { linkType: 101 });
const expectedJa4 = (record: Uint8Array): string => ja4(parseClientHello(record)).ja4;

test('reassembles a ClientHello cut into tiny, reordered, duplicated and overlapping segments', () => {
  const ch = clientHelloRecord('reorder.example', 1200);
  const rnd = seededRandom(7);
  for (let round = 0; round < 20; round++) {
    const pieces: [number, Uint8Array][] = [];
    for (let off = 0; off < ch.length; ) {
      const len = 1 + Math.floor(rnd() * 60);
      pieces.push([off, ch.subarray(off, off + len)]);
      off += len;
    }
    // Retransmissions that overlap their neighbours.
    for (let i = 0; i < 10; i++) {
      const from = Math.floor(rnd() * (ch.length - 100));
      pieces.push([from, ch.subarray(from, from + 1 + Math.floor(rnd() * 90))]);
    }
    for (let i = pieces.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [pieces[i], pieces[j]] = [pieces[j]!, pieces[i]!];
    }
    const c = connection();
    c.syn();
    for (const [at, bytes] of pieces) c.client(bytes, at);
    c.server(serverHelloRecord(0x1302));
    const bytes = pcap(c.packets);
    const { records } = analyzeCaptureBytes(bytes);
    assert.equal(records.length, 1, `round ${round}`);
    // Streamed in small chunks, packets straddle chunks and pass through the reader's reused
    // carry buffer: out-of-order segments kept from there must have been copied.
    const streamed = new TlsCaptureAnalyzer();
    for (let off = 0; off < bytes.length; off += 37) streamed.push(bytes.subarray(off, off + 37));
    assert.deepEqual(streamed.end().records, records);
    assert.equal(records[0]!.ja4, expectedJa4(ch));
    assert.equal(records[0]!.sni, 'reorder.example');
    assert.equal(records[0]!.server?.cipher, 0x1302);
    assert.equal(records[0]!.server?.version, 0x0304);
  }
});

test('finds the hello of a connection whose start (SYN) was not captured', () => {
  const c = connection();
  const ch = clientHelloRecord();
  c.client(ch.subarray(0, 100));
  c.client(ch.subarray(100));
  const { records } = analyzeCaptureBytes(pcap(c.packets));
  assert.equal(records[0]?.ja4, expectedJa4(ch));
});

test('records addresses, ports, SNI, ALPN, versions and lists of the client', () => {
  const c = connection({ cport: 51_234, sport: 8443 });
  c.syn();
  c.client(clientHelloRecord('api.example.org'));
  c.server(serverHelloRecord());
  const [r] = analyzeCaptureBytes(pcap(c.packets)).records;
  assert.ok(r);
  assert.deepEqual(
    [r.transport, r.srcAddress, r.srcPort, r.dstAddress, r.dstPort, r.sni, r.helloIndex],
    ['tcp', '192.0.2.10', 51_234, '198.51.100.7', 8443, 'api.example.org', 1],
  );
  assert.deepEqual(r.alpn, ['h2', 'http/1.1']);
  assert.deepEqual(r.supportedVersions, [0x6a6a, 0x0304, 0x0303]);
  assert.deepEqual(r.ciphers, [0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f]);
  assert.deepEqual(r.supportedGroups, [0x4a4a, 0x001d, 0x0017, 0x0018]);
  assert.equal(r.ja3.split(',')[0], '771');
  assert.match(r.ja3_hash, /^[0-9a-f]{32}$/);
  assert.match(r.ja4, /^t13d0509h2_/);
});

test('stops at the handshake: later packets are skipped, never buffered (R-ATP-4)', () => {
  const c = connection();
  c.syn();
  c.client(clientHelloRecord());
  c.server(serverHelloRecord());
  for (let i = 0; i < 50; i++) {
    c.client(tlsRecord(new Uint8Array(1000).fill(i), 23, 0x0303));
    c.server(tlsRecord(new Uint8Array(1000).fill(i), 23, 0x0303));
  }
  let emittedBeforeEnd = 0;
  const a = new TlsCaptureAnalyzer({ onRecord: () => void emittedBeforeEnd++ });
  a.push(pcap(c.packets));
  assert.equal(emittedBeforeEnd, 1, 'the record is complete once the ServerHello is seen');
  const r = a.end();
  assert.equal(r.stats.skippedAfterHandshake, 100);
  assert.equal(r.records.length, 1);
});

test('gives up on a connection direction after the byte cap', () => {
  // 100 KiB of well-formed handshake records that never contain a hello.
  const c = connection();
  c.syn();
  const filler = tlsRecord(new Uint8Array([15, 0, 0x03, 0xe8, ...new Array<number>(1000).fill(1)]), 22, 0x0303);
  for (let i = 0; i < 100; i++) c.client(filler);
  c.client(clientHelloRecord());
  const r = analyzeCaptureBytes(pcap(c.packets));
  assert.equal(r.records.length, 0);
  assert.equal(r.stats.cappedDirections, 1);
  // A hello larger than a small cap is not reassembled either.
  const big = connection();
  big.syn();
  big.client(clientHelloRecord('big.example', 6000));
  const small = analyzeCaptureBytes(pcap(big.packets), { maxFlowBytes: 4096 });
  assert.equal(small.records.length, 0);
  assert.equal(analyzeCaptureBytes(pcap(big.packets)).records.length, 1);
});

test('after a HelloRetryRequest the second ClientHello is recorded with the final ServerHello', () => {
  const c = connection();
  c.syn();
  const first = clientHelloRecord('hrr.example');
  c.client(first);
  c.server(serverHelloRecord(0x1301, true));
  c.client(new Uint8Array([20, 3, 3, 0, 1, 1])); // middlebox-compatibility ChangeCipherSpec
  const second = clientHelloRecord('hrr.example', 10);
  c.client(second);
  c.server(serverHelloRecord(0x1301));
  const { records } = analyzeCaptureBytes(pcap(c.packets));
  assert.deepEqual(
    records.map((r) => [r.helloIndex, r.server?.helloRetryRequest]),
    [
      [1, true],
      [2, false],
    ],
  );
});

test('finds TLS behind an HTTP CONNECT or SOCKS5 preamble', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const connect = connection();
  connect.syn();
  connect.client(enc('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: test\r\n\r\n'));
  connect.server(enc('HTTP/1.1 200 Connection established\r\n\r\n'));
  connect.client(clientHelloRecord('proxied.example'));
  connect.server(serverHelloRecord());
  const socks = connection({ cport: 50_001, sport: 1080 });
  socks.syn();
  socks.client(new Uint8Array([5, 1, 0]));
  socks.server(new Uint8Array([5, 0]));
  socks.client(new Uint8Array([5, 1, 0, 3, 11, ...enc('example.com'), 1, 187]));
  socks.server(new Uint8Array([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
  socks.client(clientHelloRecord('socks.example'));
  socks.server(serverHelloRecord(0x1303));
  const { records } = analyzeCaptureBytes(pcap([...connect.packets, ...socks.packets]));
  assert.deepEqual(records.map((r) => [r.sni, r.server?.cipher]), [
    ['proxied.example', 0x1301],
    ['socks.example', 0x1303],
  ]);
});

test('drops connections that do not start like TLS at their first byte', () => {
  const c = connection({ sport: 80 });
  c.syn();
  c.client(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n'));
  c.server(new TextEncoder().encode('HTTP/1.1 200 OK\r\n\r\nhello'));
  c.client(clientHelloRecord()); // not the start of the stream: ignored
  const r = analyzeCaptureBytes(pcap(c.packets));
  assert.equal(r.records.length, 0);
});

test('evicts idle connections when the table is full and keeps working', () => {
  const packets: SynthPacket[] = [];
  for (let i = 0; i < 200; i++) {
    const c = connection({ cport: 10_000 + i });
    c.syn();
    c.client(clientHelloRecord().subarray(0, 50)); // never completed
    packets.push(...c.packets);
  }
  const done = connection({ cport: 60_000 });
  done.syn();
  done.client(clientHelloRecord('last.example'));
  packets.push(...done.packets);
  const r = analyzeCaptureBytes(pcap(packets), { maxFlows: 32 });
  assert.ok(r.stats.evictedFlows > 0);
  assert.deepEqual(r.records.map((x) => x.sni), ['last.example']);
});

test('reads captures from async iterables of chunks', async () => {
  const c = connection();
  c.syn();
  c.client(clientHelloRecord());
  c.server(serverHelloRecord());
  c.fin();
  const bytes = pcap(c.packets);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let off = 0; off < bytes.length; off += 100) yield bytes.subarray(off, off + 100);
  }
  const streamed = await analyzeCapture(chunks());
  assert.deepEqual(streamed.records, analyzeCaptureBytes(bytes).records);
  assert.deepEqual((await analyzeCapture(bytes)).records, streamed.records);
});

test('streams records out of large captures without retaining them', () => {
  const packets: SynthPacket[] = [];
  for (let i = 0; i < 50; i++) {
    const c = connection({ cport: 20_000 + i });
    c.syn();
    c.client(clientHelloRecord(`h${i}.example`));
    packets.push(...c.packets); // no ServerHello: records are emitted at the end
  }
  const seen: TlsHandshakeRecord[] = [];
  const r = analyzeCaptureBytes(pcap(packets), { retainRecords: false, onRecord: (x) => seen.push(x) });
  assert.equal(r.records.length, 0);
  assert.equal(seen.length, 50);
});

test('counts and skips IP fragments', () => {
  const ip = ipTcp({ src: CLIENT, dst: SERVER, sport: 1, dport: 443, seq: 1, flags: PSH_ACK, payload: clientHelloRecord() });
  const frag = ip.slice();
  frag[6] = 0x20; // more fragments
  const r = analyzeCaptureBytes(pcap([{ data: frag, timestampMs: 1 }]));
  assert.equal(r.stats.fragments, 1);
  assert.equal(r.records.length, 0);
});

test('skips IPv6 extension headers on the way to TCP', () => {
  const v6a = new Uint8Array(16).fill(0x20);
  const v6b = new Uint8Array(16).fill(0x30);
  const tcpIp = ipTcp({ src: v6a, dst: v6b, sport: 40_000, dport: 443, seq: 5, flags: PSH_ACK, payload: clientHelloRecord('v6.example') });
  const tcp = tcpIp.subarray(40);
  // Hop-by-hop (8 bytes) → destination options (16 bytes) → TCP.
  const chain = new Uint8Array([60, 0, 1, 4, 0, 0, 0, 0, 6, 1, 1, 12, ...new Array<number>(12).fill(0)]);
  const withExt = ipWrap(v6a, v6b, 0, new Uint8Array([...chain, ...tcp]));
  const [r] = analyzeCaptureBytes(pcap([{ data: withExt, timestampMs: 1 }])).records;
  assert.equal(r?.sni, 'v6.example');
  assert.equal(r?.srcAddress, '2020:2020:2020:2020:2020:2020:2020:2020');
});

test('fingerprints a DTLS ClientHello over UDP', () => {
  const hello = buildClientHello({
    version: 0xfefd,
    ciphers: [0xc02b, 0xc02f],
    dtls: true,
    extensions: [ext.sni('dtls.example'), ext.supportedVersions([0xfefd]), ext.sigAlgs([0x0403])],
  });
  // DTLS record header (13 bytes) and handshake header (12 bytes: + message_seq, fragment).
  const body = hello.subarray(4);
  const hs = new Uint8Array([1, ...hello.subarray(1, 4), 0, 0, 0, 0, 0, ...hello.subarray(1, 4), ...body]);
  const rec = new Uint8Array([22, 0xfe, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, hs.length >> 8, hs.length & 0xff, ...hs]);
  const udp = new Uint8Array(8 + rec.length);
  new DataView(udp.buffer).setUint16(0, 5684);
  new DataView(udp.buffer).setUint16(2, 5684);
  new DataView(udp.buffer).setUint16(4, udp.length);
  udp.set(rec, 8);
  const [r] = analyzeCaptureBytes(pcap([{ data: ipWrap(CLIENT, SERVER, 17, udp), timestampMs: 1 }])).records;
  assert.equal(r?.transport, 'dtls');
  assert.equal(r?.sni, 'dtls.example');
  assert.match(r?.ja4 ?? '', /^dd2d020300_/);
});

test('a new connection on the same addresses and ports is followed afresh', () => {
  const first = connection();
  first.syn();
  first.client(clientHelloRecord('one.example'));
  first.server(serverHelloRecord());
  const second = connection(); // same 4-tuple, no FIN in between
  second.syn();
  second.client(clientHelloRecord('two.example'));
  const { records } = analyzeCaptureBytes(pcap([...first.packets, ...second.packets]));
  assert.deepEqual(records.map((r) => r.sni), ['one.example', 'two.example']);
});

test('keeps reassembly buffers under the memory budget by giving up the oldest connections', () => {
  const packets: SynthPacket[] = [];
  const big = clientHelloRecord('big.example', 15_000);
  for (let i = 0; i < 120; i++) {
    const c = connection({ cport: 30_000 + i });
    c.syn();
    c.client(big.subarray(0, 1400));
    for (let off = 1400; off < 14_000; off += 1400) c.client(big.subarray(off, off + 1400));
    packets.push(...c.packets);
  }
  const done = connection({ cport: 61_000 });
  done.syn();
  done.client(clientHelloRecord('after.example'));
  packets.push(...done.packets);
  const r = analyzeCaptureBytes(pcap(packets), { maxBufferedBytes: 1 << 20 });
  assert.ok(r.stats.evictedFlows > 0, JSON.stringify(r.stats));
  // Checked between packets, so the peak may pass the budget by one packet's buffer growth.
  assert.ok(r.stats.peakBufferedBytes <= (1 << 20) + 2 * 65_536, JSON.stringify(r.stats));
  assert.ok(analyzeCaptureBytes(pcap(packets)).stats.peakBufferedBytes > (1 << 20) + 2 * 65_536, 'without the budget more is held');
  assert.deepEqual(r.records.map((x) => x.sni), ['after.example']);
  assert.match(r.warnings.join('\n'), /evicted/);
});
