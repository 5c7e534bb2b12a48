/**
 * Encrypted-traffic analysis of a capture: finds every TLS session set-up (TCP, QUIC Initial,
 * DTLS), reassembles the ClientHello/ServerHello, and turns each ClientHello into a
 * `TlsHandshakeRecord` with JA3/JA4 fingerprints and the server's choices.
 *
 * R-ATP-4: only the packets that set up a session are analysed. Each connection direction
 * buffers at most `maxFlowBytes` (64 KiB by default) from its start; once both hellos are
 * seen (or the cap, or encrypted application data, is reached) the connection is marked
 * done, its buffers are released, and its later packets are skipped without being stored.
 */
import { CairnError } from '../../kernel/errors.ts';
import { CaptureReader, type CapturedPacket } from './capture.ts';
import { DecodedPacket, DecodeStatus, IPPROTO_TCP, copyBytes, decodePacket, formatAddress } from './decode.ts';
import { fingerprintsFromScratch, type Ja4AlpnStyle, type Ja4Transport } from './fingerprint.ts';
import {
  HS_CLIENT_HELLO,
  HS_HELLO_VERIFY_REQUEST,
  HS_SERVER_HELLO,
  HelloScratch,
  readClientHello,
  readServerHello,
  scratchAlpn,
  scratchSni,
  toArray,
  type ServerHello,
} from './hello.ts';
import { CryptoAssembler, decryptInitial, forEachCryptoFrame, quicInitialKeys, readInitialHeader, type QuicInitialKeys } from './quic.ts';

/**
 * One ClientHello and what the server answered. Personal data (R-DATA-9, TLS session set-up
 * metadata; retention configurable by the tenant): the addresses, ports and `sni` identify a
 * device and the site it visited.
 */
export interface TlsHandshakeRecord {
  /** `tcp` for TLS over TCP, `quic` for QUIC Initial packets, `dtls` for DTLS over UDP. */
  transport: 'tcp' | 'quic' | 'dtls';
  /** Zero-based ordinal of the connection in the capture (order of its first packet). */
  flowIndex: number;
  /** 1 for the first ClientHello of a connection, 2 for a second one (after a HelloRetryRequest). */
  helloIndex: number;
  /** Index of the packet that completed the ClientHello. */
  packetIndex: number;
  /** Capture time of that packet, UTC epoch milliseconds. */
  timestampMs: number;
  /** Client address and port (R-DATA-9). */
  srcAddress: string;
  srcPort: number;
  /** Server address and port (R-DATA-9). */
  dstAddress: string;
  dstPort: number;
  /** Requested host name from the server_name extension (R-DATA-9), or null. */
  sni: string | null;
  /** ALPN protocols offered, in order (`h2`, `http/1.1`, …). */
  alpn: string[];
  /** ClientHello.legacy_version (e.g. 0x0303). */
  legacyVersion: number;
  /** supported_versions entries in order (GREASE included), empty when absent. */
  supportedVersions: number[];
  /** Cipher suites in wire order (GREASE included). */
  ciphers: number[];
  /** Extension types in wire order (GREASE included). */
  extensions: number[];
  signatureAlgorithms: number[];
  supportedGroups: number[];
  ecPointFormats: number[];
  // The fingerprint fields keep the names the JA3/JA4 tools and threat feeds use (`ja3_hash`,
  // `ja4_r`, …), so they can be matched against exported data without a mapping table.
  /** JA3 string and its MD5. */
  ja3: string;
  ja3_hash: string;
  /** JA4 (sorted, hashed) and its raw / original-order variants. */
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
  /** The ServerHello that answered this ClientHello, when it was captured. */
  server: ServerHello | null;
}

export interface AnalyzeOptions {
  /** Bytes examined per connection direction before giving up (default 65,536). */
  maxFlowBytes?: number;
  /** Connections tracked at once before idle/finished ones are evicted (default 100,000). */
  maxFlows?: number;
  /** Largest packet accepted by the capture reader (default 262,144). */
  maxPacketBytes?: number;
  /**
   * Called once per record when its connection is finished (both hellos seen, closed,
   * evicted, or the capture ended). Lets callers stream results out of huge captures.
   */
  onRecord?: (record: TlsHandshakeRecord) => void;
  /** Keep records in `result.records` (default true; set false when streaming with `onRecord`). */
  retainRecords?: boolean;
  /** Rendering of odd ALPN values in JA4 (default `reference`; see `Ja4AlpnStyle`). */
  ja4AlpnStyle?: Ja4AlpnStyle;
  /**
   * Reassembly buffers held across all connections at once, in bytes (default 256 MiB).
   * Past it, the connections idle longest are given up, so memory stays bounded however
   * many half-open handshakes a capture holds.
   */
  maxBufferedBytes?: number;
}

/** Counters that explain what was and was not analysed. */
export interface CaptureStats {
  packets: number;
  /** Packets that decoded to TCP or UDP. */
  transportPackets: number;
  /** IP fragments skipped (hellos are not reassembled across IP fragments). */
  fragments: number;
  /** Packets whose headers were cut short or inconsistent. */
  malformedPackets: number;
  /** Connections that were tracked (TCP with data or SYN; UDP that looked like QUIC/DTLS). */
  flows: number;
  /** Packets with payload that arrived after their connection's handshake was complete. */
  skippedAfterHandshake: number;
  /** Hello messages that failed to parse. */
  malformedHellos: number;
  /** Connection directions that hit the `maxFlowBytes` cap before a hello was complete. */
  cappedDirections: number;
  /** Unfinished connections given up because `maxFlows` or `maxBufferedBytes` was reached. */
  evictedFlows: number;
  /** Most bytes held in reassembly buffers at any one time. */
  peakBufferedBytes: number;
}

