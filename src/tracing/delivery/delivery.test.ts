import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { isPrivateAddress, WebhookClient } from './sender.ts';
import { retryDelayMs } from './service.ts';
import { signatureHeaders, verifyCairnSignature, verifyMistCompatibleSignature } from './signing.ts';
import { startWebhookReceiver } from './testkit.ts';

const receiver = await startWebhookReceiver();
const client = new WebhookClient({ timeoutMs: 2_000, allowPrivate: true });
after(async () => {
  client.close();
  await receiver.close();
});

test('signatures: HMAC-SHA256 of the body (Mist-compatible) and of time.body; tampering and old times fail', () => {
  const body = '{"topic":"ping"}';
  const h = signatureHeaders(body, 'test-secret-not-real-0000', 1_700_000_000_000);
  assert.equal(h['X-Mist-Signature-v2'], createHmac('sha256', 'test-secret-not-real-0000').update(body).digest('hex'));
  assert.equal(h['X-Cairn-Signature'], `t=1700000000,v1=${createHmac('sha256', 'test-secret-not-real-0000').update(`1700000000.${body}`).digest('hex')}`);
  assert.ok(verifyMistCompatibleSignature(body, h['X-Mist-Signature-v2'], 'test-secret-not-real-0000'));
  assert.ok(!verifyMistCompatibleSignature(body, h['X-Mist-Signature-v2'], 'another-secret-not-real'));
  assert.ok(verifyCairnSignature(body, h['X-Cairn-Signature'], 'test-secret-not-real-0000', 1_700_000_100_000));
  assert.ok(!verifyCairnSignature(body, h['X-Cairn-Signature'], 'test-secret-not-real-0000', 1_700_001_000_000), 'older than the tolerance');
  assert.ok(!verifyCairnSignature(`${body} `, h['X-Cairn-Signature'], 'test-secret-not-real-0000', 1_700_000_000_000));
  assert.ok(!verifyCairnSignature(body, undefined, 'test-secret-not-real-0000', 1_700_000_000_000));
});

test('back-off doubles from the base, with jitter, up to an hour', () => {
  assert.equal(retryDelayMs(1, 2000, 0.5), 2000);
  assert.equal(retryDelayMs(3, 2000, 0.5), 8000);
  assert.equal(retryDelayMs(30, 2000, 0.5), 3_600_000);
  assert.equal(retryDelayMs(1, 2000, 0), 1600);
  assert.ok(retryDelayMs(1, 2000, 0.999) < 2400);
});

test('private, loopback and link-local targets are recognised', () => {
  for (const a of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '224.0.0.1']) assert.ok(isPrivateAddress(a), a);
  for (const a of ['192.0.2.10', '8.8.8.8', '2001:db8::1', '172.32.0.1']) assert.ok(!isPrivateAddress(a), a);
});

test('a webhook answer maps to an outcome: 2xx delivered, 5xx and 429 retried (Retry-After kept), other 4xx permanent', async () => {
  const statuses = [204, 503, 429, 410, 400];
  receiver.answer = (n) => ({ status: statuses[n] ?? 200, ...(statuses[n] === 429 ? { retryAfterSeconds: 7 } : {}) });
  const out = [];
  for (let i = 0; i < statuses.length; i++) out.push(await client.post(receiver.url, '{}', { 'X-Test': String(i) }));
  assert.deepEqual(out.map((o) => [o.ok, o.status, o.error, o.permanent]), [[true, 204, null, false], [false, 503, 'http_503', false], [false, 429, 'http_429', false], [false, 410, 'http_410', true], [false, 400, 'http_400', true]]);
  assert.equal(out[2]!.retryAfterMs, 7000);
  assert.equal(receiver.requests[0]!.headers['content-type'], 'application/json');
  assert.equal(receiver.requests[0]!.headers['user-agent'], 'Cairn-webhook');
  receiver.answer = () => ({ status: 200 });
});

test('a slow receiver times out, a closed port is refused, and private targets are refused unless allowed', async () => {
  receiver.answer = () => ({ status: 200, delayMs: 3_000 });
  const slow = await client.post(receiver.url, '{}', {});
  assert.deepEqual([slow.ok, slow.error, slow.permanent], [false, 'timeout', false]);
  receiver.answer = () => ({ status: 200 });
  const refused = await client.post('http://127.0.0.1:9/x', '{}', {});
  assert.equal(refused.error, 'connect_refused');
  const strict = new WebhookClient({ timeoutMs: 2_000, allowPrivate: false });
  try {
    assert.deepEqual([(await strict.post(receiver.url, '{}', {})).error, (await strict.post('http://localhost:9/x', '{}', {})).error], ['private_target', 'private_target']);
  } finally {
    strict.close();
  }
  assert.equal((await client.post('not a url', '{}', {})).error, 'bad_url');
});
