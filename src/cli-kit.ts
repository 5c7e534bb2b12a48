/**
 * What CLI commands share: building the app for one command (quiet logs, no HTTP) and printing
 * either JSON (--json) or a human line. Modules add their commands with `register…Cli(program)`
 * functions in their own `cli.ts`, listed in main.ts.
 */
import { loadConfig, type Config } from './config.ts';
import { buildApp, type CairnApp } from './app.ts';

/** Print `value` as JSON when `json`, else the human text. */
export function out(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}

/** Build the app (no HTTP), run `fn`, close the app whatever happens. */
export async function withApp<T>(fn: (c: CairnApp, cfg: Config) => Promise<T>, overrides: Partial<Config> = {}): Promise<T> {
  const cfg = loadConfig({ overrides: { logLevel: 'warn', ...overrides } });
  const c = await buildApp(cfg, { http: false });
  try {
    return await fn(c, cfg);
  } finally {
    await c.close();
  }
}
