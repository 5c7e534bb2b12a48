/**
 * SQLite engine (better-sqlite3): WAL journal, one connection per store file, prepared-statement
 * cache, `$n` placeholders rewritten to positional `?`. better-sqlite3 is synchronous, so an async
 * transaction holds a per-store lock: transactions run one after another and never interleave.
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CairnError } from '../../kernel/errors.ts';
import type { Database, Executor, Migration, RunResult, StoreKind } from '../db.ts';
import { CONTROL_MIGRATIONS, REGION_MIGRATIONS } from './migrations/index.ts';

interface Rewritten {
  sql: string;
  order: number[];
}
const rewriteCache = new Map<string, Rewritten>();

/** `$2 … $1 … $2` → `? … ? … ?` with the parameter order [1, 0, 1]. */
export function rewritePlaceholders(sql: string): Rewritten {
  let r = rewriteCache.get(sql);
  if (!r) {
    const order: number[] = [];
    const out = sql.replace(/\$(\d+)/g, (_m, n: string) => {
      order.push(Number(n) - 1);
      return '?';
    });
    r = { sql: out, order };
    if (rewriteCache.size > 5000) rewriteCache.clear();
    rewriteCache.set(sql, r);
  }
  return r;
}

function bindable(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  return v;
}

/** A prepared statement with its parameter order; `inOrder` when each `$n` appears once, as `$1, $2, …`. */
interface Prepared {
  st: BetterSqlite3.Statement;
  order: number[];
  inOrder: boolean;
}

abstract class SqliteExecutor implements Executor {
  readonly engine = 'sqlite' as const;
  abstract readonly name: string;
  /** Prepared statements by the SQL as written (`$n`), so the hot path pays one lookup. */
  private stmts = new Map<string, Prepared>();
  constructor(protected readonly db: BetterSqlite3.Database) {}

  private prepared(sql: string): Prepared {
    let p = this.stmts.get(sql);
    if (!p) {
      const r = rewritePlaceholders(sql);
      p = { st: this.db.prepare(r.sql), order: r.order, inOrder: r.order.every((v, i) => v === i) };
      this.stmts.set(sql, p);
    }
    return p;
  }

  /**
   * The statement for `sql` and its parameters in `?` order. Bulk inserts bind hundreds of
   * parameters per statement: when they are already in order and all bindable as they are
   * (strings, numbers, null), the caller's array is used without a copy.
   */
  protected prepare(sql: string, params: readonly unknown[]): [BetterSqlite3.Statement, unknown[]] {
    const p = this.prepared(sql);
    const order = p.order;
    if (p.inOrder && params.length === order.length) {
      let plain = true;
      for (let i = 0; i < params.length; i++) {
        const v = params[i];
        const t = typeof v;
        if (t !== 'string' && t !== 'number' && v !== null) {
          plain = false;
          break;
        }
      }
      if (plain) return [p.st, params as unknown[]];
    }
    const out: unknown[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) out[i] = bindable(params[order[i]!]);
    return [p.st, out];
  }

  async all<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }
  allSync<T>(sql: string, params: readonly unknown[] = []): T[] {
    const [st, p] = this.prepare(sql, params);
    return st.all(...p) as T[];
  }
  async get<T>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    const [st, p] = this.prepare(sql, params);
    return st.get(...p) as T | undefined;
  }
  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    const [st, p] = this.prepare(sql, params);
    if (!st.reader) return { changes: st.run(...p).changes };
    st.all(...p);
    return { changes: 0 };
  }
  async many(sql: string, rows: readonly (readonly unknown[])[]): Promise<void> {
    for (const row of rows) {
      const [st, p] = this.prepare(sql, row);
      st.run(...p);
    }
  }
}

export class SqliteDatabase extends SqliteExecutor implements Database {
  private lock: Promise<unknown> = Promise.resolve();
  private inTx = false;
  constructor(
    readonly name: string,
    readonly file: string,
    private readonly kind: StoreKind,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    let db: BetterSqlite3.Database;
    try {
      db = new BetterSqlite3(file);
    } catch (e) {
      throw new CairnError('CAIRN_ERR_STORAGE', `Cannot open the SQLite store ${name}: ${(e as Error).message}`);
    }
    // 16 KiB pages (new stores only: an existing file keeps its page size). Ingest commits write
    // every page they touch to the WAL, then the checkpoint copies it again; each frame and each
    // copy is a write system call, and where those are costly (virtualised hosts) they dominate a
    // batch. Four times fewer, larger frames for the appended fixes and the same random upserts
    // cut ingest CPU by about a fifth (bench/ingest.ts); a point read costs one 16 KiB page.
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Checkpoint every 2 000 frames (32 MiB of WAL) instead of 1 000: pages rewritten by
    // consecutive batches are copied to the database once per checkpoint, with one fsync.
    db.pragma('wal_autocheckpoint = 2000');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    super(db);
  }

  async tx<T>(fn: (ex: Executor) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec('BEGIN IMMEDIATE');
      this.inTx = true;
      try {
        const out = await fn(this);
        this.db.exec('COMMIT');
        return out;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      } finally {
        this.inTx = false;
      }
    };
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }

  async migrate(): Promise<number[]> {
    const migrations: Migration[] = this.kind === 'control' ? CONTROL_MIGRATIONS : REGION_MIGRATIONS;
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const done = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      })();
      applied.push(m.version);
    }
    return applied;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.lock;
    if (this.db.open) this.db.close();
  }

  /** Raw iteration for the audit verifier and bulk exports (rows as arrays, no object per row). */
  iterateRaw(sql: string, params: readonly unknown[] = []): IterableIterator<unknown[]> {
    const r = rewritePlaceholders(sql);
    const st = this.db.prepare(r.sql).raw(true);
    return st.iterate(...r.order.map((i) => bindable(params[i]))) as IterableIterator<unknown[]>;
  }

  get inTransaction(): boolean {
    return this.inTx;
  }
}
