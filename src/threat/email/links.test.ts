import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinks, decodeEntities, hostOf } from './links.ts';

const lists = (block: string[] = [], allow: string[] = []) => ({ block: new Set(block), allow: new Set(allow) });

test('hosts are found in text and HTML, lower-cased, IDNs as punycode', () => {
  assert.equal(hostOf('HTTPS://Login.Example.COM./x'), 'login.example.com');
  assert.equal(hostOf('www.example.org/path'), 'www.example.org');
  assert.equal(hostOf('https://bücher.example/'), 'xn--bcher-kva.example');
  assert.equal(hostOf('mailto:a@b.example'), null);
  assert.equal(hostOf('javascript:alert(1)'), null);
  assert.equal(decodeEntities('https://a.example/?a=1&amp;b=2&#x2F;'), 'https://a.example/?a=1&b=2/');
  const r = checkLinks('see https://one.example/a and ftp://two.example', '<a href="https://three.example/">x</a><form action=\'https://four.example/post\'></form>', lists(), 100);
  assert.deepEqual(r.hosts.sort(), ['four.example', 'one.example', 'three.example', 'two.example']);
  assert.deepEqual(r.reasons, []);
});

test('a link to a blocked domain or its subdomain makes the message malicious; the allow list wins', () => {
  const r = checkLinks('', '<a href="https://login.evil.example/reset">Reset</a>', lists(['evil.example']), 100, '2');
  assert.equal(r.reasons.length, 1);
  assert.equal(r.reasons[0]!.code, 'LINK_BLOCKED_DOMAIN');
  assert.equal(r.reasons[0]!.score, 10);
  assert.equal(r.reasons[0]!.part, '2');
  assert.deepEqual(checkLinks('https://notevil.example/', '', lists(['evil.example']), 100).reasons, []);
  assert.deepEqual(checkLinks('https://ok.evil.example/', '', lists(['evil.example'], ['ok.evil.example']), 100).reasons, []);
});

test('phishing tells: bare IP links and anchors that show one domain but lead to another', () => {
  const ip = checkLinks('http://192.0.2.7/login', '', lists(), 100);
  assert.deepEqual(ip.reasons.map((x) => x.code), ['LINK_IP_HOST']);
  const mismatch = checkLinks('', '<a href="https://bank.evil.example/login"><b>https://www.mybank.example</b></a>', lists(), 100);
  assert.deepEqual(mismatch.reasons.map((x) => [x.code, x.score]), [['LINK_TEXT_MISMATCH', 4]]);
  const same = checkLinks('', '<a href="https://login.mybank.example/">www.mybank.example</a><a href="https://x.example/">Click here</a>', lists(), 100);
  assert.deepEqual(same.reasons, []);
});

test('hostile HTML stays linear: thousands of unclosed tags and quotes finish quickly', () => {
  const html = '<a '.repeat(100_000) + 'href="'.repeat(50_000) + '<'.repeat(200_000);
  const t = performance.now();
  checkLinks('', html, lists(), 2000);
  assert.ok(performance.now() - t < 30_000, `took ${performance.now() - t} ms`);
});
