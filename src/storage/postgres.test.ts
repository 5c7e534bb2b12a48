import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { runStorageContract } from './contract.ts';
import { Stores } from './stores.ts';
import { PG_URL, pgSkip } from '../../test/helpers.ts';

const skip = await pgSkip();
const prefixes = new Map<Stores, string>();
runStorageContract({
  name: 'postgres',
  skip,
  async open() {
    const prefix = `c${randomBytes(5).toString('hex')}`;
    const s = new Stores({ engine: 'postgres', regions: ['eu', 'us'], dataDir: '/nonexistent', pgUrl: PG_URL, pgSchemaPrefix: prefix });
    await s.migrate();
    prefixes.set(s, prefix);
    return s;
  },
  async dispose(s) {
    await s.close();
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    for (const n of ['control', 'eu', 'us']) await c.query(`DROP SCHEMA IF EXISTS ${prefixes.get(s)}_${n} CASCADE`);
    await c.end();
  },
});
