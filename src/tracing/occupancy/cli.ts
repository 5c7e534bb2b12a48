/**
 * `cairn occupancy --org ORG --site SITE [--json]`: a site's live counts per floor and zone, from
 * the same service as the API (access checked and refusals audited as the CLI's system actor).
 * A CLI process holds no live state of its own, so it reads the latest minute the server
 * recorded; the output says so (`source: store`, `asOf`).
 */
import type { Command } from 'commander';
import { out, withApp } from '../../cli-kit.ts';
import { systemCtx } from '../../privacy/index.ts';
import type { SiteLive } from './service.ts';

/** The human table: one line per floor, its zones indented under it. */
export function formatSiteLive(v: SiteLive): string {
  const lines = [`${v.name}: ${v.figure} present (${v.devices} addresses, ${v.randomized} randomised; policy ${v.randomizedPolicy}, window ${v.windowMinutes} min) ${v.source === 'store' ? `as of ${v.asOf ?? 'no recent minute'}` : `at ${v.at}`}`];
  for (const f of v.floors) {
    lines.push(`  ${f.name}: ${f.figure}${f.outsideZones.figure > 0 ? ` (${f.outsideZones.figure} outside zones)` : ''}`);
    for (const z of v.zones.filter((x) => x.floorId === f.floorId)) {
      lines.push(`    ${z.name}: ${z.figure}${z.limit !== null ? ` / limit ${z.limit} (${z.baseline})` : ''}${z.alert !== 'ok' ? ` [${z.alert}]` : ''}`);
    }
  }
  return lines.join('\n');
}

export function registerOccupancyCli(program: Command): Command {
  program
    .command('occupancy')
    .description('Live counts of a site per floor and zone (aggregates; no device ids).')
    .requiredOption('--org <id>', 'org')
    .requiredOption('--site <id>', 'site')
    .option('--json', 'print JSON')
    .action((o: { org: string; site: string; json?: boolean }) =>
      withApp(async (c) => {
        const v = await c.services.occupancy.live(systemCtx('cli'), o.org, o.site);
        out(!!o.json, v, () => formatSiteLive(v));
      }),
    );
  return program;
}
