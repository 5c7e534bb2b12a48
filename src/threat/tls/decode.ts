/**
 * Packet decoding from the link layer down to TCP/UDP: Ethernet (802.1Q/802.1ad/QinQ VLAN
 * tags, MPLS, PPPoE), Linux cooked capture v1/v2, raw IP, BSD null/loopback; IPv4 and IPv6
 * (extension headers skipped); tunnels GRE (incl. ERSPAN II/III), IP-in-IP, 6in4, VXLAN
 * and Geneve. Fragments are counted and skipped: TLS hellos are not fragmented at the IP
 * layer in practice, and reassembling them would mean buffering unrelated traffic.
 *
 * The decoder writes into a caller-owned `DecodedPacket` and allocates nothing, because it
 * runs once per packet of captures that may hold millions of them.
 */
import { LinkType } from './capture.ts';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Why a packet did not yield a TCP/UDP payload (for statistics). */
export const DecodeStatus = {
  Ok: 0,
  /** Not IP, or an IP protocol other than TCP/UDP. */
  NotTransport: 1,
  /** An IPv4 fragment, or an IPv6 fragment header with a non-zero offset or more-fragments. */
  Fragment: 2,
  /** A header was cut short or contradicts itself. */
  Malformed: 3,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** The decoded view of one packet. Offsets point into `data`; nothing is copied. */
export class DecodedPacket {
  data: Uint8Array = new Uint8Array(0);
  /** 4 or 6 (of the innermost IP header). */
  ipVersion = 0;
  /** Offsets of the source and destination addresses (4 or 16 bytes each). */
  srcOff = 0;
  dstOff = 0;
  /** IPPROTO_TCP or IPPROTO_UDP. */
  protocol = 0;
  srcPort = 0;
  dstPort = 0;
  /** TCP sequence number and flags (FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10). */
  seq = 0;
  tcpFlags = 0;
  payloadOff = 0;
  payloadLen = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD1 = 0x9100;
const ETH_QINQ_OLD2 = 0x9200;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_PPPOE = 0x8864;
const ETH_TEB = 0x6558; // transparent Ethernet bridging (GRE, Geneve)
const ETH_ERSPAN2 = 0x88be;
const ETH_ERSPAN3 = 0x22eb;
const VXLAN_PORT = 4789;
const GENEVE_PORT = 6081;
/** Tunnels nested deeper than this are not followed (protects against crafted loops). */
const MAX_DEPTH = 4;

/**
 * Decodes one packet of the given link type into `out`. Returns `DecodeStatus.Ok` when
 * `out` describes a TCP or UDP segment.
 *
 * @example
 * const d = new DecodedPacket();
 * if (decodePacket(LinkType.ETHERNET, bytes, 0, bytes.length, d) === DecodeStatus.Ok) use(d.srcPort);
 */
export function decodePacket(linkType: number, b: Uint8Array, off: number, len: number, out: DecodedPacket): DecodeStatus {
  out.data = b;
  const end = off + len;
  switch (linkType) {
    case LinkType.ETHERNET:
      return ethernet(b, off, end, out, 0);
    case LinkType.LINUX_SLL:
      if (len < 16) return DecodeStatus.Malformed;
      return etherType(((b[off + 14]! << 8) | b[off + 15]!) >>> 0, b, off + 16, end, out, 0);
    case LinkType.LINUX_SLL2:
      if (len < 20) return DecodeStatus.Malformed;
      return etherType((b[off]! << 8) | b[off + 1]!, b, off + 20, end, out, 0);
    case LinkType.RAW:
    case 12:
    case 14:
      return ipAny(b, off, end, out, 0);
    case LinkType.IPV4:
      return ipv4(b, off, end, out, 0);
    case LinkType.IPV6:
      return ipv6(b, off, end, out, 0);
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (len < 4) return DecodeStatus.Malformed;
      // The family is in the capturing host's byte order for NULL, network order for LOOP.
      const be = ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
      const le = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
      const fam = linkType === LinkType.LOOP ? be : le < 256 ? le : be;
      if (fam === 2) return ipv4(b, off + 4, end, out, 0);
      if (fam === 10 || fam === 24 || fam === 28 || fam === 30) return ipv6(b, off + 4, end, out, 0);
      return DecodeStatus.NotTransport;
    }
    default:
      return DecodeStatus.NotTransport;
  }
}

function ethernet(b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (end - off < 14) return DecodeStatus.Malformed;
  return etherType((b[off + 12]! << 8) | b[off + 13]!, b, off + 14, end, out, depth);
}

function etherType(type: number, b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  // VLAN tags (any number, bounded by the packet length): TCI(2) then the next type.
  for (let tags = 0; ; tags++) {
    if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD1 || type === ETH_QINQ_OLD2) {
      if (end - off < 4 || tags > 8) return DecodeStatus.Malformed;
      type = (b[off + 2]! << 8) | b[off + 3]!;
      off += 4;
      continue;
    }
    break;
  }
  switch (type) {
    case ETH_IPV4:
      return ipv4(b, off, end, out, depth);
    case ETH_IPV6:
      return ipv6(b, off, end, out, depth);
    case ETH_MPLS:
    case ETH_MPLS_MC: {
      // Label stack entries until the bottom-of-stack bit, then IP by version nibble.
      for (let i = 0; i < 16; i++) {
        if (end - off < 4) return DecodeStatus.Malformed;
        const bos = b[off + 2]! & 1;
        off += 4;
        if (bos) return ipAny(b, off, end, out, depth);
      }
      return DecodeStatus.Malformed;
    }
    case ETH_PPPOE: {
      if (end - off < 8) return DecodeStatus.Malformed;
      const ppp = (b[off + 6]! << 8) | b[off + 7]!;
      if (ppp === 0x0021) return ipv4(b, off + 8, end, out, depth);
      if (ppp === 0x0057) return ipv6(b, off + 8, end, out, depth);
      return DecodeStatus.NotTransport;
    }
    default:
      return DecodeStatus.NotTransport;
  }
}

