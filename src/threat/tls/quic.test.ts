import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoAssembler, QUIC_V1, QUIC_V2, forEachCryptoFrame, quicInitialKeys, readInitialHeader } from './quic.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const DCID = Buffer.from('8394c8f03e515708', 'hex');

test('derives the QUIC v1 Initial keys of RFC 9001 Appendix A.1', () => {
  const c = quicInitialKeys(QUIC_V1, DCID, false)!;
  assert.equal(hex(c.key), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(hex(c.iv), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(hex(c.hp), '9f50449e04a0e810283a1e9933adedd2');
  const s = quicInitialKeys(QUIC_V1, DCID, true)!;
  assert.equal(hex(s.key), 'cf3a5331653c364c88f0f379b6067e37');
  assert.equal(hex(s.iv), '0ac1493ca1905853b0bba03e');
  assert.equal(hex(s.hp), 'c206b8d9b9f0f37644430b490eeaa314');
});

test('derives the QUIC v2 Initial keys of RFC 9369 Appendix A.1', () => {
  const c = quicInitialKeys(QUIC_V2, DCID, false)!;
  assert.equal(hex(c.key), '8b1a0bc121284290a29e0971b5cd045d');
  assert.equal(hex(c.iv), '91f73e2351d8fa91660e909f');
  assert.equal(hex(c.hp), '45b95e15235d6f45a6b19cbcb0294ba9');
  assert.equal(quicInitialKeys(0x12345678, DCID, false), null);
});

test('reads only long-header Initial packets of known versions', () => {
  const initial = new Uint8Array([0xc3, 0, 0, 0, 1, 8, ...DCID, 0, 0, 0x40, 40, ...new Array<number>(40).fill(0)]);
  const h = readInitialHeader(initial, 0, initial.length);
  assert.ok(h);
  assert.equal(hex(h.dcid), hex(DCID));
  assert.equal(h.end, initial.length);
  const handshake = initial.slice();
  handshake[0] = 0xe3; // long header, type Handshake
  assert.equal(readInitialHeader(handshake, 0, handshake.length), null);
  const unknown = initial.slice();
  unknown[4] = 9;
  assert.equal(readInitialHeader(unknown, 0, unknown.length), null);
  assert.equal(readInitialHeader(initial, 0, initial.length - 1), null, 'Length beyond the datagram');
});

test('collects CRYPTO frames between padding, PING and ACK frames', () => {
  const frames = new Uint8Array([
    0, 0, 1, // padding, ping
    2, 5, 0, 1, 0, 0, 1, // ACK: largest 5, delay 0, 1 range, first 0, gap 0 len 1
    6, 4, 3, 0x61, 0x62, 0x63, // CRYPTO offset 4 "abc"
    6, 0, 4, 0x77, 0x78, 0x79, 0x7a, // CRYPTO offset 0 "wxyz"
    0, 0,
  ]);
  const got: [number, string][] = [];
  forEachCryptoFrame(frames, (o, d, off, len) => got.push([o, Buffer.from(d.subarray(off, off + len)).toString()]));
  assert.deepEqual(got, [
    [4, 'abc'],
    [0, 'wxyz'],
  ]);
});

test('reassembles a CRYPTO stream from reordered, overlapping pieces within its cap', () => {
  const a = new CryptoAssembler(64);
  const data = new TextEncoder().encode('0123456789abcdefghij');
  assert.ok(a.add(10, data, 10, 10));
  assert.equal(a.contiguous(), 0);
  assert.ok(a.add(4, data, 4, 8));
  assert.ok(a.add(0, data, 0, 5));
  assert.equal(a.contiguous(), 20);
  assert.equal(Buffer.from(a.bytes.subarray(0, 20)).toString(), '0123456789abcdefghij');
  assert.equal(a.add(60, data, 0, 10), false, 'beyond the cap');
});
