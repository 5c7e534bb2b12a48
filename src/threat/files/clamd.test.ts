/**
 * Tests for the clamd INSTREAM client. The real-daemon tests run when CAIRN_TEST_CLAMD (socket
 * path or host:port) is set or /var/run/clamav/clamd.ctl exists, and are skipped with a message
 * otherwise; a strict stand-in server checks the byte framing in every run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { CairnError } from '../../kernel/errors.ts';
import { analyzeFile } from './analyze.ts';
import { EICAR } from './classify.ts';
import { clamdPing, clamdScan, clamdVersion, parseClamdReply, type ClamdTarget } from './clamd.ts';

/** The real daemon: CAIRN_TEST_CLAMD (a socket path or host:port), else Debian's default socket. */
function realClamd(): ClamdTarget | undefined {
  const env = process.env.CAIRN_TEST_CLAMD;
  if (env) {
    const m = /^([^/:]+):(\d+)$/.exec(env);
    return m ? { host: m[1] as string, port: Number(m[2]), timeoutMs: 60_000 } : { socketPath: env, timeoutMs: 60_000 };
  }
  return existsSync('/var/run/clamav/clamd.ctl') ? { socketPath: '/var/run/clamav/clamd.ctl', timeoutMs: 60_000 } : undefined;
}
const real = realClamd();
const noClamd = real ? false : 'no clamd: set CAIRN_TEST_CLAMD=/path/to/clamd.ctl or host:port (Debian: /var/run/clamav/clamd.ctl)';

test('parses clamd replies: OK, FOUND with the signature name, and errors', () => {
  assert.deepEqual(parseClamdReply('stream: OK\0'), { status: 'clean', reply: 'OK' });
  assert.deepEqual(parseClamdReply('stream: Win.Test.EICAR_HDB-1 FOUND'), { status: 'infected', signature: 'Win.Test.EICAR_HDB-1', reply: 'Win.Test.EICAR_HDB-1 FOUND' });
  assert.equal(parseClamdReply('INSTREAM size limit exceeded. ERROR').status, 'error');
  assert.equal(parseClamdReply('').status, 'error');
});

test('real clamd: PING, VERSION, EICAR is found and plain text is OK', { skip: noClamd }, async () => {
  const t = real as ClamdTarget;
  assert.equal(await clamdPing(t), true);
  assert.match((await clamdVersion(t)) ?? '', /ClamAV/);
  const hit = await clamdScan(Buffer.from(EICAR), t);
  assert.equal(hit.status, 'infected');
  assert.match(hit.signature ?? '', /eicar/i);
  const ok = await clamdScan(Buffer.from('hello, this is a harmless text file\n'.repeat(1000)), { ...t, chunkBytes: 4096 });
  assert.deepEqual(ok, { status: 'clean', reply: 'OK' });
});

test('real clamd: the pipeline stops at a ClamAV signature when YARA is off', { skip: noClamd }, async () => {
  const v = await analyzeFile(Buffer.from(EICAR), { clamd: real as ClamdTarget, yara: false });
  assert.equal(v.state, 'malicious');
  assert.ok(v.reasons.some((r) => r.code === 'CLAMAV_FOUND'));
  assert.equal(v.stages.find((s) => s.analyzer === 'static')?.status, 'skipped');
});

test('speaks INSTREAM framing exactly (checked by a strict stand-in server)', async () => {
  const received: Buffer[] = [];
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!buf.subarray(0, 10).equals(Buffer.from('zINSTREAM\0'))) return;
      let p = 10;
      const parts: Buffer[] = [];
      while (p + 4 <= buf.length) {
        const len = buf.readUInt32BE(p);
        if (len === 0) {
          received.push(Buffer.concat(parts));
          const body = Buffer.concat(parts).toString('latin1');
          sock.end(body.includes('EICAR') ? 'stream: Eicar-Signature FOUND\0' : 'stream: OK\0');
          return;
        }
        if (p + 4 + len > buf.length) return;
        parts.push(buf.subarray(p + 4, p + 4 + len));
        p += 4 + len;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const payload = Buffer.alloc(10_000, 0x41);
    assert.deepEqual(await clamdScan(payload, { host: '127.0.0.1', port, chunkBytes: 3000 }), { status: 'clean', reply: 'OK' });
    assert.deepEqual(received[0], payload, 'chunks reassemble to the input');
    const hit = await clamdScan(Buffer.from(EICAR), { host: '127.0.0.1', port });
    assert.deepEqual([hit.status, hit.signature], ['infected', 'Eicar-Signature']);
  } finally {
    server.close();
  }
});

test('an unreachable or silent clamd rejects with CAIRN_ERR_SCANNER_UNAVAILABLE and leaves the verdict unknown', async () => {
  await assert.rejects(clamdScan(Buffer.from('x'), { socketPath: '/nonexistent/clamd.ctl' }), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_SCANNER_UNAVAILABLE');
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as AddressInfo).port;
    await assert.rejects(clamdScan(Buffer.from('x'), { host: '127.0.0.1', port, timeoutMs: 300 }), (e: unknown) => e instanceof CairnError && /no reply/.test(e.message));
  } finally {
    silent.close();
  }
  const v = await analyzeFile(Buffer.from('plain text'), { clamd: { socketPath: '/nonexistent/clamd.ctl' }, yara: false });
  assert.equal(v.state, 'unknown');
  assert.ok(v.reasons.some((r) => r.code === 'CLAMAV_UNAVAILABLE' && r.incomplete));
  const optional = await analyzeFile(Buffer.from('plain text'), { clamd: { socketPath: '/nonexistent/clamd.ctl', required: false }, yara: false });
  assert.equal(optional.state, 'clean');
});
