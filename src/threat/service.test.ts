/** Pure parts of the file service: reading an upload within its limit, and the clamd setting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isCairnError } from '../kernel/errors.ts';
import { clamdTargetOf, readUpload } from './service.ts';

test('an upload is read whole when within the limit', async () => {
  const b = await readUpload(Readable.from([Buffer.from('abc'), Buffer.from('def')]), 6);
  assert.equal(b.toString(), 'abcdef');
});

test('a too-large upload is refused as soon as it passes the limit, without reading the rest', async () => {
  let pulled = 0;
  async function* endless() {
    for (;;) {
      pulled++;
      yield Buffer.alloc(1024);
    }
  }
  await assert.rejects(readUpload(endless(), 10_000), (e) => isCairnError(e) && e.code === 'CAIRN_ERR_FILE_TOO_LARGE');
  assert.equal(pulled, 10, 'stopped at the first chunk over the limit');
  await assert.rejects(readUpload(endless(), 10_000, 20_000), (e) => isCairnError(e) && e.code === 'CAIRN_ERR_FILE_TOO_LARGE');
  assert.equal(pulled, 10, 'a declared length over the limit is refused before reading');
  const stream = Readable.from([Buffer.alloc(8), Buffer.alloc(8), Buffer.alloc(8)]);
  await assert.rejects(readUpload(stream, 10));
  assert.equal(stream.destroyed, false, 'the request stays open so the 413 can still be sent');
});

test('an upload cut short is a client error, not a server error', async () => {
  const s = new Readable({ read() {} });
  s.push(Buffer.from('partial'));
  setImmediate(() => s.destroy(new Error('aborted')));
  await assert.rejects(readUpload(s, 1000), (e) => isCairnError(e) && e.code === 'CAIRN_ERR_VALIDATION');
});

test('clamdSocket is a unix socket path or host:port', () => {
  assert.equal(clamdTargetOf({ clamdSocket: undefined }), undefined);
  assert.deepEqual(clamdTargetOf({ clamdSocket: '/run/clamav/clamd.ctl' }), { socketPath: '/run/clamav/clamd.ctl' });
  assert.deepEqual(clamdTargetOf({ clamdSocket: '127.0.0.1:3310' }), { host: '127.0.0.1', port: 3310 });
  assert.deepEqual(clamdTargetOf({ clamdSocket: '[::1]:3310' }), { host: '::1', port: 3310 });
});
