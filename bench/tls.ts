/**
 * Benchmark of the encrypted-traffic analysis hot path: ClientHellos parsed and fingerprinted
 * (JA3 + all four JA4 forms) per second, through the whole pipeline (pcap reader, link/IP/TCP
 * decoding, flow table, reassembly, hello parsing, fingerprints, record objects).
 *
 * The capture is synthetic: real ClientHello/ServerHello pairs from the sample captures in
 * `shared/data/ja4/pcap`, replayed as complete TCP connections (SYN, SYN-ACK, hello segments at
 * a 1448-byte MSS, ServerHello, one application-data packet that must be skipped, FINs) with
 * a distinct client address and port per connection. The capture builders come from the
 * module's `testkit.ts` (test helpers, not public API).
 *
 * Figures (the target is ≥ 200,000 ClientHellos/s):
 * - `clientHellosPerSecond`: the headline. A large pcap file (50,000 connections, ~72 MB; with
 *   --full 200,000, ~290 MB) is written to the temp directory, then streamed from disk in 1 MiB
 *   chunks, as an upload would be, once to warm up and three times timed, each pass through a
 *   fresh `TlsCaptureAnalyzer`; every record goes to `onRecord` and none is retained. Wall time
 *   of read + analysis, median pass (`…BestPass`: the fastest). `clientHellosPerCpuSecond`
 *   divides the median pass by this process's CPU time (fairer on a shared machine).
 * - `inMemoryClientHellos…`: batches written into one reused buffer (≤ 64 MB) and pushed
 *   directly, analyzer time only; `…BestBatch` is the fastest batch (least disturbed by load).
 * - `shuffledClientHellos…`: the same with each hello's extensions shuffled per connection
 *   (Chrome's behaviour), so the original-order JA4 and JA3 are computed afresh every time.
 * - `retainedClientHellosPerSecond`: the default mode that keeps every record in memory.
 *
 * Run: `node --import tsx bench/tls.ts [--full]`; prints JSON.
 */
import { closeSync, createReadStream, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TlsCaptureAnalyzer, type CaptureStats } from '../src/threat/tls/index.ts';
import { encodePcap, extractTcpSegments, seededRandom } from '../src/threat/tls/testkit.ts';

const PCAP_DIR = new URL('../../shared/data/ja4/pcap/', import.meta.url).pathname;
const SOURCES = ['tls-handshake.pcapng', 'latest.pcapng', 'tls12.pcap', 'ipv6.pcapng', 'macos_tcp_flags.pcap', 'https3-301-get.pcap', 'badcurveball.pcap'];
const MSS = 1448;
/** ClientHellos per second the issue asks for. */
const TARGET = 200_000;
/** Passes over the pcap file; the median pass is the headline figure. */
const PASSES = 3;

interface Template {
  /** The TLS record(s) holding the ClientHello, as the client sent them. */
  clientHello: Uint8Array;
  /** The TLS record holding the ServerHello. */
  serverHello: Uint8Array;
  server: Uint8Array;
  serverPort: number;
}

/** First `n` bytes of one direction's TCP stream, in sequence order. */
function streamPrefix(segs: ReturnType<typeof extractTcpSegments>, n: number): Uint8Array | null {
  const data = segs.filter((s) => s.payload.length > 0).sort((a, b) => ((a.seq - segs[0]!.seq) | 0) - ((b.seq - segs[0]!.seq) | 0));
  if (data.length === 0) return null;
  const base = data[0]!.seq;
  const out = new Uint8Array(n);
  let have = 0;
  for (const s of data) {
    const rel = (s.seq - base) | 0;
    if (rel > have) break;
    const from = have - rel;
    if (from >= s.payload.length) continue;
    const take = Math.min(s.payload.length - from, n - have);
    out.set(s.payload.subarray(from, from + take), have);
    have += take;
    if (have === n) return out;
  }
  return have >= 5 && have >= 5 + ((out[3]! << 8) | out[4]!) ? out.subarray(0, have) : null;
}

function firstRecord(stream: Uint8Array | null, handshakeType: number): Uint8Array | null {
  if (!stream || stream.length < 6 || stream[0] !== 22 || stream[5] !== handshakeType) return null;
  const len = (stream[3]! << 8) | stream[4]!;
  return stream.length >= 5 + len ? stream.slice(0, 5 + len) : null;
}

