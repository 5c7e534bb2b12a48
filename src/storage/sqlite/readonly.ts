/** A read-only SQLite connection for scans in worker threads (audit verification). */
import BetterSqlite3 from 'better-sqlite3';
import { rewritePlaceholders } from './driver.ts';

export interface ReadonlyScan {
  iterate(sql: string, params: readonly unknown[]): IterableIterator<unknown[]>;
  close(): void;
}

export function openSqliteReadonly(file: string): ReadonlyScan {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  return {
    iterate(sql, params) {
      const r = rewritePlaceholders(sql);
      return db.prepare(r.sql).raw(true).iterate(...r.order.map((i) => params[i])) as IterableIterator<unknown[]>;
    },
    close: () => db.close(),
  };
}
