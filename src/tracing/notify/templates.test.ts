import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCairnError } from '../../kernel/errors.ts';
import { checkTemplate, DEFAULT_TEMPLATES, formatDuration, NOTICE_LANGUAGES, renderNotice, zoneWords, type NoticeFacts } from './templates.ts';
import { healthWordIn } from '../proximity/index.ts';

const FACTS: NoticeFacts = { firstMs: Date.UTC(2024, 2, 4, 9, 0), lastMs: Date.UTC(2024, 2, 4, 9, 30), minutes: 30, zones: ['Meeting room', 'Kitchen'], timeZone: 'Europe/Amsterdam' };

function refusal(fn: () => unknown): { field: unknown; reason: unknown } {
  try {
    fn();
  } catch (e) {
    assert.ok(isCairnError(e) && e.code === 'CAIRN_ERR_VALIDATION', String(e));
    return { field: e.details?.field, reason: e.details?.reason };
  }
  assert.fail('expected a refusal');
}

test('the default templates pass their own checks and render when, where and how long in each language', () => {
  for (const l of NOTICE_LANGUAGES) assert.deepEqual(checkTemplate(l, DEFAULT_TEMPLATES[l]), DEFAULT_TEMPLATES[l]);
  const en = renderNotice('en', DEFAULT_TEMPLATES.en, FACTS);
  assert.equal(en.subject, 'Notice: a close contact on Monday, 4 March 2024');
  assert.match(en.text, /for 30 minutes in total, between 4 March 2024 at 10:00 and 4 March 2024 at 10:30 \(Europe\/Amsterdam\), in: Meeting room and Kitchen\./);
  const nl = renderNotice('nl', DEFAULT_TEMPLATES.nl, { ...FACTS, minutes: 65 });
  assert.equal(nl.subject, 'Bericht: een nauw contact op maandag 4 maart 2024');
  assert.match(nl.text, /in totaal 1 uur en 5 minuten dicht bij een ander apparaat, tussen 4 maart 2024 om 10:00 en 4 maart 2024 om 10:30 \(Europe\/Amsterdam\), in: Meeting room en Kitchen\./);
  for (const r of [en, nl]) assert.equal(healthWordIn(`${r.subject}\n${r.text}`), null);
});

test('a template may only use the when/where/how-long fields', () => {
  assert.deepEqual(refusal(() => checkTemplate('en', { subject: 'Hi {{name}}', body: 'x' })), { field: 'templates.en.subject', reason: 'unknown_field' });
  assert.deepEqual(refusal(() => checkTemplate('nl', { subject: 'Hoi', body: 'Door {{ indexPerson }}' })), { field: 'templates.nl.body', reason: 'unknown_field' });
  assert.deepEqual(refusal(() => checkTemplate('en', { subject: 'Hi', body: 'On {{date} in {{zones}}' })), { field: 'templates.en.body', reason: 'syntax' });
  assert.deepEqual(checkTemplate('en', { subject: ' Contact {{ date }} ', body: 'You were {{duration}} in {{zones}}.\r\n' }), { subject: 'Contact {{ date }}', body: 'You were {{duration}} in {{zones}}.\n' });
});

test('a template with health words is refused, in English and Dutch', () => {
  assert.equal(refusal(() => checkTemplate('en', { subject: 'COVID-19 exposure', body: 'x' })).reason, 'health_information');
  assert.equal(refusal(() => checkTemplate('nl', { subject: 'Contact', body: 'Iemand is besmet geraakt.' })).reason, 'health_information');
  assert.equal(refusal(() => checkTemplate('en', { subject: 'Contact', body: 'A colleague tested positive.' })).reason, 'health_information');
  assert.equal(refusal(() => checkTemplate('en', { subject: 'x'.repeat(201), body: 'x' })).field, 'templates.en.subject');
  assert.equal(refusal(() => checkTemplate('en', { subject: 'two\nlines', body: 'x' })).field, 'templates.en.subject');
});

test('zone names with health words, or without a name, are named neutrally; many zones are counted', () => {
  assert.equal(zoneWords(['Sick bay', 'Kitchen', null], 'en'), 'another area and Kitchen');
  assert.equal(zoneWords(['Medische post'], 'nl'), 'een andere ruimte');
  assert.equal(zoneWords([], 'en'), 'one of the organisation\'s sites');
  assert.equal(zoneWords(['A', 'B', 'C', 'D', 'E', 'F', 'G'], 'en'), 'A, B, C, D, E and 2 other areas');
  const r = renderNotice('en', DEFAULT_TEMPLATES.en, { ...FACTS, zones: ['Medical room'] });
  assert.equal(healthWordIn(r.text), null);
});

test('durations read as words', () => {
  assert.equal(formatDuration(0.4, 'en'), '1 minute');
  assert.equal(formatDuration(15, 'en'), '15 minutes');
  assert.equal(formatDuration(120, 'en'), '2 hours');
  assert.equal(formatDuration(61, 'nl'), '1 uur en 1 minuut');
  assert.equal(formatDuration(150, 'nl'), '2 uur en 30 minuten');
});