/** Real hello pairs from the sample captures (IPv4 and IPv6, TLS 1.0–1.3). */
export function loadTemplates(): Template[] {
  const out: Template[] = [];
  for (const name of SOURCES) {
    const segs = extractTcpSegments(readFileSync(PCAP_DIR + name));
    const flows = new Map<string, typeof segs>();
    for (const s of segs) {
      const a = `${Buffer.from(s.src).toString('hex')}:${s.srcPort}`;
      const b = `${Buffer.from(s.dst).toString('hex')}:${s.dstPort}`;
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      (flows.get(key) ?? flows.set(key, []).get(key)!).push(s);
    }
    for (const segsOfFlow of flows.values()) {
      const first = segsOfFlow.find((s) => s.payload.length > 0);
      if (!first) continue;
      const fromClient = segsOfFlow.filter((s) => s.srcPort === first.srcPort);
      const fromServer = segsOfFlow.filter((s) => s.srcPort !== first.srcPort);
      const ch = firstRecord(streamPrefix(fromClient, 18_000), 1);
      const sh = firstRecord(streamPrefix(fromServer, 18_000), 2);
      if (ch && sh) out.push({ clientHello: ch, serverHello: sh, server: first.dst, serverPort: first.dstPort });
    }
  }
  return out;
}

const APP_DATA = new Uint8Array([23, 3, 3, 0, 64, ...new Array<number>(64).fill(0x5a)]);

/**
 * Writes `record` into `into` with its extensions in a random order (pre_shared_key stays
 * last, as TLS requires) — what Chrome does on every connection. It defeats the fingerprint
 * memo for the original-order JA4 and JA3, so the bench reports that worst case too.
 */
function shuffleExtensions(record: Uint8Array, into: Uint8Array, rnd: () => number): Uint8Array {
  const out = into.subarray(0, record.length);
  out.set(record);
  let p = 5 + 4 + 2 + 32;
  p += 1 + record[p]!; // session id
  p += 2 + ((record[p]! << 8) | record[p + 1]!); // cipher suites
  p += 1 + record[p]!; // compression methods
  if (p + 2 > record.length) return out;
  const end = Math.min(record.length, p + 2 + ((record[p]! << 8) | record[p + 1]!));
  const starts: number[] = [];
  let last = -1;
  for (let q = p + 2; q + 4 <= end; q += 4 + ((record[q + 2]! << 8) | record[q + 3]!)) {
    if (record[q] === 0 && record[q + 1] === 41) last = q;
    else starts.push(q);
  }
  for (let i = starts.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [starts[i], starts[j]] = [starts[j]!, starts[i]!];
  }
  if (last >= 0) starts.push(last);
  let q = p + 2;
  for (const from of starts) {
    const len = 4 + ((record[from + 2]! << 8) | record[from + 3]!);
    out.set(record.subarray(from, from + len), q);
    q += len;
  }
  return out;
}

/** Writes pcap records of Ethernet/IP/TCP packets straight into one reusable buffer. */
class BatchWriter {
  buf = new Uint8Array(64 << 20);
  len = 0;
  private t = 1_700_000_000;

