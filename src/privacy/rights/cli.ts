/**
 * `cairn dsar list|show|intake|approve|reject|extend|fulfil|lift|archive`: privacy officers' work
 * on data-subject requests (R-PRIV-4) from the command line, through the same service and audit
 * as the API (system context `cli`). `show` prints the subject's identifier (a personal read,
 * audited); everything else prints ids, kinds, dates, deadlines and counts only.
 */
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../context.ts';
import { EXTEND_REASONS, REJECT_REASONS, type DsarView, type ExtendReason, type RejectReason } from './service.ts';
import { DSAR_ID_KINDS, DSAR_KINDS, DSAR_REGIMES, type DsarIdKind, type DsarKind, type DsarRegime, type DsarStatus } from './types.ts';

function line(r: DsarView): string {
  return `${r.id}  ${r.kind.padEnd(12)} ${r.regime}  ${r.status.padEnd(10)} received ${r.receivedAt.slice(0, 10)}  due ${r.dueAt.slice(0, 10)}${r.extended ? ' (extended)' : ''}${r.overdue ? '  OVERDUE' : ''}`;
}

export function registerDsarCli(program: Command): void {
  const dsar = program.command('dsar').description('Data-subject requests (R-PRIV-4): access, correction, deletion, restriction, objection, opt-out of sale.');
  dsar
    .command('list')
    .description('Requests of an org, newest first (no identifiers).')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--status <status>', 'only this status').choices(['unverified', 'verified', 'approved', 'fulfilled', 'rejected', 'locked']))
    .option('--overdue', 'only open requests past a deadline')
    .option('--open', 'only open requests')
    .option('--limit <n>', 'at most this many (1-1000)', '100')
    .option('--json', 'print JSON')
    .action((o: { org: string; status?: DsarStatus; overdue?: boolean; open?: boolean; limit: string; json?: boolean }) =>
      withApp(async (c) => {
        const rows = await c.services.rights.list(systemCtx('cli'), o.org, { ...(o.status ? { status: o.status } : {}), ...(o.overdue ? { overdue: true } : {}), ...(o.open ? { open: true } : {}), limit: Number(o.limit) });
        out(!!o.json, rows, () => rows.map(line).join('\n') || '(no requests)');
        if (o.overdue && rows.length > 0) process.exitCode = 3;
      }),
    );
  dsar
    .command('show')
    .description('One request with the subject\'s identifier and contact address (a personal read, audited).')
    .argument('<requestId>', 'request id')
    .requiredOption('--org <id>', 'org id')
    .option('--json', 'print JSON')
    .action((id: string, o: { org: string; json?: boolean }) =>
      withApp(async (c) => {
        const r = await c.services.rights.get(systemCtx('cli'), o.org, id);
        out(!!o.json, r, () => [line(r), `identified by ${r.idKind}: ${r.identifier ?? '(erased)'}`, `contact: ${r.contactEmail ?? '-'}`, `verification: ${r.verification ?? '-'}`, r.result ? `result: ${Object.entries(r.result).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''].filter(Boolean).join('\n'));
      }),
    );
  dsar
    .command('intake')
    .description('Record a request received by letter or in person, whose identity you checked (it starts verified).')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--kind <kind>', 'what the subject asks').choices([...DSAR_KINDS]).makeOptionMandatory())
    .addOption(new Option('--id-kind <kind>', 'how the subject is identified').choices([...DSAR_ID_KINDS]).makeOptionMandatory())
    .requiredOption('--identifier <value>', 'the e-mail address, MAC address, badge id or username')
    .addOption(new Option('--regime <regime>', 'GDPR or CCPA (default: by the org\'s region)').choices([...DSAR_REGIMES]))
    .option('--contact <email>', 'where notices go')
    .option('--name <name>', 'correction: the right name')
    .option('--email <email>', 'correction: the right e-mail address')
    .option('--json', 'print JSON')
    .action((o: { org: string; kind: DsarKind; idKind: DsarIdKind; identifier: string; regime?: DsarRegime; contact?: string; name?: string; email?: string; json?: boolean }) =>
      withApp(async (c) => {
        const r = await c.services.rights.intake(systemCtx('cli'), o.org, {
          kind: o.kind,
          identifier: { kind: o.idKind, value: o.identifier },
          ...(o.regime ? { regime: o.regime } : {}),
          ...(o.contact ? { contactEmail: o.contact } : {}),
          ...(o.kind === 'correction' ? { correction: { ...(o.name ? { name: o.name } : {}), ...(o.email ? { email: o.email } : {}) } } : {}),
        });
        out(!!o.json, r, () => `${line(r)}\nstatus token for the subject (shown once): ${r.statusToken}`);
      }),
    );
  for (const step of ['approve', 'fulfil', 'lift'] as const) {
    dsar
      .command(step)
      .description(step === 'approve' ? 'Approve a verified request.' : step === 'fulfil' ? 'Carry out an approved request (archive, erase, correct, restrict or record).' : 'Lift a restriction or objection in force.')
      .argument('<requestId>', 'request id')
      .requiredOption('--org <id>', 'org id')
      .option('--json', 'print JSON')
      .action((id: string, o: { org: string; json?: boolean }) =>
        withApp(async (c) => {
          const ctx = systemCtx('cli');
          if (step === 'fulfil') {
            const r = await c.services.rights.fulfil(ctx, o.org, id);
            out(!!o.json, r, () => `${line(r.request)}\n${Object.entries(r.records).map(([k, v]) => `  ${k.padEnd(22)} ${v}`).join('\n')}${r.auditRedacted !== undefined ? `\n  audit events redacted  ${r.auditRedacted}` : ''}${r.archiveBytes !== undefined ? `\n  archive                ${r.archiveBytes} bytes (cairn dsar archive ${id} --org ${o.org} OUT)` : ''}`);
            return;
          }
          const r = step === 'approve' ? await c.services.rights.approve(ctx, o.org, id) : await c.services.rights.lift(ctx, o.org, id);
          out(!!o.json, r, () => line(r));
        }),
      );
  }
  for (const step of ['reject', 'extend'] as const) {
    const reasons = step === 'reject' ? REJECT_REASONS : EXTEND_REASONS;
    dsar
      .command(step)
      .description(step === 'reject' ? 'Refuse a request with a reason (the subject is told).' : 'Use the one extension the regime allows (GDPR two months, CCPA 45 days).')
      .argument('<requestId>', 'request id')
      .requiredOption('--org <id>', 'org id')
      .addOption(new Option('--reason <reason>', 'why').choices([...reasons]).makeOptionMandatory())
      .option('--json', 'print JSON')
      .action((id: string, o: { org: string; reason: string; json?: boolean }) =>
        withApp(async (c) => {
          const ctx = systemCtx('cli');
          const r = step === 'reject' ? await c.services.rights.reject(ctx, o.org, id, o.reason as RejectReason) : await c.services.rights.extend(ctx, o.org, id, o.reason as ExtendReason);
          out(!!o.json, r, () => line(r));
        }),
      );
  }
  dsar
    .command('archive')
    .description('Write the archive (ZIP) of an answered access request to a file, to pass on to the subject (audited).')
    .argument('<requestId>', 'request id')
    .argument('<out>', 'file to write')
    .requiredOption('--org <id>', 'org id')
    .option('--json', 'print JSON')
    .action((id: string, file: string, o: { org: string; json?: boolean }) =>
      withApp(async (c) => {
        const zipBytes = await c.services.rights.archive(systemCtx('cli'), o.org, id);
        if (file === '-') throw new CairnError('CAIRN_ERR_VALIDATION', 'Name a file to write (the archive holds personal data; it is not printed).');
        writeFileSync(file, zipBytes, { mode: 0o600 });
        out(!!o.json, { file, bytes: zipBytes.length }, () => `wrote ${zipBytes.length} bytes to ${file}`);
      }),
    );
}