export interface CaptureAnalysis {
  records: TlsHandshakeRecord[];
  /** Notes about input that was skipped (truncated last packet, unknown link type, …). */
  warnings: string[];
  stats: CaptureStats;
}

const DEFAULT_FLOW_BYTES = 65_536;
const DEFAULT_MAX_FLOWS = 100_000;
const DEFAULT_MAX_BUFFERED = 256 << 20;
/** Bytes of a proxy preamble (HTTP CONNECT, SOCKS) scanned for the start of TLS. */
const PREAMBLE_MAX = 2048;
/** Largest TLS record: 2^14 plaintext plus the expansion RFC 8446 allows. */
const MAX_RECORD = 16_384 + 2048;
/** ClientHellos recorded per connection (the second follows a HelloRetryRequest). */
const MAX_HELLOS_PER_FLOW = 4;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

const enum Dir {
  Probe,
  Preamble,
  Tls,
  Stopped,
}

/** Reassembly state of one direction of a TCP connection. */
class TcpDir {
  state = Dir.Probe;
  haveBase = false;
  baseSeq = 0;
  /** Contiguous bytes received from the start of the stream. */
  received = 0;
  buf: Uint8Array | null = null;
  bufLen = 0;
  /** Out-of-order segments waiting for the gap before them: [relativeOffset, bytes]. */
  ooo: [number, Uint8Array][] | null = null;
  oooBytes = 0;
  /** Handshake message bytes that span TLS records. */
  hs: Uint8Array | null = null;
  hsLen = 0;
  /** A ChangeCipherSpec was seen: later handshake records are encrypted. */
  ccs = false;
  /** Bytes of buffer this direction holds (counted against `maxBufferedBytes`). */
  mem = 0;
}

/** Handshake state of a QUIC connection (Initial packets only). */
class QuicFlow {
  dcid: Uint8Array = new Uint8Array(0);
  clientKeys: QuicInitialKeys | null = null;
  serverKeys: QuicInitialKeys | null = null;
  client: CryptoAssembler;
  server: CryptoAssembler;
  clientParsed = 0;
  serverParsed = 0;
  /** Bytes of buffer held (counted against `maxBufferedBytes`). */
  mem = 0;
  constructor(cap: number) {
    this.client = new CryptoAssembler(cap);
    this.server = new CryptoAssembler(cap);
  }
}

class Flow {
  next: Flow | null = null;
  done = false;
  fins = 0;
  lastSeenMs = 0;
  dirs: [TcpDir | null, TcpDir | null] = [null, null];
  quic: QuicFlow | null = null;
  /** Direction (0: A→B, 1: B→A) the ClientHello came from; -1 until known. */
  clientDir = -1;
  /** Records of this connection not yet handed to `onRecord`. */
  pending: TlsHandshakeRecord[] | null = null;
  last: TlsHandshakeRecord | null = null;
  hellos = 0;
  /** A ServerHello that arrived before its ClientHello (capture reordering). */
  earlyServer: ServerHello | null = null;
  /** Endpoint A (first packet's source) and B, addresses as 32-bit words (IPv4 uses word 0). */
  a0 = 0;
  a1 = 0;
  a2 = 0;
  a3 = 0;
  b0 = 0;
  b1 = 0;
  b2 = 0;
  b3 = 0;
  constructor(
    readonly hash: number,
    readonly proto: number,
    readonly v6: boolean,
    readonly portA: number,
    readonly portB: number,
    readonly index: number,
  ) {}
}

/**
 * Incremental analyzer: `push()` capture chunks, then `end()`.
 *
 * @example
 * const a = new TlsCaptureAnalyzer();
 * for await (const chunk of createReadStream('capture.pcapng')) a.push(chunk);
 * const { records } = a.end();
 */
export class TlsCaptureAnalyzer {
  private readonly reader: CaptureReader;
  private readonly pkt = new DecodedPacket();
  private readonly scratch = new HelloScratch();
  private readonly flows = new Map<number, Flow>();
  private flowCount = 0;
  private flowSeq = 0;
  private nowMs = 0;
  private packetIndex = 0;
  private readonly cap: number;
  private readonly maxFlows: number;
  private readonly maxBuffered: number;
  /** Bytes currently held in reassembly buffers. */
  private buffered = 0;
  private readonly onRecord: ((r: TlsHandshakeRecord) => void) | undefined;
  private readonly retain: boolean;
  private readonly alpnStyle: Ja4AlpnStyle;
  private readonly records: TlsHandshakeRecord[] = [];
  private recordCount = 0;
  private readonly warnings: string[] = [];
  private finished = false;
  readonly stats: CaptureStats = {
    packets: 0,
    transportPackets: 0,
    fragments: 0,
    malformedPackets: 0,
    flows: 0,
    skippedAfterHandshake: 0,
    malformedHellos: 0,
    cappedDirections: 0,
    evictedFlows: 0,
    peakBufferedBytes: 0,
  };

