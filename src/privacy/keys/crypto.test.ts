import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aesGcmDecrypt, aesGcmEncrypt, ciphertextKeyVersion } from './crypto.ts';

test('every encryption gets its own IV, across refills of the IV pool', () => {
  const key = randomBytes(32);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const c = aesGcmEncrypt(key, 1, Buffer.from('x'), 'a');
    seen.add(c.subarray(5, 17).toString('hex'));
  }
  assert.equal(seen.size, 2000);
});

test('round-trips bytes, keeps the key version, and refuses another field or org', () => {
  const key = randomBytes(32);
  const plain = randomBytes(1000);
  const c = aesGcmEncrypt(key, 7, plain, 'org1|devices.ip');
  assert.equal(ciphertextKeyVersion(c), 7);
  assert.deepEqual(aesGcmDecrypt(key, c, 'org1|devices.ip'), plain);
  assert.throws(() => aesGcmDecrypt(key, c, 'org2|devices.ip'), /authentication/);
});
