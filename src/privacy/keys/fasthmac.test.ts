import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { FastHmac } from './fasthmac.ts';

test('equals node:crypto HMAC-SHA256 for every message length 0..80 and several key sizes', () => {
  for (const klen of [16, 32, 64, 100]) {
    const key = randomBytes(klen);
    const f = new FastHmac(key);
    for (let n = 0; n <= 80; n++) {
      const m = randomBytes(n);
      const want = createHmac('sha256', key).update(m).digest();
      assert.deepEqual(f.digest(m), want, `klen ${klen} n ${n}`);
      assert.equal(f.hex(m), want.toString('hex').slice(0, 32));
    }
  }
});
