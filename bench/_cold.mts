import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
async function once(dir: string) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/main.js', 'serve'], { env: { ...process.env, CAIRN_DATA_DIR: dir, PORT: '0', CAIRN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res) => { let b = ''; child.stdout.on('data', (d) => { b += d; const m = /API\s+(http:\/\/\S+)\/api\/v1/.exec(b); if (m) res(m[1]!); }); });
  const r = await fetch(url + '/readyz'); const ms = performance.now() - t0; child.kill(); await new Promise((r) => child.on('exit', r));
  return [Math.round(ms), r.status];
}
rmSync('/tmp/cold', { recursive: true, force: true });
console.log('first', await once('/tmp/cold')); console.log('warm', await once('/tmp/cold')); console.log('warm', await once('/tmp/cold'));
