/**
 * The guest portal in real Chromium (Debian's package, driven by playwright-core): a guest whose
 * browser speaks Dutch arrives with a UniFi controller's hand-off, reads the Dutch terms, sees the
 * marketing opt-in unticked, fills in the contact fields the admin asked for, accepts, and lands
 * on the controller's result URL (a stand-in controller on loopback: no traffic leaves the
 * machine) with a result signed under the site's portal secret, which Cairn verifies exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { makeApp, sqliteSetup } from './helpers.ts';
import { resultText, systemCtx, type PortalResult } from '../src/privacy/index.ts';
import { ConsentRepo } from '../src/storage/index.ts';

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium not installed at ${CHROMIUM} (apt-get install chromium; .ci/run does)`;
if (skip && process.env.CI) throw new Error(`CI must run the browser tests: ${skip}`);

test('a Dutch-speaking guest accepts the terms and the controller gets a signed result', { skip, timeout: 120_000 }, async () => {
  const setup = sqliteSetup();
  const c = await makeApp(setup);
  const sys = systemCtx('test');
  // The access point controller's endpoint that receives the browser after the decision.
  const landed: string[] = [];
  const controller = createServer((req, res) => {
    // Chromium also asks the controller for /favicon.ico; only the result URL counts.
    if (!(req.url ?? '').startsWith('/favicon')) landed.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>controller</title><p id="granted">ok</p>');
  });
  await new Promise<void>((resolve) => controller.listen(0, '127.0.0.1', resolve));
  const ctl = controller.address();
  const RESULT_URL = `http://127.0.0.1:${typeof ctl === 'object' && ctl ? ctl.port : 0}/guest/authorise`;
  try {
    const org = await c.services.tenancy.createOrg(sys, { name: 'Bibliotheek Zuid', country: 'NL' });
    const site = await c.services.tenancy.createSite(sys, org.id, { name: 'Leeszaal' });
    const terms = await c.services.consent.terms.create(sys, org.id, {
      audience: 'portal',
      texts: {
        en: { title: 'Library Wi-Fi terms', body: 'Use the network fairly.\n\nWe record your decision.' },
        nl: { title: 'Voorwaarden bibliotheekwifi', body: 'Gebruik het netwerk eerlijk.\n\nWe leggen je keuze vast.' },
      },
    });
    await c.services.consent.terms.publish(sys, org.id, terms.id);
    await c.services.consent.portal.configure(sys, org.id, site.id, { enabled: true, contactFields: ['name', 'email'], marketingOptIn: true, resultUrl: RESULT_URL });
    const { secret } = await c.services.consent.portal.rotateSecret(sys, org.id, site.id);
    await c.app.listen({ host: '127.0.0.1', port: 0 });
    const addr = c.app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const context = await browser.newContext({ locale: 'nl-NL' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const handoff = new URLSearchParams({ ap: '94:2a:6f:d0:30:57', id: '1c:71:25:63:e4:24', t: '1742398732', url: 'http://example.com/krant', ssid: 'Bibliotheek Gast' });
      await page.goto(`${base}/portal/${org.id}/${site.id}?${handoff}`);
      assert.equal(await page.getAttribute('html', 'lang'), 'nl');
      assert.equal(await page.textContent('#terms-title'), 'Voorwaarden bibliotheekwifi');
      assert.match(await page.textContent('#terms') ?? '', /Gebruik het netwerk eerlijk/);
      assert.equal(await page.textContent('#terms-version'), 'Voorwaarden versie 1');
      assert.equal(await page.isChecked('#marketing'), false, 'the marketing opt-in starts unticked');
      assert.equal(await page.textContent('#accept'), 'Accepteren en verbinden');
      await page.screenshot({ path: `${setup.config().dataDir}/portal-nl.png` });
      await page.fill('#contact-name', 'Fatima de Boer');
      await page.fill('#contact-email', 'fatima.deboer@example.net');
      await page.click('#accept');
      await page.waitForSelector('#granted');
      assert.equal(landed.length, 1, 'the browser went to the result URL once');
      const url = new URL(landed[0]!, RESULT_URL);
      assert.equal(`${url.origin}${url.pathname}`, RESULT_URL);
      const result = Object.fromEntries(url.searchParams) as PortalResult;
      assert.equal(result.decision, 'accepted');
      assert.equal(result.terms, '1');
      assert.equal(result.client_mac, '1c:71:25:63:e4:24');
      assert.equal(result.ap_mac, '94:2a:6f:d0:30:57');
      assert.equal(result.ssid, 'Bibliotheek Gast');
      assert.equal(result.url, 'http://example.com/krant');
      const { sig, ...fields } = result;
      assert.equal(createHmac('sha256', secret).update(resultText(fields)).digest('hex'), sig, 'signed with the site\'s portal secret');
      const ok = await c.app.inject({ method: 'POST', url: `/portal/${org.id}/${site.id}/verify`, payload: result });
      assert.equal(ok.statusCode, 200, ok.body);
      const again = await c.app.inject({ method: 'POST', url: `/portal/${org.id}/${site.id}/verify`, payload: result });
      assert.equal(again.json().error.code, 'CAIRN_ERR_PORTAL_RESULT_REPLAYED');
      const db = await c.core.directory.storeOf(org.id);
      const device = await c.core.keys.pseudonym(db, org.id, 'mac', '1c:71:25:63:e4:24');
      const rows = await new ConsentRepo(db).recordsOfSubject(org.id, device);
      assert.deepEqual(rows.map((r) => [r.purpose, Number(r.granted), Number(r.terms_version), r.language]), [['network_terms', 1, 1, 'nl']], 'accepted in Dutch, no marketing opt-in');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  } finally {
    await c.close();
    await new Promise((resolve) => controller.close(resolve));
    await setup.cleanup();
  }
});
