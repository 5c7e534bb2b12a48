/**
 * E-mail relay throughput: messages per second through the scanning SMTP relay on loopback, end to
 * end (a nodemailer client with 8 connections → relay: MIME check, parse, link check, every
 * attachment through the threat file service, policy → a real SMTP sink as the upstream, or the
 * encrypted quarantine). The mix: 60 % text-only with links, 30 % with a PDF attachment made unique
 * per message (so no verdict comes from the cache), 10 % with EICAR (quarantined). Also the
 * latency of one message (p50, p95). Embedded SQLite store, no clamd.
 *
 * Run alone: `node --import tsx bench/email.ts [--full]` prints the JSON.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createTransport, type Transporter } from 'nodemailer';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { systemCtx } from '../src/privacy/index.ts';
import { EICAR } from '../src/threat/files/index.ts';
import { buildMail, startSmtpSink } from '../src/threat/email/testkit.ts';

const PDF = new URL('../../shared/data/files/test.pdf', import.meta.url).pathname;

function pct(sorted: number[], p: number): number {
  return sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10 : 0;
}

/**
 * Sends `full ? 5000 : 500` messages through the relay and measures messages per second.
 * @example const r = await benchEmail({ full: false }); r.emails_per_s // e.g. 150
 */
export async function benchEmail(opts: { full: boolean }): Promise<Record<string, number>> {
  const total = opts.full ? 5000 : 500;
  const connections = 8;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-email-'));
  const sink = await startSmtpSink();
  const cfg = loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: randomBytes(32).toString('base64'), logLevel: 'silent', retentionIntervalMinutes: 0, smtpRelay: true, smtpPort: 0, smtpUpstream: sink.address } });
  const c = await buildApp(cfg, { http: false });
  const sys = systemCtx('cli');
  let client: Transporter | undefined;
  try {
    const orgId = (await c.services.tenancy.createOrg(sys, { name: 'Bench', country: 'NL' })).id;
    await c.services.mail.settings.set(sys, orgId, { domains: ['bench.example'], maliciousAction: 'quarantine', suspiciousAction: 'deliver-with-warning' });
    const relay = await c.services.mail.start();
    const smtp = createTransport({ host: '127.0.0.1', port: relay.smtp!.port, secure: false, ignoreTLS: true, pool: true, maxConnections: connections, maxMessages: Infinity, logger: false });
    client = smtp;
    const pdf = existsSync(PDF) ? readFileSync(PDF) : Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
    const messages: { raw: Buffer; kind: 'text' | 'pdf' | 'eicar' }[] = [];
    let bytes = 0;
    for (let i = 0; i < total; i++) {
      const k = i % 10;
      const kind = k < 6 ? 'text' : k < 9 ? 'pdf' : 'eicar';
      const base = { from: `sender${i}@outside.example`, to: `user${i % 50}@bench.example`, subject: `Message ${i}`, text: `Hello ${i}, see https://docs.example/item/${i} and https://portal.example/`, html: `<p>Hello ${i}</p><a href="https://docs.example/item/${i}">item</a>` };
      const raw = await buildMail(kind === 'text' ? base : { ...base, attachments: [kind === 'pdf' ? { filename: `report-${i}.pdf`, content: Buffer.concat([pdf, Buffer.from(`\n%bench ${i}\n`)]) } : { filename: 'invoice.com', content: EICAR }] });
      bytes += raw.length;
      messages.push({ raw, kind });
    }
    const send = async (m: { raw: Buffer }, i: number): Promise<number> => {
      const t = performance.now();
      await smtp.sendMail({ envelope: { from: `sender${i}@outside.example`, to: [`user${i % 50}@bench.example`] }, raw: m.raw });
      return performance.now() - t;
    };
    // Warm-up (YARA rules compiled, connections open), not counted.
    await Promise.all(messages.slice(0, 20).map((m, i) => send(m, i)));
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: connections * 2 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= total) return;
          latencies.push(await send(messages[i]!, i));
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    const clean = (list: typeof messages) => list.filter((m) => m.kind !== 'eicar').length;
    await sink.waitFor(clean(messages.slice(0, 20)) + clean(messages), 60_000);
    latencies.sort((a, b) => a - b);
    const s = c.services.mail.stats;
    return {
      messages: total,
      mb: Math.round((bytes / 1e6) * 100) / 100,
      connections,
      emails_per_s: Math.round((total / secs) * 10) / 10,
      mb_per_s: Math.round((bytes / 1e6 / secs) * 100) / 100,
      latency_p50_ms: pct(latencies, 50),
      latency_p95_ms: pct(latencies, 95),
      delivered: s.passed + s.warned,
      quarantined: s.quarantined,
      failed: s.failed,
    };
  } finally {
    client?.close();
    await c.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(JSON.stringify(await benchEmail({ full: process.argv.includes('--full') }), null, 2) + '\n');
}
