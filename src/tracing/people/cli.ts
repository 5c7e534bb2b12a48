/**
 * `cairn people import --org ORG FILE` (CSV or JSON, by extension or --format), `cairn people
 * enable|disable --org ORG`: the org's people directory through the same service and audit as
 * the API. Prints counts only, never names or identifiers.
 */
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { out, withApp } from '../../cli-kit.ts';
import { CairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';

export function registerPeopleCli(program: Command): void {
  const people = program.command('people').description('The org\'s optional people directory (names, e-mail, linked devices; encrypted, R-DATA-11).');
  people
    .command('import')
    .description('Import people from CSV (header person_id,name,email,macs,badges) or JSON; the directory must be on.')
    .argument('<file>', 'CSV or JSON file')
    .requiredOption('--org <id>', 'org id')
    .addOption(new Option('--format <format>', 'file format (default: by extension)').choices(['csv', 'json']))
    .option('--enable', 'turn the directory on first')
    .option('--json', 'print JSON')
    .action((file: string, o: { org: string; format?: 'csv' | 'json'; enable?: boolean; json?: boolean }) =>
      withApp(async (c) => {
        const format = o.format ?? (/\.json$/i.test(file) ? 'json' : /\.csv$/i.test(file) ? 'csv' : undefined);
        if (!format) throw new CairnError('CAIRN_ERR_VALIDATION', 'Name the format with --format csv|json (the file name does not end in .csv or .json).');
        const text = readFileSync(file, 'utf8');
        const ctx = systemCtx('cli');
        if (o.enable) await c.services.people.setEnabled(ctx, o.org, true);
        let input: { csv: string } | { json: unknown };
        if (format === 'csv') input = { csv: text };
        else {
          try {
            input = { json: JSON.parse(text) as unknown };
          } catch {
            throw new CairnError('CAIRN_ERR_VALIDATION', 'The file is not valid JSON.');
          }
        }
        const s = await c.services.people.import(ctx, o.org, input);
        out(!!o.json, s, () => `imported ${s.people} people: ${s.created} created, ${s.updated} updated; ${s.linked} devices linked, ${s.unlinked} unlinked, ${s.moved} moved from another person${s.ignored.length ? `\nnot read: ${s.ignored.join(', ')}` : ''}`);
      }),
    );
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    people
      .command(name)
      .description(enabled ? 'Turn the people directory on.' : 'Turn the people directory off: every person and device link is erased.')
      .requiredOption('--org <id>', 'org id')
      .option('--json', 'print JSON')
      .action((o: { org: string; json?: boolean }) =>
        withApp(async (c) => {
          const r = await c.services.people.setEnabled(systemCtx('cli'), o.org, enabled);
          out(!!o.json, r, () => (enabled ? `people directory on (${r.people} people)` : `people directory off; erased ${r.erased.people} people and ${r.erased.links} device links`));
        }),
      );
  }
}
