/**
 * Foundation figures: audit events appended per second (batched transactions, embedded store),
 * chain verification rate, pseudonyms per second (distinct MACs, and repeated ones through the
 * cache), and cold start to ready of the embedded server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx, FastHmac, type AuditInput } from '../src/privacy/index.ts';

function rate(n: number, ms: number): number {
  return Math.round(n / (ms / 1000));
}

async function coldStart(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['dist/main.js', 'serve'], { env: { ...process.env, CAIRN_DATA_DIR: dataDir, PORT: '0', CAIRN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('server did not start in 20 s')), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /API\s+(http:\/\/\S+)\/api\/v1/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  const res = await fetch(`${url}/readyz`);
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`readyz ${res.status}`);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return Math.round(ms);
}

export async function benchFoundation(opts: { full: boolean }): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  try {
    const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0 } });
    const c = await buildApp(cfg, { http: false });
    const org = await c.services.tenancy.createOrg(systemCtx('test'), { name: 'Bench', country: 'NL' });
    const db = await c.core.directory.storeOf(org.id);

    // Audit append: batches of 1000 events per transaction.
    const total = opts.full ? 1_000_000 : 200_000;
    const batch: AuditInput[] = Array.from({ length: 1000 }, (_, i) => ({ actor: 'token:01900000-0000-7000-8000-000000000001', action: 'device.report', target: `org:${org.id}`, requestId: `req-${i}`, outcome: 'ok', details: { count: 1000 } }));
    let t = performance.now();
    for (let i = 0; i < total; i += 1000) await db.tx((x) => c.core.audit.append(x, org.id, batch));
    out.auditAppendPerSecond = rate(total, performance.now() - t);

    t = performance.now();
    const v = await c.core.audit.verify(db, org.id);
    if (!v.ok) throw new Error('chain broken in bench');
    out.auditVerifyPerSecond = rate(v.eventsChecked, performance.now() - t);
    out.auditEventsVerified = v.eventsChecked;

    // Pseudonyms: distinct MACs (every one computed), then a realistic repeat-heavy stream (cache).
    const n = opts.full ? 5_000_000 : 1_000_000;
    const macs: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = Buffer.allocUnsafe(6);
      b.writeUIntBE(0x3c22fb000000 + i * 7919, 0, 6);
      macs[i] = b.toString('hex').replace(/(..)(?!$)/g, '$1:');
    }
    const hmac = new FastHmac(randomBytes(32));
    const bufs = macs.map((m) => Buffer.from(`mac:${m.replace(/:/g, '')}`));
    t = performance.now();
    for (const b of bufs) hmac.hex(b);
    out.pseudonymHmacPerSecond = rate(n, performance.now() - t);
    const pseudo = await c.core.keys.pseudonymiser(db, org.id);
    const distinct = macs.slice(0, 150_000);
    t = performance.now();
    for (const m of distinct) pseudo('mac', m);
    out.pseudonymsDistinctPerSecond = rate(distinct.length, performance.now() - t);
    const live = macs.slice(0, 10_000);
    t = performance.now();
    for (let i = 0; i < n; i++) pseudo('mac', live[i % live.length]!);
    out.pseudonymsLiveDevicesPerSecond = rate(n, performance.now() - t);
    await c.close();

    out.coldStartFirstMs = await coldStart(join(dir, 'cold'));
    out.coldStartReadyMs = await coldStart(join(dir, 'cold'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
