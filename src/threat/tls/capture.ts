/**
 * Capture-file reader for libpcap (`.pcap`: both byte orders, micro- and nanosecond stamps)
 * and pcapng (`.pcapng`: sections of either byte order, interface, enhanced, simple and
 * obsolete packet blocks, per-interface link types and timestamp resolutions).
 *
 * It is incremental: `push()` takes chunks of any size and hands each packet to a callback
 * as a view into the chunk (no copy) — a packet is copied only when it straddles two chunks.
 * Memory is therefore bounded by one packet (`maxPacketBytes`), never by the capture size.
 * Every length field is checked against the bytes that remain and against fixed caps before
 * it is used, so corrupt input ends in a `CairnError`, never in a hang or a huge allocation.
 */
import { CairnError } from '../../kernel/errors.ts';

/** Link-layer header types (tcpdump.org/linktypes.html) that `decodePacket` understands. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/**
 * One captured packet. The object and `data` are reused for the next packet: read what you
 * need inside the callback and copy anything you keep.
 */
export interface CapturedPacket {
  /** Link-layer type of the interface the packet was captured on. */
  linkType: number;
  /** pcapng interface index (always 0 for libpcap files). */
  interfaceId: number;
  /** Capture time, UTC epoch milliseconds (fractional below 1 ms is kept). */
  timestampMs: number;
  /** Buffer holding the packet bytes at `offset .. offset + length`. */
  data: Uint8Array;
  offset: number;
  /** Captured bytes (may be less than `originalLength` when the capture was snapped). */
  length: number;
  /** Length of the packet on the wire. */
  originalLength: number;
  /** Zero-based index of the packet in the capture. */
  index: number;
}

export type PacketHandler = (packet: CapturedPacket) => void;

export interface CaptureReaderOptions {
  /** Largest packet accepted, in bytes (default 262,144, libpcap's own limit). */
  maxPacketBytes?: number;
}

/** Capture container formats the reader recognises. */
export type CaptureFormat = 'pcap' | 'pcapng';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
/** Non-packet pcapng blocks larger than this are skipped without being buffered. */
const MAX_BUFFERED_META_BLOCK = 1 << 20;
/** A section may declare at most this many interfaces (each costs a few numbers). */
const MAX_INTERFACES = 65_536;

const enum State {
  Magic,
  PcapRecord,
  PcapngBlock,
}

interface Iface {
  linkType: number;
  snapLen: number;
  /** Timestamp ticks per millisecond. */
  ticksPerMs: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  offsetMs: number;
}

function corrupt(message: string, details: Record<string, unknown>): CairnError {
  return new CairnError('CAIRN_ERR_PCAP_CORRUPT', message, details);
}

/**
 * Streaming reader. Feed it with `push(chunk)`, finish with `end()`.
 *
 * @example
 * const r = new CaptureReader((p) => console.log(p.linkType, p.length));
 * for await (const chunk of fs.createReadStream('x.pcapng')) r.push(chunk);
 * r.end(); // r.warnings lists a truncated last packet, unknown link types, …
 */
export class CaptureReader {
  /** Human-readable notes about input that was skipped but did not stop the read. */
  readonly warnings: string[] = [];
  format: CaptureFormat | null = null;
  /** Bytes consumed so far (for error details). */
  private consumed = 0;
  private packetCount = 0;
  private state: State = State.Magic;
  private le = true;
  private nanos = false;
  private pcapLinkType = 0;
  private ifaces: Iface[] = [];
  private readonly maxPacket: number;
  private carry: Uint8Array;
  private carryLen = 0;
  private skip = 0;
  private skipWasPacket = false;
  private ended = false;
  private readonly pkt: CapturedPacket;

  constructor(
    private readonly onPacket: PacketHandler,
    opts: CaptureReaderOptions = {},
  ) {
    this.maxPacket = Math.max(64, Math.min(opts.maxPacketBytes ?? 262_144, 16 << 20));
    this.carry = new Uint8Array(256);
    this.pkt = {
      linkType: 0,
      interfaceId: 0,
      timestampMs: 0,
      data: this.carry,
      offset: 0,
      length: 0,
      originalLength: 0,
      index: 0,
    };
  }

  /** Number of packets handed to the callback so far. */
  get packets(): number {
    return this.packetCount;
  }

