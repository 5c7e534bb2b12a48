import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, csvCell, toCsv, unzip, zip } from './archive.ts';

test('crc32 matches the standard check value', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('a written archive reads back entry by entry', () => {
  const big = 'x'.repeat(100_000);
  const z = zip([{ name: 'a.json', data: '{"k":"ü"}' }, { name: 'data/b.csv', data: big }, { name: 'empty.txt', data: '' }], Date.UTC(2025, 0, 2, 3, 4, 6));
  const m = unzip(z);
  assert.deepEqual([...m.keys()], ['a.json', 'data/b.csv', 'empty.txt']);
  assert.equal(m.get('a.json')!.toString('utf8'), '{"k":"ü"}');
  assert.equal(m.get('data/b.csv')!.toString('utf8'), big);
  assert.ok(z.length < 5000, 'entries are deflated');
});

test('the system unzip tool reads the archive too', (t) => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
  } catch {
    t.skip('no unzip binary here');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cairn-zip-'));
  try {
    writeFileSync(join(dir, 'a.zip'), zip([{ name: 'data/x.json', data: '[1,2,3]' }], Date.now()));
    execFileSync('unzip', ['-q', '-t', join(dir, 'a.zip')]);
    execFileSync('unzip', ['-q', join(dir, 'a.zip'), '-d', join(dir, 'out')]);
    assert.equal(readFileSync(join(dir, 'out', 'data', 'x.json'), 'utf8'), '[1,2,3]');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('entry names must be relative ASCII paths', () => {
  assert.throws(() => zip([{ name: '../etc/passwd', data: '' }], 0));
  assert.throws(() => zip([{ name: '/abs', data: '' }], 0));
});

test('CSV quotes what needs quoting and defuses formulas', () => {
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(toCsv(['a', 'b'], [[1, null], ['x\ny', true]]), 'a,b\r\n1,\r\n"x\ny",true\r\n');
});
