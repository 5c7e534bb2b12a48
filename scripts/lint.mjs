#!/usr/bin/env node
// Architecture lint: the module boundaries of docs/ARCHITECTURE.md, checked on every source file.
//  - only src/storage/ imports database drivers (better-sqlite3, pg);
//  - only src/config.ts reads process.env;
//  - only src/http/ and routes.ts files import fastify;
//  - src/privacy/ imports no other domain module;
//  - every source file opens with a module comment;
//  - no console.log in src/ (use the logger or the CLI's output).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
(function walk(d) {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.ts')) files.push(relative(root, p));
  }
})(join(root, 'src'));

const DOMAIN = ['ingest', 'location', 'tracing', 'threat', 'devices', 'http'];
const problems = [];
for (const f of files) {
  const src = readFileSync(join(root, f), 'utf8');
  const test = f.endsWith('.test.ts') || /testkit|contract\.ts$/.test(f);
  const imports = [...src.matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  if (!f.startsWith('src/storage/') && !test && imports.some((i) => i === 'better-sqlite3' || i === 'pg')) problems.push(`${f}: imports a database driver outside src/storage/`);
  if (f !== 'src/config.ts' && !test && /process\.env\b/.test(src)) problems.push(`${f}: reads process.env outside src/config.ts`);
  if (!test && imports.some((i) => i === 'fastify' || i.startsWith('@fastify/')) && !(f.startsWith('src/http/') || f.endsWith('routes.ts') || f === 'src/app.ts')) problems.push(`${f}: imports fastify outside src/http/ and routes.ts`);
  if (f.startsWith('src/privacy/') && !test) {
    for (const i of imports) if (DOMAIN.some((d) => i.includes(`../${d}/`) || i.includes(`../../${d}/`) || i.includes(`../../../${d}/`)) && !(f.endsWith('routes.ts') && i.includes('/http/'))) problems.push(`${f}: privacy/ must not import ${i}`);
  }
  if (!test && !/^(#![^\n]*\n)?\s*(\/\*\*|\/\/)/.test(src)) problems.push(`${f}: does not open with a module comment`);
  if (!test && /^\s*console\.log\(/m.test(src)) problems.push(`${f}: console.log in product code`);
}
if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`\n${problems.length} lint problem(s)`);
  process.exit(1);
}
console.log(`lint: ${files.length} files, module boundaries hold`);
