/**
 * `cairn incident create|list|show|update|notify|close` (R-PRIV-8): personal-data breach records
 * from the command line, through the same service and audit as the API (system context `cli`:
 * the operator recording a breach it found, or an org's admin on the server). Lists print ids,
 * status, detection and deadline; `show` prints the whole record (audited).
 */
import { Option, type Command } from 'commander';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import type { IncidentStatus } from '../../storage/index.ts';
import { systemCtx } from '../context.ts';
import { CLOSE_REASONS, INCIDENT_STATUSES, SUBJECT_CATEGORIES, type CloseReason, type IncidentInput, type IncidentView, type SubjectCategory } from './service.ts';

function line(v: IncidentView): string {
  const clock = v.status === 'open' ? (v.overdue ? `  OVERDUE by ${Math.abs(v.hoursLeft ?? 0)} h` : `  ${v.hoursLeft} h left`) : v.notifiedAt ? `  notified ${v.notifiedAt}${v.notifiedLate ? ' (late)' : ''}` : '';
  return `${v.id}  ${v.status.padEnd(8)} detected ${v.detectedAt}  deadline ${v.deadlineAt}${clock}  ${v.title}`;
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

function time(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new CairnError('CAIRN_ERR_VALIDATION', `--${field} must be an ISO 8601 time.`);
  return t;
}

function count(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CairnError('CAIRN_ERR_VALIDATION', `--${field} must be a whole number.`);
  return n;
}

interface FactFlags {
  title?: string;
  description?: string;
  detected?: string;
  occurred?: string;
  classes?: string;
  subjects?: string;
  people?: string;
  records?: string;
  consequences?: string;
  measures?: string;
}

function factsOf(o: FactFlags): Partial<IncidentInput> {
  const detectedAtMs = time(o.detected, 'detected');
  const occurredAtMs = time(o.occurred, 'occurred');
  const approxSubjects = count(o.people, 'people');
  const approxRecords = count(o.records, 'records');
  return {
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(detectedAtMs !== undefined ? { detectedAtMs } : {}),
    ...(occurredAtMs !== undefined ? { occurredAtMs } : {}),
    ...(o.classes !== undefined ? { dataClasses: list(o.classes) } : {}),
    ...(o.subjects !== undefined ? { subjectCategories: list(o.subjects) as SubjectCategory[] } : {}),
    ...(approxSubjects !== undefined ? { approxSubjects } : {}),
    ...(approxRecords !== undefined ? { approxRecords } : {}),
    ...(o.consequences !== undefined ? { consequences: o.consequences } : {}),
    ...(o.measures !== undefined ? { measures: o.measures } : {}),
  };
}

function factOptions(c: Command): Command {
  return c
    .option('--description <text>', 'what happened (stored encrypted)')
    .option('--detected <iso>', 'when it was detected (default now): the 72-hour clock starts here')
    .option('--occurred <iso>', 'when it happened, if known')
    .option('--classes <list>', 'data classes concerned, comma-separated (device, location, audit, threat_metadata, …)')
    .option('--subjects <list>', `categories of people, comma-separated (${SUBJECT_CATEGORIES.join(', ')})`)
    .option('--people <n>', 'approximate number of people concerned')
    .option('--records <n>', 'approximate number of records concerned')
    .option('--consequences <text>', 'likely consequences')
    .option('--measures <text>', 'measures taken or proposed');
}

export function registerIncidentCli(program: Command): void {
  const inc = program.command('incident').description('Personal-data breach records (R-PRIV-8): the 72-hour clock and notices to the org\'s admins.');
  factOptions(inc.command('create').description('Record a breach (status open).').requiredOption('--org <id>', 'org id').requiredOption('--title <text>', 'what happened, in a line (stored encrypted)'))
    .option('--notify', 'then e-mail the org\'s admins and privacy officers at once')
    .option('--json', 'print JSON')
    .action((o: FactFlags & { org: string; title: string; notify?: boolean; json?: boolean }) =>
      withApp(async (c) => {
        const ctx = systemCtx('cli');
        let v = await c.services.incidents.create(ctx, o.org, { ...factsOf(o), title: o.title });
        let notice = '';
        if (o.notify) {
          const r = await c.services.incidents.notify(ctx, o.org, v.id);
          v = r.incident;
          notice = `\nnotice e-mailed to ${r.sent} admin(s)${r.failed ? `, ${r.failed} refused` : ''}`;
        }
        out(!!o.json, v, () => line(v) + notice);
      }),
    );
  inc
    .command('list')
    .description('Incidents of an org, newest first.')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--status <status>', 'only this status').choices([...INCIDENT_STATUSES]))
    .option('--overdue', 'only open incidents past their 72-hour deadline (exit 3 when there are any)')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action((o: { org: string; status?: IncidentStatus; overdue?: boolean; limit: string; json?: boolean }) =>
      withApp(async (c) => {
        const rows = await c.services.incidents.list(systemCtx('cli'), o.org, { ...(o.status ? { status: o.status } : {}), ...(o.overdue ? { overdue: true } : {}), limit: Number(o.limit) });
        out(!!o.json, rows, () => rows.map(line).join('\n') || '(no incidents)');
        if (o.overdue && rows.length > 0) process.exitCode = 3;
      }),
    );
  inc
    .command('show')
    .description('One incident with its notices (audited).')
    .argument('<incidentId>', 'incident id')
    .requiredOption('--org <id>', 'org id')
    .option('--json', 'print JSON')
    .action((id: string, o: { org: string; json?: boolean }) =>
      withApp(async (c) => {
        const v = await c.services.incidents.get(systemCtx('cli'), o.org, id);
        out(!!o.json, v, () =>
          [
            line(v),
            `data: ${v.dataClasses.join(', ') || '-'}; people: ${v.subjectCategories.join(', ') || '-'}; about ${v.approxSubjects ?? '?'} people, ${v.approxRecords ?? '?'} records`,
            v.description ? `description: ${v.description}` : '',
            v.consequences ? `consequences: ${v.consequences}` : '',
            v.measures ? `measures: ${v.measures}` : '',
            ...(v.notices ?? []).map((n) => `notice ${n.sentAt} ${n.channel} ${n.outcome}${n.userId ? ` to user ${n.userId}` : ''}${n.note ? `: ${n.note}` : ''}`),
            v.closedAt ? `closed ${v.closedAt} (${v.closeReason})` : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }),
    );
  factOptions(inc.command('update').description('Change the facts of an incident that is not closed.').argument('<incidentId>', 'incident id').requiredOption('--org <id>', 'org id').option('--title <text>', 'new title'))
    .option('--json', 'print JSON')
    .action((id: string, o: FactFlags & { org: string; json?: boolean }) =>
      withApp(async (c) => {
        const v = await c.services.incidents.update(systemCtx('cli'), o.org, id, factsOf(o));
        out(!!o.json, v, () => line(v));
      }),
    );
  inc
    .command('notify')
    .description('E-mail the org\'s admins and privacy officers about an incident (or record a notice given another way).')
    .argument('<incidentId>', 'incident id')
    .requiredOption('--org <id>', 'org id')
    .option('--manual <text>', 'record a notice given another way: how and to whom')
    .option('--json', 'print JSON')
    .action((id: string, o: { org: string; manual?: string; json?: boolean }) =>
      withApp(async (c) => {
        const r = await c.services.incidents.notify(systemCtx('cli'), o.org, id, o.manual !== undefined ? { manual: o.manual } : {});
        out(!!o.json, r, () => `${line(r.incident)}\n${o.manual !== undefined ? 'notice recorded' : `e-mailed ${r.sent} admin(s)${r.failed ? `, ${r.failed} refused` : ''}`}`);
      }),
    );
  inc
    .command('close')
    .description('Close an incident (resolved after its notice, or false_positive / no_personal_data).')
    .argument('<incidentId>', 'incident id')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--reason <reason>', 'why it closes').choices([...CLOSE_REASONS]).default('resolved'))
    .option('--measures <text>', 'final measures')
    .option('--json', 'print JSON')
    .action((id: string, o: { org: string; reason: CloseReason; measures?: string; json?: boolean }) =>
      withApp(async (c) => {
        const v = await c.services.incidents.close(systemCtx('cli'), o.org, id, { reason: o.reason, ...(o.measures !== undefined ? { measures: o.measures } : {}) });
        out(!!o.json, v, () => line(v));
      }),
    );
}
