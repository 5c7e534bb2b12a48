#!/usr/bin/env node
/**
 * The `cairn` command line. Thin: parses flags, builds the app, calls the same services as the
 * API (with the CLI's system context, so every change is audited), prints JSON with --json.
 */
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import { loadConfig, redactedConfig, describeConfig } from './config.ts';
import { CairnError, isCairnError } from './kernel/errors.ts';
import { buildApp } from './app.ts';
import { ensureDemo, startDemoFeed } from './demo.ts';
import { out, withApp } from './cli-kit.ts';
import { systemCtx, ROLES, type Role } from './privacy/index.ts';
import { registerThreatCli } from './threat/cli.ts';
import { registerIngestCli } from './ingest/cli.ts';
import { mqttSubscriberFromConfig, syslogListenerFromConfig } from './ingest/index.ts';
import { registerMqttCli } from './ingest/mqtt/cli.ts';
import { registerSimulateCli } from './simulator/cli.ts';
import { registerOccupancyCli } from './tracing/occupancy/cli.ts';
import { registerMailCli } from './threat/email/cli.ts';
import { registerJourneyCli } from './tracing/journeys/cli.ts';
import { registerPeopleCli } from './tracing/people/cli.ts';
import { registerDsarCli } from './privacy/rights/cli.ts';
import { registerPortabilityCli } from './privacy/portability/cli.ts';
import { registerIncidentCli } from './privacy/incidents/cli.ts';
import { registerTraceCli } from './tracing/proximity/cli.ts';
import { registerNotifyCli } from './tracing/notify/cli.ts';

const started = performance.now();

function parseRole(s: string): { role: Role; siteId: string | null } {
  const [role, siteId] = s.split(':');
  if (!ROLES.includes(role as Role)) throw new CairnError('CAIRN_ERR_VALIDATION', `Unknown role "${role}"; roles: ${ROLES.join(', ')}.`);
  return { role: role as Role, siteId: siteId ?? null };
}

const program = new Command();
program.name('cairn').description('Cairn: self-hosted, privacy-by-design intelligence for Wi-Fi/BLE networks and their traffic.').showHelpAfterError();

