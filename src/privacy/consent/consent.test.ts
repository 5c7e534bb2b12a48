/** The pure parts of notice and consent: vendor hand-offs, language choice, result and token signatures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { parseHandoff } from './handoff.ts';
import { negotiate } from './i18n.ts';
import { paragraphs, esc } from './render.ts';
import { checkForm, checkResult, parseUnsubscribeToken, resultText, signForm, signResult, unsubscribeToken, unsubscribeTokenValid, type FormField } from './signing.ts';

test('hand-offs of Meraki, Mist, UniFi and Aruba read into one shape', () => {
  const meraki = parseHandoff({ base_grant_url: 'https://n143.network-auth.com/splash/grant', user_continue_url: 'http://speedof.me/', node_mac: '88:15:44:60:1c:1a', client_ip: '10.255.60.208', client_mac: 'F4:5C:89:9B:17:67' });
  assert.deepEqual(meraki, { vendor: 'meraki', clientMac: 'f4:5c:89:9b:17:67', apMac: '88:15:44:60:1c:1a', ssid: '', originalUrl: 'http://speedof.me/', grantUrl: 'https://n143.network-auth.com/splash/grant' });
  const mist = parseHandoff({ client_mac: 'f45c899b1767', ap_mac: '5c5b35000001', wlan_id: 'x', ssid: 'Guest', url: 'http://example.com/' });
  assert.equal(mist.vendor, 'mist');
  assert.equal(mist.clientMac, 'f4:5c:89:9b:17:67');
  assert.equal(mist.apMac, '5c:5b:35:00:00:01');
  const unifi = parseHandoff({ ap: '94:2a:6f:d0:30:57', id: '1c:71:25:63:e4:24', t: '1742398732', url: 'http://example.com/a?b=c', ssid: 'Cafe' });
  assert.deepEqual([unifi.vendor, unifi.clientMac, unifi.apMac, unifi.ssid, unifi.originalUrl], ['unifi', '1c:71:25:63:e4:24', '94:2a:6f:d0:30:57', 'Cafe', 'http://example.com/a?b=c']);
  const aruba = parseHandoff({ cmd: 'login', mac: '1c-71-25-63-e4-24', apmac: '942a.6fd0.3057', network: 'Guest', url: 'https://example.org/' });
  assert.deepEqual([aruba.vendor, aruba.clientMac, aruba.apMac, aruba.ssid], ['aruba', '1c:71:25:63:e4:24', '94:2a:6f:d0:30:57', 'Guest']);
});

test('malformed hand-offs are refused with CAIRN_ERR_PORTAL_HANDOFF and the field', () => {
  const code = (q: Record<string, unknown>) => {
    try {
      parseHandoff(q);
      return 'ok';
    } catch (e) {
      return `${(e as { code: string }).code}:${(e as { details: { field: string } }).details.field}`;
    }
  };
  assert.equal(code({}), 'CAIRN_ERR_PORTAL_HANDOFF:client_mac');
  assert.equal(code({ client_mac: 'aa:bb:cc' }), 'CAIRN_ERR_PORTAL_HANDOFF:client_mac');
  assert.equal(code({ id: 'zz:zz:zz:zz:zz:zz', ap: '94:2a:6f:d0:30:57' }), 'CAIRN_ERR_PORTAL_HANDOFF:id');
  assert.equal(code({ client_mac: '1c:71:25:63:e4:24', ap_mac: 'nope' }), 'CAIRN_ERR_PORTAL_HANDOFF:ap_mac');
  assert.equal(code({ client_mac: '1c:71:25:63:e4:24', url: 'javascript:alert(1)' }), 'CAIRN_ERR_PORTAL_HANDOFF:url');
  assert.equal(code({ client_mac: '1c:71:25:63:e4:24', ssid: 'a\nb' }), 'CAIRN_ERR_PORTAL_HANDOFF:ssid');
  assert.equal(code({ client_mac: '1c:71:25:63:e4:24', ssid: 'x'.repeat(33) }), 'CAIRN_ERR_PORTAL_HANDOFF:ssid');
  assert.equal(code({ client_mac: ['1c:71:25:63:e4:24', '1c:71:25:63:e4:25'] }), 'CAIRN_ERR_PORTAL_HANDOFF:client_mac');
  assert.equal(code({ client_mac: '1c:71:25:63:e4:24', url: `http://example.com/${'a'.repeat(3000)}` }), 'CAIRN_ERR_PORTAL_HANDOFF:url');
});

test('the language follows Accept-Language (q-values, regions), English when nothing fits', () => {
  assert.equal(negotiate('nl-NL,nl;q=0.9,en;q=0.8'), 'nl');
  assert.equal(negotiate('en-GB,nl;q=0.9'), 'en');
  assert.equal(negotiate('de-DE,nl-BE;q=0.7,en;q=0.3'), 'nl');
  assert.equal(negotiate('fr'), 'en');
  assert.equal(negotiate(undefined), 'en');
  assert.equal(negotiate('nl', 'en'), 'en', 'an explicit choice wins');
  assert.equal(negotiate('nl', 'xx'), 'nl');
});

test('terms text is escaped into paragraphs', () => {
  assert.equal(paragraphs('a <b>\nline\n\n\nnext & more'), '<p>a &lt;b&gt;<br>line</p>\n<p>next &amp; more</p>');
  assert.equal(esc(`"'`), '&quot;&#39;');
});

test('a signed result verifies with the secret; any change, another secret or age fails', () => {
  const now = Date.UTC(2025, 0, 1);
  const r = signResult('site-secret', { site: 's', decision: 'accepted', terms: '3', client_mac: '1c:71:25:63:e4:24', ap_mac: '', ssid: 'Cafe', url: 'http://example.com/' }, now);
  assert.equal(r.exp, String(now / 1000 + 300));
  const { sig, ...fields } = r;
  assert.equal(createHmac('sha256', 'site-secret').update(resultText(fields)).digest('hex'), sig, 'the documented text is what is signed');
  assert.equal(checkResult('site-secret', r, now).decision, 'accepted');
  const fail = (input: Record<string, unknown>, secret = 'site-secret', at = now) => {
    try {
      checkResult(secret, input, at);
      return 'ok';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };
  assert.equal(fail({ ...r, decision: 'declined' }), 'CAIRN_ERR_PORTAL_RESULT_INVALID');
  assert.equal(fail(r, 'other-secret'), 'CAIRN_ERR_PORTAL_RESULT_INVALID');
  assert.equal(fail({ ...r, nonce: 'short' }), 'CAIRN_ERR_PORTAL_RESULT_INVALID');
  assert.equal(fail(r, 'site-secret', now + 301_000), 'CAIRN_ERR_PORTAL_RESULT_EXPIRED');
  assert.notEqual(signResult('site-secret', fields, now).nonce, r.nonce, 'every result has its own nonce');
});

test('a splash form is valid for 30 minutes and only as signed', () => {
  const now = Date.UTC(2025, 0, 1);
  const f: Record<FormField, string> = { site: 's', terms_id: 't', client_mac: '1c:71:25:63:e4:24', ap_mac: '', ssid: '', url: '', grant: '', vendor: 'unifi', lang: 'nl', issued: String(now) };
  const token = signForm('k', f);
  assert.doesNotThrow(() => checkForm('k', f, token, now + 29 * 60_000));
  assert.throws(() => checkForm('k', f, token, now + 31 * 60_000), { code: 'CAIRN_ERR_PORTAL_FORM_EXPIRED' });
  assert.throws(() => checkForm('k', { ...f, terms_id: 'u' }, token, now), { code: 'CAIRN_ERR_PORTAL_FORM_EXPIRED' });
  assert.throws(() => checkForm('k', f, 'zz', now), { code: 'CAIRN_ERR_PORTAL_FORM_EXPIRED' });
});

test('unsubscribe tokens name org and subscription and hold only under the org key', () => {
  const key = Buffer.alloc(32, 7);
  const org = '01900000-0000-7000-8000-000000000001';
  const sub = '01900000-0000-7000-8000-0000000000aa';
  const t = unsubscribeToken(key, org, sub);
  assert.ok(t.length <= 80, 'short enough for a path segment');
  assert.deepEqual(parseUnsubscribeToken(t), { orgId: org, subscriptionId: sub });
  assert.equal(unsubscribeTokenValid(key, t), true);
  assert.equal(unsubscribeTokenValid(Buffer.alloc(32, 8), t), false);
  assert.equal(unsubscribeTokenValid(key, unsubscribeToken(key, org, '01900000-0000-7000-8000-0000000000ab').replace(/\.[^.]+$/, t.slice(t.lastIndexOf('.')))), false);
  assert.equal(parseUnsubscribeToken('u1.x.y.z'), null);
});
