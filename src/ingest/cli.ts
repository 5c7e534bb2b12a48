/**
 * `cairn ingest FILE… --format F --org ORG --site SITE`: recorded data through the same pipeline
 * as the live receivers (the org's collection settings, pseudonyms, location, zones, idempotent
 * storage, audit as the CLI's system actor), in committed batches of at most 1 000 observations.
 * Prints a summary (accepted, rejected by reason, devices, fixes); a progress bar only when
 * stdout is a terminal.
 */
import { Option, type Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { out, withApp } from '../cli-kit.ts';
import { systemCtx } from '../privacy/index.ts';
import { FILE_FORMATS, ingestFile, type FileFormat, type FileSummary } from './receivers.ts';
import { emptySummary, mergeSummary } from './service.ts';

/** A one-line progress bar on a terminal (nothing otherwise). */
function progressBar(label: string): { update(done: number, total: number): void; end(): void } {
  if (!process.stdout.isTTY) return { update: () => undefined, end: () => undefined };
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const f = total > 0 ? Math.min(1, done / total) : 1;
      const fill = Math.round(f * width);
      process.stdout.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${Math.round(f * 100)}%`);
    },
    end() {
      process.stdout.write('\r\x1b[2K');
    },
  };
}

export function registerIngestCli(program: Command): void {
  program
    .command('ingest')
    .description('Load recorded data (vendor payloads, syslog, native batches, encounters) through the ingest pipeline.')
    .argument('<files...>', 'files to load: JSON (one payload, an array, or one per line), syslog lines, or SocioPatterns contacts')
    .addOption(new Option('--format <format>', 'format of the files').choices([...FILE_FORMATS]).makeOptionMandatory())
    .requiredOption('--org <id>', 'org the data belongs to')
    .requiredOption('--site <id>', 'site the data was recorded at (fixes are placed on its floors only)')
    .option('--json', 'print JSON')
    .action((files: string[], o: { format: FileFormat; org: string; site: string; json?: boolean }) =>
      withApp(async (c) => {
        const ctx = systemCtx('cli');
        await c.services.tenancy.getSite(ctx, o.org, o.site);
        const seen = new Set<string>();
        const total: FileSummary = { ...emptySummary(), encounters: 0 };
        for (const file of files) {
          const text = readFileSync(file, 'utf8');
          const bar = progressBar(file.length > 40 ? `…${file.slice(-39)}` : file);
          try {
            // RFC 3164 syslog has no year: the file's modification time anchors it.
            const s = await ingestFile(c.services.ingest, ctx, o.org, text, { format: o.format, siteId: o.site, referenceMs: statSync(file).mtimeMs, seen, onProgress: bar.update });
            mergeSummary(total, s);
            total.encounters += s.encounters;
            if (s.sessions !== undefined) total.sessions = (total.sessions ?? 0) + s.sessions;
          } finally {
            bar.end();
          }
        }
        total.devices = seen.size;
        const summary = { files: files.length, format: o.format, orgId: o.org, siteId: o.site, ...total };
        const counts = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
        out(!!o.json, summary, () =>
          [
            `accepted ${total.accepted}, duplicates ${total.duplicates}, fixes ${total.fixes}, devices ${total.devices}, zone events ${total.zoneEvents}${o.format === 'encounters' ? `, encounters stored ${total.encounters}` : ''}${total.sessions !== undefined ? `, association sessions ${total.sessions}` : ''}`,
            `rejected: ${counts(total.rejected)}`,
            `aggregate only: ${counts(total.aggregateOnly)}`,
            `unlocated: ${counts(total.unlocated)}`,
          ].join('\n'),
        );
      }),
    );
}