function ipAny(b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (off >= end) return DecodeStatus.Malformed;
  const v = b[off]! >> 4;
  if (v === 4) return ipv4(b, off, end, out, depth);
  if (v === 6) return ipv6(b, off, end, out, depth);
  return DecodeStatus.NotTransport;
}

function ipv4(b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (end - off < 20) return DecodeStatus.Malformed;
  const vihl = b[off]!;
  if (vihl >> 4 !== 4) return DecodeStatus.Malformed;
  const ihl = (vihl & 15) * 4;
  const total = (b[off + 2]! << 8) | b[off + 3]!;
  if (ihl < 20 || (total !== 0 && total < ihl) || end - off < ihl) return DecodeStatus.Malformed;
  const frag = ((b[off + 6]! << 8) | b[off + 7]!) & 0x3fff;
  if (frag !== 0) return DecodeStatus.Fragment;
  // Ethernet pads short frames; the IP total length says where the datagram really ends.
  // A snapped capture may end earlier, in which case we keep what was captured. A total
  // length of 0 is what segmentation offload (TSO) leaves in captures taken on the sender.
  const ipEnd = total === 0 ? end : Math.min(end, off + total);
  out.ipVersion = 4;
  out.srcOff = off + 12;
  out.dstOff = off + 16;
  out.ttl = b[off + 8]!;
  return transport(b[off + 9]!, b, off + ihl, ipEnd, out, depth);
}

function ipv6(b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (end - off < 40) return DecodeStatus.Malformed;
  if (b[off]! >> 4 !== 6) return DecodeStatus.Malformed;
  const plen = (b[off + 4]! << 8) | b[off + 5]!;
  let next = b[off + 6]!;
  out.ipVersion = 6;
  out.srcOff = off + 8;
  out.dstOff = off + 24;
  out.ttl = b[off + 7]!;
  let p = off + 40;
  const ipEnd = plen === 0 ? end : Math.min(end, p + plen);
  // Extension headers: hop-by-hop 0, routing 43, fragment 44, AH 51, destination options 60,
  // mobility 135, HIP 139, shim6 140. Bounded loop so a crafted chain cannot spin.
  for (let i = 0; i < 16; i++) {
    switch (next) {
      case 0:
      case 43:
      case 60:
      case 135:
      case 139:
      case 140: {
        if (ipEnd - p < 8) return DecodeStatus.Malformed;
        const l = (b[p + 1]! + 1) * 8;
        next = b[p]!;
        p += l;
        if (p > ipEnd) return DecodeStatus.Malformed;
        continue;
      }
      case 44: {
        if (ipEnd - p < 8) return DecodeStatus.Malformed;
        const fo = ((b[p + 2]! << 8) | b[p + 3]!) & 0xfff9; // offset (13 bits) and M flag
        if (fo !== 0) return DecodeStatus.Fragment;
        next = b[p]!;
        p += 8;
        continue;
      }
      case 51: {
        if (ipEnd - p < 8) return DecodeStatus.Malformed;
        const l = (b[p + 1]! + 2) * 4;
        next = b[p]!;
        p += l;
        if (p > ipEnd) return DecodeStatus.Malformed;
        continue;
      }
      default:
        return transport(next, b, p, ipEnd, out, depth);
    }
  }
  return DecodeStatus.Malformed;
}

