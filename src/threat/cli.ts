/**
 * `cairn threat …` commands. `threat scan FILE…` runs the same file pipeline as the API (YARA-X,
 * clamd when `clamdSocket` is configured, static analysis, the same upload limit) and prints one
 * verdict per file. With `--org` the files are submitted to that org (its lists, verdict cache,
 * stored verdict and audited submission, as the CLI's system actor); without it nothing is stored
 * and no store is opened.
 */
import { Option, type Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig } from '../config.ts';
import { out, withApp } from '../cli-kit.ts';
import { isCairnError } from '../kernel/errors.ts';
import { systemCtx } from '../privacy/index.ts';
import type { FileVerdict } from './files/index.ts';
import { localiseError, localiseReasons, LANGS, threatError, type Lang } from './messages.ts';
import { analyzeConfigured } from './service.ts';
import { registerTlsCli } from './tls/cli.ts';

/** One line of `threat scan --json` output. */
export interface ScanRecord {
  file: string;
  sha256: string;
  sizeBytes: number;
  /** Short stable type token (`pe-exe`, `elf`, `docx`, `eicar`, …). */
  type: string;
  mime: string;
  description: string;
  category: string;
  score: number;
  state: string;
  recommendedAction: 'allow' | 'block';
  complete: boolean;
  reasons: { analyzer: string; code: string; score: number; message: string; path?: string }[];
}

function record(file: string, v: FileVerdict, lang: Lang): ScanRecord {
  const l = localiseReasons(v, lang);
  return {
    file,
    sha256: v.sha256,
    sizeBytes: v.sizeBytes,
    type: v.type.subtype,
    mime: v.type.mime,
    description: v.type.description,
    category: v.type.category,
    score: v.score,
    state: v.state,
    recommendedAction: v.recommendedAction,
    complete: v.complete,
    reasons: l.reasons.map((r) => ({ analyzer: r.analyzer, code: r.code, score: r.score, message: r.message, ...(r.path ? { path: r.path } : {}) })),
  };
}

function human(r: ScanRecord | { file: string; error: { code: string; message: string } }): string {
  if ('error' in r) return `error      ${r.file}: ${r.error.code} ${r.error.message}`;
  const head = `${r.state.padEnd(10)} ${r.score.toFixed(1).padStart(4)}  ${`${r.category}/${r.type}`.padEnd(24)} ${r.sha256.slice(0, 16)}  ${r.file}`;
  return [head, ...r.reasons.map((x) => `    ${x.code} (${x.score}) ${x.message}${x.path ? ` [${x.path}]` : ''}`)].join('\n');
}

/** Adds `cairn threat` and its subcommands; returns the `threat` command for the other engines. */
export function registerThreatCli(program: Command): Command {
  const threat = program.command('threat').description('Threat analysis: file verdicts and TLS captures.');
  threat
    .command('scan')
    .description('Analyse files with the same pipeline as the API and print a verdict per file (type, category, SHA-256, score 0-10, reasons).')
    .argument('<files...>', 'files to analyse')
    .option('--org <id>', 'submit to this org (its lists and cache; verdicts and submissions stored and audited); default: store nothing')
    .addOption(new Option('--lang <lang>', 'language of the reason messages').choices([...LANGS]).default('en'))
    .option('--json', 'print JSON (an array, one record per file)')
    .action(async (files: string[], o: { org?: string; lang: Lang; json?: boolean }) => {
      const cfg = loadConfig({ overrides: { logLevel: 'warn' } });
      const limit = cfg.threatUploadLimitBytes;
      const scanAll = async (scan: (bytes: Buffer, name: string) => Promise<FileVerdict>) => {
        const results: (ScanRecord | { file: string; error: { code: string; message: string } })[] = [];
        for (const file of files) {
          try {
            let size: number;
            try {
              size = statSync(file).size;
            } catch (e) {
              throw threatError('CAIRN_ERR_VALIDATION', 'cannotRead', { file, why: (e as NodeJS.ErrnoException).code ?? 'error' });
            }
            if (size > limit) throw threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit });
            results.push(record(file, await scan(readFileSync(file), basename(file)), o.lang));
          } catch (e) {
            if (!isCairnError(e)) throw e;
            results.push({ file, error: { code: e.code, message: localiseError(e, o.lang).message } });
            process.exitCode = 1;
          }
        }
        out(!!o.json, results, () => results.map(human).join('\n'));
      };
      if (!o.org) return scanAll((bytes, name) => analyzeConfigured(cfg, bytes, name));
      const org = o.org;
      return withApp((c) => scanAll((bytes, name) => c.services.threat.files.submit(systemCtx('cli'), org, bytes, { fileName: name }, { source: 'cli' })));
    });
  // `cairn threat pcap FILE… --json` (TLS handshakes, JA3/JA4) belongs to the TLS engine.
  registerTlsCli(threat);
  return threat;
}