  packet(src: Uint8Array, dst: Uint8Array, sport: number, dport: number, seq: number, flags: number, payload?: Uint8Array): void {
    const v6 = src.length === 16;
    const ipLen = (v6 ? 40 : 20) + 20 + (payload?.length ?? 0);
    const frameLen = 14 + ipLen;
    if (this.len + 16 + frameLen > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    const b = this.buf;
    const dv = new DataView(b.buffer, b.byteOffset);
    let p = this.len;
    this.t += 10;
    dv.setUint32(p, Math.floor(this.t / 1e6), true);
    dv.setUint32(p + 4, this.t % 1e6, true);
    dv.setUint32(p + 8, frameLen, true);
    dv.setUint32(p + 12, frameLen, true);
    p += 16;
    b.fill(0, p, p + frameLen - (payload?.length ?? 0));
    b[p] = 2;
    b[p + 6] = 2;
    dv.setUint16(p + 12, v6 ? 0x86dd : 0x0800);
    p += 14;
    if (v6) {
      b[p] = 0x60;
      dv.setUint16(p + 4, ipLen - 40);
      b[p + 6] = 6;
      b[p + 7] = 64;
      b.set(src, p + 8);
      b.set(dst, p + 24);
      p += 40;
    } else {
      b[p] = 0x45;
      dv.setUint16(p + 2, ipLen);
      b[p + 8] = 64;
      b[p + 9] = 6;
      b.set(src, p + 12);
      b.set(dst, p + 16);
      p += 20;
    }
    dv.setUint16(p, sport);
    dv.setUint16(p + 2, dport);
    dv.setUint32(p + 4, seq >>> 0);
    b[p + 12] = 0x50;
    b[p + 13] = flags;
    dv.setUint16(p + 14, 65535);
    p += 20;
    if (payload) b.set(payload, p);
    this.len = p + (payload?.length ?? 0);
  }
}

const writer = new BatchWriter();
const helloScratch = new Uint8Array(1 << 16);

/**
 * pcap records (no file header) of `count` synthetic connections starting at connection
 * number `from`. The result is a view of a reused buffer, valid until the next call.
 */
export function buildBatch(templates: Template[], from: number, count: number, shuffle = false): Uint8Array {
  const rnd = seededRandom(from + 1);
  writer.len = 0;
  const client4 = new Uint8Array([10, 0, 0, 0]);
  const client6 = new Uint8Array([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  for (let i = from; i < from + count; i++) {
    const tpl = templates[i % templates.length]!;
    const client = tpl.server.length === 16 ? client6 : client4;
    client[client.length - 3] = (i >>> 16) & 0xff;
    client[client.length - 2] = (i >>> 8) & 0xff;
    client[client.length - 1] = i & 0xff;
    const cport = 1024 + (i % 60_000);
    const sport = tpl.serverPort;
    const cIsn = (i * 7919) >>> 0;
    const sIsn = (i * 104_729) >>> 0;
    writer.packet(client, tpl.server, cport, sport, cIsn, 0x02);
    writer.packet(tpl.server, client, sport, cport, sIsn, 0x12);
    let seq = cIsn + 1;
    const hello = shuffle ? shuffleExtensions(tpl.clientHello, helloScratch, rnd) : tpl.clientHello;
    for (let off = 0; off < hello.length; off += MSS) {
      const part = hello.subarray(off, off + MSS);
      writer.packet(client, tpl.server, cport, sport, seq, 0x18, part);
      seq += part.length;
    }
    writer.packet(tpl.server, client, sport, cport, sIsn + 1, 0x18, tpl.serverHello);
    writer.packet(client, tpl.server, cport, sport, seq, 0x18, APP_DATA);
    writer.packet(client, tpl.server, cport, sport, seq + APP_DATA.length, 0x11);
    writer.packet(tpl.server, client, sport, cport, sIsn + 1 + tpl.serverHello.length, 0x11);
  }
  return writer.buf.subarray(0, writer.len);
}

interface RunResult {
  seconds: number;
  /** CPU time (user + system, all threads) spent in the analyzer: fair on a shared machine. */
  cpuSeconds: number;
  /** Hellos per second of the fastest batch (least disturbed by other load on the machine). */
  bestBatchRate: number;
  bytes: number;
  stats: CaptureStats;
}

/** Streams `total` synthetic connections through one analyzer; times the analyzer only. */
function run(templates: Template[], total: number, batchSize: number, opts: { shuffle: boolean; retain: boolean }): RunResult {
  let records = 0;
  const analyzer = new TlsCaptureAnalyzer({ retainRecords: opts.retain, onRecord: () => void records++ });
  analyzer.push(encodePcap([], { linkType: 1 }));
  let ns = 0n;
  let bytes = 0;
  let bestBatchRate = 0;
  let cpuMicros = 0;
  for (let from = 0; from < total; from += batchSize) {
    const count = Math.min(batchSize, total - from);
    const batch = buildBatch(templates, from, count, opts.shuffle);
    bytes += batch.length;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    analyzer.push(batch);
    const dt = process.hrtime.bigint() - t0;
    const c = process.cpuUsage(c0);
    cpuMicros += c.user + c.system;
    ns += dt;
    bestBatchRate = Math.max(bestBatchRate, count / (Number(dt) / 1e9));
  }
  const t0 = process.hrtime.bigint();
  const { stats } = analyzer.end();
  ns += process.hrtime.bigint() - t0;
  if (records !== total) throw new Error(`expected ${total} handshake records, got ${records}`);
  return { seconds: Number(ns) / 1e9, cpuSeconds: cpuMicros / 1e6, bestBatchRate, bytes, stats };
}

/**
 * Writes `total` synthetic connections as one pcap file, then streams it from disk `passes` times
 * after one warm-up pass, each through a fresh analyzer (records to `onRecord`, none retained).
 * Each pass times the read and the analysis together.
 */
async function runFile(templates: Template[], total: number, batchSize: number, passes: number): Promise<{ runs: RunResult[]; fileBytes: number }> {
  const path = join(tmpdir(), `cairn-bench-tls-${process.pid}.pcap`);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, encodePcap([], { linkType: 1 }));
    for (let from = 0; from < total; from += batchSize) writeSync(fd, buildBatch(templates, from, Math.min(batchSize, total - from)));
  } finally {
    closeSync(fd);
  }
  try {
    const runs: RunResult[] = [];
    // Pass 0 is an untimed warm-up (the JIT sees Buffers from fs here for the first time).
    for (let pass = 0; pass <= passes; pass++) {
      let records = 0;
      const analyzer = new TlsCaptureAnalyzer({ retainRecords: false, onRecord: () => void records++ });
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      let bytes = 0;
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
        bytes += (chunk as Buffer).length;
        analyzer.push(chunk as Buffer);
      }
      const { stats } = analyzer.end();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      if (records !== total) throw new Error(`expected ${total} handshake records, got ${records}`);
      if (pass > 0) runs.push({ seconds, cpuSeconds: (c.user + c.system) / 1e6, bestBatchRate: 0, bytes, stats });
    }
    return { runs, fileBytes: statSync(path).size };
  } finally {
    rmSync(path, { force: true });
  }
}

