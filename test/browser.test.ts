/**
 * The dashboard in real Chromium (Debian's package, driven by playwright-core): a newcomer signs
 * in with the demo credentials `serve --demo` printed, sees the demo org in the EU region with an
 * intact audit chain and its simulated campus, and signs out. A wrong password shows the error and no session is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { sqliteSetup } from './helpers.ts';

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
if (skip && process.env.CI) throw new Error(`CI must run the browser tests: ${skip}`);

test('sign in with the printed demo credentials, see the org, sign out', { skip, timeout: 120_000 }, async () => {
  const setup = sqliteSetup();
  const cfg = setup.config();
  const server = spawn(process.execPath, ['dist/main.js', 'serve', '--demo'], { env: { ...process.env, CAIRN_DATA_DIR: cfg.dataDir, PORT: '0', CAIRN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const printed = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no start-up banner in 60 s: ${buf} ${stderr}`)), 60_000);
      server.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`server exited early (${code ?? signal}): ${buf} ${stderr}`));
      });
      server.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        if (/password\s+\S+\n/.test(buf)) {
          clearTimeout(timer);
          resolve(buf);
        }
      });
    });
    const base = /Dashboard \/ sign-in\s+(http:\/\/\S+)\/login/.exec(printed)![1]!;
    const email = /e-mail\s+(\S+)/.exec(printed)![1]!;
    const password = /password\s+(\S+)/.exec(printed)![1]!;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/`);
      await page.waitForURL(/\/login$/);
      await page.fill('#email', email);
      await page.fill('#password', 'definitely-wrong');
      await page.click('button[type=submit]');
      await page.waitForSelector('#error:not([hidden])');
      assert.match(await page.textContent('#error') ?? '', /wrong/);
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${base}/`);
      await page.waitForSelector('section.org');
      const text = await page.textContent('main');
      assert.match(text ?? '', /Cairn Demo Campus/);
      assert.match(text ?? '', /region eu/);
      assert.match(text ?? '', /Building 1/, 'the simulated campus is laid out as sites');
      assert.match(await page.textContent('.audit') ?? '', /intact/);
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === 'cairn_session')!;
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.equal(String(await page.evaluate('document.cookie')).includes('cairn_session'), false, 'scripts cannot read the session');
      await page.screenshot({ path: `${cfg.dataDir}/dashboard.png` });
      await page.click('#logout');
      await page.waitForURL(/\/login$/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  } finally {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await setup.cleanup();
  }
});
