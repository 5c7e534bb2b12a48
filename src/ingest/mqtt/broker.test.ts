/**
 * Mosquitto password hashes and broker files: Cairn's `$7$` hashes are PBKDF2-SHA512 exactly as
 * mosquitto_passwd 2.x computes them (checked against the real tool where it is installed), and
 * the generated files give each sensor its own topic only and refuse names that would corrupt them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclFileText, mosquittoPasswordHash, passwordFileText, sensorTopic, sensorUsername, verifyMosquittoPassword } from './broker.ts';

test('hashes as mosquitto_passwd does: $7$, 101 iterations, 12-byte salt, 64-byte PBKDF2-SHA512', () => {
  const h = mosquittoPasswordHash('correct horse', { salt: Buffer.alloc(12, 7) });
  assert.match(h, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
  assert.equal(h, mosquittoPasswordHash('correct horse', { salt: Buffer.alloc(12, 7) }));
  assert.ok(verifyMosquittoPassword('correct horse', h));
  assert.ok(!verifyMosquittoPassword('correct horsE', h));
  assert.ok(!verifyMosquittoPassword('x', '$6$abc$def'));
  assert.notEqual(mosquittoPasswordHash('same'), mosquittoPasswordHash('same'), 'a fresh salt each time');
});

const passwd = ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd'].find((p) => existsSync(p));
test('a hash written by the real mosquitto_passwd verifies, and ours re-hashed with its salt is identical', { skip: passwd ? false : 'mosquitto_passwd not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-passwd-'));
  try {
    const file = join(dir, 'pw');
    execFileSync(passwd!, ['-c', '-b', file, 'sensor-x', 'Zm9vYmFyLXNlY3JldA']);
    const hash = readFileSync(file, 'utf8').trim().split(':')[1]!;
    assert.ok(verifyMosquittoPassword('Zm9vYmFyLXNlY3JldA', hash));
    const [, , iterations, salt] = hash.split('$');
    assert.equal(mosquittoPasswordHash('Zm9vYmFyLXNlY3JldA', { iterations: Number(iterations), salt: Buffer.from(salt!, 'base64') }), hash);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('files: the subscriber reads cairn/#, each sensor writes only its own topic', () => {
  const sensors = [
    { username: sensorUsername('b'), passwordHash: mosquittoPasswordHash('pb'), topic: sensorTopic('org', 'site', 'b') },
    { username: sensorUsername('a'), passwordHash: mosquittoPasswordHash('pa'), topic: sensorTopic('org', 'site', 'a') },
  ];
  const pw = passwordFileText(sensors, { username: 'cairn', passwordHash: mosquittoPasswordHash('sub') });
  assert.deepEqual(pw.trim().split('\n').map((l) => l.split(':')[0]), ['cairn', 'sensor-a', 'sensor-b']);
  const acl = aclFileText(sensors, { username: 'cairn' });
  assert.match(acl, /^user cairn\ntopic read cairn\/#$/m);
  assert.match(acl, /^user sensor-a\ntopic write cairn\/org\/site\/a$/m);
  assert.match(acl, /^user sensor-b\ntopic write cairn\/org\/site\/b$/m);
  assert.equal(acl.match(/^topic /gm)!.length, 3, 'no other grants');
  assert.equal(passwordFileText(sensors).split('\n').filter(Boolean).length, 2, 'no subscriber line without its hash');
});

test('files refuse user names and topics that would corrupt them or widen a grant', () => {
  const h = mosquittoPasswordHash('p');
  assert.throws(() => passwordFileText([{ username: 'evil:x', passwordHash: h, topic: 'cairn/o/s/x' }]));
  assert.throws(() => aclFileText([{ username: 'evil\nuser other', passwordHash: h, topic: 'cairn/o/s/x' }]));
  assert.throws(() => aclFileText([{ username: 'sensor-x', passwordHash: h, topic: 'cairn/o/s/#' }]));
  assert.throws(() => passwordFileText([{ username: 'sensor-x', passwordHash: 'plain', topic: 'cairn/o/s/x' }]));
});
