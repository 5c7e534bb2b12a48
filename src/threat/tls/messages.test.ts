import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { compileThreatIntel, scoreClient, withAllowList, type TlsHandshakeRecord } from './index.ts';
import { localiseTlsError, localiseTlsReasons } from './messages.ts';

const base: TlsHandshakeRecord = {
  transport: 'tcp', flowIndex: 0, helloIndex: 1, packetIndex: 0, timestampMs: 0, srcAddress: '192.0.2.1', srcPort: 50_000, dstAddress: '198.51.100.1', dstPort: 443,
  sni: 'cdn.evil.example', alpn: [], legacyVersion: 0x0301, supportedVersions: [], ciphers: [0x0004], extensions: [0], signatureAlgorithms: [], supportedGroups: [], ecPointFormats: [],
  ja3: '', ja3_hash: 'e7d705a3286e19ea42f587b344ee6865', ja4: 't10d010100_000000000000_000000000000', ja4_r: '', ja4_o: 't10d010100_000000000000_000000000000', ja4_ro: '', server: null,
};

test('every reason the scorer writes has a Dutch sentence carrying its values', () => {
  const intel = compileThreatIntel({ ja4: [{ value: base.ja4, label: 'loader' }], ja3: [base.ja3_hash], domains: ['evil.example'], ips: ['198.51.100.0/24', '192.0.2.1'] });
  const reasons = [...scoreClient(base, intel).reasons, ...scoreClient({ ...base, sni: null }, compileThreatIntel({})).reasons];
  reasons.push(...withAllowList(scoreClient(base, compileThreatIntel({})), base, compileThreatIntel({ domains: ['evil.example'] })).reasons);
  const codes = new Set(reasons.map((r) => r.code));
  for (const c of ['ja4_blocklisted', 'ja3_blocklisted', 'domain_blocklisted', 'ip_blocklisted', 'legacy_protocol', 'weak_cipher_offered', 'no_server_name', 'allow_listed']) assert.ok(codes.has(c as never), c);
  const nl = localiseTlsReasons(reasons, 'nl');
  for (const [i, r] of nl.entries()) assert.notEqual(r.detail, reasons[i]!.detail, `${r.code} is translated`);
  const text = nl.map((r) => r.detail).join('\n');
  assert.match(text, /JA4 t10d010100_000000000000_000000000000 staat op de blokkeerlijst \(loader\)\./);
  assert.match(text, /Hostnaam cdn\.evil\.example valt onder evil\.example op de blokkeerlijst\./);
  assert.match(text, /Het serveradres 198\.51\.100\.1 valt onder 198\.51\.100\.0\/24/);
  assert.match(text, /Hostnaam cdn\.evil\.example \(evil\.example\) staat op de toestaanlijst\./);
  assert.deepEqual(localiseTlsReasons(reasons, 'en'), reasons);
});

test('errors of the engine read in Dutch with their details filled in', () => {
  assert.match(localiseTlsError(new CairnError('CAIRN_ERR_FEATURE_DISABLED'), 'nl').message, /staat uit/);
  assert.equal(localiseTlsError(new CairnError('CAIRN_ERR_BODY_TOO_LARGE', 'x', { limitBytes: 1024 }), 'nl').message, 'De opname is groter dan 1024 bytes, de grens voor analyse van versleuteld verkeer (tlsPcapLimitBytes).');
  const corrupt = localiseTlsError(new CairnError('CAIRN_ERR_PCAP_CORRUPT', 'Block length 3 at offset 24 is invalid.'), 'nl');
  assert.equal(corrupt.message, 'Het opnamebestand is beschadigd of afgekapt (Block length 3 at offset 24 is invalid.)');
  assert.equal(corrupt.code, 'CAIRN_ERR_PCAP_CORRUPT');
  assert.equal(localiseTlsError(new CairnError('CAIRN_ERR_NOT_FOUND'), 'nl').message, 'Niet gevonden of geen toegang.');
});