/** The middle element by `key` (the lower middle for an even count). */
function median<T>(xs: T[], key: (x: T) => number): T {
  return [...xs].sort((a, b) => key(a) - key(b))[Math.floor((xs.length - 1) / 2)]!;
}

/**
 * Runs the benchmark: `full` uses 200,000 connections (10 batches of 20,000), otherwise 20,000
 * (4 batches of 5,000) in memory and 50,000 in the file. First the pcap file streamed from disk
 * (the headline `clientHellosPerSecond`), then the in-memory variants: replayed hellos (a fleet of
 * identical clients: the fingerprint memo hits), hellos whose extensions are shuffled per
 * connection, and the default mode that keeps every record in memory.
 *
 * @example const r = await benchTls({ full: false }); // { clientHellosPerSecond: …, … }
 */
export async function benchTls(opts: { full: boolean }): Promise<Record<string, number | boolean>> {
  const templates = loadTemplates();
  if (templates.length === 0) throw new Error(`no ClientHello/ServerHello pairs found under ${PCAP_DIR}`);
  const total = opts.full ? 200_000 : 20_000;
  const batchSize = opts.full ? 20_000 : 5_000;
  const fileHellos = opts.full ? 200_000 : 50_000;
  run(templates, 40_000, 10_000, { shuffle: false, retain: false }); // JIT warm-up
  const { runs, fileBytes } = await runFile(templates, fileHellos, batchSize, PASSES);
  const file = median(runs, (r) => r.seconds);
  const best = runs.reduce((a, b) => (a.seconds <= b.seconds ? a : b));
  const replay = run(templates, total, batchSize, { shuffle: false, retain: false });
  const shuffled = run(templates, total, batchSize, { shuffle: true, retain: false });
  const retainedCount = Math.min(total, 50_000);
  const retained = run(templates, retainedCount, batchSize, { shuffle: false, retain: true });
  const clientHellosPerSecond = Math.round(fileHellos / file.seconds);
  return {
    clientHellosPerSecond,
    clientHellosPerSecondBestPass: Math.round(fileHellos / best.seconds),
    clientHellosPerCpuSecond: Math.round(fileHellos / file.cpuSeconds),
    targetClientHellosPerSecond: TARGET,
    meetsTarget: clientHellosPerSecond >= TARGET,
    pcapFileHellos: fileHellos,
    pcapFilePasses: PASSES,
    pcapFileMegabytes: round(fileBytes / 1e6),
    pcapFileMegabytesPerSecond: round(fileBytes / 1e6 / file.seconds),
    packets: file.stats.packets,
    packetsPerSecond: Math.round(file.stats.packets / file.seconds),
    skippedAfterHandshake: file.stats.skippedAfterHandshake,
    peakBufferedBytes: file.stats.peakBufferedBytes,
    inMemoryHellos: total,
    templates: templates.length,
    inMemoryClientHellosPerSecond: Math.round(total / replay.seconds),
    inMemoryClientHellosPerSecondBestBatch: Math.round(replay.bestBatchRate),
    inMemoryClientHellosPerCpuSecond: Math.round(total / replay.cpuSeconds),
    shuffledClientHellosPerSecond: Math.round(total / shuffled.seconds),
    shuffledClientHellosPerSecondBestBatch: Math.round(shuffled.bestBatchRate),
    shuffledClientHellosPerCpuSecond: Math.round(total / shuffled.cpuSeconds),
    retainedClientHellosPerSecond: Math.round(retainedCount / retained.seconds),
  };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchTls({ full: process.argv.includes('--full') }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
