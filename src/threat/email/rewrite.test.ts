import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stampMessage } from './rewrite.ts';
import { releasedNotice, subjectTag, warningNotice } from './i18n.ts';

const raw = Buffer.from('From: a@x.test\r\nSubject: Invoice\r\n for March\r\nX-Cairn-Verdict: clean\r\nx-cairn-score: 0.0\r\n\r\nbody \xe9 bytes\r\n', 'latin1');

test('a warned message gets verdict headers, the notice and a subject tag; the body is untouched', () => {
  const out = stampMessage(raw, { state: 'suspicious', score: 5.8, lang: 'en', warn: true }).toString('latin1');
  const [head, body] = out.split('\r\n\r\n');
  assert.equal(body, 'body \xe9 bytes\r\n');
  assert.match(head!, /^X-Cairn-Verdict: suspicious\r\nX-Cairn-Score: 5\.8\r\nX-Cairn-Warning: Cairn marked this message as suspicious \(threat score 5\.8 of 10\)/);
  assert.match(head!, /\r\nSubject: \[SUSPICIOUS\] Invoice\r\n for March/);
  assert.equal(head!.match(/x-cairn-verdict/gi)!.length, 1, 'the sender\'s own X-Cairn headers are removed');
  assert.equal(head!.match(/x-cairn-score/gi)!.length, 1);
});

test('Dutch tags and notices; a message is not tagged twice', () => {
  const once = stampMessage(raw, { state: 'malicious', score: 9, lang: 'nl', warn: true });
  const twice = stampMessage(once, { state: 'malicious', score: 9, lang: 'nl', warn: true }).toString('latin1');
  assert.match(twice, /Subject: \[KWAADAARDIG\] Invoice/);
  assert.equal(twice.match(/\[KWAADAARDIG\]/g)!.length, 1);
  assert.match(twice, /X-Cairn-Warning: Cairn heeft dit bericht als kwaadaardig gemarkeerd \(dreigingsscore 9,0 van 10\)/);
  assert.equal(subjectTag('nl', 'suspicious'), '[VERDACHT]');
  assert.equal(subjectTag('en', 'unknown'), '[NOT SCANNED]');
  assert.match(warningNotice('nl', 'unknown', 3), /niet volledig gescand/);
  assert.equal(releasedNotice('nl'), 'Vrijgegeven uit de quarantaine van Cairn.');
  for (const t of [warningNotice('nl', 'malicious', 9.5), warningNotice('en', 'suspicious', 4)]) assert.match(t, /^[\x20-\x7e]+$/, 'header text is ASCII');
});

test('pass and clean mail get only the verdict; a message without a subject or a body still works', () => {
  const clean = stampMessage(raw, { state: 'clean', score: 0, lang: 'en', warn: true }).toString('latin1');
  assert.match(clean, /^X-Cairn-Verdict: clean\r\nX-Cairn-Score: 0\.0\r\nFrom:/);
  assert.ok(!clean.includes('X-Cairn-Warning') && clean.includes('Subject: Invoice'));
  const bare = stampMessage(Buffer.from('From: a@x.test\n\nlf body\n'), { state: 'unknown', score: 3, lang: 'en', warn: true }).toString();
  assert.match(bare, /^X-Cairn-Verdict: unknown\nX-Cairn-Score: 3\.0\nX-Cairn-Warning: .*\nFrom: a@x\.test\nSubject: \[NOT SCANNED\]\n\nlf body\n$/);
  const headOnly = stampMessage(Buffer.from('Subject: x'), { state: 'malicious', score: 10, lang: 'en', warn: false, released: true }).toString();
  assert.equal(headOnly, 'X-Cairn-Verdict: malicious\r\nX-Cairn-Score: 10.0\r\nX-Cairn-Released: Released from Cairn quarantine.\r\nSubject: x\r\n\r\n');
});
