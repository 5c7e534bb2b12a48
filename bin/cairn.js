#!/usr/bin/env node
// The `cairn` command (npx cairn ...): runs the bundled CLI, building it first if needed.
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const dist = new URL('../dist/main.js', import.meta.url);
if (!existsSync(dist)) execFileSync(process.execPath, [new URL('../scripts/build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
await import(dist.href);
