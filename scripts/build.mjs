#!/usr/bin/env node
// Bundles src/main.ts into dist/main.js with esbuild (fast: well under a second), so `npm start`
// and the `cairn` bin run plain JavaScript with a short cold start. `--if-stale` skips the build
// when dist is newer than every source file. Type checking is `npm run typecheck` (tsc).
import { build } from 'esbuild';
import { readdirSync, statSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'dist/main.js');
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}
if (process.argv.includes('--if-stale') && existsSync(out) && statSync(out).mtimeMs >= newest(join(root, 'src'))) {
  process.exit(0);
}
const EXTERNAL = ['better-sqlite3', 'argon2', '@litko/yara-x', '@fastify/swagger-ui', 'pg-native', 'esbuild', 'tsx', 'playwright-core'];
await build({
  entryPoints: { main: join(root, 'src/main.ts') },
  outdir: join(root, 'dist'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  splitting: false,
  // Pure-JS dependencies are bundled (one file to parse: cold start well under a second); native
  // addons, packages that read their own files at run time, and optional drivers stay external.
  external: [...EXTERNAL],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
// esbuild escapes non-ASCII characters in code (charset ascii) but keeps the comments it retains
// as written. One "—" or "≤" among them makes V8 hold the whole bundle's source as a two-byte
// string: 15 MB of live heap instead of 7.5 MB in every server. Escape them (comments only, so
// behaviour and line numbers are unchanged).
const bundled = readFileSync(out, 'utf8');
const ascii = bundled.replace(/[^\x00-\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (ascii !== bundled) writeFileSync(out, ascii);
