/** Tests for per-device smoothing: noise reduction, walking-speed gating, reset and eviction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type PositionFix, emptyFix } from './fix.ts';
import { seededNormal, seededRandom } from '../../kernel/prng.ts';
import { DeviceSmoother } from './smoothing.ts';

const fixAt = (x: number, y: number, accuracyMeters = 3): PositionFix => ({ xMeters: x, yMeters: y, accuracyMeters, method: 'wls', sensorCount: 4 });

test('the first fix of a device passes through unchanged', () => {
  const s = new DeviceSmoother();
  const out = s.update('dev-a', 1000, fixAt(4, 7, 3));
  assert.equal(out.xMeters, 4);
  assert.equal(out.yMeters, 7);
  assert.ok(Math.abs(out.accuracyMeters - 3) < 1e-12);
  assert.equal(out.method, 'wls');
  assert.equal(s.size, 1);
});

test('smoothing a standing device cuts the scatter of its fixes', () => {
  const s = new DeviceSmoother();
  const gauss = seededNormal(seededRandom(4));
  let rawSq = 0, smoothSq = 0;
  const out = emptyFix();
  for (let t = 0; t < 120; t++) {
    const raw = fixAt(10 + 2 * gauss(), 10 + 2 * gauss(), 2.8);
    s.update('dev-a', t * 1000, raw, out);
    if (t >= 10) {
      rawSq += (raw.xMeters - 10) ** 2 + (raw.yMeters - 10) ** 2;
      smoothSq += (out.xMeters - 10) ** 2 + (out.yMeters - 10) ** 2;
    }
  }
  assert.ok(smoothSq < rawSq / 2, `smoothed RMS ${Math.sqrt(smoothSq / 110)} vs raw ${Math.sqrt(rawSq / 110)}`);
});

test('a walking device is followed without lagging far behind', () => {
  const s = new DeviceSmoother();
  const gauss = seededNormal(seededRandom(6));
  const out = emptyFix();
  let worst = 0;
  for (let t = 0; t <= 30; t++) {
    const x = 1.3 * t; // 1.3 m/s along x
    s.update('walker', t * 1000, fixAt(x + 1.5 * gauss(), 5 + 1.5 * gauss(), 2), out);
    if (t > 5) worst = Math.max(worst, Math.abs(out.xMeters - x));
  }
  assert.ok(worst < 3, `lag up to ${worst.toFixed(2)} m`);
});

test('a fix farther than walking speed allows is rejected; three in a row restart the track', () => {
  const s = new DeviceSmoother({ maxSpeedMetersPerSecond: 2, maxConsecutiveRejects: 3 });
  const out = emptyFix();
  for (let t = 0; t < 10; t++) s.update('dev-b', t * 1000, fixAt(10, 10, 2), out);
  // 30 m away one second later: impossible on foot.
  s.update('dev-b', 10_000, fixAt(40, 10, 2), out);
  assert.ok(Math.abs(out.xMeters - 10) < 1, `jumped to ${out.xMeters}`);
  assert.equal(s.rejected, 1);
  s.update('dev-b', 11_000, fixAt(40, 10, 2), out);
  assert.ok(out.xMeters < 15);
  s.update('dev-b', 12_000, fixAt(40, 10, 2), out);
  assert.equal(out.xMeters, 40, 'the third consecutive far fix restarts the filter there');
});

test('a device silent for longer than resetAfterMs starts afresh', () => {
  const s = new DeviceSmoother({ resetAfterMs: 10_000 });
  const out = emptyFix();
  s.update('dev-c', 0, fixAt(0, 0), out);
  s.update('dev-c', 60_000, fixAt(30, 20), out);
  assert.deepEqual([out.xMeters, out.yMeters], [30, 20]);
});

test('a late fix updates without moving time backwards', () => {
  const s = new DeviceSmoother();
  const out = emptyFix();
  s.update('dev-d', 5000, fixAt(5, 5), out);
  s.update('dev-d', 4000, fixAt(5.5, 5), out);
  assert.ok(out.xMeters > 5 && out.xMeters < 5.5);
  assert.equal(s.evictIdle(4500), 0, 'its time is still 5000');
});

test('idle devices are evicted, forgotten devices dropped, and slots reused', () => {
  const s = new DeviceSmoother();
  const out = emptyFix();
  for (let d = 0; d < 200; d++) s.update(`dev-${d}`, d < 100 ? 1000 : 9000, fixAt(d % 40, 3), out);
  assert.equal(s.size, 200);
  assert.equal(s.evictIdle(5000), 100);
  assert.equal(s.size, 100);
  assert.equal(s.forget('dev-150'), true);
  assert.equal(s.forget('dev-150'), false);
  // New devices reuse freed slots, and old ones keep their own state.
  for (let d = 0; d < 50; d++) s.update(`new-${d}`, 9500, fixAt(1, 1), out);
  s.update('dev-199', 10_000, fixAt(199 % 40, 3), out);
  assert.ok(Math.abs(out.xMeters - (199 % 40)) < 1e-9);
  assert.equal(s.size, 149);
});
