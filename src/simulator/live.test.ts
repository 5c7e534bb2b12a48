import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNativeBatch } from '../ingest/index.ts';
import { liveBatches, liveStream } from './live.ts';

const NOW = Date.UTC(2026, 10, 23, 3, 17, 0); // 03:17 UTC: the office would be empty at that hour.

test('live batches show a busy office at the chosen hour, stamped with wall-clock time, in the native format', () => {
  const it = liveBatches({ seed: 3, people: 40, startMs: NOW, startHour: 10, siteIdOf: (b) => `site-${b.key}`, floorIdOf: (f) => `floor-${f.key}` });
  const batches = Array.from({ length: 60 }, () => it.next().value!);
  assert.ok(batches[0]!.atMs >= NOW && batches[0]!.atMs < NOW + 5_000, 'starts now');
  for (let i = 1; i < batches.length; i++) assert.ok(batches[i]!.atMs >= batches[i - 1]!.atMs);
  assert.ok(batches[59]!.atMs - NOW < 10 * 60_000, 'about one batch per 5 s tick');
  const obs = batches.flatMap((b) => parseNativeBatch({ observations: b.observations }));
  assert.ok(obs.length > 500, `${obs.length} observations in the first minutes`);
  assert.ok(obs.every((o) => o.vendorSiteId?.startsWith('site-b')));
  assert.ok(obs.filter((o) => o.kind === 'sdk').every((o) => o.vendorFloorId?.startsWith('floor-b')));
  assert.deepEqual(new Set(obs.map((o) => o.kind)), new Set(['ble-badge', 'wifi-connected', 'wifi-unconnected', 'sdk']));
  const hours = new Date(batches[0]!.simMs).getUTCHours();
  assert.equal(hours, 10);
});

test('the live stream waits for each batch and stops when aborted', async () => {
  let clock = NOW;
  const slept: number[] = [];
  const ac = new AbortController();
  const got: number[] = [];
  for await (const b of liveStream({ seed: 3, people: 40, startMs: NOW, startHour: 10, now: () => clock, sleep: async (ms) => void slept.push(ms), signal: ac.signal })) {
    clock = b.atMs; // the sleep "took" exactly as long as asked
    got.push(b.atMs);
    if (got.length === 10) ac.abort();
  }
  assert.equal(got.length, 10);
  assert.ok(slept.length >= 8 && slept.every((ms) => ms > 0 && ms <= 5_000), JSON.stringify(slept));
  // Twice as fast: the same simulated minutes in half the wall-clock time.
  const fast = liveBatches({ seed: 3, people: 40, startMs: NOW, startHour: 10, speed: 2 });
  const first = fast.next().value!;
  let last = first;
  for (let i = 0; i < 40; i++) last = fast.next().value!;
  assert.ok(Math.abs((last.atMs - first.atMs) * 2 - (last.simMs - first.simMs)) <= 1);
});
