/**
 * Durability of HTTP ingest under SIGKILL, on SQLite and PostgreSQL. The real server
 * (`dist/main.js serve`, bundled by `npm test`; run `npm run build` first when running this file
 * alone) takes a sustained stream of native batches from several concurrent senders, each
 * observation identifiable by its time (see `ingest-load.ts`), and is killed with SIGKILL at a
 * random moment mid-stream (the seed is printed; CAIRN_TEST_SEED replays it).
 *
 * Right after the crash, before anything is re-sent: every acknowledged batch is stored exactly
 * once, every other batch wholly or not at all, and the audit chain (one event per batch, in the
 * batch's transaction) verifies. Some senders also hang up right after sending (a client
 * timeout): those batches are usually committed without their sender knowing. Then the server restarts on the same store and the senders do
 * what real ones do: re-send every batch not acknowledged (byte for byte), plus some that were,
 * and a new batch re-packing acknowledged observations. In the end every observation is stored
 * exactly once, the audit events account for each once, and the chain still verifies.
 * Loopback only; bounded to 4 senders × 30 batches × 200 observations per engine.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import { makeApp, pgSkip, postgresSetup, sqliteSetup, TEST_MASTER_KEY, type EngineSetup } from './helpers.ts';
import { loadBatch, setupLoadOrg, storedCounts, type LoadOrg } from './ingest-load.ts';
import { seededRandom } from '../src/kernel/prng.ts';
import { reposFor, type Database } from '../src/storage/index.ts';
import { parseCanon } from '../src/privacy/index.ts';
import type { CairnApp } from '../src/app.ts';

const SENDERS = 4;
const BATCHES_PER_SENDER = 30;
const BATCH = 200;
const TOTAL_BATCHES = SENDERS * BATCHES_PER_SENDER;
const DEVICES = 64;
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

interface Server {
  proc: ChildProcess;
  base: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it printed (warnings and errors only), for failure messages. */
  output(): string;
}

/** Start `cairn serve` on the setup's store; resolves when it prints its API address. */
function startServer(setup: EngineSetup): Promise<Server> {
  const cfg = setup.config();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CAIRN_DATA_DIR: cfg.dataDir,
    CAIRN_MASTER_KEY: TEST_MASTER_KEY,
    CAIRN_STORE: cfg.store,
    CAIRN_PG_URL: cfg.pgUrl,
    CAIRN_PG_SCHEMA_PREFIX: cfg.pgSchemaPrefix,
    HOST: '127.0.0.1',
    PORT: '0',
    CAIRN_LOG_LEVEL: 'warn',
    CAIRN_RETENTION_INTERVAL_MIN: '0',
    CAIRN_AUDIT_CHECKPOINT_INTERVAL_MIN: '0',
    CAIRN_DEMO: 'false',
  };
  const proc = spawn(process.execPath, [MAIN, 'serve'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start-up banner in 60 s: ${out} ${stderr}`)), 60_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code ?? signal}): ${out} ${stderr}`));
    });
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /API\s+(http:\/\/\S+)\/api\/v1/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1]!, exited, output: () => `${out}\n${stderr}` });
      }
    });
  });
}

async function stopServer(s: Server | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill(signal);
  await s.exited;
}

/** POST a native batch; resolves to the summary, or throws when no answer came (connection lost). 503 is retried after Retry-After. */
async function send(base: string, token: string, body: string): Promise<{ accepted: number; duplicates: number; fixes: number }> {
  for (;;) {
    const r = await fetch(`${base}/api/v1/ingest/observations`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(60_000) });
    const text = await r.text();
    if (r.status === 200) return JSON.parse(text) as { accepted: number; duplicates: number; fixes: number };
    if (r.status !== 503) throw new Error(`ingest answered ${r.status}: ${text.slice(0, 300)}`);
    await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after') ?? 1) * 1000));
  }
}

/**
 * Send a batch and hang up as soon as it is written, as a sender whose timeout fired would: the
 * server may well commit it, but the sender never learns so (re-delivery must absorb it).
 */
