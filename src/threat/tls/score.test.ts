import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCairnError } from '../../kernel/errors.ts';
import { compileThreatIntel, parseIp, scoreClient, withAllowList, type TlsHandshakeRecord } from './index.ts';

function record(over: Partial<TlsHandshakeRecord> = {}): TlsHandshakeRecord {
  return {
    transport: 'tcp',
    flowIndex: 0,
    helloIndex: 1,
    packetIndex: 3,
    timestampMs: 0,
    srcAddress: '192.0.2.10',
    srcPort: 50_000,
    dstAddress: '198.51.100.7',
    dstPort: 443,
    sni: 'www.example.com',
    alpn: ['h2'],
    legacyVersion: 0x0303,
    supportedVersions: [0x0304, 0x0303],
    ciphers: [0x1301, 0x1302],
    extensions: [0, 16, 43],
    signatureAlgorithms: [0x0403],
    supportedGroups: [0x1d],
    ecPointFormats: [0],
    ja3: '771,4865-4866,0-16-43,29,0',
    ja3_hash: 'e7d705a3286e19ea42f587b344ee6865',
    ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1',
    ja4_r: '',
    ja4_o: 't13d1516h2_acb858a92679_18f69afefd3d',
    ja4_ro: '',
    server: null,
    ...over,
  };
}

test('a client nothing is known against scores 0', () => {
  assert.deepEqual(scoreClient(record(), compileThreatIntel({})), { score: 0, reasons: [] });
});

test('block-listed JA4, JA3, domain and address each raise the score with a reason', () => {
  const intel = compileThreatIntel({
    ja4: [{ value: 't13d1516h2_acb858a92679_18f69afefd3d', label: 'loader', severity: 9 }],
    ja3: ['E7D705A3286E19EA42F587B344EE6865'],
    domains: ['*.Example.com'],
    ips: ['198.51.100.0/24', '2001:db8::/32'],
  });
  const s = scoreClient(record(), intel);
  assert.equal(s.score, 10, 'capped at 10');
  assert.deepEqual(
    s.reasons.map((r) => r.code),
    ['ja4_blocklisted', 'domain_blocklisted', 'ip_blocklisted', 'ja3_blocklisted'],
  );
  assert.match(s.reasons[0]!.detail, /\(loader\)/);
  assert.equal(scoreClient(record({ ja3_hash: '0'.repeat(32), ja4: 'x', ja4_o: 'x', dstAddress: '203.0.113.1', sni: 'www.example.org' }), intel).score, 0);
  const v6 = scoreClient(record({ ja4: 'x', ja4_o: 'x', ja3_hash: '', sni: null, dstAddress: '2001:db8:5::1' }), intel);
  assert.deepEqual(v6.reasons.map((r) => r.code), ['ip_blocklisted', 'no_server_name']);
  assert.equal(v6.score, 9);
});

test('a domain entry covers its subdomains but not look-alikes', () => {
  const intel = compileThreatIntel({ domains: ['evil.example'] });
  assert.equal(scoreClient(record({ sni: 'cdn.evil.example.' }), intel).score, 8);
  assert.equal(scoreClient(record({ sni: 'notevil.example' }), intel).score, 0);
});

test('legacy protocol, broken ciphers and a missing host name add small weights', () => {
  const legacy = record({ ja4: 't10i230100_6a57a6f57151_000000000000', sni: null, ciphers: [0x0039, 0x0004, 0x0005] });
  const s = scoreClient(legacy, compileThreatIntel({}));
  assert.deepEqual(s.reasons.map((r) => r.code), ['legacy_protocol', 'weak_cipher_offered', 'no_server_name']);
  assert.equal(s.score, 4);
  assert.match(s.reasons[0]!.detail, /TLS 1\.0/);
});

test('rejects malformed intel entries with CAIRN_ERR_VALIDATION', () => {
  const bad = [{ ja3: ['nothex'] }, { ja4: ['t13d'] }, { ips: ['10.0.0.0/33'] }, { ips: ['300.1.1.1'] }, { domains: ['a b'] }, { ja3: [{ value: 'e7d705a3286e19ea42f587b344ee6865', severity: 11 }] }];
  for (const lists of bad) {
    assert.throws(() => compileThreatIntel(lists), (e: unknown) => isCairnError(e) && e.code === 'CAIRN_ERR_VALIDATION', JSON.stringify(lists));
  }
});

test('parseIp reads IPv4, compressed IPv6 and IPv4-mapped forms', () => {
  assert.deepEqual(Array.from(parseIp('10.1.2.3')!), [10, 1, 2, 3]);
  assert.equal(Buffer.from(parseIp('2001:db8::1')!).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(Buffer.from(parseIp('::ffff:192.0.2.1')!).toString('hex'), '00000000000000000000ffffc0000201');
  assert.equal(Buffer.from(parseIp('::')!).toString('hex'), '0'.repeat(32));
  for (const bad of ['1.2.3', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::g', '']) assert.equal(parseIp(bad), null, bad);
});

test('an allow-listed client scores 0 unless a block-list entry also matches', () => {
  const allow = compileThreatIntel({ ja4: ['t13d1516h2_8daaf6152771_e5627efa2ab1'], domains: ['example.org'] });
  const legacy = record({ ja4: 't10i230100_6a57a6f57151_000000000000', ja4_o: 'x', sni: 'cdn.example.org', ciphers: [0x0004] });
  const plain = scoreClient(legacy, compileThreatIntel({}));
  assert.ok(plain.score > 0);
  const allowed = withAllowList(plain, legacy, allow);
  assert.equal(allowed.score, 0);
  assert.deepEqual(allowed.reasons.map((r) => r.code), ['allow_listed']);
  const blocked = scoreClient(record(), compileThreatIntel({ ja3: ['e7d705a3286e19ea42f587b344ee6865'] }));
  assert.deepEqual(withAllowList(blocked, record(), allow), blocked, 'a block entry wins');
  assert.deepEqual(withAllowList(plain, legacy, compileThreatIntel({})), plain);
});