  constructor(opts: AnalyzeOptions = {}) {
    this.cap = Math.max(1024, Math.min(opts.maxFlowBytes ?? DEFAULT_FLOW_BYTES, 16 << 20));
    this.maxFlows = Math.max(16, opts.maxFlows ?? DEFAULT_MAX_FLOWS);
    this.maxBuffered = Math.max(1 << 20, opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED);
    this.onRecord = opts.onRecord;
    this.retain = opts.retainRecords ?? true;
    this.alpnStyle = opts.ja4AlpnStyle ?? 'reference';
    const readerOpts = opts.maxPacketBytes !== undefined ? { maxPacketBytes: opts.maxPacketBytes } : {};
    this.reader = new CaptureReader((p) => this.onPacket(p), readerOpts);
  }

  /**
   * Feeds the next chunk of a pcap/pcapng capture. Throws `CAIRN_ERR_PCAP_CORRUPT` or
   * `CAIRN_ERR_PCAP_UNSUPPORTED` (details say how far the read got).
   */
  push(chunk: Uint8Array): void {
    try {
      this.reader.push(chunk);
    } catch (e) {
      throw this.withProgress(e);
    }
  }

  /** Adds how much was read before the failure to a capture error's details. */
  private withProgress(e: unknown): unknown {
    if (!(e instanceof CairnError)) return e;
    return new CairnError(e.code, e.message, { ...e.details, packetsRead: this.stats.packets, handshakesFound: this.recordCount });
  }

  /** Finishes the capture: flushes open connections and returns everything found. */
  end(): CaptureAnalysis {
    if (!this.finished) {
      this.finished = true;
      try {
        this.reader.end();
      } catch (e) {
        throw this.withProgress(e);
      }
      for (const head of this.flows.values()) {
        for (let f: Flow | null = head; f; f = f.next) this.finish(f);
      }
      this.flows.clear();
      this.flowCount = 0;
      const { malformedHellos, evictedFlows, cappedDirections } = this.stats;
      if (malformedHellos > 0) this.warnings.push(`${malformedHellos} hello message(s) could not be parsed and were skipped.`);
      if (evictedFlows > 0) this.warnings.push(`${evictedFlows} unfinished connection(s) were evicted because the connection table was full.`);
      if (cappedDirections > 0) this.warnings.push(`${cappedDirections} connection direction(s) reached the per-connection byte cap before a hello was complete.`);
    }
    return { records: this.records, warnings: [...this.reader.warnings, ...this.warnings], stats: this.stats };
  }

  // ---------------------------------------------------------------- packets and flows

  private onPacket(p: CapturedPacket): void {
    this.stats.packets++;
    this.nowMs = p.timestampMs;
    this.packetIndex = p.index;
    const d = this.pkt;
    const st = decodePacket(p.linkType, p.data, p.offset, p.length, d);
    if (st !== DecodeStatus.Ok) {
      if (st === DecodeStatus.Fragment) this.stats.fragments++;
      else if (st === DecodeStatus.Malformed) this.stats.malformedPackets++;
      return;
    }
    this.stats.transportPackets++;
    if (d.protocol === IPPROTO_TCP) this.onTcp(d);
    else this.onUdp(d);
    if (this.buffered > this.maxBuffered) this.relieve();
  }

