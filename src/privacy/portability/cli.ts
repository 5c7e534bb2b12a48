/**
 * `cairn export --org ORG OUT` (R-PRIV-3): the org export streamed into a file (mode 0600) or,
 * with `-`, to standard output for a pipe (`| gpg -e …`), through the same service and audit as
 * the API (system context `cli`); `cairn export --verify FILE` checks an archive against its
 * manifest. `cairn ropa --org ORG [--format json|md]`: the records of processing (GDPR Art. 30).
 */
import { Option, type Command } from 'commander';
import { createHash } from 'node:crypto';
import { createWriteStream, fchmodSync, readFileSync, rmSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../context.ts';
import type { ExportManifest } from './export.ts';
import { ropaMarkdown } from './ropa.ts';
import { readZip } from './zip-stream.ts';

/** Check every file of an archive against the manifest's row counts and SHA-256; returns the problems. */
export function verifyExport(zipBytes: Buffer): { manifest: ExportManifest; problems: string[] } {
  const entries = readZip(zipBytes);
  const m = entries.get('manifest.json');
  if (!m) throw new CairnError('CAIRN_ERR_VALIDATION', 'The archive has no manifest.json.');
  const manifest = JSON.parse(m.toString('utf8')) as ExportManifest;
  const problems: string[] = [];
  for (const f of manifest.files) {
    const data = entries.get(f.name);
    if (!data) {
      problems.push(`${f.name}: missing`);
      continue;
    }
    if (createHash('sha256').update(data).digest('hex') !== f.sha256) problems.push(`${f.name}: SHA-256 differs`);
    const lines = data.length === 0 ? 0 : data.toString('utf8').split('\n').filter((l) => l.length > 0).length;
    if (lines !== f.rows) problems.push(`${f.name}: ${lines} rows, manifest says ${f.rows}`);
  }
  return { manifest, problems };
}

export function registerPortabilityCli(program: Command): void {
  program
    .command('export')
    .description('Export all of an org\'s data, decrypted, as a ZIP archive (JSON lines per kind of record, manifest with counts and SHA-256); audited.')
    .argument('[out]', 'file to write (mode 0600), or - for standard output')
    .option('--org <id>', 'org id')
    .option('--verify <file>', 'instead: check an archive against its manifest')
    .option('--json', 'print JSON')
    .action((file: string | undefined, o: { org?: string; verify?: string; json?: boolean }) => {
      if (o.verify) {
        const { manifest, problems } = verifyExport(readFileSync(o.verify));
        out(!!o.json, { ok: problems.length === 0, org: manifest.org.id, files: manifest.files.length, rows: manifest.files.reduce((n, f) => n + f.rows, 0), problems }, () => (problems.length ? problems.join('\n') : `${o.verify}: ${manifest.files.length} files match the manifest (org ${manifest.org.id}, exported ${manifest.finishedAt})`));
        if (problems.length) process.exitCode = 3;
        return;
      }
      if (!o.org || !file) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give --org and a file to write (or - for standard output).');
      const org = o.org;
      return withApp(async (c) => {
        const job = await c.services.portability.exports.open(systemCtx('cli'), org);
        const toStdout = file === '-';
        const sink = toStdout ? new PassThrough() : createWriteStream(file, { mode: 0o600 });
        // An existing file keeps its mode on open: make it private before the first byte.
        if (!toStdout) sink.once('open', (fd: number) => fchmodSync(fd, 0o600));
        if (toStdout) (sink as PassThrough).pipe(process.stdout, { end: false });
        let manifest: ExportManifest;
        try {
          manifest = await job.run(sink);
        } catch (e) {
          if (!toStdout) rmSync(file, { force: true });
          throw e;
        }
        const rows = manifest.files.reduce((n, f) => n + f.rows, 0);
        const summary = { file: toStdout ? null : file, org: org, files: manifest.files.length, rows, undecryptable: manifest.files.reduce((n, f) => n + f.undecryptable, 0) };
        const text = () => [`exported org ${org}: ${manifest.files.length} files, ${rows} rows${toStdout ? '' : ` to ${file}`}`, ...manifest.files.filter((f) => f.rows > 0).map((f) => `  ${f.name.padEnd(40)} ${String(f.rows).padStart(10)}`)].join('\n');
        if (toStdout) process.stderr.write((o.json ? JSON.stringify(summary, null, 2) : text()) + '\n');
        else out(!!o.json, summary, text);
      });
    });

  program
    .command('ropa')
    .description('Records of processing activities (GDPR Art. 30) of an org, generated from its settings.')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--format <format>', 'JSON or a Markdown document').choices(['json', 'md']).default('md'))
    .action((o: { org: string; format: 'json' | 'md' }) =>
      withApp(async (c) => {
        const doc = await c.services.portability.ropa.generate(systemCtx('cli'), o.org);
        process.stdout.write(o.format === 'json' ? JSON.stringify(doc, null, 2) + '\n' : ropaMarkdown(doc));
      }),
    );
}