program
  .command('serve')
  .description('Run the Cairn server (HTTP API, dashboard, schedulers).')
  .option('--demo', 'on first start, create a demo org and print its admin credentials once')
  .option('--port <port>', 'TCP port (overrides PORT)')
  .option('--host <host>', 'bind address (overrides HOST)')
  .action(async (o: { demo?: boolean; port?: string; host?: string }) => {
    const cfg = loadConfig({ extraEnv: { ...(o.port ? { PORT: o.port } : {}), ...(o.host ? { HOST: o.host } : {}) } });
    if (o.demo) cfg.demo = true;
    const c = await buildApp(cfg);
    const creds = cfg.demo ? await ensureDemo(c) : null;
    const stopFeed = cfg.demo ? await startDemoFeed(c) : () => undefined;
    c.startSchedulers();
    const mail = await c.services.mail.start();
    const firehoses = await c.services.firehose.start();
    const syslog = syslogListenerFromConfig(cfg, c.services.ingest, c.core.clock, c.core.log);
    const syslogAt = await syslog?.start();
    const mqtt = mqttSubscriberFromConfig(cfg, c.services.ingest, c.core.log);
    const mqttAt = await mqtt?.start();
    const address = await c.app.listen({ port: cfg.port, host: cfg.host });
    const ms = Math.round(performance.now() - started);
    const lines = [
      '',
      `  Cairn is ready in ${ms} ms (${cfg.store}, regions: ${cfg.regions.join(', ')}${cfg.store === 'sqlite' ? `, data in ${cfg.dataDir}` : ''})`,
      `  Dashboard / sign-in  ${address}/login`,
      `  API                  ${address}/api/v1`,
      `  OpenAPI document     ${address}/api/openapi.json  (browse: ${address}/api/docs)`,
      `  Health               ${address}/healthz  ${address}/readyz  ${address}/metrics`,
    ];
    if (mail.smtp) lines.push(`  SMTP relay           ${mail.smtp.host}:${mail.smtp.port} (${mail.imapWatchers} IMAP watcher(s))`);
    if (mqttAt) lines.push(`  MQTT subscriber      ${mqttAt.url} as ${cfg.mqttUsername}, client ${cfg.mqttClientId}, cairn/+/+/+ (${mqttAt.connected ? 'connected' : 'not connected yet; retrying'})`);
    if (firehoses > 0) lines.push(`  Spaces firehose      ${firehoses} org(s) streaming (stopped on shutdown)`);
    if (syslogAt) lines.push(`  Syslog               ${[syslogAt.udp && `udp ${syslogAt.udp.address}:${syslogAt.udp.port}`, syslogAt.tcp && `tcp ${syslogAt.tcp.address}:${syslogAt.tcp.port}`].filter(Boolean).join(', ')}`);
    if (creds) lines.push('', '  Demo org created. Admin credentials (shown only this once):', `    e-mail    ${creds.email}`, `    password  ${creds.password}`);
    if (c.masterKeySource.endsWith('master.key')) lines.push('', `  Master key: ${c.masterKeySource} (set CAIRN_MASTER_KEY or a KMS provider in production)`);
    process.stdout.write(lines.join('\n') + '\n\n');
    const stop = async () => {
      stopFeed();
      await syslog?.stop();
      await mqtt?.stop();
      await c.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('Create or upgrade the schema of every store, then exit.')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const cfg = loadConfig({ overrides: { logLevel: 'warn' } });
    const { Stores } = await import('./storage/index.ts');
    const stores = new Stores({ engine: cfg.store, regions: cfg.regions, dataDir: cfg.dataDir, pgUrl: cfg.pgUrl, pgSchemaPrefix: cfg.pgSchemaPrefix });
    try {
      const applied = await stores.migrate();
      out(!!o.json, applied, () => Object.entries(applied).map(([s, v]) => `${s}: ${v.length ? `applied ${v.join(', ')}` : 'up to date'}`).join('\n'));
    } finally {
      await stores.close();
    }
  });

const org = program.command('org').description('Manage orgs (tenants).');
org
  .command('create')
  .description('Create an org with its keys, support grant and audit chain.')
  .requiredOption('--name <name>', 'org name')
  .requiredOption('--country <code>', 'headquarters country, ISO 3166-1 alpha-2 (EU/EEA → region eu)')
  .option('--region <region>', 'explicit region (default: by country)')
  .option('--json', 'print JSON')
  .action((o: { name: string; country: string; region?: string; json?: boolean }) =>
    withApp(async (c) => {
      const r = await c.services.tenancy.createOrg(systemCtx(), { name: o.name, country: o.country, ...(o.region ? { region: o.region } : {}) });
      out(!!o.json, r, () => `created org ${r.id} "${r.name}" in region ${r.region}`);
    }),
  );
org
  .command('list')
  .description('List orgs.')
  .option('--json', 'print JSON (ids and names)')
  .action((o: { json?: boolean }) =>
    withApp(async (c) => {
      const orgs = await c.services.tenancy.listOrgs(systemCtx());
      out(!!o.json, orgs.map((x) => ({ id: x.id, name: x.name, region: x.region, country: x.country })), () => orgs.map((x) => `${x.id}  ${x.region}  ${x.country}  ${x.name}`).join('\n') || '(no orgs)');
    }),
  );

org
  .command('delete')
  .description('Off-board an org: destroy its keys (crypto-shredding), then delete its data.')
  .requiredOption('--org <id>', 'org id')
  .requiredOption('--confirm <name>', 'the org name, to confirm')
  .option('--json', 'print JSON')
  .action((o: { org: string; confirm: string; json?: boolean }) =>
    withApp(async (c) => {
      const existing = await c.services.tenancy.getOrg(systemCtx(), o.org);
      if (existing.name !== o.confirm) throw new CairnError('CAIRN_ERR_VALIDATION', '--confirm must be the org name exactly.');
      const r = await c.services.tenancy.deleteOrg(systemCtx(), o.org);
      out(!!o.json, r, () => `deleted org ${r.orgId}: ${r.keysDestroyed} keys destroyed, ${r.auditEventsDeleted} audit events removed`);
    }),
  );

const user = program.command('user').description('Manage users.');
user
  .command('create')
  .description('Create a user in an org (or operator support staff with --operator).')
  .option('--org <id>', 'org id')
  .requiredOption('--email <email>', 'e-mail address (stored encrypted)')
  .option('--name <name>', 'display name')
  .option('--role <role[:siteId]...>', `role(s): ${ROLES.join(', ')}; append :siteId for a site-scoped role`, (v: string, prev: string[]) => [...prev, v], [] as string[])
  .option('--password <password>', 'password (default: a generated one, printed once)')
  .option('--operator', 'create operator staff with the support role instead')
  .option('--json', 'print JSON')
  .action((o: { org?: string; email: string; name?: string; role: string[]; password?: string; operator?: boolean; json?: boolean }) =>
    withApp(async (c) => {
      const password = o.password ?? randomBytes(12).toString('base64url');
      if (o.operator) {
        const r = await c.services.identity.createOperator(systemCtx(), { email: o.email, password });
        out(!!o.json, { id: r.id, role: 'support', ...(o.password ? {} : { password }) }, () => `created operator ${r.id} (support)${o.password ? '' : `\npassword (shown once): ${password}`}`);
        return;
      }
      if (!o.org) throw new CairnError('CAIRN_ERR_VALIDATION', '--org is required (or --operator).');
      const roles = (o.role.length ? o.role : ['observer']).map(parseRole);
      const u = await c.services.identity.createUser(systemCtx(), o.org, { email: o.email, ...(o.name ? { name: o.name } : {}), password, roles });
      out(!!o.json, { id: u.id, orgId: u.orgId, roles: u.roles, ...(o.password ? {} : { password }) }, () => `created user ${u.id} with ${u.roles.map((r) => r.role + (r.siteId ? `@${r.siteId}` : '')).join(', ')}${o.password ? '' : `\npassword (shown once): ${password}`}`);
    }),
  );

program
  .command('token')
  .description('Manage machine tokens.')
  .command('create')
  .description('Issue a machine token (shown once, stored hashed).')
  .requiredOption('--org <id>', 'org id')
  .requiredOption('--name <name>', 'what the token is for')
  .addOption(new Option('--role <role>', 'role of the token').choices(['sensor', 'observer', 'org_admin', 'privacy_officer', 'site_admin']).default('sensor'))
  .option('--site <id>', 'limit the token to one site')
  .option('--days <n>', 'days until it expires (1-365)', '90')
  .option('--json', 'print JSON')
  .action((o: { org: string; name: string; role: Role; site?: string; days: string; json?: boolean }) =>
    withApp(async (c) => {
      const t = await c.services.identity.createToken(systemCtx(), o.org, { name: o.name, role: o.role, siteId: o.site ?? null, expiresInDays: Number(o.days) });
      out(!!o.json, t, () => `token ${t.id} (${t.role}, expires ${t.expiresAt}); shown once:\n${t.token}`);
    }),
  );

const audit = program.command('audit').description('The audit log.');
audit
  .command('verify')
  .description('Verify the hash chain and signed checkpoints of one org (or all); exit 3 when broken.')
  .option('--org <id>', 'org id (default: every org)')
  .option('--json', 'print JSON')
  .action((o: { org?: string; json?: boolean }) =>
    withApp(async (c) => {
      const ids = o.org ? [o.org] : (await c.core.directory.list()).map((d) => d.org_id);
      const results: Awaited<ReturnType<typeof c.services.auditQueries.verify>>[] = [];
      for (const id of ids) results.push(await c.services.auditQueries.verify(systemCtx(), id));
      out(!!o.json, o.org ? results[0] : results, () => results.map((r) => (r.ok ? `${r.orgId}: intact, ${r.eventsChecked} events, ${r.checkpointsChecked} signed checkpoints` : `${r.orgId}: BROKEN at seq ${r.firstBad!.seq}: ${r.firstBad!.reason}`)).join('\n') || '(no orgs)');
      if (results.some((r) => !r.ok)) process.exitCode = 3;
    }),
  );

program
  .command('retention')
  .description('Retention of data classes.')
  .command('run')
  .description('Purge data past its retention period now (every org, or one).')
  .option('--org <id>', 'org id')
  .option('--json', 'print JSON')
  .action((o: { org?: string; json?: boolean }) =>
    withApp(async (c) => {
      const reports = o.org ? [await c.services.retention.runForOrg(systemCtx(), o.org)] : await c.services.retention.runAll(systemCtx());
      out(!!o.json, reports, () => reports.map((r) => `${r.orgId}: ${Object.entries(r.purged).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing to purge'}`).join('\n') || '(no orgs)');
    }),
  );

program
  .command('keys')
  .description('Org keys.')
  .command('rotate')
  .description('Rotate an org data key (new writes use the new version).')
  .requiredOption('--org <id>', 'org id')
  .option('--json', 'print JSON')
  .action((o: { org: string; json?: boolean }) =>
    withApp(async (c) => {
      const r = await c.services.keyAdmin.rotate(systemCtx(), o.org);
      out(!!o.json, r, () => `data key of ${o.org} is now version ${r.dataKeyVersion}`);
    }),
  );

program
  .commands.find((c) => c.name() === 'keys')!
  .command('rewrap-master')
  .description('Re-wrap every org key, signing key and server secret under a new master key; then restart with it.')
  .requiredOption('--new-key-file <file>', 'file holding the new master key (32 bytes, base64)')
  .option('--json', 'print JSON')
  .action((o: { newKeyFile: string; json?: boolean }) =>
    withApp(async (c) => {
      const { readFileSync } = await import('node:fs');
      const { LocalKeyProvider } = await import('./privacy/index.ts');
      const key = Buffer.from(readFileSync(o.newKeyFile, 'utf8').trim(), 'base64');
      if (key.length !== 32) throw new CairnError('CAIRN_ERR_VALIDATION', '--new-key-file must hold 32 bytes, base64-encoded.');
      const r = await c.core.keys.rewrapAll(c.core.stores, new LocalKeyProvider(key));
      out(!!o.json, r, () => `re-wrapped ${r.orgKeys} org keys, ${r.signingKeys} signing keys and ${r.serverSecrets} server secrets; restart with the new master key`);
    }),
  );

program
  .command('config')
  .description('Print the effective configuration, secrets redacted.')
  .option('--describe', 'print every key with its environment variable, default and description')
  .option('--json', 'print JSON')
  .action((o: { describe?: boolean; json?: boolean }) => {
    if (o.describe) {
      const d = describeConfig();
      out(!!o.json, d, () => d.map((k) => `${k.env.padEnd(30)} ${JSON.stringify(k.default ?? null).padEnd(34)} ${k.description}`).join('\n'));
      return;
    }
    const r = redactedConfig(loadConfig());
    out(true, r, () => '');
  });

registerMailCli(registerThreatCli(program));
registerIngestCli(program);
registerMqttCli(program);
registerSimulateCli(program);
registerOccupancyCli(program);
registerJourneyCli(program);
registerPeopleCli(program);
registerDsarCli(program);
registerPortabilityCli(program);
registerIncidentCli(program);
registerTraceCli(program);
registerNotifyCli(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isCairnError(e)) {
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    process.exit(e.code === 'CAIRN_ERR_VALIDATION' || e.code === 'CAIRN_ERR_CONFIG' ? 2 : 1);
  }
  process.stderr.write(`error CAIRN_ERR_INTERNAL: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
