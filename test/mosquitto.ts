/**
 * A private Mosquitto broker for a test: a generated configuration on a free loopback port that
 * includes a directory of Cairn-generated files (`cairn mqtt broker-config` output: password_file,
 * acl_file, cairn-mosquitto.conf), started as a child process and killed by its pid afterwards.
 * `mosquittoPath()` is undefined where Mosquitto is not installed (CI installs the Debian package).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The broker binary, or undefined when it is not installed. */
export function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto']) if (existsSync(p)) return p;
  return undefined;
}

/** Skip reason for broker tests: false when Mosquitto is there; fails loudly under CI when it is not. */
export function mosquittoSkip(): string | false {
  if (mosquittoPath()) return false;
  if (process.env.CI) throw new Error('CI must run the MQTT broker tests: install the Debian package mosquitto.');
  console.warn('\n*** MQTT broker tests SKIPPED: mosquitto is not installed ***\n');
  return 'mosquitto not installed';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Broker {
  url: string;
  port: number;
  /** Make the broker re-read its password and ACL files (what an operator's SIGHUP does). */
  reload(): void;
  stop(): Promise<void>;
}

/**
 * Start Mosquitto on 127.0.0.1 with the Cairn-generated files in `filesDir` included.
 *
 * @example const broker = await startMosquitto(dir); … await broker.stop();
 */
export async function startMosquitto(filesDir: string): Promise<Broker> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const work = mkdtempSync(join(tmpdir(), 'cairn-mosquitto-'));
  const conf = join(work, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      // Run as the test's user (as root, Mosquitto would otherwise switch to "mosquitto" and not read the files).
      `user ${userInfo().username}`,
      `persistence_location ${work}/`,
      'log_dest stderr',
      'log_type error',
      `include_dir ${filesDir}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Hang guard: the broker must accept connections within 10 s.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (child.exitCode !== null || i > 200) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    reload: () => void child.kill('SIGHUP'),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
