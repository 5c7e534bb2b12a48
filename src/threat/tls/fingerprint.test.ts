import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { isCairnError } from '../../kernel/errors.ts';
import { analyzeCaptureBytes, ja3, ja3HashOf, ja4, ja4AlpnCode, parseClientHello, parseServerHello } from './index.ts';
import { buildClientHello, buildServerHello, ext, tlsRecord } from './testkit.ts';

/** The ClientHello of JA4-spec.md's worked example, with GREASE added where Chrome puts it. */
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
function specHello(opts: { sigalgs?: boolean } = {}): Uint8Array {
  const byType: Record<number, ReturnType<typeof ext.empty>> = {
    0x0000: ext.sni('example.com'),
    0x0010: ext.alpn(['h2', 'http/1.1']),
    0x002b: ext.supportedVersions([0x3a3a, 0x0304, 0x0303]),
    0x000d: ext.sigAlgs(opts.sigalgs === false ? [] : SPEC_SIGALGS),
    0x000a: ext.groups([0x2a2a, 0x001d, 0x0017, 0x0018]),
    0x000b: ext.pointFormats([0]),
  };
  const order = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
  const extensions = [ext.empty(0x0a0a), ...order.map((t) => byType[t] ?? ext.empty(t)), ext.empty(0xfafa)];
  return buildClientHello({ version: 0x0303, ciphers: [0x8a8a, ...SPEC_CIPHERS], extensions });
}

