/**
 * `cairn journey --org ORG (--device MAC|ID | --person ID) --from ISO --to ISO [--json|--csv]`:
 * a device's or person's zone visits through the same service and audit as the API (as the CLI's
 * system actor). A MAC given here is pseudonymised at once and not kept.
 */
import type { Command } from 'commander';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';
import { journeyCsv, type Journey, type JourneySubject } from './service.ts';

function isoMs(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms)) throw new CairnError('CAIRN_ERR_VALIDATION', `${flag} must be an ISO 8601 time, e.g. 2026-03-02T08:00:00Z.`, { field: flag });
  return ms;
}

/** One line per visit: enter, exit, dwell, band, where. */
export function journeyText(j: Journey): string {
  const dur = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`);
  const head = `${j.subject.kind === 'person' ? `person ${j.subject.personId} (${j.subject.devices.length} linked device(s))` : `device ${j.subject.devices[0]}`}, ${j.from} … ${j.to}: ${j.totals.visits} visit(s)${j.truncated ? ' (truncated)' : ''}`;
  const lines = j.visits.map((v) => `${v.enter}  ${v.exit ?? 'now (ongoing)'.padEnd(24)}  ${dur(v.dwellSeconds).padStart(7)}  ${v.band.padEnd(9)}  ${[v.siteName ?? v.siteId, v.floorName ?? v.floorId, v.zoneName ?? v.zoneId].join(' / ')}`);
  return [head, ...lines].join('\n');
}

export function registerJourneyCli(program: Command): void {
  program
    .command('journey')
    .description('The zones a device (or a person\'s linked devices) visited, with enter, exit, dwell and dwell band (audited).')
    .requiredOption('--org <id>', 'org id')
    .option('--device <mac|id>', 'the device: a MAC (pseudonymised, not kept) or a device id')
    .option('--person <id>', 'a person of the org\'s directory: Cairn\'s id or the org\'s own person id')
    .option('--from <iso>', 'start of the window (default: a day before --to)')
    .option('--to <iso>', 'end of the window, exclusive (default: now)')
    .option('--limit <n>', 'at most this many visits')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (one line per visit)')
    .action((o: { org: string; device?: string; person?: string; from?: string; to?: string; limit?: string; json?: boolean; csv?: boolean }) =>
      withApp(async (c) => {
        if ((o.device === undefined) === (o.person === undefined)) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give --device or --person (one of them).');
        if (o.json && o.csv) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give --json or --csv, not both.');
        const subject: JourneySubject = o.person !== undefined ? { person: o.person } : /^[0-9a-f]{32}$/.test(o.device!) ? { device: o.device! } : { mac: o.device! };
        const fromMs = isoMs(o.from, '--from');
        const toMs = isoMs(o.to, '--to');
        const limit = o.limit !== undefined ? Number(o.limit) : undefined;
        if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new CairnError('CAIRN_ERR_VALIDATION', '--limit must be a positive whole number.');
        const j = await c.services.journeys.query(systemCtx('cli'), o.org, { ...subject, ...(fromMs !== undefined ? { fromMs } : {}), ...(toMs !== undefined ? { toMs } : {}), ...(limit !== undefined ? { limit } : {}) });
        if (o.csv) process.stdout.write(journeyCsv(j));
        else out(!!o.json, j, () => journeyText(j));
      }),
    );
}
