/**
 * HMAC-SHA256 for short messages (≤ 55 bytes: a MAC address, badge or app id) at over a million
 * per second on one core. The key's inner and outer pad blocks are compressed once; each message
 * then costs exactly two SHA-256 compressions and no allocation. Longer messages fall back to
 * node:crypto. Output equals `createHmac('sha256', key).update(msg).digest()` (tested).
 */
import { createHash, createHmac } from 'node:crypto';

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/** One SHA-256 compression of the 16 words in W[0..15] into state `st` (W is clobbered). */
function compress(st: Int32Array, W: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    W[i] =
      (W[i - 16]! + (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + W[i - 7]! + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10))) | 0;
  }
  let a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!, e = st[4]!, f = st[5]!, g = st[6]!, h = st[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  st[0] = (st[0]! + a) | 0; st[1] = (st[1]! + b) | 0; st[2] = (st[2]! + c) | 0; st[3] = (st[3]! + d) | 0;
  st[4] = (st[4]! + e) | 0; st[5] = (st[5]! + f) | 0; st[6] = (st[6]! + g) | 0; st[7] = (st[7]! + h) | 0;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A keyed short-message HMAC. Not safe to share across threads (it reuses scratch buffers). */
export class FastHmac {
  private readonly inner: Int32Array;
  private readonly outer: Int32Array;
  private readonly st = new Int32Array(8);
  private readonly W = new Int32Array(64);
  constructor(private readonly key: Buffer) {
    this.inner = this.padState(0x36);
    this.outer = this.padState(0x5c);
  }

  private padState(pad: number): Int32Array {
    const block = Buffer.alloc(64);
    (this.key.length > 64 ? createHash('sha256').update(this.key).digest() : this.key).copy(block);
    const st = new Int32Array(IV);
    for (let i = 0; i < 16; i++) this.W[i] = block.readInt32BE(i * 4) ^ (pad * 0x01010101);
    compress(st, this.W);
    return st;
  }

  /** Compute into the internal state; returns false when the message is too long for the fast path. */
  private run(msg: Uint8Array): boolean {
    const n = msg.length;
    if (n > 55) return false;
    const W = this.W;
    const st = this.st;
    W.fill(0, 0, 16);
    for (let i = 0; i < n; i++) W[i >> 2]! |= msg[i]! << (24 - 8 * (i & 3));
    W[n >> 2]! |= 0x80 << (24 - 8 * (n & 3));
    W[15] = (64 + n) * 8;
    st.set(this.inner);
    compress(st, W);
    for (let i = 0; i < 8; i++) W[i] = st[i]!;
    W[8] = 0x80000000 | 0;
    W.fill(0, 9, 15);
    W[15] = (64 + 32) * 8;
    st.set(this.outer);
    compress(st, W);
    return true;
  }

  /** Full 32-byte digest. */
  digest(msg: Uint8Array): Buffer {
    if (!this.run(msg)) return createHmac('sha256', this.key).update(msg).digest();
    const out = Buffer.allocUnsafe(32);
    for (let i = 0; i < 8; i++) out.writeInt32BE(this.st[i]!, i * 4);
    return out;
  }

  /** The first `words` 32-bit words (default 4 = 128 bits) as lowercase hex. */
  hex(msg: Uint8Array, words = 4): string {
    if (!this.run(msg)) return createHmac('sha256', this.key).update(msg).digest('hex').slice(0, words * 8);
    let s = '';
    for (let i = 0; i < words; i++) {
      const w = this.st[i]!;
      s += HEX[(w >>> 24) & 255]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!;
    }
    return s;
  }
}
