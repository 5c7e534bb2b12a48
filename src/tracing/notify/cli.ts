/**
 * `cairn notify …`: notices to exposed people through the same service and audit as the API (as
 * the CLI's system actor, `system:cli`). `candidates --case ID` lists who would be notified and
 * the unlinked pseudonyms; `draft --case ID --channel ID [--person ID…]`, `approve --notice ID`,
 * `send --notice ID` (waits for this process's delivery attempts, then prints each outcome; a
 * retry never sends a delivered notice again), `show`, `list`, `discard`; `templates` prints the
 * org's templates, `template --lang nl --subject … --body-file …|--reset` changes one,
 * `--default-language`; `language --person ID --lang nl|default`. Never prints an address.
 * Four eyes: in an org with more than one admin, a draft made here is approved by another admin
 * through the API (and the other way round), since every CLI call is the same actor.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';
import type { NoticeBatchView, NoticeCandidates } from './service.ts';
import { isNoticeLanguage, NOTICE_LANGUAGES, type NoticeLanguage } from './templates.ts';

const when = (v: { firstContact: string; lastContact: string; minutes: number; zones: (string | null)[] }) =>
  `${v.firstContact} … ${v.lastContact}  ${v.minutes.toFixed(1).padStart(6)} min  ${v.zones.map((z) => z ?? '(unnamed)').join(', ') || '(no zone)'}`;

/** A batch as text: its state, then one line per notice and per unlinked contact. */
export function batchText(b: NoticeBatchView): string {
  const c = Object.entries(b.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ');
  return [
    `notices ${b.id} (case ${b.caseId}, channel ${b.channelId}): ${b.state}; ${b.recipients} recipient(s)${c ? `: ${c}` : ''}`,
    `drafted ${b.createdAt} by ${b.createdBy}${b.approvedAt ? `; approved ${b.approvedAt} by ${b.approvedBy}` : ''}${b.sentAt ? `; sent ${b.sentAt} by ${b.sentBy}` : ''}`,
    ...b.notices.map((n) => `  person ${n.personId}  ${n.language}  ${n.status.padEnd(9)}  ${when(n)}${n.sends.length ? `  sends: ${n.sends.map((s) => `${s.state}${s.lastError ? ` (${s.lastError})` : ''}`).join(', ')}` : ''}`),
    ...b.unlinked.map((u) => `  unlinked device ${u.device}  ${when(u)}`),
  ].join('\n');
}

function candidatesText(c: NoticeCandidates): string {
  return [
    `case ${c.caseId}: ${c.linked.length} linked contact(s) to notify, ${c.unlinked.length} unlinked`,
    ...c.linked.map((p) => `  person ${p.personId}  ${p.language}${p.hasEmail ? '' : '  (no e-mail address)'}  ${when(p)}`),
    ...c.unlinked.map((u) => `  unlinked device ${u.device}  ${when(u)}`),
  ].join('\n');
}

export function registerNotifyCli(program: Command): void {
  const notify = program.command('notify').description('Notices to exposed people from a case report: draft → approved → sent (audited with the case\'s purpose).');
  const cmd = (name: string, description: string) => notify.command(name).description(description).requiredOption('--org <id>', 'org id').option('--json', 'print JSON');
  cmd('candidates', 'Who a case\'s notices would go to, and its contacts that are not linked to a person.')
    .requiredOption('--case <id>', 'case report id')
    .action((o: { org: string; case: string; json?: boolean }) =>
      withApp(async (c) => {
        const r = await c.services.notify.candidates(systemCtx('cli'), o.org, o.case);
        out(!!o.json, r, () => candidatesText(r));
      }),
    );
  cmd('draft', 'Draft notices for a case\'s linked contacts through a channel subscribed to contact-notices.')
    .requiredOption('--case <id>', 'case report id')
    .requiredOption('--channel <id>', 'delivery channel id (e-mail or webhook, subscribed to contact-notices)')
    .option('--person <id...>', 'only these people (default: every linked contact)')
    .action((o: { org: string; case: string; channel: string; person?: string[]; json?: boolean }) =>
      withApp(async (c) => {
        const b = await c.services.notify.draft(systemCtx('cli'), o.org, { caseId: o.case, channelId: o.channel, ...(o.person ? { personIds: o.person } : {}) });
        out(!!o.json, b, () => batchText(b));
      }),
    );
  for (const [name, description] of [
    ['approve', 'Approve drafted notices (another admin than the drafter when the org has more than one).'],
    ['send', 'Send approved notices and wait for this process\'s delivery attempts; a retry sends only failed ones again.'],
    ['show', 'Show a batch: every notice as rendered, its sends and the unlinked contacts.'],
    ['discard', 'Discard notices that were not sent.'],
  ] as const) {
    cmd(name, description)
      .requiredOption('--notice <id>', 'notice batch id')
      .action((o: { org: string; notice: string; json?: boolean }) =>
        withApp(async (c) => {
          const ctx = systemCtx('cli');
          const n = c.services.notify;
          if (name === 'discard') {
            await n.discard(ctx, o.org, o.notice);
            out(!!o.json, { discarded: o.notice }, () => `discarded ${o.notice}`);
            return;
          }
          let b = name === 'approve' ? await n.approve(ctx, o.org, o.notice) : name === 'send' ? await n.send(ctx, o.org, o.notice) : await n.get(ctx, o.org, o.notice);
          if (name === 'send') {
            await c.services.delivery.idle();
            b = await n.get(ctx, o.org, o.notice);
          }
          out(!!o.json, b, () => batchText(b));
        }),
      );
  }
  cmd('list', 'Notice batches, newest first.')
    .option('--case <id>', 'only this case\'s')
    .action((o: { org: string; case?: string; json?: boolean }) =>
      withApp(async (c) => {
        const l = await c.services.notify.list(systemCtx('cli'), o.org, o.case ? { caseId: o.case } : {});
        out(!!o.json, l, () => l.map((b) => `${b.id}  ${b.state.padEnd(8)}  case ${b.caseId}  ${b.recipients} recipient(s)  ${b.createdAt}`).join('\n') || 'no notices');
      }),
    );
  cmd('templates', 'The org\'s notice templates (English, Dutch), its default language and the fields templates may use.').action((o: { org: string; json?: boolean }) =>
    withApp(async (c) => {
      const s = await c.services.notify.settings(systemCtx('cli'), o.org);
      out(!!o.json, s, () => [`default language: ${s.defaultLanguage}`, `fields: ${s.fields.map((f) => `{{${f.name}}}`).join(' ')}`, ...NOTICE_LANGUAGES.flatMap((l) => [`--- ${l}${s.templates[l].custom ? '' : ' (Cairn\'s default)'}`, `subject: ${s.templates[l].subject}`, s.templates[l].body])].join('\n'));
    }),
  );
  cmd('template', 'Change a template (or put the default back) or the default language.')
    .option('--lang <lang>', `template language (${NOTICE_LANGUAGES.join(', ')})`)
    .option('--subject <text>', 'subject line')
    .option('--body-file <file>', 'file holding the body (plain text)')
    .option('--reset', 'put Cairn\'s default template back for --lang')
    .option('--default-language <lang>', 'the language of people who have none set')
    .action((o: { org: string; lang?: string; subject?: string; bodyFile?: string; reset?: boolean; defaultLanguage?: string; json?: boolean }) =>
      withApp(async (c) => {
        const lang = (v: string | undefined, flag: string): NoticeLanguage => {
          if (!isNoticeLanguage(v)) throw new CairnError('CAIRN_ERR_VALIDATION', `${flag} must be one of ${NOTICE_LANGUAGES.join(', ')}.`, { field: flag });
          return v;
        };
        const templates: Partial<Record<NoticeLanguage, { subject: string; body: string } | null>> = {};
        if (o.reset || o.subject !== undefined || o.bodyFile !== undefined) {
          const l = lang(o.lang, '--lang');
          if (o.reset) templates[l] = null;
          else {
            if (o.subject === undefined || o.bodyFile === undefined) throw new CairnError('CAIRN_ERR_VALIDATION', 'Give both --subject and --body-file (or --reset).');
            templates[l] = { subject: o.subject, body: readFileSync(o.bodyFile, 'utf8') };
          }
        }
        const s = await c.services.notify.updateSettings(systemCtx('cli'), o.org, { ...(o.defaultLanguage !== undefined ? { defaultLanguage: lang(o.defaultLanguage, '--default-language') } : {}), templates });
        out(!!o.json, s, () => `default language ${s.defaultLanguage}; custom templates: ${NOTICE_LANGUAGES.filter((l) => s.templates[l].custom).join(', ') || 'none'}`);
      }),
    );
  cmd('language', 'Set the language of a person\'s notices (default: the org\'s).')
    .requiredOption('--person <id>', 'person (Cairn\'s record id)')
    .requiredOption('--lang <lang>', `${NOTICE_LANGUAGES.join(', ')} or default`)
    .action((o: { org: string; person: string; lang: string; json?: boolean }) =>
      withApp(async (c) => {
        if (o.lang !== 'default' && !isNoticeLanguage(o.lang)) throw new CairnError('CAIRN_ERR_VALIDATION', `--lang must be one of ${NOTICE_LANGUAGES.join(', ')} or default.`, { field: '--lang' });
        const r = await c.services.notify.setPersonLanguage(systemCtx('cli'), o.org, o.person, o.lang === 'default' ? null : (o.lang as NoticeLanguage));
        out(!!o.json, r, () => `person ${r.personId}: ${r.language ?? 'the org\'s default language'}`);
      }),
    );
}
