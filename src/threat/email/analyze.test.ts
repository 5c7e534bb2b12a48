import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EICAR } from '../files/index.ts';
import { scanMessage, summarise } from './analyze.ts';
import { standaloneScanner, type ScanDeps } from './scanner.ts';
import { buildMail } from './testkit.ts';
import { CairnError } from '../../kernel/errors.ts';

const deps = standaloneScanner();
const withLists = (block: string[]): ScanDeps => ({ ...deps, lists: { domainLists: async () => ({ block: new Set(block), allow: new Set<string>() }) } });

test('a clean message with a harmless attachment is clean', async () => {
  const raw = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'notes', text: 'see https://docs.example/a', attachments: [{ filename: 'notes.txt', content: 'just text' }] });
  const { verdict, top } = await scanMessage('org', raw, deps);
  assert.equal(verdict.state, 'clean');
  assert.equal(verdict.score, 0);
  assert.equal(verdict.attachments.length, 1);
  assert.deepEqual(verdict.linkHosts, ['docs.example']);
  assert.equal(top?.subject, 'notes');
});

test('EICAR as an attachment is malicious, and so is EICAR inside a message forwarded inside a message', async () => {
  const direct = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'x', text: 'x', attachments: [{ filename: 'eicar.com', content: EICAR }] });
  const v1 = (await scanMessage('org', direct, deps)).verdict;
  assert.equal(v1.state, 'malicious');
  assert.equal(v1.reasons[0]!.code, 'ATTACHMENT_MALICIOUS');
  const inner = await buildMail({ from: 'c@x.test', to: 'd@y.test', subject: 'inner', text: 'inner', attachments: [{ filename: 'test.txt', content: EICAR }] });
  const middle = await buildMail({ from: 'e@x.test', to: 'f@y.test', subject: 'middle', text: 'middle', attachments: [{ filename: 'inner.eml', content: inner, contentType: 'message/rfc822' }] });
  const outer = await buildMail({ from: 'g@x.test', to: 'h@y.test', subject: 'outer', text: 'outer', attachments: [{ filename: 'middle.eml', content: middle, contentType: 'message/rfc822' }] });
  const v2 = (await scanMessage('org', outer, deps)).verdict;
  assert.equal(v2.state, 'malicious');
  assert.ok(v2.attachments.some((a) => a.part.split('/').length === 3 && a.subtype === 'eicar'), JSON.stringify(v2.attachments.map((a) => [a.part, a.subtype])));
});

test('embedded messages deeper than the limit and broken embedded messages are not clean', async () => {
  let m = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'leaf', text: 'leaf' });
  for (let i = 0; i < 4; i++) m = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: `l${i}`, text: 'x', attachments: [{ filename: `${i}.eml`, content: m, contentType: 'message/rfc822' }] });
  const deep = (await scanMessage('org', m, deps, { maxDepth: 2 })).verdict;
  assert.ok(deep.reasons.some((r) => r.code === 'EMBEDDED_TOO_DEEP'));
  assert.equal(deep.state, 'unknown');
  const broken = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'b', text: 'x', attachments: [{ filename: 'b.eml', content: Buffer.from('Content-Type: multipart/mixed\r\n\r\nno boundary'), contentType: 'message/rfc822' }] });
  const v = (await scanMessage('org', broken, deps)).verdict;
  assert.ok(v.reasons.some((r) => r.code === 'EMBEDDED_MALFORMED'));
  assert.notEqual(v.state, 'clean');
});

test('a link to a blocked domain makes the message malicious; a mismatched anchor suspicious', async () => {
  const raw = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'reset', html: '<p><a href="https://login.evil.example/r">Reset your password</a></p>' });
  assert.equal((await scanMessage('org', raw, withLists(['evil.example']))).verdict.state, 'malicious');
  assert.equal((await scanMessage('org', raw, deps)).verdict.state, 'clean');
  const phish = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'bank', html: '<a href="https://203.0.113.9.evil.example/">https://www.mybank.example/login</a>' });
  const v = (await scanMessage('org', phish, deps)).verdict;
  assert.equal(v.state, 'suspicious');
  assert.equal(v.score, 4);
});

test('broken MIME at the top is refused with CAIRN_ERR_MIME_MALFORMED; an oversized message is unknown, never clean', async () => {
  await assert.rejects(scanMessage('org', Buffer.from('garbage without headers\r\n\r\n'), deps), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_MIME_MALFORMED');
  const big = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'big', text: 'x'.repeat(5000) });
  const v = (await scanMessage('org', big, deps, { maxMessageBytes: 1000 })).verdict;
  assert.equal(v.state, 'unknown');
  assert.equal(v.complete, false);
});

test('the time budget bounds a scan: a slow scanner yields an unknown verdict, not a hang', async () => {
  const slow: ScanDeps = { ...deps, files: { scanBuffer: () => new Promise(() => undefined) } };
  const raw = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 's', text: 'x', attachments: [{ filename: 'a.bin', content: Buffer.alloc(10) }] });
  const t = performance.now();
  const v = (await scanMessage('org', raw, slow, { timeoutMs: 200 })).verdict;
  assert.ok(performance.now() - t < 30_000);
  assert.ok(v.reasons.some((r) => r.code === 'SCAN_TIMEOUT'));
  assert.equal(v.state, 'unknown');
});

test('summarise: the strongest finding decides, incomplete is never clean', () => {
  assert.deepEqual(summarise([]), { score: 0, state: 'clean', complete: true });
  assert.deepEqual(summarise([{ source: 'attachment', code: 'A', score: 7.2, message: '' }, { source: 'link', code: 'B', score: 4, message: '' }]), { score: 7.2, state: 'malicious', complete: true });
  assert.deepEqual(summarise([{ source: 'mime', code: 'C', score: 0, incomplete: true, message: '' }]), { score: 3, state: 'unknown', complete: false });
});
