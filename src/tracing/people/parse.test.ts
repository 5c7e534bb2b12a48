/** Reading people directories from CSV and JSON: fields, aliases, lists, errors without values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvRows, parsePeople, parsePeopleCsv, parsePeopleJson } from './parse.ts';

test('CSV rows follow RFC 4180: quoted commas, doubled quotes, line breaks in quotes, CRLF, BOM', () => {
  assert.deepEqual(csvRows('\ufeffa,b\r\n"x, y","say ""hi"""\n"two\nlines",\r\n\r\n'), [['a', 'b'], ['x, y', 'say "hi"'], ['two\nlines', '']]);
  assert.throws(() => csvRows('a,"open'), { code: 'CAIRN_ERR_VALIDATION' });
});

test('a CSV directory: header aliases, several MACs per cell normalised, other columns not read', () => {
  const r = parsePeopleCsv('Person ID,Full Name,E-mail,MACs,Badge IDs,Department\nE1,"de Vries, Jan",jan@x.example,AA-BB-CC-DD-EE-01;aabb.ccdd.ee02,badge-1 | badge-2,Radiology\nE2,,,,,\n');
  assert.deepEqual(r.ignored, ['Department']);
  assert.deepEqual(r.people, [
    { personId: 'E1', name: 'de Vries, Jan', email: 'jan@x.example', macs: ['aabbccddee01', 'aabbccddee02'], badges: ['badge-1', 'badge-2'] },
    { personId: 'E2', macs: [], badges: [] },
  ]);
});

test('a JSON directory: an array or { people }, lists as arrays or strings', () => {
  const a = parsePeopleJson([{ personId: 'E1', macs: ['aa:bb:cc:dd:ee:01'], badges: 'b1;b2', title: 'Dr' }]);
  assert.deepEqual(a.people, [{ personId: 'E1', macs: ['aabbccddee01'], badges: ['b1', 'b2'] }]);
  assert.deepEqual(a.ignored, ['title']);
  assert.equal(parsePeople('{"people":[{"id":7,"name":"Ann"}]}', 'json').people[0]!.personId, '7');
});

test('errors name the person and field, never the value', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => parsePeopleCsv('name\nAnn\n'), /no person id column/],
    [() => parsePeopleCsv('person_id,macs\nE1,not-a-mac-00:11\n'), /Person 1: macs holds something that is not a MAC address/],
    [() => parsePeopleCsv('person_id,email\nE1,ann-at-example\n'), /Person 1: email is not an e-mail address/],
    [() => parsePeopleCsv('person_id\nE1\nE1\n'), /Person 2: personId repeats/],
    [() => parsePeopleCsv('person_id,macs\nE1,aa:bb:cc:dd:ee:01\nE2,AABBCCDDEE01\n'), /Person 2: macs names a device an earlier person has/],
    [() => parsePeopleJson({ nobody: [] }), /array of people/],
    [() => parsePeople('{', 'json'), /not valid JSON/],
  ];
  for (const [f, re] of cases) {
    assert.throws(f, (e: Error & { code?: string }) => e.code === 'CAIRN_ERR_VALIDATION' && re.test(e.message) && !/ann-at|not-a-mac/.test(e.message), String(re));
  }
});
