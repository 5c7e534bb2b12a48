/** List values are normalised to one canonical form per kind, and bad values are refused with a reason. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, normaliseListValue } from './lists.ts';

test('normalises hashes, fingerprints, domains and addresses', () => {
  assert.deepEqual(normaliseListValue('hash', ` ${'AB'.repeat(32)} `), { value: 'ab'.repeat(32) });
  assert.deepEqual(normaliseListValue('ja3', 'E7D705A3286E19EA42F587B344EE6865'), { value: 'e7d705a3286e19ea42f587b344ee6865' });
  assert.deepEqual(normaliseListValue('ja4', 'T13D1516H2_8daaf6152771_e5627efa2ab1'), { value: 't13d1516h2_8daaf6152771_e5627efa2ab1' });
  assert.deepEqual(normaliseListValue('domain', 'Evil.Example.'), { value: 'evil.example' });
  assert.deepEqual(normaliseListValue('domain', 'bücher.example'), { value: 'xn--bcher-kva.example' });
  assert.deepEqual(normaliseListValue('ip', '2001:DB8:0:0::1'), { value: '2001:db8::1' });
  assert.deepEqual(normaliseListValue('ip', '[2001:db8::1]'), { value: '2001:db8::1' });
  assert.deepEqual(normaliseListValue('ip', '198.51.100.7'), { value: '198.51.100.7' });
});

test('refuses values that are not of their kind, naming what is expected', () => {
  for (const [kind, v] of [['hash', 'abc'], ['ja3', 'xyz'], ['ja4', 't13d1516h2_short'], ['domain', 'localhost'], ['domain', '10.0.0.1'], ['domain', '-bad-.example'], ['ip', '10.0.0.0/8'], ['ip', 'host.example']] as const) {
    const r = normaliseListValue(kind, v);
    assert.ok('why' in r, `${kind} ${v}`);
  }
  assert.equal(canonicalIp('999.1.1.1'), null);
});
