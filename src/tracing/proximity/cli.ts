/**
 * `cairn trace --org ORG (--device MAC|ID|badge:ID | --person ID) --from ISO --to ISO --purpose
 * TEXT [--radius-m 2 --min-minutes 15 --second-degree] [--json|--csv|--html]`: a proximity trace
 * through the same service and audit as the API (as the CLI's system actor), stored as a case
 * report. A MAC or badge id given here is pseudonymised at once and not kept. `--case ID` prints
 * a stored report instead (audited as a view).
 */
import type { Command } from 'commander';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';
import { caseCsv, caseHtml, type CaseReport } from './report.ts';
import type { TraceRequest } from './service.ts';

function isoMs(v: string | undefined, flag: string): number {
  const ms = v === undefined ? NaN : Date.parse(v);
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms)) throw new CairnError('CAIRN_ERR_VALIDATION', `${flag} must be an ISO 8601 time, e.g. 2026-03-02T08:00:00Z.`, { field: flag });
  return ms;
}

function number(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CairnError('CAIRN_ERR_VALIDATION', `${flag} must be a number.`, { field: flag });
  return n;
}

/** The subject a --device value names: a device id, a MAC, or `badge:<id>`. */
export function deviceSubject(v: string): Pick<TraceRequest, 'device' | 'mac' | 'badge'> {
  if (/^[0-9a-f]{32}$/.test(v)) return { device: v };
  if (v.startsWith('badge:')) return { badge: v.slice(6) };
  return { mac: v };
}

/** A report as text: the case, then one line per contact. */
export function caseText(r: CaseReport): string {
  const head = [
    `case ${r.id}: ${r.subject.kind === 'person' ? `person ${r.subject.personId} (${r.subject.devices.length} device(s))` : `device ${r.subject.devices[0]}`}, ${r.from} … ${r.to}`,
    `purpose: ${r.purpose}`,
    `within ${r.thresholds.radiusMeters} m for ${r.thresholds.minMinutes} min: ${r.contacts.length} contact(s)${r.secondDegree ? `, ${r.secondDegree.length} second-degree` : ''} (${r.elapsedMs} ms)`,
  ];
  const line = (c: CaseReport['contacts'][number], via?: string) =>
    `${String(c.rank).padStart(4)}  ${c.device}  ${c.cumulativeMinutes.toFixed(1).padStart(7)} min  ${c.closestMeters === null ? '      ' : `${c.closestMeters.toFixed(2)} m`.padStart(6)}  ${c.firstContact} … ${c.lastContact}  ${c.evidence.join(',')}${c.personId ? `  person ${c.personId}` : ''}${via ? `  via ${via}` : ''}`;
  return [...head, ...r.contacts.map((c) => line(c)), ...(r.secondDegree ?? []).map((c) => line(c, c.via))].join('\n');
}

export function registerTraceCli(program: Command): void {
  program
    .command('trace')
    .description('Proximity trace: every device near a device (or a person\'s linked devices) in a window, stored as a case report (audited with its purpose).')
    .requiredOption('--org <id>', 'org id')
    .option('--device <mac|id|badge:id>', 'the index device: a MAC or badge:<id> (pseudonymised, not kept) or a device id')
    .option('--person <id>', 'a person of the org\'s directory: Cairn\'s id or the org\'s own person id')
    .option('--from <iso>', 'start of the window')
    .option('--to <iso>', 'end of the window, exclusive')
    .option('--purpose <text>', 'why the trace is run (required; never health information)')
    .option('--radius-m <m>', 'contact distance, metres (default: the org\'s, 2)')
    .option('--min-minutes <n>', 'cumulative minutes that make a contact (default: the org\'s, 15)')
    .option('--second-degree', 'also trace the strongest contacts\' contacts')
    .option('--case <id>', 'print a stored case report instead of running a trace')
    .option('--json', 'print JSON')
    .option('--csv', 'print CSV (one line per contact)')
    .option('--html', 'print the printable HTML report')
    .action((o: { org: string; device?: string; person?: string; from?: string; to?: string; purpose?: string; radiusM?: string; minMinutes?: string; secondDegree?: boolean; case?: string; json?: boolean; csv?: boolean; html?: boolean }) =>
      withApp(async (c) => {
        if ([o.json, o.csv, o.html].filter(Boolean).length > 1) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give one of --json, --csv and --html.');
        const ctx = systemCtx('cli');
        let report: CaseReport;
        if (o.case !== undefined) {
          report = (await c.services.proximity.view(ctx, o.org, o.case, o.csv ? 'csv' : o.html ? 'html' : 'json')).report;
        } else {
          if ((o.device === undefined) === (o.person === undefined)) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give --device or --person (one of them).');
          if (o.purpose === undefined) throw new CairnError('CAIRN_ERR_VALIDATION', '--purpose is required: why the trace is run (never health information).', { field: '--purpose' });
          const radiusMeters = number(o.radiusM, '--radius-m');
          const minMinutes = number(o.minMinutes, '--min-minutes');
          report = await c.services.proximity.trace(ctx, o.org, {
            ...(o.person !== undefined ? { person: o.person } : deviceSubject(o.device!)),
            fromMs: isoMs(o.from, '--from'),
            toMs: isoMs(o.to, '--to'),
            purpose: o.purpose,
            ...(radiusMeters !== undefined ? { radiusMeters } : {}),
            ...(minMinutes !== undefined ? { minMinutes } : {}),
            ...(o.secondDegree ? { secondDegree: true } : {}),
          });
        }
        if (o.csv) process.stdout.write(caseCsv(report));
        else if (o.html) process.stdout.write(caseHtml(report));
        else out(!!o.json, report, () => caseText(report));
      }),
    );
}
