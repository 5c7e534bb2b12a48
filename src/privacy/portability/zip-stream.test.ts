/**
 * The streamed ZIP writer: entries of any size arrive in chunks and are read back byte for byte,
 * with their SHA-256 and CRC-32, as ZIP and as forced ZIP64; an independent reader (Info-ZIP
 * `unzip -t`, where installed) accepts both; a receiver that closes fails the next write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { ZipStreamWriter, readZip } from './zip-stream.ts';

async function build(forceZip64: boolean): Promise<{ zip: Buffer; parts: Map<string, Buffer> }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const z = new ZipStreamWriter(out, Date.UTC(2026, 0, 2, 3, 4, 6), { forceZip64 });
  const parts = new Map<string, Buffer>([
    ['README.txt', Buffer.from('hello\n')],
    ['data/empty.jsonl', Buffer.alloc(0)],
    ['data/random.bin', randomBytes(300_000)],
    ['data/lines.jsonl', Buffer.from(Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, at_ms: 1_700_000_000_000 + i })).join('\n') + '\n')],
  ]);
  for (const [name, data] of parts) {
    const pieces = [];
    for (let i = 0; i < data.length; i += 65_536) pieces.push(data.subarray(i, i + 65_536));
    const r = await z.entry(name, (async function* () { yield* pieces; })());
    assert.equal(r.bytes, data.length);
    assert.equal(r.sha256, createHash('sha256').update(data).digest('hex'));
  }
  const total = await z.finish();
  const zip = Buffer.concat(chunks);
  assert.equal(total, zip.length);
  return { zip, parts };
}

for (const forceZip64 of [false, true]) {
  test(`entries stream in and read back byte for byte${forceZip64 ? ' (ZIP64)' : ''}`, async () => {
    const { zip, parts } = await build(forceZip64);
    const back = readZip(zip);
    assert.deepEqual([...back.keys()], [...parts.keys()]);
    for (const [name, data] of parts) assert.ok(back.get(name)!.equals(data), name);
    const hasUnzip = spawnSync('unzip', ['-v'], { encoding: 'utf8' }).status === 0;
    if (hasUnzip) {
      const dir = mkdtempSync(join(tmpdir(), 'cairn-zip-'));
      try {
        writeFileSync(join(dir, 'a.zip'), zip);
        const t = spawnSync('unzip', ['-t', join(dir, 'a.zip')], { encoding: 'utf8' });
        assert.equal(t.status, 0, t.stdout + t.stderr);
        assert.match(t.stdout, /No errors detected/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
}

test('a receiver that closes makes the next write fail instead of waiting forever', async () => {
  let seen = 0;
  const out = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _e, cb) {
      seen += chunk.length;
      if (seen > 50_000) this.destroy();
      else setImmediate(cb);
    },
  });
  const z = new ZipStreamWriter(out, Date.now(), { level: 0 });
  await assert.rejects(z.entry('big.bin', (async function* () { for (let i = 0; i < 100; i++) yield randomBytes(10_000); })()), (e: { code?: string }) => e.code === 'CAIRN_ERR_CONFLICT');
});

test('a corrupted entry is refused by its CRC-32', async () => {
  const { zip } = await build(false);
  const bad = Buffer.from(zip);
  const at = bad.indexOf(Buffer.from('data/random.bin')) + 40;
  bad[at] = bad[at]! ^ 0xff;
  assert.throws(() => readZip(bad));
});
