/**
 * PostgreSQL engine (`pg`): one pool per store, each store its own schema
 * (`<prefix>_control`, `<prefix>_<region>`) selected with search_path on every connection.
 * BIGINT columns come back as JavaScript numbers (all Cairn's BIGINTs are epoch ms, counters
 * or sequence numbers well inside 2^53).
 */
import pg from 'pg';
import { CairnError } from '../../kernel/errors.ts';
import type { Database, Executor, Migration, RunResult, StoreKind } from '../db.ts';
import { CONTROL_MIGRATIONS, REGION_MIGRATIONS } from './migrations/index.ts';

pg.types.setTypeParser(20, (v: string) => Number(v));
pg.types.setTypeParser(1700, (v: string) => Number(v));

function param(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v === undefined ? null : v;
}

class PgExecutor implements Executor {
  readonly engine = 'postgres' as const;
  constructor(
    protected readonly q: pg.Pool | pg.PoolClient,
    readonly name: string,
  ) {}
  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const r = await this.q.query(sql, params.map(param));
    return r.rows as T[];
  }
  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    const r = await this.q.query(sql, params.map(param));
    return r.rows[0] as T | undefined;
  }
  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    const r = await this.q.query(sql, params.map(param));
    return { changes: r.rowCount ?? 0 };
  }
  async many(sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    // One multi-row INSERT per chunk: far fewer round trips than a statement per row.
    const m = /^\s*INSERT\s+INTO\s+([\s\S]+?)\s+VALUES\s*\(([\s\S]*?)\)\s*([\s\S]*)$/i.exec(sql);
    if (!m || rows.length === 0) {
      for (const row of rows) await this.run(sql, row);
      return;
    }
    const [, head, , tail] = m;
    const width = rows[0]!.length;
    const chunk = Math.max(1, Math.floor(30000 / Math.max(1, width)));
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const values: string[] = [];
      const flat: unknown[] = [];
      for (const row of part) {
        values.push(`(${row.map((_, j) => `$${flat.length + j + 1}`).join(',')})`);
        for (const v of row) flat.push(param(v));
      }
      await this.q.query(`INSERT INTO ${head} VALUES ${values.join(',')} ${tail}`, flat);
    }
  }
}

export class PgDatabase extends PgExecutor implements Database {
  private readonly pool: pg.Pool;
  constructor(
    override readonly name: string,
    readonly schema: string,
    connectionString: string,
    private readonly kind: StoreKind,
    max = 8,
  ) {
    const pool = new pg.Pool({ connectionString, max, options: `-c search_path=${schema}` });
    pool.on('error', () => {
      /* idle client errors surface on the next query */
    });
    super(pool, name);
    this.pool = pool;
  }

  async tx<T>(fn: (ex: Executor) => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(new PgExecutor(client, this.name));
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw new CairnError('CAIRN_ERR_STORAGE', `Cannot reach PostgreSQL for store ${this.name}: ${(e as Error).message}`);
    }
  }

  async migrate(): Promise<number[]> {
    const migrations: Migration[] = this.kind === 'control' ? CONTROL_MIGRATIONS : REGION_MIGRATIONS;
    const client = await this.connect();
    const applied: number[] = [];
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(`SET search_path TO ${this.schema}`);
      // One migrator at a time per schema, across processes.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [this.schema]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
        const done = new Set((await client.query('SELECT version FROM schema_migrations')).rows.map((r: { version: number }) => r.version));
        for (const m of migrations) {
          if (done.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK');
            throw e;
          }
          applied.push(m.version);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [this.schema]);
      }
    } finally {
      client.release();
    }
    return applied;
  }

  async ping(): Promise<void> {
    await this.all('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Drop the whole schema (tests only). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }
}