  /** Feeds the next chunk of the capture. Throws `CAIRN_ERR_PCAP_*` on corrupt input. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new CairnError('CAIRN_ERR_INTERNAL', 'push() after end()');
    // Buffers (from fs and http) become plain Uint8Array views, so every function downstream
    // sees one array type and stays monomorphic (a mix costs the analyzer about half its speed).
    if (chunk.constructor !== Uint8Array) chunk = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let off = 0;
    const end = chunk.length;
    if (this.skip > 0) {
      const n = Math.min(this.skip, end);
      this.skip -= n;
      off += n;
      this.consumed += n;
      if (this.skip > 0) return;
    }
    // Finish the unit that straddles the previous chunk, using the carry buffer.
    while (this.carryLen > 0 && off < end) {
      const need = this.headerNeed();
      if (this.carryLen < need) {
        off += this.fillCarry(chunk, off, need);
        if (this.carryLen < need) return;
      }
      const size = this.unitSize(this.carry, 0, this.carryLen);
      if (size < 0) {
        // Oversized block we do not need: skip it in stream.
        const total = -size;
        const inCarry = this.carryLen;
        this.carryLen = 0;
        this.consumed += inCarry;
        const fromChunk = Math.min(total - inCarry, end - off);
        off += fromChunk;
        this.consumed += fromChunk;
        this.skip = total - inCarry - fromChunk;
        continue;
      }
      if (this.carryLen < size) {
        off += this.fillCarry(chunk, off, size);
        if (this.carryLen < size) return;
      }
      const n = this.carryLen;
      this.carryLen = 0;
      this.processUnit(this.carry, 0, size);
      this.consumed += n;
    }
    if (this.skip > 0) return;
    // Whole units inside this chunk are read in place.
    while (off < end) {
      const avail = end - off;
      if (avail < this.headerNeed()) break;
      const size = this.unitSize(chunk, off, avail);
      if (size < 0) {
        const total = -size;
        const n = Math.min(total, avail);
        off += n;
        this.consumed += n;
        this.skip = total - n;
        if (this.skip > 0) return;
        continue;
      }
      if (size > avail) break;
      this.processUnit(chunk, off, size);
      off += size;
      this.consumed += size;
    }
    if (off < end) this.fillCarry(chunk, off, end - off);
  }

  /**
   * Declares the end of input. A capture cut inside its file header is corrupt; a capture
   * cut inside its last packet keeps what was read and adds a warning.
   */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.state === State.Magic) {
      throw corrupt('The capture is empty or shorter than its file header.', { bytes: this.consumed + this.carryLen });
    }
    if (this.carryLen > 0 || this.skip > 0) {
      if (this.skip > 0 && !this.skipWasPacket) {
        this.warnings.push(`The capture ends inside a ${this.format} block (${this.skip} bytes missing); earlier packets were read.`);
      } else {
        this.warnings.push(
          `The capture ends inside its last ${this.format === 'pcap' ? 'packet record' : 'block'} at byte ${this.consumed}; earlier packets were read.`,
        );
      }
      this.carryLen = 0;
      this.skip = 0;
    }
  }

  /** Copies up to `want - carryLen` bytes from `chunk` into the carry buffer; returns bytes taken. */
  private fillCarry(chunk: Uint8Array, off: number, want: number): number {
    const take = Math.min(want - this.carryLen, chunk.length - off);
    if (take <= 0) return 0;
    const needCap = this.carryLen + take;
    if (needCap > this.carry.length) {
      let cap = this.carry.length;
      while (cap < needCap) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.carry.subarray(0, this.carryLen));
      this.carry = next;
    }
    this.carry.set(chunk.subarray(off, off + take), this.carryLen);
    this.carryLen += take;
    return take;
  }

  /** Bytes needed before the size of the next unit is known. */
  private headerNeed(): number {
    switch (this.state) {
      case State.Magic:
        return this.format === 'pcapng' ? 12 : 4;
      case State.PcapRecord:
        return 16;
      case State.PcapngBlock:
        return 12;
    }
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private u16(b: Uint8Array, o: number): number {
    return this.le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
  }

  /**
   * Size in bytes of the unit starting at `off` (header already available), or the negative
   * size of a block to skip without buffering. Throws on impossible sizes.
   */
  private unitSize(b: Uint8Array, off: number, avail: number): number {
    switch (this.state) {
      case State.Magic: {
        const m = readU32BE(b, off);
        if (m === PCAPNG_SHB) {
          this.format = 'pcapng';
          if (avail < 12) return 12;
          return this.shbSize(b, off);
        }
        if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) {
          this.le = false;
          this.nanos = m === PCAP_MAGIC_NS;
        } else if (swap32(m) === PCAP_MAGIC_US || swap32(m) === PCAP_MAGIC_NS) {
          this.le = true;
          this.nanos = swap32(m) === PCAP_MAGIC_NS;
        } else {
          throw new CairnError('CAIRN_ERR_PCAP_UNSUPPORTED', 'The input is not a pcap or pcapng capture (unknown magic number).', {
            magic: m.toString(16).padStart(8, '0'),
          });
        }
        this.format = 'pcap';
        return 24;
      }
      case State.PcapRecord: {
        const incl = this.u32(b, off + 8);
        if (incl > this.maxPacket) {
          throw corrupt('A pcap packet record is larger than the packet limit; the file is corrupt.', {
            offset: this.consumed,
            capturedLength: incl,
            limit: this.maxPacket,
          });
        }
        return 16 + incl;
      }
      case State.PcapngBlock: {
        const type = this.u32(b, off);
        if (type === PCAPNG_SHB) return this.shbSize(b, off);
        const len = this.u32(b, off + 4);
        if (len < 12 || len % 4 !== 0) {
          throw corrupt('A pcapng block has an impossible length.', { offset: this.consumed, blockLength: len });
        }
        const isPacket = type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_PB;
        const limit = isPacket ? this.maxPacket + 64 : MAX_BUFFERED_META_BLOCK;
        if (len > limit) {
          if (isPacket) {
            // Packet blocks this large are not real traffic we can analyse; skip, keep reading.
            this.warnings.push(`Skipped a ${len}-byte packet block at byte ${this.consumed} (limit ${limit}).`);
            this.skipWasPacket = true;
          } else {
            this.skipWasPacket = false;
          }
          return -len;
        }
        return len;
      }
    }
  }

  private shbSize(b: Uint8Array, off: number): number {
    const bom = readU32BE(b, off + 8);
    if (bom === PCAPNG_BOM) this.le = false;
    else if (swap32(bom) === PCAPNG_BOM) this.le = true;
    else throw corrupt('A pcapng section header has no valid byte-order magic.', { offset: this.consumed });
    const len = this.u32(b, off + 4);
    if (len < 28 || len % 4 !== 0 || len > MAX_BUFFERED_META_BLOCK) {
      throw corrupt('A pcapng section header block has an impossible length.', { offset: this.consumed, blockLength: len });
    }
    return len;
  }

  private processUnit(b: Uint8Array, off: number, size: number): void {
    switch (this.state) {
      case State.Magic:
        if (this.format === 'pcap') this.pcapHeader(b, off);
        else this.pcapngBlock(b, off, size);
        return;
      case State.PcapRecord:
        this.pcapRecord(b, off, size);
        return;
      case State.PcapngBlock:
        this.pcapngBlock(b, off, size);
        return;
    }
  }

  private pcapHeader(b: Uint8Array, off: number): void {
    const major = this.u16(b, off + 4);
    if (major !== 2) {
      throw new CairnError('CAIRN_ERR_PCAP_UNSUPPORTED', `pcap major version ${major} is not supported.`, { major });
    }
    // The upper bits of the link-type field may carry FCS information; the type is the low 16.
    this.pcapLinkType = this.u32(b, off + 20) & 0xffff;
    if (!isSupportedLinkType(this.pcapLinkType)) {
      throw new CairnError('CAIRN_ERR_PCAP_UNSUPPORTED', `Link type ${this.pcapLinkType} is not supported.`, {
        linkType: this.pcapLinkType,
      });
    }
    this.state = State.PcapRecord;
  }

  private pcapRecord(b: Uint8Array, off: number, size: number): void {
    const sec = this.u32(b, off);
    const frac = this.u32(b, off + 4);
    const p = this.pkt;
    p.linkType = this.pcapLinkType;
    p.interfaceId = 0;
    p.timestampMs = sec * 1000 + (this.nanos ? frac / 1e6 : frac / 1e3);
    p.data = b;
    p.offset = off + 16;
    p.length = size - 16;
    p.originalLength = this.u32(b, off + 12);
    p.index = this.packetCount++;
    this.onPacket(p);
  }

  private pcapngBlock(b: Uint8Array, off: number, size: number): void {
    const type = this.u32(b, off);
    const trailer = this.u32(b, off + size - 4);
    if (trailer !== size) {
      throw corrupt('A pcapng block ends with a length that does not match its start.', {
        offset: this.consumed,
        blockLength: size,
        trailingLength: trailer,
      });
    }
    switch (type) {
      case PCAPNG_SHB: {
        const major = this.u16(b, off + 12);
        if (major !== 1) {
          throw new CairnError('CAIRN_ERR_PCAP_UNSUPPORTED', `pcapng major version ${major} is not supported.`, { major });
        }
        this.ifaces = [];
        this.state = State.PcapngBlock;
        return;
      }
      case BLOCK_IDB:
        this.idb(b, off, size);
        return;
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (size < 32) throw corrupt('A pcapng packet block is too short.', { offset: this.consumed, blockLength: size });
        const ifId = type === BLOCK_EPB ? this.u32(b, off + 8) : this.u16(b, off + 8);
        const caplen = this.u32(b, off + 20);
        if (caplen > size - 32) {
          throw corrupt('A pcapng packet block claims more captured bytes than it holds.', {
            offset: this.consumed,
            capturedLength: caplen,
            blockLength: size,
          });
        }
        const iface = this.ifaces[ifId];
        if (!iface) {
          throw corrupt('A pcapng packet refers to an interface that was not described.', { offset: this.consumed, interfaceId: ifId });
        }
        const ticks = this.u32(b, off + 12) * 4294967296 + this.u32(b, off + 16);
        this.emit(iface, ifId, ticks / iface.ticksPerMs + iface.offsetMs, b, off + 28, caplen, this.u32(b, off + 24));
        return;
      }
      case BLOCK_SPB: {
        if (size < 16) throw corrupt('A pcapng simple packet block is too short.', { offset: this.consumed });
        const iface = this.ifaces[0];
        if (!iface) throw corrupt('A pcapng simple packet appears before any interface.', { offset: this.consumed });
        const orig = this.u32(b, off + 8);
        let caplen = Math.min(orig, size - 16);
        if (iface.snapLen > 0) caplen = Math.min(caplen, iface.snapLen);
        this.emit(iface, 0, 0, b, off + 12, caplen, orig);
        return;
      }
      default:
        return; // name resolution, statistics, decryption secrets, custom blocks: not needed
    }
  }

  private emit(iface: Iface, ifId: number, tsMs: number, b: Uint8Array, off: number, len: number, orig: number): void {
    const p = this.pkt;
    p.index = this.packetCount++;
    if (iface.linkType < 0) return; // unsupported link type: warned once at the IDB
    p.linkType = iface.linkType;
    p.interfaceId = ifId;
    p.timestampMs = tsMs;
    p.data = b;
    p.offset = off;
    p.length = len;
    p.originalLength = orig;
    this.onPacket(p);
  }

  private idb(b: Uint8Array, off: number, size: number): void {
    if (size < 20) throw corrupt('A pcapng interface description block is too short.', { offset: this.consumed });
    if (this.ifaces.length >= MAX_INTERFACES) {
      throw corrupt('A pcapng section declares too many interfaces.', { limit: MAX_INTERFACES });
    }
    let linkType = this.u16(b, off + 8);
    const snapLen = this.u32(b, off + 12);
    let ticksPerMs = 1000;
    let offsetMs = 0;
    // Options: code(2) length(2) value padded to 4, until opt_endofopt or the block trailer.
    let o = off + 16;
    const end = off + size - 4;
    while (o + 4 <= end) {
      const code = this.u16(b, o);
      const len = this.u16(b, o + 2);
      if (code === 0) break;
      if (o + 4 + len > end) throw corrupt('A pcapng interface option overruns its block.', { offset: this.consumed });
      if (code === 9 && len >= 1) {
        const v = b[o + 4]!;
        const exp = v & 0x7f;
        // Resolution is 10^-exp (high bit clear) or 2^-exp seconds per tick.
        const ticksPerSec = v & 0x80 ? 2 ** exp : 10 ** exp;
        ticksPerMs = ticksPerSec / 1000;
        if (!(ticksPerMs > 0) || !Number.isFinite(ticksPerMs)) ticksPerMs = 1000;
      } else if (code === 14 && len >= 8) {
        const hi = this.u32(b, o + 4 + (this.le ? 4 : 0));
        const lo = this.u32(b, o + 4 + (this.le ? 0 : 4));
        offsetMs = (hi * 4294967296 + lo) * 1000;
      }
      o += 4 + ((len + 3) & ~3);
    }
    if (!isSupportedLinkType(linkType)) {
      this.warnings.push(`pcapng interface ${this.ifaces.length} has link type ${linkType}, which is not supported; its packets are skipped.`);
      linkType = -1;
    }
    this.ifaces.push({ linkType, snapLen, ticksPerMs, offsetMs });
  }
}

/** True for link types `decodePacket` can read. */
export function isSupportedLinkType(t: number): boolean {
  return (
    t === LinkType.NULL ||
    t === LinkType.ETHERNET ||
    t === LinkType.RAW ||
    t === LinkType.LOOP ||
    t === LinkType.LINUX_SLL ||
    t === LinkType.IPV4 ||
    t === LinkType.IPV6 ||
    t === LinkType.LINUX_SLL2 ||
    t === 12 || // DLT_RAW as written by some BSDs
    t === 14
  );
}

function readU32BE(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