function transport(proto: number, b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  switch (proto) {
    case IPPROTO_TCP: {
      if (end - off < 20) return DecodeStatus.Malformed;
      const doff = (b[off + 12]! >> 4) * 4;
      if (doff < 20 || doff > end - off) return DecodeStatus.Malformed;
      out.protocol = IPPROTO_TCP;
      out.srcPort = (b[off]! << 8) | b[off + 1]!;
      out.dstPort = (b[off + 2]! << 8) | b[off + 3]!;
      out.seq = ((b[off + 4]! << 24) | (b[off + 5]! << 16) | (b[off + 6]! << 8) | b[off + 7]!) >>> 0;
      out.tcpFlags = b[off + 13]!;
      out.payloadOff = off + doff;
      out.payloadLen = end - off - doff;
      return DecodeStatus.Ok;
    }
    case IPPROTO_UDP: {
      if (end - off < 8) return DecodeStatus.Malformed;
      const ulen = (b[off + 4]! << 8) | b[off + 5]!;
      const udpEnd = ulen >= 8 ? Math.min(end, off + ulen) : end;
      const sport = (b[off]! << 8) | b[off + 1]!;
      const dport = (b[off + 2]! << 8) | b[off + 3]!;
      const p = off + 8;
      if (depth < MAX_DEPTH) {
        if (dport === VXLAN_PORT && udpEnd - p >= 8 + 14 && (b[p]! & 0x08) !== 0) {
          return ethernet(b, p + 8, udpEnd, out, depth + 1);
        }
        if (dport === GENEVE_PORT && udpEnd - p >= 8 && b[p]! >> 6 === 0) {
          const hl = 8 + (b[p]! & 0x3f) * 4;
          if (hl <= udpEnd - p) {
            const pt = (b[p + 2]! << 8) | b[p + 3]!;
            if (pt === ETH_TEB) return ethernet(b, p + hl, udpEnd, out, depth + 1);
            return etherType(pt, b, p + hl, udpEnd, out, depth + 1);
          }
        }
      }
      out.protocol = IPPROTO_UDP;
      out.srcPort = sport;
      out.dstPort = dport;
      out.seq = 0;
      out.tcpFlags = 0;
      out.payloadOff = p;
      out.payloadLen = udpEnd - p;
      return DecodeStatus.Ok;
    }
    case 4: // IP in IP
      return depth < MAX_DEPTH ? ipv4(b, off, end, out, depth + 1) : DecodeStatus.NotTransport;
    case 41: // IPv6 in IP
      return depth < MAX_DEPTH ? ipv6(b, off, end, out, depth + 1) : DecodeStatus.NotTransport;
    case 47:
      return depth < MAX_DEPTH ? gre(b, off, end, out, depth + 1) : DecodeStatus.NotTransport;
    default:
      return DecodeStatus.NotTransport;
  }
}

function gre(b: Uint8Array, off: number, end: number, out: DecodedPacket, depth: number): DecodeStatus {
  if (end - off < 4) return DecodeStatus.Malformed;
  const flags = b[off]!;
  const proto = (b[off + 2]! << 8) | b[off + 3]!;
  let p = off + 4;
  if (flags & 0x80) p += 4; // checksum + reserved
  if (flags & 0x20) p += 4; // key
  if (flags & 0x10) p += 4; // sequence number
  if (p > end) return DecodeStatus.Malformed;
  switch (proto) {
    case ETH_TEB:
      return ethernet(b, p, end, out, depth);
    case ETH_ERSPAN2:
      // Type II has an 8-byte ERSPAN header; type I (no sequence flag) has none.
      return ethernet(b, flags & 0x10 ? p + 8 : p, end, out, depth);
    case ETH_ERSPAN3: {
      if (end - p < 12) return DecodeStatus.Malformed;
      const o = b[p + 11]! & 1; // optional platform sub-header
      return ethernet(b, p + 12 + (o ? 8 : 0), end, out, depth);
    }
    default:
      return etherType(proto, b, p, end, out, depth);
  }
}

/**
 * Copies bytes out of a packet buffer. (`Buffer#slice` returns a view, not a copy, and packet
 * buffers are reused, so anything kept past the current packet must go through this.)
 */
export function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(b.subarray(start, end));
}

/** Formats an IPv4 or IPv6 address the way Wireshark prints it (RFC 5952 for IPv6). */
export function formatAddress(b: Uint8Array, off: number, version: number): string {
  if (version === 4) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  // Longest run of two or more zero words becomes "::" (first one on a tie).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped addresses keep the dotted tail.
  if (bestStart === 0 && bestLen === 5 && words[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  const hex = (from: number, to: number): string =>
    words
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}
