import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { normaliseIdentifier } from './identifiers.ts';

test('identifiers are normalised as the modules that store them normalise them', () => {
  assert.equal(normaliseIdentifier('email', ' Ann.de.Vries@Example.ORG '), 'ann.de.vries@example.org');
  assert.equal(normaliseIdentifier('mac', '3C-22-FB-9A-41-07'), '3c22fb9a4107');
  assert.equal(normaliseIdentifier('mac', '3c22.fb9a.4107'), '3c22fb9a4107');
  assert.equal(normaliseIdentifier('badge', '  B-0042 '), 'B-0042');
  assert.equal(normaliseIdentifier('username', 'JDeVries'), 'jdevries');
});

test('malformed identifiers are refused with CAIRN_ERR_DSAR_IDENTIFIER and the value is not repeated', () => {
  const bad: [Parameters<typeof normaliseIdentifier>[0], unknown][] = [
    ['email', 'not-an-address'], ['email', 'a@b'], ['email', `${'x'.repeat(250)}@example.org`], ['email', 'a b@example.org'],
    ['mac', '3c:22:fb:9a:41'], ['mac', 'zz:22:fb:9a:41:07'], ['mac', 'ff:ff:ff:ff:ff:ff'], ['mac', '01:00:5e:00:00:01'],
    ['badge', ''], ['badge', 'x'.repeat(129)], ['badge', 'a\u0000b'], ['username', 'two words'], ['username', 42],
  ];
  for (const [kind, v] of bad) {
    assert.throws(() => normaliseIdentifier(kind, v), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_DSAR_IDENTIFIER' && (typeof v !== 'string' || v.length < 3 || !e.message.includes(v)), `${kind} ${String(v).slice(0, 20)}`);
  }
});
