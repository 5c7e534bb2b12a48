/**
 * File-verdict throughput: files/s and MB/s for classification, SHA-256 and YARA-X over the shared
 * corpus (repeated), the full `analyzeFile` pipeline, and, when a `yara` binary (libyara, Debian
 * package `yara`) is on PATH, the same corpus and rules through the CLI for a ratio. Keys that
 * cannot be measured are null. Runs on one core at a time.
 *
 * Run alone: `node --import tsx bench/files.ts [--full]` prints the JSON.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyzeFile, bundledRules, bundledRulesDir, classifyFile } from '../src/threat/files/index.ts';

const CORPUS = new URL('../../shared/data/files', import.meta.url).pathname;

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Runs `fn` over every file `reps` times; returns elapsed seconds. */
async function timed(files: Buffer[], reps: number, fn: (b: Buffer) => unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) for (const f of files) await fn(f);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Measures the file-verdict core on the shared corpus. `full` repeats the corpus 40 times (about
 * 45 MB scanned), otherwise 5 times.
 *
 * @example const r = await benchFiles({ full: false }); r.pipeline_files_per_s // e.g. 3000
 */
export async function benchFiles(opts: { full: boolean }): Promise<Record<string, number | null>> {
  const names = existsSync(CORPUS) ? readdirSync(CORPUS).filter((n) => n.startsWith('test')).sort() : [];
  const files = names.map((n) => readFileSync(join(CORPUS, n)));
  const bytes = files.reduce((n, f) => n + f.length, 0);
  const reps = opts.full ? 40 : 5;
  const out: Record<string, number | null> = { corpus_files: files.length, corpus_bytes: bytes, repetitions: reps };
  if (files.length === 0) return out;
  const perS = (key: string, secs: number, n = reps): void => {
    out[`${key}_files_per_s`] = round((files.length * n) / secs);
    out[`${key}_mb_per_s`] = round((bytes * n) / secs / 1e6);
  };

  const t0 = process.hrtime.bigint();
  const rules = await bundledRules();
  out.yarax_compile_ms = round(Number(process.hrtime.bigint() - t0) / 1e6);

  perS('classify', await timed(files, reps, (b) => classifyFile(b)));
  perS('sha256', await timed(files, reps, (b) => createHash('sha256').update(b).digest('hex')));
  perS('yarax', await timed(files, reps, (b) => rules.scan(b)));
  perS('pipeline', await timed(files, reps, async (b) => {
    classifyFile(b);
    createHash('sha256').update(b).digest('hex');
    await rules.scan(b);
  }));
  // The whole pipeline (lists, YARA, static analysis with unpacking) for comparison; fewer rounds.
  const aReps = Math.max(1, Math.floor(reps / 2));
  perS('analyze', await timed(files, aReps, (b) => analyzeFile(b)), aReps);

  // libyara CLI on the same rules and files, if installed. Each run pays process start and rule
  // compilation; the median run over an empty directory is subtracted.
  let yaraxMatches = 0;
  for (const f of files) yaraxMatches += (await rules.scan(f)).length;
  out.yarax_match_count = yaraxMatches;
  const keys = ['yara_cli_files_per_s', 'yara_cli_mb_per_s', 'yara_cli_startup_ms', 'yara_cli_match_count', 'yarax_vs_cli_ratio'];
  for (const k of keys) out[k] = null;
  const probe = spawnSync('yara', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return out;
  const dir = bundledRulesDir();
  const ruleFiles = readdirSync(dir).filter((f) => f.endsWith('.yar')).map((f) => join(dir, f));
  const empty = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  try {
    const run = (target: string): { secs: number; stdout: string } => {
      const s = process.hrtime.bigint();
      const r = spawnSync('yara', ['-w', '-r', ...ruleFiles, target], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`yara CLI failed: ${r.stderr}`);
      return { secs: Number(process.hrtime.bigint() - s) / 1e9, stdout: r.stdout };
    };
    const startup = median([run(empty).secs, run(empty).secs, run(empty).secs]);
    const runs = Array.from({ length: reps }, () => run(CORPUS));
    const perRun = Math.max(1e-6, median(runs.map((r) => r.secs)) - startup);
    out.yara_cli_startup_ms = round(startup * 1000);
    out.yara_cli_files_per_s = round(files.length / perRun);
    out.yara_cli_mb_per_s = round(bytes / perRun / 1e6);
    out.yara_cli_match_count = (runs[0]?.stdout.trim().split('\n').filter(Boolean) ?? []).length;
    out.yarax_vs_cli_ratio = round((out.yarax_files_per_s as number) / (out.yara_cli_files_per_s as number));
  } catch {
    // The CLI exists but rejected the rules (e.g. an older libyara without iterators): leave nulls.
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchFiles({ full: process.argv.includes('--full') }).then((r) => console.log(JSON.stringify(r, null, 2)));
}
