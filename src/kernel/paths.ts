/**
 * Where Cairn's own files are: the package root, found by walking up from this module to the
 * package.json named "cairn", so it is right both from src/ (tsx) and from the bundle in dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'cairn') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the cairn package root');
    dir = up;
  }
}

/** A file inside the package: `packagePath('web', 'login.html')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
