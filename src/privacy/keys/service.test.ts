import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { makeApp, sqliteSetup } from '../../../test/helpers.ts';
import { systemCtx } from '../context.ts';
import { LocalKeyProvider } from './master.ts';
import { normaliseMac } from './service.ts';

test('normalises MACs in every usual notation', () => {
  for (const m of ['AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff', 'aabb.ccdd.eeff', 'aabbccddeeff']) assert.equal(normaliseMac(m), 'aabbccddeeff');
  assert.equal(normaliseMac('aa:bb:cc'), null);
  assert.equal(normaliseMac('zz:bb:cc:dd:ee:ff'), null);
});

test('pseudonyms are keyed per org, stable, domain-separated, and not a bare hash', async () => {
  const setup = sqliteSetup();
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  const a = await c.services.tenancy.createOrg(sys, { name: 'A', country: 'NL' });
  const b = await c.services.tenancy.createOrg(sys, { name: 'B', country: 'NL' });
  const db = await c.core.directory.storeOf(a.id);
  const k = c.core.keys;
  const p1 = await k.pseudonym(db, a.id, 'mac', 'AA:BB:CC:DD:EE:FF');
  assert.equal(await k.pseudonym(db, a.id, 'mac', 'aa-bb-cc-dd-ee-ff'), p1, 'notation does not matter');
  assert.notEqual(await k.pseudonym(db, b.id, 'mac', 'AA:BB:CC:DD:EE:FF'), p1, 'another org gets another pseudonym');
  assert.notEqual(await k.pseudonym(db, a.id, 'badge', 'aabbccddeeff'), p1, 'a badge id never collides with a MAC');
  const { createHash } = await import('node:crypto');
  assert.ok(!createHash('sha256').update('aabbccddeeff').digest('hex').startsWith(p1), 'not an unkeyed hash');
  assert.match(p1, /^[0-9a-f]{32}$/);
  await c.close();
  await setup.cleanup();
});

test('rotation keeps old ciphertext readable; destroying keys shreds it', async () => {
  const setup = sqliteSetup();
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  const org = await c.services.tenancy.createOrg(sys, { name: 'A', country: 'NL' });
  const db = await c.core.directory.storeOf(org.id);
  const k = c.core.keys;
  const old = await k.encrypt(db, org.id, 'devices.ip', '10.0.0.1');
  assert.equal((await c.services.keyAdmin.rotate(sys, org.id)).dataKeyVersion, 2);
  const neu = await k.encrypt(db, org.id, 'devices.ip', '10.0.0.2');
  assert.equal(neu.readUInt32BE(1), 2);
  assert.equal(await k.decrypt(db, org.id, 'devices.ip', old), '10.0.0.1');
  assert.equal(await k.decrypt(db, org.id, 'devices.ip', neu), '10.0.0.2');
  await assert.rejects(k.decrypt(db, org.id, 'devices.hostname', old), /CAIRN_ERR_DECRYPT|authentication/, 'a value moved to another field does not decrypt');
  await db.tx((x) => k.destroyOrgKeys(x, org.id));
  await assert.rejects(k.decrypt(db, org.id, 'devices.ip', old), (e: Error & { code?: string }) => e.code === 'CAIRN_ERR_KEY_DESTROYED');
  await assert.rejects(k.pseudonym(db, org.id, 'mac', 'aabbccddeeff'), (e: Error & { code?: string }) => e.code === 'CAIRN_ERR_KEY_DESTROYED');
  await c.close();
  await setup.cleanup();
});

test('re-wrapping under a new master key keeps every org key usable', async () => {
  const setup = sqliteSetup();
  const c = await makeApp(setup);
  const org = await c.services.tenancy.createOrg(systemCtx('test'), { name: 'A', country: 'US' });
  const db = await c.core.directory.storeOf(org.id);
  const blob = await c.core.keys.encrypt(db, org.id, 'users.email', 'x@y.example');
  const next = new LocalKeyProvider(randomBytes(32));
  await c.services.identity.createUser(systemCtx('test'), org.id, { email: 'admin@a.example', password: 'admin-password-123', roles: [{ role: 'org_admin' }] });
  const counts = await c.core.keys.rewrapAll(c.core.stores, next);
  assert.deepEqual(counts, { orgKeys: 2, signingKeys: 2, serverSecrets: 2 });
  await c.close();
  await assert.rejects(makeApp(setup), /authentication/, 'the old master key no longer opens anything');
  const c2 = await makeApp(setup, {}, { keyProvider: next });
  const db2 = await c2.core.directory.storeOf(org.id);
  assert.equal(await c2.core.keys.decrypt(db2, org.id, 'users.email', blob), 'x@y.example');
  assert.equal((await c2.services.identity.login('admin@a.example', 'admin-password-123', 'r')).ctx.actor.kind, 'user', 'sign-in still finds the account');
  assert.equal((await c2.services.auditQueries.verify(systemCtx('test'), org.id)).ok, true);
  await c2.close();
  await setup.cleanup();
});

test('off-boarding an org shreds its keys first and removes it everywhere', async () => {
  const setup = sqliteSetup();
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  const org = await c.services.tenancy.createOrg(sys, { name: 'Gone', country: 'NL' });
  await c.services.devices.report(sys, org.id, [{ mac: '02:11:22:33:44:55', kind: 'wifi', seenAtMs: Date.now(), ip: '10.0.0.9' }]);
  const db = await c.core.directory.storeOf(org.id);
  const r = await c.services.tenancy.deleteOrg(sys, org.id);
  assert.equal(r.keysDestroyed, 2);
  assert.ok(r.auditEventsDeleted >= 2);
  await assert.rejects(c.services.tenancy.getOrg(sys, org.id), (e: Error & { code?: string }) => e.code === 'CAIRN_ERR_NOT_FOUND');
  for (const t of ['orgs', 'org_keys', 'devices', 'audit_events', 'support_grants']) {
    assert.equal((await db.all(`SELECT 1 FROM ${t} WHERE ${t === 'orgs' ? 'id' : 'org_id'} = $1`, [org.id])).length, 0, `${t} is empty`);
  }
  await assert.rejects(c.services.tenancy.deleteOrg({ ...sys, actor: { kind: 'user', id: 'x' } }, org.id));
  await c.close();
  await setup.cleanup();
});
