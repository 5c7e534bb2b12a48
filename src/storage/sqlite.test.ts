import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStorageContract } from './contract.ts';
import { Stores } from './stores.ts';
import { rewritePlaceholders } from './sqlite/driver.ts';

const dirs = new Map<Stores, string>();
runStorageContract({
  name: 'sqlite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-contract-'));
    const s = new Stores({ engine: 'sqlite', regions: ['eu', 'us'], dataDir: dir, pgUrl: '', pgSchemaPrefix: 'x' });
    await s.migrate();
    dirs.set(s, dir);
    return s;
  },
  async dispose(s) {
    await s.close();
    rmSync(dirs.get(s)!, { recursive: true, force: true });
  },
});

test('rewrites $n placeholders to positional parameters, repeated and out of order', () => {
  assert.deepEqual(rewritePlaceholders('SELECT $2, $1, $2'), { sql: 'SELECT ?, ?, ?', order: [1, 0, 1] });
});
