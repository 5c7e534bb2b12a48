/** Association sessions: disassociation, roaming, idle timeout, bounds, and the Aruba examples end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssociationSessionBuilder } from './sessions.ts';
import { parseSyslogAssociation } from './syslog/associations.ts';
import { readFormat } from './testdata.ts';
import type { Association } from './types.ts';

const MIN = 60_000;

function ev(type: Association['type'], apKey: string, atMin: number, deviceId = 'aa:bb:cc:00:00:01'): Association {
  return { source: 'syslog', type, deviceId, idType: 'mac', randomized: false, apKey, atMs: atMin * MIN, eventId: type === 'associate' ? '501100' : '501102' };
}

function brief(s: { apKey: string; startMs: number; endMs: number; endReason: string; eventCount: number }): string {
  return `${s.apKey} ${s.startMs / MIN}-${s.endMs / MIN} ${s.endReason} ${s.eventCount}`;
}

test('a session runs from association to disassociation at the same AP; repeated association events extend it', () => {
  const b = new AssociationSessionBuilder();
  assert.deepEqual(b.push(ev('associate', 'ap1', 0)), []);
  assert.deepEqual(b.push(ev('associate', 'ap1', 1)), []);
  const closed = b.push(ev('disassociate', 'ap1', 30));
  assert.deepEqual(closed.map(brief), ['ap1 0-30 disassociation 3']);
  assert.equal(b.openCount, 0);
});

test('roaming closes the previous session at the new association; the old AP’s late disassociation is ignored', () => {
  const b = new AssociationSessionBuilder();
  b.push(ev('associate', 'ap1', 0));
  assert.deepEqual(b.push(ev('associate', 'ap2', 10)).map(brief), ['ap1 0-10 roam 1']);
  assert.deepEqual(b.push(ev('disassociate', 'ap1', 11)), []);
  assert.equal(b.strayDisassociations, 1);
  assert.deepEqual(b.push(ev('disassociate', 'ap2', 20)).map(brief), ['ap2 10-20 disassociation 2']);
});

test('open sessions time out after the idle period and end at their last event', () => {
  const b = new AssociationSessionBuilder({ idleTimeoutMs: 30 * MIN });
  b.push(ev('associate', 'ap1', 0, 'a'));
  b.push(ev('associate', 'ap1', 5, 'b'));
  b.push(ev('associate', 'ap1', 10, 'a'));
  assert.deepEqual(b.expire(36 * MIN).map(brief), ['ap1 5-5 timeout 1']);
  assert.deepEqual(b.expire(41 * MIN).map(brief), ['ap1 0-10 timeout 2']);
  // A late event after the idle period first closes the stale session, then starts a new one.
  b.push(ev('associate', 'ap1', 100, 'c'));
  assert.deepEqual(b.push(ev('associate', 'ap1', 200, 'c')).map(brief), ['ap1 100-100 timeout 1']);
  assert.deepEqual(b.flush().map(brief), ['ap1 200-200 flush 1']);
});

test('devices are independent, out-of-order events never make negative durations, and the open set is bounded', () => {
  const b = new AssociationSessionBuilder({ maxOpenSessions: 2 });
  b.push(ev('associate', 'ap1', 10, 'a'));
  b.push(ev('associate', 'ap1', 11, 'b'));
  assert.deepEqual(b.push(ev('associate', 'ap1', 12, 'c')).map(brief), ['ap1 10-10 evicted 1']);
  assert.deepEqual(b.push(ev('disassociate', 'ap1', 5, 'b')).map(brief), ['ap1 11-11 disassociation 2']);
});

test('the Aruba examples build the sessions WiFiTrace would', () => {
  const lines = readFormat('aruba-syslog-examples.log').split('\n').filter(Boolean);
  const events = lines
    .map((l) => parseSyslogAssociation(l, { referenceMs: Date.UTC(2020, 6, 1) }))
    .filter((a): a is Association => a !== undefined)
    .sort((x, y) => x.atMs - y.atMs);
  const b = new AssociationSessionBuilder();
  const sessions = [...events.flatMap((e) => b.push(e)), ...b.flush()];
  const fmt = (s: { deviceId: string; apKey: string; startMs: number; endMs: number; endReason: string }) =>
    `${s.deviceId} ${s.apKey} ${new Date(s.startMs).toISOString().slice(5, 19)} ${new Date(s.endMs).toISOString().slice(11, 19)} ${s.endReason}`;
  assert.deepEqual(sessions.map(fmt), [
    // 12:47:39 assoc request, 12:53:05 deauth: one session; the 13:00:34 disassoc and 13:02:26 auth start over.
    '4gSi3SqEV2c.2Z2tlIFTdE 380RUS-212-1 03-05T12:47:39 12:53:05 disassociation',
    '4gSi3SqEV2c.2Z2tlIFTdE 380RUS-212-1 03-05T13:02:26 13:02:26 flush',
    '.gwVFvOEEegdm2bB1k608w MAIN-106-1 06-03T01:02:31 01:02:31 flush',
    'cc:44:cc:bb:90:33 NH4ParkingGarageStorage_AP2 07-28T16:08:56 16:08:56 flush',
  ]);
  assert.equal(b.strayDisassociations, 4);
});

test('a restored open session goes on as if the builder had never stopped', () => {
  const before = new AssociationSessionBuilder({ idleTimeoutMs: 30 * MIN });
  before.push(ev('associate', 'ap1', 0, 'a'));
  before.push(ev('associate', 'ap1', 5, 'a'));
  const open = before.current({ idType: 'mac', deviceId: 'a' })!;
  assert.equal(open.lastMs, 5 * MIN);
  assert.equal(before.lastActivityMs(open.session), 5 * MIN);

  const after = new AssociationSessionBuilder({ idleTimeoutMs: 30 * MIN });
  after.restore({ ...open.session }, open.lastMs);
  assert.equal(after.openCount, 1);
  const closed = after.push(ev('disassociate', 'ap1', 20, 'a'));
  assert.deepEqual(closed.map(brief), ['ap1 0-20 disassociation 3']);
  assert.equal(after.lastActivityMs(closed[0]!), undefined, 'closed sessions have no last activity');
  after.restore({ ...open.session, eventCount: 2 }, open.lastMs);
  assert.deepEqual(after.expire(36 * MIN).map(brief), ['ap1 0-5 timeout 2'], 'idle time counts from the restored last event');
});
