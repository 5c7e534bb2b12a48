/**
 * The set of stores a server opens: one control store (org directory, operator staff) and one
 * store per region (R-PRIV-6). On SQLite each is its own file under the data directory; on
 * PostgreSQL each is its own schema. A region's data never goes to another region's store.
 */
import { join } from 'node:path';
import { CairnError } from '../kernel/errors.ts';
import type { Database, Engine } from './db.ts';
import { SqliteDatabase } from './sqlite/driver.ts';
import { PgDatabase } from './postgres/driver.ts';

export interface StoresOptions {
  engine: Engine;
  regions: string[];
  /** SQLite: directory of the store files. */
  dataDir: string;
  /** PostgreSQL: connection string and schema prefix. */
  pgUrl: string;
  pgSchemaPrefix: string;
}

export class Stores {
  readonly control: Database;
  private readonly regionStores = new Map<string, Database>();

  constructor(readonly options: StoresOptions) {
    const open = (name: string, kind: 'control' | 'region'): Database =>
      options.engine === 'sqlite'
        ? new SqliteDatabase(name, join(options.dataDir, `${name}.sqlite`), kind)
        : new PgDatabase(name, `${options.pgSchemaPrefix}_${name}`, options.pgUrl, kind);
    this.control = open('control', 'control');
    for (const r of options.regions) this.regionStores.set(r, open(r, 'region'));
  }

  get engine(): Engine {
    return this.options.engine;
  }

  get regions(): string[] {
    return [...this.regionStores.keys()];
  }

  /** The store of a region; unknown regions are refused. */
  region(name: string): Database {
    const db = this.regionStores.get(name);
    if (!db) throw new CairnError('CAIRN_ERR_REGION', `Region "${name}" is not hosted here (hosted: ${this.regions.join(', ')}).`);
    return db;
  }

  all(): Database[] {
    return [this.control, ...this.regionStores.values()];
  }

  async migrate(): Promise<Record<string, number[]>> {
    const out: Record<string, number[]> = {};
    for (const db of this.all()) out[db.name] = await db.migrate();
    return out;
  }

  async ping(): Promise<void> {
    for (const db of this.all()) await db.ping();
  }

  async close(): Promise<void> {
    for (const db of this.all()) await db.close();
  }
}
