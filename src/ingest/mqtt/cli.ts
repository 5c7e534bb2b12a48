/**
 * `cairn mqtt broker-config --out DIR`: writes the Mosquitto `password_file` and `acl_file` for
 * every org's sensor accounts (each may publish only to its own topic) and Cairn's subscriber
 * account (reads `cairn/#`; its password line when `mqttPassword`/`mqttPasswordFile` is set), plus
 * `cairn-mosquitto.conf`, the lines that point Mosquitto at them. Files are replaced atomically
 * (written beside, then renamed), so a broker reloading on SIGHUP never reads half a file.
 */
import type { Command } from 'commander';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { out, withApp } from '../../cli-kit.ts';
import { systemCtx } from '../../privacy/index.ts';
import { aclFileText, brokerSnippet, mosquittoPasswordHash, passwordFileText, type BrokerSensorEntry, type BrokerSubscriberEntry } from './broker.ts';
import { mqttSubscriberPassword } from './subscriber.ts';

/** Write `text` to `path` atomically, readable by the owner and group (the broker's). */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o640 });
  chmodSync(tmp, 0o640);
  renameSync(tmp, path);
}

export function registerMqttCli(program: Command): void {
  const mqtt = program.command('mqtt').description('The MQTT sensor source: broker files for per-sensor credentials.');
  mqtt
    .command('broker-config')
    .description('Write Mosquitto password_file and acl_file for every sensor credential and Cairn\'s subscriber (then reload Mosquitto with SIGHUP).')
    .requiredOption('--out <dir>', 'directory to write password_file, acl_file and cairn-mosquitto.conf into')
    .option('--json', 'print JSON')
    .action((o: { out: string; json?: boolean }) =>
      withApp(async (c, cfg) => {
        const ctx = systemCtx('cli');
        const sensors: BrokerSensorEntry[] = [];
        const orgs = await c.core.directory.list();
        for (const d of orgs) sensors.push(...(await c.services.mqtt.entries(ctx, d.org_id)));
        const password = mqttSubscriberPassword(cfg);
        const subscriber: BrokerSubscriberEntry = { username: cfg.mqttUsername, ...(password !== undefined ? { passwordHash: mosquittoPasswordHash(password) } : {}) };
        const dir = resolve(o.out);
        mkdirSync(dir, { recursive: true });
        const files = { passwordFile: join(dir, 'password_file'), aclFile: join(dir, 'acl_file'), conf: join(dir, 'cairn-mosquitto.conf') };
        writeAtomic(files.passwordFile, passwordFileText(sensors, subscriber));
        writeAtomic(files.aclFile, aclFileText(sensors, subscriber));
        writeAtomic(files.conf, brokerSnippet(dir));
        const summary = { ...files, orgs: orgs.length, sensors: sensors.length, subscriber: cfg.mqttUsername, subscriberPassword: password !== undefined };
        out(!!o.json, summary, () =>
          [
            `wrote ${files.passwordFile} and ${files.aclFile}: ${sensors.length} sensor account(s) in ${orgs.length} org(s), subscriber "${cfg.mqttUsername}"`,
            password === undefined ? `  note: no subscriber password configured, so "${cfg.mqttUsername}" has an ACL but no password line; set CAIRN_MQTT_PASSWORD or CAIRN_MQTT_PASSWORD_FILE and run this again` : '',
            `  point Mosquitto at them with the lines in ${files.conf} (include_dir, or copy into mosquitto.conf), then reload: kill -HUP <mosquitto pid>`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
      }),
    );
}
