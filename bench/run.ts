/**
 * `npm run bench [-- --full] [-- --only name]`: runs every benchmark and prints one JSON object.
 * The quick default suits CI; --full runs the large scales the issues name.
 */
import { existsSync } from 'node:fs';

const full = process.argv.includes('--full');
const onlyIdx = process.argv.indexOf('--only');
const only = onlyIdx > 0 ? process.argv[onlyIdx + 1] : undefined;

const suites: [string, string, string][] = [
  ['foundation', './foundation.ts', 'benchFoundation'],
  ['location', './location.ts', 'benchLocation'],
  ['simulator', './simulator.ts', 'benchSimulator'],
  ['ingest', './ingest.ts', 'benchIngest'],
  ['mqtt', './mqtt.ts', 'benchMqtt'],
  ['history', './history.ts', 'benchHistory'],
  ['journeys', './journeys.ts', 'benchJourneys'],
  ['occupancy', './occupancy.ts', 'benchOccupancy'],
  ['tracing', './tracing.ts', 'benchTracing'],
  ['tls', './tls.ts', 'benchTls'],
  ['files', './files.ts', 'benchFiles'],
  ['email', './email.ts', 'benchEmail'],
  ['dsar', './dsar.ts', 'benchDsar'],
  ['export', './export.ts', 'benchExport'],
];

const result: Record<string, unknown> = { full, node: process.version, at: new Date().toISOString() };
for (const [name, file, fn] of suites) {
  if (only && only !== name) continue;
  if (!existsSync(new URL(file, import.meta.url))) continue;
  try {
    const mod = (await import(file)) as Record<string, (o: { full: boolean }) => Promise<Record<string, unknown>>>;
    const t = performance.now();
    result[name] = await mod[fn]!({ full });
    (result[name] as Record<string, unknown>).benchSeconds = Math.round((performance.now() - t) / 100) / 10;
  } catch (e) {
    result[name] = { error: (e as Error).message };
  }
}
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
