/**
 * `cairn threat mail …` commands: `scan FILE.eml…` runs the same message verdict as the relay
 * (attachments through the file pipeline, links against the lists) and prints one record per
 * message; with `--org` it uses that org's lists and cache and prints the action its policy
 * picks, without it nothing is stored. `settings` shows or changes an org's relay settings;
 * `quarantine list|release|delete` acts on its quarantine. Changes and reads are audited as the
 * CLI's system actor.
 */
import { Option, type Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { loadConfig } from '../../config.ts';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError, isCairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';
import { scanMessage } from './analyze.ts';
import { standaloneScanner } from './scanner.ts';
import { MAIL_ACTIONS, MAIL_LANGUAGES, type MailAction, type MailLanguage, type MessageVerdict } from './types.ts';

/** One line of `threat mail scan --json` output. */
export interface MailScanRecord {
  file: string;
  state: string;
  score: number;
  complete: boolean;
  /** What the org's policy does with it (only with --org). */
  action?: MailAction;
  reasons: MessageVerdict['reasons'];
  attachments: { part: string; name: string | null; type: string; sha256: string; score: number; state: string }[];
  linkHosts: string[];
}

type Result = MailScanRecord | { file: string; error: { code: string; message: string } };

function human(r: Result): string {
  if ('error' in r) return `error      ${r.file}: ${r.error.code} ${r.error.message}`;
  const head = `${r.state.padEnd(10)} ${r.score.toFixed(1).padStart(4)}  ${(r.action ?? '').padEnd(20)} ${r.file}`;
  return [head, ...r.attachments.map((a) => `    attachment ${a.part} ${a.type} ${a.state} ${a.score}`), ...r.reasons.map((x) => `    ${x.code} (${x.score}) ${x.message}`)].join('\n');
}

/** Adds `mail` under the `threat` command. */
export function registerMailCli(threat: Command): Command {
  const mail = threat.command('mail').description('E-mail: scan messages, relay settings, quarantine.');
  mail
    .command('scan')
    .description('Scan messages (.eml) as the SMTP relay does and print a verdict per message (score 0-10, reasons, attachments, link hosts).')
    .argument('<files...>', 'RFC 5322 message files')
    .option('--org <id>', 'use this org\'s lists, verdict cache and policy (attachment verdicts stored and audited); default: store nothing')
    .option('--json', 'print JSON (an array, one record per message)')
    .action(async (files: string[], o: { org?: string; json?: boolean }) => {
      const cfg = loadConfig({ overrides: { logLevel: 'warn' } });
      const run = async (scan: (raw: Buffer) => Promise<{ verdict: MessageVerdict; action?: MailAction }>) => {
        const results: Result[] = [];
        for (const file of files) {
          try {
            let size: number;
            try {
              size = statSync(file).size;
            } catch (e) {
              throw new CairnError('CAIRN_ERR_VALIDATION', `Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`);
            }
            if (size > cfg.smtpMaxMessageBytes) throw new CairnError('CAIRN_ERR_BODY_TOO_LARGE', `The message is larger than smtpMaxMessageBytes (${cfg.smtpMaxMessageBytes} bytes).`);
            const { verdict: v, action } = await scan(readFileSync(file));
            results.push({ file, state: v.state, score: v.score, complete: v.complete, ...(action ? { action } : {}), reasons: v.reasons, attachments: v.attachments.map((a) => ({ part: a.part, name: a.name, type: a.subtype, sha256: a.sha256, score: a.score, state: a.state })), linkHosts: v.linkHosts });
          } catch (e) {
            if (!isCairnError(e)) throw e;
            results.push({ file, error: { code: e.code, message: e.message } });
            process.exitCode = 1;
          }
        }
        out(!!o.json, results, () => results.map(human).join('\n'));
      };
      const limits = { maxMessageBytes: cfg.smtpMaxMessageBytes, timeoutMs: cfg.smtpScanTimeoutMs };
      if (!o.org) return run(async (raw) => ({ verdict: (await scanMessage('cli', raw, standaloneScanner(), limits)).verdict }));
      const org = o.org;
      return withApp((c) => run((raw) => c.services.mail.inspect(org, raw, { malformed: 'throw' })));
    });

  mail
    .command('settings')
    .description('Show an org\'s mail settings, or change the ones given (domains, policy, language).')
    .requiredOption('--org <id>', 'org id')
    .option('--domains <list>', 'comma-separated domains the relay accepts mail for')
    .addOption(new Option('--malicious-action <action>', 'what happens to malicious mail').choices([...MAIL_ACTIONS]))
    .addOption(new Option('--suspicious-action <action>', 'what happens to suspicious or not fully scanned mail').choices([...MAIL_ACTIONS]))
    .addOption(new Option('--language <lang>', 'language of subject tags and notices').choices([...MAIL_LANGUAGES]))
    .option('--json', 'print JSON')
    .action((o: { org: string; domains?: string; maliciousAction?: MailAction; suspiciousAction?: MailAction; language?: MailLanguage; json?: boolean }) =>
      withApp(async (c) => {
        const change = { ...(o.domains !== undefined ? { domains: o.domains.split(',').map((d) => d.trim()).filter(Boolean) } : {}), ...(o.maliciousAction ? { maliciousAction: o.maliciousAction } : {}), ...(o.suspiciousAction ? { suspiciousAction: o.suspiciousAction } : {}), ...(o.language ? { language: o.language } : {}) };
        const s = Object.keys(change).length ? await c.services.mail.settings.set(systemCtx('cli'), o.org, change) : await c.services.mail.settings.get(systemCtx('cli'), o.org);
        out(!!o.json, s, () => [`domains            ${s.domains.join(', ') || '(none)'}`, `malicious mail     ${s.maliciousAction}`, `suspicious mail    ${s.suspiciousAction}`, `language           ${s.language}`, `IMAP watcher       ${s.imap.enabled ? `${s.imap.host}:${s.imap.port} ${s.imap.mailbox} → ${s.imap.quarantineFolder}` : 'off'}`].join('\n'));
      }),
    );

  const q = mail.command('quarantine').description('The org\'s quarantined mail.');
  q.command('list')
    .description('List quarantined mail, newest first (decrypted metadata; audited).')
    .requiredOption('--org <id>', 'org id')
    .option('--limit <n>', 'at most this many (1-500)', '50')
    .option('--json', 'print JSON')
    .action((o: { org: string; limit: string; json?: boolean }) =>
      withApp(async (c) => {
        const l = await c.services.mail.quarantine.list(systemCtx('cli'), o.org, { limit: Number(o.limit) });
        out(!!o.json, l, () => l.map((e) => `${e.id}  ${e.status.padEnd(8)} ${e.state.padEnd(10)} ${e.score.toFixed(1).padStart(4)}  ${e.receivedAt}  ${e.recipient}  ${e.subject ?? ''}`).join('\n') || '(empty)');
      }),
    );
  for (const [name, what] of [['release', 'Release a message to its recipient.'], ['delete', 'Delete a message for good.']] as const) {
    q.command(name)
      .description(what)
      .requiredOption('--org <id>', 'org id')
      .requiredOption('--id <id>', 'quarantined message id')
      .option('--json', 'print JSON')
      .action((o: { org: string; id: string; json?: boolean }) =>
        withApp(async (c) => {
          if (name === 'release') await c.services.mail.quarantine.release(systemCtx('cli'), o.org, o.id);
          else await c.services.mail.quarantine.delete(systemCtx('cli'), o.org, o.id);
          out(!!o.json, { id: o.id, [name === 'release' ? 'released' : 'deleted']: true }, () => `${name === 'release' ? 'released' : 'deleted'} ${o.id}`);
        }),
      );
  }
  return mail;
}
