import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, scrubString } from './logger.ts';

test('scrubString removes MAC, e-mail and IP shapes', () => {
  const s = scrubString('dev aa:bb:cc:dd:ee:0f user jan@example.org at 192.168.1.20 and fe80::1ff:fe23:4567:890a, 0011.2233.44ff');
  assert.ok(!s.includes('aa:bb'), s);
  assert.ok(!s.includes('jan@'), s);
  assert.ok(!s.includes('192.168'), s);
  assert.ok(!s.includes('fe80'), s);
  assert.ok(!s.includes('0011.2233'), s);
});

test('keyed pseudonyms (32 hex digits) are scrubbed; SHA-256 digests are not', () => {
  const sha = 'a'.repeat(64);
  assert.equal(scrubString(`/devices/0123456789abcdef0123456789abcdef/journey ${sha}`), `/devices/[pseudonym]/journey ${sha}`);
});

test('loopback bind addresses stay readable; other addresses do not', () => {
  assert.equal(scrubString('Server listening at http://127.0.0.1:8080'), 'Server listening at http://127.0.0.1:8080');
  assert.equal(scrubString('client 127.0.0.2 and 10.0.0.1'), 'client [ip] and [ip]');
});

test('log lines never carry personal keys or identifier-shaped strings', () => {
  const lines: string[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ destination: dest as never });
  log.info({ email: 'a@b.example', nested: { ip: '10.1.2.3', note: 'mac 00:11:22:33:44:55' } }, 'login from 10.9.8.7');
  const out = lines.join('');
  for (const raw of ['a@b.example', '10.1.2.3', '00:11:22:33:44:55', '10.9.8.7']) assert.ok(!out.includes(raw), `${raw} leaked: ${out}`);
  assert.match(out, /\[redacted\]/);
});

test('bytes and class instances are summarised, never copied into a log line', () => {
  const lines: string[] = [];
  const dest = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
  const log = createLogger({ destination: dest as never });
  class Big { payload = 'aa:bb:cc:dd:ee:ff'.repeat(1000); }
  log.info({ body: Buffer.alloc(5_000_000), thing: new Big(), list: Array.from({ length: 5000 }, () => 'x') }, 'upload');
  const out = lines.join('');
  assert.ok(out.length < 1000, `line is small (${out.length} bytes)`);
  assert.match(out, /\[bytes 5000000\]/);
  assert.match(out, /\[Big\]/);
});
