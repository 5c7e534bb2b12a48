import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { CairnError } from '../../kernel/errors.ts';
import { checkStructure, parseMessage } from './mime.ts';
import { buildMail } from './testkit.ts';

const DIR = new URL('../../../../shared/data/files/', import.meta.url).pathname;

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CairnError);
    assert.equal(e.code, 'CAIRN_ERR_MIME_MALFORMED');
    return String(e.details?.reason);
  }
  return 'accepted';
}

test('a composed multipart message with nested parts passes the structure check', async () => {
  const inner = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'inner', text: 'hi', attachments: [{ filename: 'a.txt', content: 'abc' }] });
  const raw = await buildMail({ from: 'a@x.test', to: 'b@y.test', subject: 'outer', text: 'body', html: '<p>body</p>', attachments: [{ filename: 'x.bin', content: Buffer.alloc(100, 1) }, { filename: 'fwd.eml', content: inner, contentType: 'message/rfc822' }] });
  const { parts } = checkStructure(raw);
  assert.ok(parts >= 5, `parts ${parts}`);
});

test('refuses broken MIME with a reason for each kind of breakage', () => {
  assert.equal(reason(() => checkStructure(Buffer.alloc(0))), 'EMPTY');
  assert.equal(reason(() => checkStructure(Buffer.from('\r\nno headers at all'))), 'NO_HEADER');
  assert.equal(reason(() => checkStructure(Buffer.from('this is not a header\r\nSubject: x\r\n\r\nbody'))), 'HEADER_NOT_A_FIELD');
  assert.equal(reason(() => checkStructure(Buffer.from(' folded first\r\n\r\nbody'))), 'HEADER_CONTINUATION_FIRST');
  assert.equal(reason(() => checkStructure(Buffer.from('Subject: x\0y\r\n\r\nbody'))), 'HEADER_NUL');
  assert.equal(reason(() => checkStructure(Buffer.from('Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nbody'))), 'MULTIPART_NO_BOUNDARY');
  assert.equal(reason(() => checkStructure(Buffer.from('Subject: x\r\nContent-Type: multipart/mixed; boundary="abc"\r\n\r\nno delimiter here\r\n'))), 'MULTIPART_BOUNDARY_ABSENT');
  const nested = (depth: number): string => (depth === 0 ? 'Content-Type: text/plain\r\n\r\nleaf\r\n' : `Content-Type: multipart/mixed; boundary="b${depth}"\r\n\r\n--b${depth}\r\n${nested(depth - 1)}--b${depth}--\r\n`);
  assert.equal(reason(() => checkStructure(Buffer.from('Subject: deep\r\n' + nested(60)))), 'NESTED_TOO_DEEP');
  assert.equal(reason(() => checkStructure(Buffer.from('Subject: ok\r\n' + nested(10)))), 'accepted');
  const many = 'Subject: many\r\nContent-Type: multipart/mixed; boundary="m"\r\n\r\n' + '--m\r\nContent-Type: text/plain\r\n\r\nx\r\n'.repeat(30) + '--m--\r\n';
  assert.equal(reason(() => checkStructure(Buffer.from(many), { maxParts: 10, maxNesting: 50 })), 'TOO_MANY_PARTS');
});

test('the shared broken e-mail sample is refused, the good one accepted', { skip: !existsSync(DIR) && 'shared/data/files is not present' }, () => {
  assert.equal(reason(() => checkStructure(readFileSync(DIR + 'test.eml'))), 'accepted');
  assert.notEqual(reason(() => checkStructure(readFileSync(DIR + 'test_broken.eml'))), 'accepted');
});

test('parseMessage decodes subject, addresses, bodies and attachments, keeping embedded messages as attachments', async () => {
  const inner = await buildMail({ from: 'i@x.test', to: 'j@y.test', subject: 'inner', text: 'inner body' });
  const raw = await buildMail({ from: 'Ann <ann@x.test>', to: ['bob@y.test', 'Cat <cat@y.test>'], subject: 'Grüße', text: 'hello https://a.example/x', html: '<a href="https://b.example/">b</a>', attachments: [{ filename: 'r.pdf', content: Buffer.from('%PDF-1.4\n') }, { filename: 'fwd.eml', content: inner, contentType: 'message/rfc822' }] });
  const p = await parseMessage(raw);
  assert.equal(p.subject, 'Grüße');
  assert.equal(p.from, 'ann@x.test');
  assert.deepEqual(p.to, ['bob@y.test', 'cat@y.test']);
  assert.match(p.text, /hello https:\/\/a\.example\/x/);
  assert.match(p.html, /b\.example/);
  assert.deepEqual(p.attachments.map((a) => [a.name, a.contentType]), [['r.pdf', 'application/pdf'], ['fwd.eml', 'message/rfc822']]);
  assert.ok(p.attachments[1]!.content.includes(Buffer.from('inner body')));
  assert.ok(p.headers.some((h) => h.name === 'Subject' && h.value === 'Grüße'));
});
