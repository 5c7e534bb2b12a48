/**
 * Test helpers: temporary configurations for each storage engine, PostgreSQL availability (the
 * PostgreSQL half is skipped, loudly, where no server answers; under CI it must answer), apps,
 * signed-in callers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { buildApp, type BuildOptions, type CairnApp } from '../src/app.ts';

export const PG_URL = process.env.CAIRN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_MASTER_KEY = Buffer.alloc(32, 42).toString('base64');

let pgProbe: Promise<string | null> | undefined;
/** null when PostgreSQL answers, else the reason it does not. */
export function pgUnavailable(): Promise<string | null> {
  pgProbe ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 10000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return null;
    } catch (e) {
      return `PostgreSQL not reachable at ${PG_URL} (${(e as Error).message})`;
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
  return pgProbe;
}

/** Skip reason for PostgreSQL tests: false when it is there; fails loudly under CI when it is not. */
export async function pgSkip(): Promise<string | false> {
  const why = await pgUnavailable();
  if (!why) return false;
  if (process.env.CI) throw new Error(`CI must run the PostgreSQL half: ${why}`);
  console.warn(`\n*** PostgreSQL half SKIPPED: ${why} ***\n`);
  return `PostgreSQL half skipped: ${why}`;
}

export interface EngineSetup {
  name: 'sqlite' | 'postgres';
  config(overrides?: Partial<Config>): Config;
  cleanup(): Promise<void>;
}

export function sqliteSetup(): EngineSetup {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-test-'));
  return {
    name: 'sqlite',
    config: (o = {}) => loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: TEST_MASTER_KEY, logLevel: 'silent', retentionIntervalMinutes: 0, ...o } }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    dir,
  } as EngineSetup & { dir: string };
}

export function postgresSetup(): EngineSetup {
  const prefix = `t${randomBytes(5).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-test-'));
  return {
    name: 'postgres',
    config: (o = {}) => loadConfig({ env: {}, overrides: { store: 'postgres', pgUrl: PG_URL, pgSchemaPrefix: prefix, dataDir: dir, masterKey: TEST_MASTER_KEY, logLevel: 'silent', retentionIntervalMinutes: 0, ...o } }),
    cleanup: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      const r = await c.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${prefix}\\_%`]);
      for (const row of r.rows as { nspname: string }[]) await c.query(`DROP SCHEMA IF EXISTS ${row.nspname} CASCADE`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function makeApp(setup: EngineSetup, overrides: Partial<Config> = {}, opts: BuildOptions = {}): Promise<CairnApp> {
  return buildApp(setup.config(overrides), opts);
}

/** Sign in through the API and return the session cookie header value. */
export async function login(c: CairnApp, email: string, password: string): Promise<string> {
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  if (r.statusCode !== 200) throw new Error(`login failed ${r.statusCode} ${r.body}`);
  const set = r.cookies.find((k) => k.name === 'cairn_session');
  if (!set) throw new Error('no session cookie');
  return `cairn_session=${set.value}`;
}