  /** Bytes a direction's buffers occupy; updates the global count. */
  private track(dir: TcpDir): void {
    const now = (dir.buf?.length ?? 0) + (dir.hs?.length ?? 0) + dir.oooBytes;
    this.buffered += now - dir.mem;
    dir.mem = now;
    if (this.buffered > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.buffered;
  }

  private trackQuic(q: QuicFlow): void {
    const now = q.client.bytes.length + q.server.bytes.length;
    this.buffered += now - q.mem;
    q.mem = now;
    if (this.buffered > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.buffered;
  }

  /**
   * Over the buffer budget: gives up the unfinished connections idle longest until half the
   * budget is free. Runs between packets, never inside a connection's parsing.
   */
  private relieve(): void {
    const open: Flow[] = [];
    for (const head of this.flows.values()) for (let f: Flow | null = head; f; f = f.next) if (!f.done) open.push(f);
    open.sort((x, y) => x.lastSeenMs - y.lastSeenMs);
    for (const f of open) {
      if (this.buffered <= this.maxBuffered / 2) break;
      this.stats.evictedFlows++;
      this.remove(f);
    }
  }

  /** Address words of the current packet (source s0..s3, destination t0..t3), set by `hashOf`. */
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private t0 = 0;
  private t1 = 0;
  private t2 = 0;
  private t3 = 0;

  private hashOf(d: DecodedPacket): number {
    const b = d.data;
    const so = d.srcOff;
    const to = d.dstOff;
    this.s0 = word(b, so);
    this.t0 = word(b, to);
    if (d.ipVersion === 6) {
      this.s1 = word(b, so + 4);
      this.s2 = word(b, so + 8);
      this.s3 = word(b, so + 12);
      this.t1 = word(b, to + 4);
      this.t2 = word(b, to + 8);
      this.t3 = word(b, to + 12);
    } else {
      this.s1 = this.s2 = this.s3 = this.t1 = this.t2 = this.t3 = 0;
    }
    let hs = Math.imul(0x811c9dc5 ^ this.s0, 0x01000193);
    let hd = Math.imul(0x811c9dc5 ^ this.t0, 0x01000193);
    hs = Math.imul(hs ^ this.s1 ^ this.s2 ^ this.s3, 0x01000193);
    hd = Math.imul(hd ^ this.t1 ^ this.t2 ^ this.t3, 0x01000193);
    hs = Math.imul(hs ^ d.srcPort, 0x9e3779b1);
    hd = Math.imul(hd ^ d.dstPort, 0x9e3779b1);
    // Symmetric in (src, dst) so both directions of a connection meet in one bucket; 30 bits
    // keep the key a small integer, which a Map stores without boxing.
    return ((hs + hd) ^ Math.imul(hs, hd) ^ d.protocol) & 0x3fffffff;
  }

  /** Finds the connection of the packet last passed to `hashOf`; `dirOut[0]` gets 0 (A→B) or 1. */
  private find(d: DecodedPacket, hash: number, dirOut: number[]): Flow | null {
    const v6 = d.ipVersion === 6;
    for (let f = this.flows.get(hash) ?? null; f; f = f.next) {
      if (f.proto !== d.protocol || f.v6 !== v6) continue;
      if (
        f.portA === d.srcPort &&
        f.portB === d.dstPort &&
        f.a0 === this.s0 &&
        f.b0 === this.t0 &&
        f.a1 === this.s1 &&
        f.a2 === this.s2 &&
        f.a3 === this.s3 &&
        f.b1 === this.t1 &&
        f.b2 === this.t2 &&
        f.b3 === this.t3
      ) {
        dirOut[0] = 0;
        return f;
      }
      if (
        f.portA === d.dstPort &&
        f.portB === d.srcPort &&
        f.a0 === this.t0 &&
        f.b0 === this.s0 &&
        f.a1 === this.t1 &&
        f.a2 === this.t2 &&
        f.a3 === this.t3 &&
        f.b1 === this.s1 &&
        f.b2 === this.s2 &&
        f.b3 === this.s3
      ) {
        dirOut[0] = 1;
        return f;
      }
    }
    return null;
  }

  private create(d: DecodedPacket, hash: number): Flow {
    if (this.flowCount >= this.maxFlows) this.evict();
    const f = new Flow(hash, d.protocol, d.ipVersion === 6, d.srcPort, d.dstPort, this.flowSeq++);
    f.a0 = this.s0;
    f.a1 = this.s1;
    f.a2 = this.s2;
    f.a3 = this.s3;
    f.b0 = this.t0;
    f.b1 = this.t1;
    f.b2 = this.t2;
    f.b3 = this.t3;
    f.next = this.flows.get(hash) ?? null;
    this.flows.set(hash, f);
    this.flowCount++;
    this.stats.flows++;
    return f;
  }

  private remove(f: Flow): void {
    if (!f.done || f.pending) this.finish(f);
    const head = this.flows.get(f.hash);
    if (head === f) {
      if (f.next) this.flows.set(f.hash, f.next);
      else this.flows.delete(f.hash);
    } else {
      for (let p = head ?? null; p; p = p.next) {
        if (p.next === f) {
          p.next = f.next;
          break;
        }
      }
    }
    this.flowCount--;
  }

  /**
   * Makes room in the connection table: drops finished connections first, then those idle
   * longest. Runs rarely (only when the table is full), so a full scan is acceptable.
   */
  private evict(): void {
    const all: Flow[] = [];
    for (const head of this.flows.values()) for (let f: Flow | null = head; f; f = f.next) all.push(f);
    let victims = all.filter((f) => f.done);
    if (victims.length < all.length / 4) {
      all.sort((x, y) => x.lastSeenMs - y.lastSeenMs);
      victims = all.slice(0, Math.ceil(all.length / 4));
      this.stats.evictedFlows += victims.filter((f) => !f.done).length;
    }
    for (const f of victims) this.remove(f);
  }

  /**
   * Marks a connection done: releases its buffers (later packets are skipped unread) and
   * hands its records, now complete, to `onRecord`.
   */
  private finish(f: Flow): void {
    f.done = true;
    for (const dir of f.dirs) {
      if (!dir) continue;
      dir.state = Dir.Stopped;
      dir.buf = dir.hs = null;
      dir.bufLen = dir.hsLen = dir.oooBytes = 0;
      dir.ooo = null;
      this.track(dir);
    }
    f.dirs[0] = f.dirs[1] = null;
    if (f.quic) {
      this.buffered -= f.quic.mem;
      f.quic = null;
    }
    f.last = null;
    f.earlyServer = null;
    if (f.pending) {
      const pending = f.pending;
      f.pending = null;
      if (this.onRecord) for (const r of pending) this.onRecord(r);
    }
  }

  // ---------------------------------------------------------------- TCP

  private readonly dirTmp = [0];

  private onTcp(d: DecodedPacket): void {
    const hash = this.hashOf(d);
    let f = this.find(d, hash, this.dirTmp);
    let di = this.dirTmp[0]!;
    const flags = d.tcpFlags;
    if (f && (flags & (TCP_SYN | TCP_ACK)) === TCP_SYN && (f.done || f.hellos > 0 || (f.dirs[di]?.received ?? 0) > 0)) {
      // A new connection reusing the addresses and ports of one we already followed.
      this.remove(f);
      f = null;
    }
    if (!f) {
      if (d.payloadLen === 0 && !(flags & TCP_SYN)) return;
      if (flags & TCP_RST) return;
      f = this.create(d, hash);
      di = 0;
    }
    f.lastSeenMs = this.nowMs;
    if (f.done) {
      if (d.payloadLen > 0) this.stats.skippedAfterHandshake++;
      if (flags & (TCP_RST | TCP_FIN)) {
        if (flags & TCP_RST) f.fins = 3;
        else f.fins |= 1 << di;
        if (f.fins === 3) this.remove(f);
      }
      return;
    }
    let dir = f.dirs[di];
    if (!dir) dir = f.dirs[di] = new TcpDir();
    let seq = d.seq;
    if (flags & TCP_SYN) {
      dir.baseSeq = (seq + 1) >>> 0;
      dir.haveBase = true;
      seq = dir.baseSeq; // data on a SYN (TCP Fast Open) starts after it
    }
    if (d.payloadLen > 0) this.tcpData(f, di, dir, seq, d.data, d.payloadOff, d.payloadLen);
    if (flags & (TCP_RST | TCP_FIN)) {
      if (flags & TCP_RST) f.fins = 3;
      else f.fins |= 1 << di;
      if (f.fins === 3) this.remove(f);
    }
  }

  private tcpData(f: Flow, di: number, dir: TcpDir, seq: number, b: Uint8Array, off: number, len: number): void {
    if (dir.state === Dir.Stopped) return;
    if (!dir.haveBase) {
      dir.baseSeq = seq;
      dir.haveBase = true;
    }
    let rel = (seq - dir.baseSeq) | 0;
    if (rel < dir.received) {
      // Retransmission or overlap: keep only bytes not seen yet.
      const dup = dir.received - rel;
      if (dup >= len) return;
      off += dup;
      len -= dup;
      rel = dir.received;
    }
    if (rel > dir.received) {
      this.storeOutOfOrder(dir, rel, b, off, len);
      return;
    }
    this.inOrder(f, di, dir, b, off, len);
    // Drain out-of-order segments that now connect.
    while (dir.ooo && dir.ooo.length > 0 && !f.done && (dir.state as Dir) !== Dir.Stopped) {
      let progressed = false;
      for (let i = 0; i < dir.ooo.length; i++) {
        const [r, bytes] = dir.ooo[i]!;
        if (r > dir.received) continue;
        dir.ooo.splice(i, 1);
        dir.oooBytes -= bytes.length;
        this.track(dir);
        const dup = dir.received - r;
        if (dup < bytes.length) this.inOrder(f, di, dir, bytes, dup, bytes.length - dup);
        progressed = true;
        break;
      }
      if (!progressed) break;
    }
  }

  private storeOutOfOrder(dir: TcpDir, rel: number, b: Uint8Array, off: number, len: number): void {
    if (rel >= this.cap || dir.oooBytes + len > this.cap) return; // beyond what we would ever read
    const keep = Math.min(len, this.cap - rel);
    dir.ooo ??= [];
    for (const [r, bytes] of dir.ooo) if (r === rel && bytes.length >= keep) return; // duplicate
    dir.ooo.push([rel, copyBytes(b, off, off + keep)]);
    dir.oooBytes += keep;
    this.track(dir);
  }

  private inOrder(f: Flow, di: number, dir: TcpDir, b: Uint8Array, off: number, len: number): void {
    let capped = false;
    if (dir.received + len > this.cap) {
      len = this.cap - dir.received;
      capped = true;
    }
    dir.received += len;
    if (dir.bufLen === 0) {
      const used = this.parseStream(f, di, dir, b, off, off + len);
      if (!f.done && dir.state !== Dir.Stopped && used < len) {
        this.bufAppend(dir, b, off + used, len - used);
      }
    } else {
      this.bufAppend(dir, b, off, len);
      const buf = dir.buf!;
      const used = this.parseStream(f, di, dir, buf, 0, dir.bufLen);
      if (dir.buf) {
        if (used > 0) buf.copyWithin(0, used, dir.bufLen);
        dir.bufLen -= used;
      }
    }
    if (capped && !f.done && dir.state !== Dir.Stopped) {
      this.stats.cappedDirections++;
      this.stopDir(f, dir);
    }
  }

  private bufAppend(dir: TcpDir, b: Uint8Array, off: number, len: number): void {
    const need = dir.bufLen + len;
    if (!dir.buf || dir.buf.length < need) {
      let cap = dir.buf ? dir.buf.length : 2048;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(Math.min(Math.max(cap, need), this.cap));
      if (dir.buf) next.set(dir.buf.subarray(0, dir.bufLen));
      dir.buf = next;
    }
    dir.buf.set(b.subarray(off, off + len), dir.bufLen);
    dir.bufLen = need;
    this.track(dir);
  }

  private stopDir(f: Flow, dir: TcpDir): void {
    dir.state = Dir.Stopped;
    dir.buf = null;
    dir.bufLen = 0;
    dir.hs = null;
    dir.hsLen = 0;
    dir.ooo = null;
    dir.oooBytes = 0;
    this.track(dir);
    // The other side may still send its hello (e.g. after 0-RTT data); finish when both stopped.
    const other = f.dirs[0] === dir ? f.dirs[1] : f.dirs[0];
    if (other && other.state === Dir.Stopped) this.finish(f);
  }

  /**
   * Walks TLS records in `b[off, end)`; returns how many bytes were fully consumed (the rest
   * is kept until more data arrives).
   */
  private parseStream(f: Flow, di: number, dir: TcpDir, b: Uint8Array, off: number, end: number): number {
    let p = off;
    for (;;) {
      if (f.done || dir.state === Dir.Stopped) return end - off;
      switch (dir.state) {
        case Dir.Probe: {
          if (p >= end) return p - off;
          const c = b[p]!;
          if (c === 22) dir.state = Dir.Tls;
          // HTTP CONNECT request/response, SOCKS 4/5 greeting or reply: TLS may follow.
          else if (c === 0x43 || c === 0x48 || c === 0x05 || c === 0x04 || c === 0x00) dir.state = Dir.Preamble;
          else {
            this.stopDir(f, dir);
            return end - off;
          }
          continue;
        }
        case Dir.Preamble: {
          const q = findTlsStart(b, p, end);
          if (q >= 0) {
            p = q;
            dir.state = Dir.Tls;
            continue;
          }
          // Keep the last few bytes: a record header may straddle the next segment.
          const keep = Math.min(end - p, 5);
          if (dir.received - keep > PREAMBLE_MAX) {
            this.stopDir(f, dir);
            return end - off;
          }
          return end - keep - off;
        }
        case Dir.Tls: {
          if (end - p < 5) return p - off;
          const type = b[p]!;
          const rlen = (b[p + 3]! << 8) | b[p + 4]!;
          if (type < 20 || type > 24 || b[p + 1] !== 3 || rlen > MAX_RECORD) {
            this.stopDir(f, dir);
            return end - off;
          }
          if (end - p - 5 < rlen) return p - off;
          if (type === 22) {
            // After ChangeCipherSpec handshake records are encrypted, except the second
            // ClientHello a TLS 1.3 client sends (after a compatibility CCS) to answer a
            // HelloRetryRequest: accept only a record holding exactly one ClientHello.
            if (!dir.ccs) this.handshakeRecord(f, di, dir, b, p + 5, rlen, 't');
            else if (rlen >= 4 && b[p + 5] === HS_CLIENT_HELLO && ((b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!) === rlen - 4) {
              this.handshakeMessages(f, di, b, p + 5, p + 5 + rlen, 't');
            }
          } else if (type === 20) {
            dir.ccs = true;
          } else if (type === 23 || type === 21) {
            // Application data or alert: the set-up phase of this direction is over.
            this.stopDir(f, dir);
            return end - off;
          }
          p += 5 + rlen;
          continue;
        }
        default:
          return end - off;
      }
    }
  }

  /** Feeds one handshake record's payload, reassembling messages that span records. */
  private handshakeRecord(f: Flow, di: number, dir: TcpDir, b: Uint8Array, off: number, len: number, t: Ja4Transport): void {
    if (dir.hsLen === 0) {
      const used = this.handshakeMessages(f, di, b, off, off + len, t);
      if (used < len && !f.done && dir.state !== Dir.Stopped) {
        dir.hs = appendTo(dir.hs, 0, b, off + used, len - used, this.cap);
        dir.hsLen = len - used;
        this.track(dir);
      }
      return;
    }
    if (dir.hsLen + len > this.cap) {
      this.stopDir(f, dir);
      return;
    }
    dir.hs = appendTo(dir.hs, dir.hsLen, b, off, len, this.cap);
    dir.hsLen += len;
    this.track(dir);
    const hs = dir.hs;
    const used = this.handshakeMessages(f, di, hs, 0, dir.hsLen, t);
    if (dir.hs) {
      hs.copyWithin(0, used, dir.hsLen);
      dir.hsLen -= used;
    }
  }

  /** Dispatches complete handshake messages in `b[off, end)`; returns bytes consumed. */
  private handshakeMessages(f: Flow, di: number, b: Uint8Array, off: number, end: number, t: Ja4Transport): number {
    let p = off;
    while (end - p >= 4 && !f.done) {
      const type = b[p]!;
      const len = (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
      if (len + 4 > this.cap) {
        const dir = f.dirs[di];
        if (dir) this.stopDir(f, dir);
        return end - off;
      }
      if (end - p - 4 < len) break;
      this.onHandshake(f, di, type, b, p + 4, len, t);
      p += 4 + len;
    }
    return p - off;
  }

  // ---------------------------------------------------------------- hellos → records

  private onHandshake(f: Flow, di: number, type: number, b: Uint8Array, off: number, len: number, t: Ja4Transport): void {
    if (type === HS_CLIENT_HELLO) {
      if (f.clientDir >= 0 && f.clientDir !== di) return;
      if (f.hellos >= MAX_HELLOS_PER_FLOW) return;
      try {
        readClientHello(b, off, len, this.scratch, t === 'd');
      } catch (e) {
        if (e instanceof CairnError) {
          this.stats.malformedHellos++;
          return;
        }
        throw e;
      }
      f.clientDir = di;
      this.record(f, di, t);
      return;
    }
    if (type === HS_SERVER_HELLO || (t === 'd' && type === HS_HELLO_VERIFY_REQUEST)) {
      if (f.clientDir === di) return;
      let sh: ServerHello;
      if (type === HS_HELLO_VERIFY_REQUEST) {
        sh = { version: len >= 2 ? (b[off]! << 8) | b[off + 1]! : 0, cipher: 0, alpn: null, helloRetryRequest: true, extensions: [] };
      } else {
        try {
          sh = readServerHello(b, off, len);
        } catch (e) {
          if (e instanceof CairnError) {
            this.stats.malformedHellos++;
            return;
          }
          throw e;
        }
      }
      if (!f.last) {
        f.earlyServer = sh;
        return;
      }
      if (f.last.server) return; // one answer per ClientHello
      f.last.server = sh;
      if (!sh.helloRetryRequest) this.finish(f); // both hellos seen: the rest of the session is not analysed
    }
  }

  private record(f: Flow, di: number, t: Ja4Transport): void {
    const s = this.scratch;
    const both = fingerprintsFromScratch(s, t, this.alpnStyle);
    const fp = both.ja4;
    const j3 = both.ja3;
    const fromA = di === 0;
    const r: TlsHandshakeRecord = {
      transport: t === 't' ? 'tcp' : t === 'q' ? 'quic' : 'dtls',
      flowIndex: f.index,
      helloIndex: ++f.hellos,
      packetIndex: this.packetIndex,
      timestampMs: this.nowMs,
      srcAddress: fromA ? addressA(f) : addressB(f),
      srcPort: fromA ? f.portA : f.portB,
      dstAddress: fromA ? addressB(f) : addressA(f),
      dstPort: fromA ? f.portB : f.portA,
      sni: scratchSni(s),
      alpn: scratchAlpn(s),
      legacyVersion: s.legacyVersion,
      supportedVersions: toArray(s.versions, s.nVersions),
      ciphers: toArray(s.ciphers, s.nCiphers),
      extensions: toArray(s.extensions, s.nExtensions),
      signatureAlgorithms: toArray(s.sigAlgs, s.nSigAlgs),
      supportedGroups: toArray(s.groups, s.nGroups),
      ecPointFormats: toArray(s.pointFormats, s.nPointFormats),
      ja3: j3.ja3,
      ja3_hash: j3.ja3Hash,
      ja4: fp.ja4,
      ja4_r: fp.ja4_r,
      ja4_o: fp.ja4_o,
      ja4_ro: fp.ja4_ro,
      server: null,
    };
    if (f.earlyServer && f.hellos === 1) {
      r.server = f.earlyServer;
      f.earlyServer = null;
    }
    f.last = r;
    this.recordCount++;
    if (this.retain) this.records.push(r);
    if (this.onRecord) (f.pending ??= []).push(r);
    if (r.server && !r.server.helloRetryRequest) this.finish(f);
  }

  // ---------------------------------------------------------------- UDP: QUIC and DTLS

  private onUdp(d: DecodedPacket): void {
    const b = d.data;
    const off = d.payloadOff;
    const len = d.payloadLen;
    if (len < 13) return;
    const c = b[off]!;
    const quicLike = (c & 0xc0) === 0xc0;
    const dtlsLike = c === 22 && b[off + 1] === 0xfe;
    if (!quicLike && !dtlsLike) {
      // Short-header QUIC or other UDP: only of interest to count skipped session packets.
      if (this.flowCount > 0) {
        const f = this.find(d, this.hashOf(d), this.dirTmp);
        if (f) {
          f.lastSeenMs = this.nowMs;
          if (f.done) this.stats.skippedAfterHandshake++;
        }
      }
      return;
    }
    const hash = this.hashOf(d);
    let f = this.find(d, hash, this.dirTmp);
    let di = this.dirTmp[0]!;
    if (f) {
      f.lastSeenMs = this.nowMs;
      if (f.done) {
        this.stats.skippedAfterHandshake++;
        return;
      }
    }
    if (dtlsLike) {
      if (!f) {
        // A new DTLS flow only starts with a ClientHello.
        if (len < 25 || b[off + 13] !== HS_CLIENT_HELLO) return;
        f = this.create(d, hash);
        di = 0;
        f.lastSeenMs = this.nowMs;
      }
      this.dtlsDatagram(f, di, b, off, off + len);
      return;
    }
    this.quicDatagram(f, di, d, hash, b, off, off + len);
  }

  private quicDatagram(f: Flow | null, di: number, d: DecodedPacket, hash: number, b: Uint8Array, off: number, end: number): void {
    let p = off;
    // Coalesced packets: Initial first, then possibly Handshake/0-RTT (which we skip).
    for (let i = 0; i < 4 && p < end; i++) {
      const h = readInitialHeader(b, p, end);
      if (!h) return;
      let q = f?.quic ?? null;
      const fromClient = !f || f.clientDir < 0 || f.clientDir === di;
      let keys: QuicInitialKeys | null = null;
      if (fromClient) {
        // A client picks the keys with its DCID; after a Retry that DCID changes.
        if (q && q.clientKeys && sameBytes(q.dcid, h.dcid)) keys = q.clientKeys;
        else keys = quicInitialKeys(h.version, h.dcid, false);
      } else if (q) {
        keys = q.serverKeys ??= quicInitialKeys(h.version, q.dcid, true);
      }
      if (!keys) return;
      const plain = decryptInitial(b, p, h, keys);
      if (!plain) return;
      if (!f) {
        f = this.create(d, hash);
        di = 0;
        f.lastSeenMs = this.nowMs;
      }
      if (fromClient) {
        f.clientDir = di;
        if (!q) q = f.quic = new QuicFlow(this.cap);
        if (!sameBytes(q.dcid, h.dcid)) {
          q.dcid = copyBytes(h.dcid, 0, h.dcid.length);
          q.clientKeys = keys;
          q.serverKeys = null;
        }
      }
      if (!q) return;
      const asm = fromClient ? q.client : q.server;
      const flow = f;
      let over = false;
      forEachCryptoFrame(plain, (so, data, doff, dlen) => {
        if (!asm.add(so, data, doff, dlen)) over = true;
      });
      this.trackQuic(q);
      if (over) {
        this.stats.cappedDirections++;
        this.finish(flow);
        return;
      }
      this.quicHandshake(flow, di, q, fromClient);
      if (flow.done) return;
      p = h.next;
    }
  }

  private quicHandshake(f: Flow, di: number, q: QuicFlow, fromClient: boolean): void {
    const asm = fromClient ? q.client : q.server;
    const avail = asm.contiguous();
    let pos = fromClient ? q.clientParsed : q.serverParsed;
    const bytes = asm.bytes;
    while (avail - pos >= 4 && !f.done) {
      const type = bytes[pos]!;
      const len = (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
      if (avail - pos - 4 < len) break;
      this.onHandshake(f, di, type, bytes, pos + 4, len, 'q');
      pos += 4 + len;
    }
    if (fromClient) q.clientParsed = pos;
    else q.serverParsed = pos;
  }

  /**
   * DTLS records (RFC 6347 §4.1/§4.2.2): 13-byte record header, 12-byte handshake header.
   * Only unfragmented hellos are read; fragmented ones are rare and skipped.
   */
  private dtlsDatagram(f: Flow, di: number, b: Uint8Array, off: number, end: number): void {
    let p = off;
    for (let i = 0; i < 16 && end - p >= 13 && !f.done; i++) {
      const type = b[p]!;
      const rlen = (b[p + 11]! << 8) | b[p + 12]!;
      if (b[p + 1] !== 0xfe || rlen > end - p - 13) return;
      if (type === 22 && rlen >= 12) {
        const h = p + 13;
        const mtype = b[h]!;
        const mlen = (b[h + 1]! << 16) | (b[h + 2]! << 8) | b[h + 3]!;
        const fragOff = (b[h + 6]! << 16) | (b[h + 7]! << 8) | b[h + 8]!;
        const fragLen = (b[h + 9]! << 16) | (b[h + 10]! << 8) | b[h + 11]!;
        if (fragOff === 0 && fragLen === mlen && mlen <= rlen - 12) this.onHandshake(f, di, mtype, b, h + 12, mlen, 'd');
      } else if (type === 23) {
        this.finish(f);
        return;
      }
      p += 13 + rlen;
    }
  }
}

function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

const addrScratch = new Uint8Array(16);
const addrView = new DataView(addrScratch.buffer);

function formatWords(v6: boolean, w0: number, w1: number, w2: number, w3: number): string {
  if (!v6) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  addrView.setInt32(0, w0);
  addrView.setInt32(4, w1);
  addrView.setInt32(8, w2);
  addrView.setInt32(12, w3);
  return formatAddress(addrScratch, 0, 6);
}

const addressA = (f: Flow): string => formatWords(f.v6, f.a0, f.a1, f.a2, f.a3);
const addressB = (f: Flow): string => formatWords(f.v6, f.b0, f.b1, f.b2, f.b3);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function appendTo(buf: Uint8Array | null, used: number, src: Uint8Array, off: number, len: number, cap: number): Uint8Array {
  const need = used + len;
  if (!buf || buf.length < need) {
    let size = buf ? buf.length : 4096;
    while (size < need) size *= 2;
    const next = new Uint8Array(Math.min(Math.max(size, need), Math.max(cap, need)));
    if (buf) next.set(buf.subarray(0, used));
    buf = next;
  }
  buf.set(src.subarray(off, off + len), used);
  return buf;
}

/** Offset of a plausible TLS handshake record header (ClientHello/ServerHello), or -1. */
function findTlsStart(b: Uint8Array, p: number, end: number): number {
  for (let i = p; i + 6 <= end; i++) {
    if (b[i] !== 22 || b[i + 1] !== 3 || b[i + 2]! > 4) continue;
    const rlen = (b[i + 3]! << 8) | b[i + 4]!;
    const t = b[i + 5];
    if (rlen >= 4 && rlen <= MAX_RECORD && (t === HS_CLIENT_HELLO || t === HS_SERVER_HELLO)) return i;
  }
  return -1;
}

/**
 * Analyses a whole capture held in memory.
 *
 * @example
 * const { records } = analyzeCaptureBytes(readFileSync('tls.pcapng'));
 * records[0].ja4 // 't13d1516h2_8daaf6152771_e5627efa2ab1'
 */
export function analyzeCaptureBytes(bytes: Uint8Array, opts: AnalyzeOptions = {}): CaptureAnalysis {
  const a = new TlsCaptureAnalyzer(opts);
  a.push(bytes);
  return a.end();
}

/**
 * Analyses a capture from bytes or from a stream of chunks (e.g. `fs.createReadStream`),
 * without holding the whole capture in memory.
 *
 * @example
 * const { records, warnings } = await analyzeCapture(createReadStream('big.pcap'));
 */
export async function analyzeCapture(
  input: Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: AnalyzeOptions = {},
): Promise<CaptureAnalysis> {
  if (input instanceof Uint8Array) return analyzeCaptureBytes(input, opts);
  const a = new TlsCaptureAnalyzer(opts);
  for await (const chunk of input as AsyncIterable<Uint8Array>) a.push(chunk);
  return a.end();
}
