/**
 * The storage contract every engine implements. Repositories (in repos/) are written once
 * against `Executor` with PostgreSQL-style `$1` placeholders; each engine adapts placeholders,
 * types and transactions, and has its own migrations. Nothing outside storage/ sees SQL.
 */
export type Engine = 'sqlite' | 'postgres';

export interface RunResult {
  changes: number;
}

/** Runs statements; inside `Database.tx` it is bound to the open transaction. */
export interface Executor {
  readonly engine: Engine;
  /** The store this executor writes to (`eu`, `control`). */
  readonly name: string;
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  run(sql: string, params?: readonly unknown[]): Promise<RunResult>;
  /** The same statement for many parameter rows (bulk insert), in the current transaction. */
  many(sql: string, rows: readonly (readonly unknown[])[]): Promise<void>;
}

/** One store: a region's or the control store. */
export interface Database extends Executor {
  /**
   * Run `fn` in one transaction: everything it writes commits together or not at all (the
   * audit event of a change is written inside the same call). Transactions on one store are
   * serialised on SQLite and isolated (READ COMMITTED plus row locks) on PostgreSQL.
   */
  tx<T>(fn: (ex: Executor) => Promise<T>): Promise<T>;
  /** Apply pending migrations; returns the versions applied. */
  migrate(): Promise<number[]>;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Which migration set a store gets. */
export type StoreKind = 'control' | 'region';