function sendAndHangUp(base: string, token: string, body: string): Promise<void> {
  return new Promise((resolve) => {
    const bytes = Buffer.from(body);
    const req = request(`${base}/api/v1/ingest/observations`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': bytes.length } });
    req.on('error', () => undefined);
    req.end(bytes, () => {
      req.destroy();
      resolve();
    });
  });
}

const idsOf = (k: number): number[] => Array.from({ length: BATCH }, (_, i) => k * BATCH + i);

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`ingest survives SIGKILL mid-stream (${engine})`, async () => {
    const skip = engine === 'postgres' ? await pgSkip() : false;
    let setup: EngineSetup;
    let org: LoadOrg;
    let server: Server | undefined;

    before(async () => {
      if (skip) return;
      setup = engine === 'sqlite' ? sqliteSetup() : postgresSetup();
      // The org, its floor and the sensor token are made beforehand, through the services the API calls.
      const c = await makeApp(setup, {}, { http: false });
      try {
        org = await setupLoadOrg(c);
      } finally {
        await c.close();
      }
    });
    after(async () => {
      await stopServer(server, 'SIGKILL');
      await setup?.cleanup();
    });

    /** Open the store in this process (the server is down) and run `fn` on it. */
    const inspect = async <T>(fn: (c: CairnApp, db: Database) => Promise<T>): Promise<T> => {
      const c = await makeApp(setup, {}, { http: false });
      try {
        return await fn(c, await c.core.directory.storeOf(org.orgId));
      } finally {
        await c.close();
      }
    };

    test('every acknowledged observation is stored exactly once, before and after re-delivery', { skip, timeout: 300_000 }, async (t) => {
      const seed = Number(process.env.CAIRN_TEST_SEED ?? randomInt(1, 2 ** 31));
      t.diagnostic(`seed ${seed} (CAIRN_TEST_SEED=${seed} replays the kill point and re-sends)`);
      const rnd = seededRandom(seed);
      const bodies = Array.from({ length: TOTAL_BATCHES }, (_, k) => loadBatch(org.floorId, idsOf(k), DEVICES));
      // Kill after a random number of acknowledgements (at least one per sender, at most half the
      // stream), then after a random 0-20 ms more while the senders keep going.
      const killAfterAcks = SENDERS + Math.floor(rnd() * (TOTAL_BATCHES / 2 - SENDERS));
      const killDelayMs = Math.floor(rnd() * 20);

      server = await startServer(setup);
      const first = server;
      const acked = new Set<number>();
      const lost = new Set<number>();
      let killed = false;
      await Promise.all(
        Array.from({ length: SENDERS }, async (_, s) => {
          for (let b = 0; b < BATCHES_PER_SENDER; b++) {
            const k = s * BATCHES_PER_SENDER + b;
            if (k % 10 === 3 && !killed) {
              await sendAndHangUp(first.base, org.token, bodies[k]!);
              lost.add(k);
              continue;
            }
            try {
              const r = await send(first.base, org.token, bodies[k]!);
              assert.equal(r.accepted, BATCH);
              acked.add(k);
              if (acked.size === killAfterAcks) {
                setTimeout(() => {
                  killed = true;
                  first.proc.kill('SIGKILL');
                }, killDelayMs);
              }
            } catch (e) {
              assert.ok(killed || first.proc.signalCode !== null, `a request failed before the kill: ${(e as Error).message}`);
              lost.add(k); // no answer: it may or may not have been committed
              return;
            }
          }
        }),
      );
      const exit = await first.exited;
      assert.equal(exit.signal, 'SIGKILL', 'the server was killed, not stopped');
      assert.ok(acked.size < TOTAL_BATCHES, 'the kill came mid-stream');
      const unsent = Array.from({ length: TOTAL_BATCHES }, (_, k) => k).filter((k) => !acked.has(k) && !lost.has(k));
      t.diagnostic(`killed after ${acked.size} acknowledged batches; ${lost.size} without an answer, ${unsent.length} not sent`);

      // After the crash, before any re-send.
      const committedLost = await inspect(async (c, db) => {
        const counts = await storedCounts(db, org.orgId);
        for (const g of counts.keys()) assert.ok(g >= 0 && g < TOTAL_BATCHES * BATCH, `a fix no sender sent (${g})`);
        for (const [g, n] of counts) assert.equal(n, 1, `observation ${g} stored ${n} times`);
        let committed = 0;
        for (let k = 0; k < TOTAL_BATCHES; k++) {
          const present = idsOf(k).filter((g) => counts.has(g)).length;
          if (acked.has(k)) assert.equal(present, BATCH, `acknowledged batch ${k} is stored whole`);
          else assert.ok(present === 0 || present === BATCH, `batch ${k} is stored wholly or not at all (${present}/${BATCH})`);
          if (lost.has(k) && present === BATCH) committed++;
        }
        const v = await c.core.audit.verify(db, org.orgId);
        assert.ok(v.ok, `audit chain after the crash: ${JSON.stringify(v.firstBad)}`);
        return committed;
      });
      t.diagnostic(`${committedLost} of the unanswered batches had been committed`);

      // Restart on the same store; re-send what was not acknowledged, and some that was.
      server = await startServer(setup);
      const second = server;
      const ackedList = [...acked];
      const pick = () => ackedList[Math.floor(rnd() * ackedList.length)]!;
      const resend: { body: string; fresh: number | 'unknown' }[] = [];
      for (const k of lost) resend.push({ body: bodies[k]!, fresh: 'unknown' });
      for (const k of unsent) resend.push({ body: bodies[k]!, fresh: BATCH });
      for (let i = 0; i < 3; i++) resend.push({ body: bodies[pick()]!, fresh: 0 });
      // A new batch (new delivery digest) of acknowledged observations from several batches: only
      // the per-record ids can tell they are stored already.
      const repacked = [...new Set(Array.from({ length: 5 }, pick))].flatMap((k) => idsOf(k).filter(() => rnd() < 0.3));
      if (repacked.length > 0) resend.push({ body: loadBatch(org.floorId, repacked, DEVICES), fresh: 0 });
      let next = 0;
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          while (next < resend.length) {
            const r = resend[next++]!;
            const s = await send(second.base, org.token, r.body).catch(async (e: Error) => { await new Promise((res) => setTimeout(res, 500)); return assert.fail(`${e.message}\nserver output:\n${second.output().slice(-6000)}`); });
            if (r.fresh !== 'unknown') assert.equal(s.accepted, r.fresh);
            assert.equal(s.accepted + s.duplicates, (JSON.parse(r.body) as { observations: unknown[] }).observations.length);
          }
        }),
      );
      await stopServer(second, 'SIGTERM');

      await inspect(async (c, db) => {
        const counts = await storedCounts(db, org.orgId);
        assert.equal(counts.size, TOTAL_BATCHES * BATCH, 'every observation is stored');
        for (const [g, n] of counts) assert.equal(n, 1, `observation ${g} stored ${n} times`);
        for (let g = 0; g < TOTAL_BATCHES * BATCH; g++) assert.ok(counts.has(g), `observation ${g} is missing`);
        assert.equal((await reposFor(db).devices.count(org.orgId, null, 0)).total, DEVICES);
        const v = await c.core.audit.verify(db, org.orgId);
        assert.ok(v.ok, `audit chain after re-delivery: ${JSON.stringify(v.firstBad)}`);
        // The audit events of the ingested batches account for each observation once.
        let accepted = 0;
        let fixes = 0;
        for (let before = Number.MAX_SAFE_INTEGER; ; ) {
          const rows = await c.core.audit.list(db, org.orgId, before, 500);
          if (rows.length === 0) break;
          for (const r of rows) {
            const e = parseCanon(r.canon);
            if (e.action !== 'ingest.batch') continue;
            const d = JSON.parse(e.details) as { accepted: number; fixes: number };
            accepted += d.accepted;
            fixes += d.fixes;
          }
          before = rows[rows.length - 1]!.seq;
        }
        assert.equal(accepted, TOTAL_BATCHES * BATCH);
        assert.equal(fixes, TOTAL_BATCHES * BATCH);
      });
    });
  });
}
