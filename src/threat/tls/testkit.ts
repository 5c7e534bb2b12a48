/**
 * Builders for synthetic captures, used by this module's tests and by `bench/tls.ts`: pcap
 * and pcapng writers (either byte order, micro/nanosecond stamps, several interfaces) and
 * IPv4/IPv6 TCP packet constructors. Not part of the public API (`index.ts` does not export it).
 */
import { CaptureReader } from './capture.ts';
import { DecodedPacket, DecodeStatus, IPPROTO_TCP, copyBytes, decodePacket } from './decode.ts';
import { seededRandom } from '../../kernel/prng.ts';

/** A packet to write: link-layer bytes as they should appear in the capture. */
export interface SynthPacket {
  data: Uint8Array;
  timestampMs: number;
  /** pcapng interface index (ignored by `encodePcap`). */
  interfaceId?: number;
}

class Writer {
  private buf = new Uint8Array(1 << 16);
  len = 0;
  constructor(private readonly le: boolean) {}
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.ensure(2);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset);
    dv.setUint16(this.len, v, this.le);
    this.len += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset);
    dv.setUint32(this.len, v >>> 0, this.le);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  pad4(): void {
    while (this.len % 4 !== 0) this.u8(0);
  }
  patch32(at: number, v: number): void {
    new DataView(this.buf.buffer, this.buf.byteOffset).setUint32(at, v >>> 0, this.le);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Writes a libpcap file. */
export function encodePcap(
  packets: SynthPacket[],
  opts: { linkType: number; bigEndian?: boolean; nanoseconds?: boolean; snapLen?: number },
): Uint8Array {
  const w = new Writer(!opts.bigEndian);
  w.u32(opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4);
  w.u16(2);
  w.u16(4);
  w.u32(0);
  w.u32(0);
  w.u32(opts.snapLen ?? 262_144);
  w.u32(opts.linkType);
  for (const p of packets) {
    const sec = Math.floor(p.timestampMs / 1000);
    const frac = opts.nanoseconds ? Math.round((p.timestampMs - sec * 1000) * 1e6) : Math.round((p.timestampMs - sec * 1000) * 1e3);
    w.u32(sec);
    w.u32(frac);
    w.u32(p.data.length);
    w.u32(p.data.length);
    w.bytes(p.data);
  }
  return w.result();
}

/** Writes a pcapng file with one section; packets go into EPBs (or SPBs for interface 0). */
export function encodePcapng(
  packets: SynthPacket[],
  opts: { interfaces: { linkType: number; tsresol?: number }[]; bigEndian?: boolean; simpleBlocks?: boolean },
): Uint8Array {
  const w = new Writer(!opts.bigEndian);
  // Section header block with one comment option, to exercise option skipping.
  const shbStart = w.len;
  w.u32(0x0a0d0d0a);
  w.u32(0);
  w.u32(0x1a2b3c4d);
  w.u16(1);
  w.u16(0);
  w.u32(0xffffffff);
  w.u32(0xffffffff);
  w.u16(1);
  w.u16(5);
  w.bytes(new TextEncoder().encode('cairn'));
  w.pad4();
  w.u16(0);
  w.u16(0);
  w.u32(w.len - shbStart + 4);
  w.patch32(shbStart + 4, w.len - shbStart);
  for (const iface of opts.interfaces) {
    const start = w.len;
    w.u32(1);
    w.u32(0);
    w.u16(iface.linkType);
    w.u16(0);
    w.u32(0);
    if (iface.tsresol !== undefined) {
      w.u16(9);
      w.u16(1);
      w.u8(iface.tsresol);
      w.pad4();
      w.u16(0);
      w.u16(0);
    }
    w.u32(w.len - start + 4);
    w.patch32(start + 4, w.len - start);
  }
  // An unknown block type in the middle, which readers must skip.
  w.u32(0x0bad);
  w.u32(16);
  w.u32(0xdeadbeef);
  w.u32(16);
  for (const p of packets) {
    const ifId = p.interfaceId ?? 0;
    const start = w.len;
    if (opts.simpleBlocks && ifId === 0) {
      w.u32(3);
      w.u32(0);
      w.u32(p.data.length);
    } else {
      const res = opts.interfaces[ifId]?.tsresol ?? 6;
      const ticksPerMs = res & 0x80 ? 2 ** (res & 0x7f) / 1000 : 10 ** res / 1000;
      const ticks = Math.round(p.timestampMs * ticksPerMs);
      w.u32(6);
      w.u32(0);
      w.u32(ifId);
      w.u32(Math.floor(ticks / 4294967296));
      w.u32(ticks % 4294967296);
      w.u32(p.data.length);
      w.u32(p.data.length);
    }
    w.bytes(p.data);
    w.pad4();
    w.u32(w.len - start + 4);
    w.patch32(start + 4, w.len - start);
  }
  return w.result();
}

export interface TcpSpec {
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  seq: number;
  /** FIN 1, SYN 2, RST 4, PSH 8, ACK 16. */
  flags: number;
  payload?: Uint8Array;
}

/** A raw IPv4 or IPv6 packet (by address length) carrying one TCP segment. */
export function ipTcp(t: TcpSpec): Uint8Array {
  const payload = t.payload ?? new Uint8Array(0);
  const tcp = new Uint8Array(20 + payload.length);
  const dv = new DataView(tcp.buffer);
  dv.setUint16(0, t.sport);
  dv.setUint16(2, t.dport);
  dv.setUint32(4, t.seq >>> 0);
  dv.setUint32(8, 0);
  tcp[12] = 5 << 4;
  tcp[13] = t.flags;
  dv.setUint16(14, 65535);
  tcp.set(payload, 20);
  return ipWrap(t.src, t.dst, IPPROTO_TCP, tcp);
}

/** Wraps a transport segment in an IPv4 (4-byte addresses) or IPv6 (16-byte) header. */
export function ipWrap(src: Uint8Array, dst: Uint8Array, proto: number, segment: Uint8Array): Uint8Array {
  if (src.length === 4) {
    const ip = new Uint8Array(20 + segment.length);
    const dv = new DataView(ip.buffer);
    ip[0] = 0x45;
    dv.setUint16(2, ip.length);
    ip[8] = 64;
    ip[9] = proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    ip.set(segment, 20);
    return ip;
  }
  const ip = new Uint8Array(40 + segment.length);
  const dv = new DataView(ip.buffer);
  ip[0] = 0x60;
  dv.setUint16(4, segment.length);
  ip[6] = proto;
  ip[7] = 64;
  ip.set(src, 8);
  ip.set(dst, 24);
  ip.set(segment, 40);
  return ip;
}

/** Ethernet II frame around an IP packet, with optional 802.1Q/802.1ad tags (outer first). */
export function ethernetFrame(ip: Uint8Array, vlanTpids: number[] = []): Uint8Array {
  const out = new Uint8Array(14 + 4 * vlanTpids.length + ip.length);
  const dv = new DataView(out.buffer);
  out.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  let p = 12;
  for (const [i, tpid] of vlanTpids.entries()) {
    dv.setUint16(p, tpid);
    dv.setUint16(p + 2, 100 + i);
    p += 4;
  }
  dv.setUint16(p, ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  out.set(ip, p + 2);
  return out;
}

/** Linux cooked capture v1 (16 bytes) or v2 (20 bytes) header around an IP packet. */
export function cookedFrame(ip: Uint8Array, version: 1 | 2): Uint8Array {
  const proto = ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  const hl = version === 1 ? 16 : 20;
  const out = new Uint8Array(hl + ip.length);
  const dv = new DataView(out.buffer);
  if (version === 1) {
    dv.setUint16(0, 0); // packet type: to us
    dv.setUint16(2, 1); // ARPHRD_ETHER
    dv.setUint16(4, 6);
    dv.setUint16(14, proto);
  } else {
    dv.setUint16(0, proto);
    dv.setUint32(4, 2); // interface index
    dv.setUint16(8, 1);
    out[11] = 6;
  }
  out.set(ip, hl);
  return out;
}

/** BSD loopback header (address family in little-endian host order) around an IP packet. */
export function nullFrame(ip: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + ip.length);
  out[0] = ip[0]! >> 4 === 6 ? 30 : 2;
  out.set(ip, 4);
  return out;
}

/** One TCP segment found in a capture, with its IP packet (link layer removed). */
export interface ExtractedSegment {
  ip: Uint8Array;
  timestampMs: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  flags: number;
  payload: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
}

/** Reads a capture and returns every TCP segment in it (used to re-encode real traffic). */
export function extractTcpSegments(capture: Uint8Array): ExtractedSegment[] {
  const out: ExtractedSegment[] = [];
  const d = new DecodedPacket();
  const r = new CaptureReader((p) => {
    if (decodePacket(p.linkType, p.data, p.offset, p.length, d) !== DecodeStatus.Ok || d.protocol !== IPPROTO_TCP) return;
    const n = d.ipVersion === 4 ? 4 : 16;
    const ipStart = d.ipVersion === 4 ? d.srcOff - 12 : d.srcOff - 8;
    out.push({
      ip: copyBytes(d.data, ipStart, d.payloadOff + d.payloadLen),
      timestampMs: p.timestampMs,
      srcPort: d.srcPort,
      dstPort: d.dstPort,
      seq: d.seq,
      flags: d.tcpFlags,
      payload: copyBytes(d.data, d.payloadOff, d.payloadOff + d.payloadLen),
      src: copyBytes(d.data, d.srcOff, d.srcOff + n),
      dst: copyBytes(d.data, d.dstOff, d.dstOff + n),
    });
  });
  r.push(capture);
  r.end();
  return out;
}

export { seededRandom };

// ---------------------------------------------------------------- hello builders

/** One extension: type and body bytes. */
export interface ExtSpec {
  type: number;
  data?: Uint8Array;
}

const u16be = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const list16 = (values: number[]): number[] => values.flatMap(u16be);

export const ext = {
  sni: (host: string): ExtSpec => {
    const name = Array.from(host, (c) => c.charCodeAt(0));
    return { type: 0, data: new Uint8Array([...u16be(name.length + 3), 0, ...u16be(name.length), ...name]) };
  },
  alpn: (protocols: (string | number[])[]): ExtSpec => {
    const body = protocols.flatMap((p) => {
      const bytes = typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : p;
      return [bytes.length, ...bytes];
    });
    return { type: 0x10, data: new Uint8Array([...u16be(body.length), ...body]) };
  },
  supportedVersions: (versions: number[]): ExtSpec => ({ type: 0x2b, data: new Uint8Array([versions.length * 2, ...list16(versions)]) }),
  sigAlgs: (algs: number[]): ExtSpec => ({ type: 0x0d, data: new Uint8Array([...u16be(algs.length * 2), ...list16(algs)]) }),
  groups: (groups: number[]): ExtSpec => ({ type: 0x0a, data: new Uint8Array([...u16be(groups.length * 2), ...list16(groups)]) }),
  pointFormats: (formats: number[]): ExtSpec => ({ type: 0x0b, data: new Uint8Array([formats.length, ...formats]) }),
  empty: (type: number): ExtSpec => ({ type }),
};

/** A ClientHello handshake message (4-byte header included). `dtls` adds an empty cookie. */
export function buildClientHello(h: { version: number; ciphers: number[]; extensions?: ExtSpec[]; dtls?: boolean; noExtensionBlock?: boolean }): Uint8Array {
  const exts = (h.extensions ?? []).flatMap((e) => [...u16be(e.type), ...u16be(e.data?.length ?? 0), ...(e.data ?? [])]);
  const body = [
    ...u16be(h.version),
    ...new Array<number>(32).fill(7), // random
    0, // session id
    ...(h.dtls ? [0] : []), // cookie
    ...u16be(h.ciphers.length * 2),
    ...list16(h.ciphers),
    1,
    0, // compression: null
    ...(h.noExtensionBlock ? [] : [...u16be(exts.length), ...exts]),
  ];
  return new Uint8Array([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff, ...body]);
}

/** A ServerHello handshake message (4-byte header included). */
export function buildServerHello(h: { version: number; cipher: number; extensions?: ExtSpec[]; helloRetryRequest?: boolean }): Uint8Array {
  const hrr = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a,
    0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
  ];
  const exts = (h.extensions ?? []).flatMap((e) => [...u16be(e.type), ...u16be(e.data?.length ?? 0), ...(e.data ?? [])]);
  const body = [...u16be(h.version), ...(h.helloRetryRequest ? hrr : new Array<number>(32).fill(9)), 0, ...u16be(h.cipher), 0, ...u16be(exts.length), ...exts];
  return new Uint8Array([2, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff, ...body]);
}

/** Wraps handshake messages in one TLS record of the given content type (22 = handshake). */
export function tlsRecord(payload: Uint8Array, type = 22, version = 0x0301): Uint8Array {
  return new Uint8Array([type, ...u16be(version), ...u16be(payload.length), ...payload]);
}
