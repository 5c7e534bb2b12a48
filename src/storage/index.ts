/** Storage: the only module with SQL and database drivers. */
export * from './db.ts';
export * from './stores.ts';
export * from './repos/index.ts';
export { SqliteDatabase } from './sqlite/driver.ts';
export { PgDatabase } from './postgres/driver.ts';
