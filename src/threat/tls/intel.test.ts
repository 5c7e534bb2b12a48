import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUNDLED_JA3_SEVERITY, buildIntel, bundledJa3, parseJa3Csv, scoreHandshake, type TlsHandshakeRecord } from './index.ts';

/** A hello whose JA3 is on the bundled SSLBL list (Dridex). */
const DRIDEX = 'b386946a5a44d1ddcc843bc75336dfce';

function record(ja3Hash: string): TlsHandshakeRecord {
  return {
    transport: 'tcp', flowIndex: 0, helloIndex: 1, packetIndex: 0, timestampMs: 0, srcAddress: '192.0.2.1', srcPort: 50_000, dstAddress: '198.51.100.1', dstPort: 443,
    sni: 'www.example.com', alpn: ['h2'], legacyVersion: 0x0303, supportedVersions: [0x0304], ciphers: [0x1301], extensions: [0], signatureAlgorithms: [], supportedGroups: [], ecPointFormats: [],
    ja3: '', ja3_hash: ja3Hash, ja4: 't13d0101h2_000000000000_000000000000', ja4_r: '', ja4_o: 't13d0101h2_000000000000_000000000000', ja4_ro: '', server: null,
  };
}

test('the bundled SSLBL list holds its 97 JA3 hashes with their listing reasons', () => {
  const list = bundledJa3();
  assert.equal(list.length, 97);
  assert.ok(list.every((e) => /^[0-9a-f]{32}$/.test(e.value) && e.severity === BUNDLED_JA3_SEVERITY));
  assert.deepEqual(list.find((e) => e.value === DRIDEX), { value: DRIDEX, label: 'abuse.ch SSLBL: Dridex', severity: 5 });
  assert.equal(list.find((e) => e.value === '7a29c223fb122ec64d10f0a159e07996')?.label, 'abuse.ch SSLBL', 'a "None" reason gets no family');
});

test('parseJa3Csv skips comments, blank lines and malformed hashes', () => {
  assert.deepEqual(parseJa3Csv('# header\n\nnot-a-hash,x,y,Z\nB386946A5A44D1DDCC843BC75336DFCE,a,b,Dridex\r\n', 4), [{ value: DRIDEX, label: 'abuse.ch SSLBL: Dridex', severity: 4 }]);
});

test('a bundled match raises the score below the blocking threshold; an org entry overrides it', () => {
  const bundled = scoreHandshake(record(DRIDEX), buildIntel());
  assert.equal(bundled.score, 5);
  assert.match(bundled.reasons[0]!.detail, /Dridex/);
  assert.equal(scoreHandshake(record('0'.repeat(32)), buildIntel()).score, 0);
  assert.equal(scoreHandshake(record(DRIDEX), buildIntel({ block: { ja3: [{ value: DRIDEX, severity: 9 }] }, allow: {} })).score, 9, 'the org entry wins');
  const allowed = scoreHandshake(record(DRIDEX), buildIntel({ block: {}, allow: { ja3: [DRIDEX] } }));
  assert.deepEqual([allowed.score, allowed.reasons.map((r) => r.code)], [0, ['allow_listed']], 'an org allow entry removes the bundled one');
  assert.equal(scoreHandshake(record(DRIDEX), buildIntel(undefined, { bundled: false })).score, 0);
});