test('JA4 reproduces the worked example of the JA4 specification, GREASE ignored', () => {
  const fp = ja4(parseClientHello(specHello()), 't');
  assert.equal(fp.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  assert.equal(
    fp.ja4_r,
    't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  assert.equal(
    fp.ja4_ro,
    't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  assert.equal(fp.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
});

test('JA4 without signature algorithms hashes the extension list with no trailing underscore', () => {
  const fp = ja4(parseClientHello(specHello({ sigalgs: false })), 't');
  // JA4-spec.md: 0005,000a,000b,000d,…,ff01 with no signature algorithms → 6d807ffa2a79.
  assert.equal(fp.ja4_r.split('_')[2], '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01');
  assert.equal(fp.ja4_r.split('_').length, 3);
  assert.equal(fp.ja4, 't13d1516h2_8daaf6152771_6d807ffa2a79');
});

test('JA4 marks an empty cipher or extension list with zeros and caps counts at 99', () => {
  const none = ja4(parseClientHello(buildClientHello({ version: 0x0301, ciphers: [], noExtensionBlock: true })), 't');
  assert.equal(none.ja4, 't10i000000_000000000000_000000000000');
  assert.equal(none.ja4_r, 't10i000000__');
  const many = Array.from({ length: 120 }, (_, i) => 0x0100 + i);
  const big = ja4(parseClientHello(buildClientHello({ version: 0x0303, ciphers: many, extensions: [ext.sni('a.example')] })), 't');
  assert.match(big.ja4, /^t12d990100_[0-9a-f]{12}_000000000000$/);
  assert.equal(big.ja4_o.split('_')[2], '000000000000', 'only SNI: the original-order hash is zeros too, as the reference tools print');
});

test('JA4 takes the highest supported_versions entry, and the legacy version without it', () => {
  const v13 = buildClientHello({ version: 0x0303, ciphers: [0x1301], extensions: [ext.supportedVersions([0x0a0a, 0x0303, 0x0304])] });
  assert.match(ja4(parseClientHello(v13)).ja4, /^t13i/);
  const v10 = buildClientHello({ version: 0x0301, ciphers: [0x002f] });
  assert.match(ja4(parseClientHello(v10)).ja4, /^t10i/);
  const dtls13 = buildClientHello({ version: 0xfefd, ciphers: [0x1301], extensions: [ext.supportedVersions([0xfefc, 0xfefd])] });
  assert.match(ja4(parseClientHello(dtls13), 'd').ja4, /^dd3i/, 'DTLS 1.3 (0xfefc) outranks DTLS 1.2 (0xfefd)');
});

test('the ALPN characters follow the examples of the specification', () => {
  const cases: [number[], string][] = [
    [[0x68, 0x32], 'h2'],
    [Array.from('http/1.1', (c) => c.charCodeAt(0)), 'h1'],
    [[0x61], 'aa'],
    [[0xab], 'ab'],
    [[0x20], '20'],
    [[0xab, 0xcd], 'ad'],
    [[0x20, 0x61], '21'],
    [[0x30, 0xab], '3b'],
    [[0x61, 0x20], '60'],
    [[0x30, 0x31, 0xab, 0xcd], '3d'],
    [[0x30, 0xab, 0xcd, 0x31], '01'],
    [[], '00'],
  ];
  for (const [bytes, code] of cases) assert.equal(ja4AlpnCode(bytes, 0, bytes.length, 'spec'), code, JSON.stringify(bytes));
  // The reference tools print Wireshark's rendering instead: non-ASCII characters become 9.
  assert.equal(ja4AlpnCode([0xba, 0xad], 0, 2, 'reference'), '99');
  assert.equal(ja4AlpnCode([0x68, 0xc3, 0xa9], 0, 3, 'reference'), 'h9');
  const hello = buildClientHello({ version: 0x0303, ciphers: [0x1301], extensions: [ext.alpn([[0xba, 0xad], 'http/1.1'])] });
  assert.match(ja4(parseClientHello(hello), 't', 'spec').ja4, /^t12i0101bd_/);
  assert.match(ja4(parseClientHello(hello)).ja4, /^t12i010199_/, 'the default follows the reference tools');
});

test('JA3 matches the hashes given in the JA3 README', () => {
  assert.equal(ja3HashOf('769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0'), 'ada70206e40642a3e4461f35503241d5');
  assert.equal(ja3HashOf('769,4-5-10-9-100-98-3-6-19-18-99,,,'), 'de350869b8c85de67a350c8d186f11e6');
});

test('JA3 builds the README example string from a ClientHello, GREASE removed', () => {
  const hello = buildClientHello({
    version: 0x0301,
    ciphers: [0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
    extensions: [ext.sni('example.com'), ext.empty(0x1a1a), ext.groups([0x2a2a, 23, 24, 25]), ext.pointFormats([0])],
  });
  const fp = ja3(parseClientHello(hello));
  assert.equal(fp.ja3, '769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0');
  assert.equal(fp.ja3Hash, 'ada70206e40642a3e4461f35503241d5');
  const bare = ja3(parseClientHello(buildClientHello({ version: 0x0301, ciphers: [4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99], noExtensionBlock: true })));
  assert.equal(bare.ja3Hash, 'de350869b8c85de67a350c8d186f11e6');
});

const DATA = new URL('../../../../shared/data/ja4/', import.meta.url).pathname;

test('JA3 cipher and extension fields agree with the reference JA4_ro of every sample hello', { skip: !existsSync(DATA) && 'no sample data' }, () => {
  let checked = 0;
  for (const name of readdirSync(`${DATA}expected`)) {
    const rows = JSON.parse(readFileSync(`${DATA}expected/${name}`, 'utf8')) as Record<string, string>[];
    const records = analyzeCaptureBytes(readFileSync(`${DATA}pcap/${name.replace(/\.json$/, '')}`)).records;
    for (const row of rows) {
      for (const key of Object.keys(row).filter((k) => /^JA4_ro\.\d+$/.test(k))) {
        const n = Number(key.split('.')[1]);
        const r = records.find((x) => x.srcAddress === row.src && x.srcPort === Number(row.srcport) && x.helloIndex === n);
        assert.ok(r);
        const [, ciphers, exts] = row[key]!.split('_');
        const dec = (hexList: string): string => (hexList ? hexList.split(',').map((h) => parseInt(h, 16)).join('-') : '');
        const fields = r.ja3.split(',');
        assert.equal(fields[1], dec(ciphers!));
        assert.equal(fields[2], dec(exts!));
        assert.equal(ja3HashOf(r.ja3), r.ja3_hash);
        checked++;
      }
    }
  }
  assert.equal(checked, 160);
});

test('parseClientHello accepts a bare message or a whole record and rejects inconsistent lengths', () => {
  const msg = specHello();
  assert.equal(parseClientHello(msg).sni, 'example.com');
  assert.deepEqual(parseClientHello(tlsRecord(msg)).alpn, ['h2', 'http/1.1']);
  const broken = msg.slice();
  broken[4 + 2 + 32 + 1] = 0xff; // cipher-suite length high byte
  for (const bad of [broken, msg.subarray(0, 40), new Uint8Array([2, 0, 0, 0]), new Uint8Array(0)]) {
    assert.throws(() => parseClientHello(bad), (e: unknown) => isCairnError(e) && e.code === 'CAIRN_ERR_TLS_MALFORMED');
  }
});

test('parseServerHello reads the negotiated version, cipher and ALPN and spots a HelloRetryRequest', () => {
  const sh = parseServerHello(buildServerHello({ version: 0x0303, cipher: 0x1302, extensions: [ext.alpn(['h2'])] }));
  assert.equal(sh.cipher, 0x1302);
  assert.equal(sh.alpn, 'h2');
  assert.equal(sh.helloRetryRequest, false);
  const sv = buildServerHello({ version: 0x0303, cipher: 0x1301, extensions: [{ type: 0x2b, data: new Uint8Array([3, 4]) }] });
  assert.equal(parseServerHello(sv).version, 0x0304);
  assert.equal(parseServerHello(buildServerHello({ version: 0x0303, cipher: 0x1301, helloRetryRequest: true })).helloRetryRequest, true);
});
