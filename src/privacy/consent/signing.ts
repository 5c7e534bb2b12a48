/**
 * Signatures of the guest portal (R-PRIV-5), all HMAC-SHA256, pure:
 *
 *  - The result handed to the controller after the guest's decision. The controller (or a small
 *    gateway script) checks it with the site's portal secret, or asks Cairn
 *    (`POST /portal/{orgId}/{siteId}/verify`), which also refuses a replay. The signed text is
 *    `cairn-portal-result/1` and then one `name=value` line per field, in this order:
 *    `site, decision, terms, client_mac, ap_mac, ssid, url, exp, nonce` (values never hold a
 *    line break: the hand-off refuses control characters); `sig` is its lowercase hex HMAC.
 *    `exp` is in epoch seconds; `nonce` 32 hex digits.
 *  - The splash form: the hand-off and the terms version shown, signed when the page is served,
 *    so a decision is recorded against exactly the text the guest saw, within 30 minutes.
 *  - Unsubscribe links: `u1.<org>.<subscription>.<mac>` (base64url), signed with the org's signing key.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';

export const RESULT_FIELDS = ['site', 'decision', 'terms', 'client_mac', 'ap_mac', 'ssid', 'url', 'exp', 'nonce'] as const;
export type ResultField = (typeof RESULT_FIELDS)[number];
/** A signed result: every field of {@link RESULT_FIELDS} plus `sig`. */
export type PortalResult = Record<ResultField | 'sig', string>;

/** How long a result may be presented to the controller, seconds. */
export const RESULT_TTL_SECONDS = 300;
/** How long a splash page may be answered, ms. */
export const FORM_TTL_MS = 30 * 60_000;

function hmacHex(key: Buffer | string, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]*$/.test(a)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** The text a result's signature covers. */
export function resultText(r: Record<ResultField, string>): string {
  return ['cairn-portal-result/1', ...RESULT_FIELDS.map((f) => `${f}=${r[f]}`)].join('\n');
}

/**
 * Sign a result with the site's portal secret; adds `exp` (now + 5 min) and a fresh nonce.
 *
 * @example signResult(secret, { site, decision: 'accepted', terms: '3', client_mac, ap_mac, ssid, url }, Date.now())
 */
export function signResult(secret: string, fields: Omit<Record<ResultField, string>, 'exp' | 'nonce'>, nowMs: number): PortalResult {
  const r: Record<ResultField, string> = { ...fields, exp: String(Math.floor(nowMs / 1000) + RESULT_TTL_SECONDS), nonce: randomBytes(16).toString('hex') };
  return { ...r, sig: hmacHex(secret, resultText(r)) };
}

/**
 * Check a result's form and signature (not its single use: that needs the store). Throws
 * CAIRN_ERR_PORTAL_RESULT_INVALID (malformed, wrong signature) or _EXPIRED.
 */
export function checkResult(secret: string, input: Record<string, unknown>, nowMs: number): PortalResult {
  const r = {} as PortalResult;
  for (const f of [...RESULT_FIELDS, 'sig'] as const) {
    const v = input[f];
    if (typeof v !== 'string' || v.length > 2048 || /[\u0000-\u001f\u007f]/.test(v)) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_INVALID', `The result's ${f} is missing or malformed.`, { field: f });
    r[f] = v;
  }
  if (!/^[0-9a-f]{32}$/.test(r.nonce) || !/^\d{1,12}$/.test(r.exp) || !/^[0-9a-f]{64}$/.test(r.sig)) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_INVALID', 'The result is malformed.');
  if (!sameHex(hmacHex(secret, resultText(r)), r.sig)) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_INVALID', 'The result\'s signature does not match.', { reason: 'signature' });
  if (Number(r.exp) * 1000 < nowMs) throw new CairnError('CAIRN_ERR_PORTAL_RESULT_EXPIRED');
  return r;
}

export const FORM_FIELDS = ['site', 'terms_id', 'client_mac', 'ap_mac', 'ssid', 'url', 'grant', 'vendor', 'lang', 'issued'] as const;
export type FormField = (typeof FORM_FIELDS)[number];

/** Sign the splash form's hidden fields. */
export function signForm(secret: string, f: Record<FormField, string>): string {
  return hmacHex(secret, ['cairn-portal-form/1', ...FORM_FIELDS.map((k) => `${k}=${f[k]}`)].join('\n'));
}

/** Check a posted form's token and age; CAIRN_ERR_PORTAL_FORM_EXPIRED when altered or too old. */
export function checkForm(secret: string, f: Record<FormField, string>, token: string, nowMs: number): void {
  const issued = Number(f.issued);
  if (!/^\d{1,15}$/.test(f.issued) || !sameHex(signForm(secret, f), token)) throw new CairnError('CAIRN_ERR_PORTAL_FORM_EXPIRED', undefined, { reason: 'signature' });
  if (issued > nowMs + 60_000 || nowMs - issued > FORM_TTL_MS) throw new CairnError('CAIRN_ERR_PORTAL_FORM_EXPIRED', undefined, { reason: 'age' });
}

/** A UUID as 22 base64url characters (its 16 bytes), and back. */
const compact = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex').toString('base64url');
function uuid(b64: string): string | null {
  const b = Buffer.from(b64, 'base64url');
  if (b.length !== 16 || b.toString('base64url') !== b64) return null;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The token of an unsubscribe link: org and subscription ids and a 128-bit HMAC under the org's
 * signing key, 71 characters. It never expires: the link must keep working.
 */
export function unsubscribeToken(key: Buffer, orgId: string, subscriptionId: string): string {
  const mac = createHmac('sha256', key).update(`cairn-unsubscribe/1\n${orgId}\n${subscriptionId}`).digest().subarray(0, 16).toString('base64url');
  return `u1.${compact(orgId)}.${compact(subscriptionId)}.${mac}`;
}

export const UNSUBSCRIBE_TOKEN_PATTERN = '^u1\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{22}$';

/** The org and subscription a token names (not yet verified), or null when it is not one. */
export function parseUnsubscribeToken(token: string): { orgId: string; subscriptionId: string } | null {
  const m = /^u1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return null;
  const orgId = uuid(m[1]!);
  const subscriptionId = uuid(m[2]!);
  return orgId && subscriptionId ? { orgId, subscriptionId } : null;
}

/** Whether a token's signature holds under the org's key. */
export function unsubscribeTokenValid(key: Buffer, token: string): boolean {
  const p = parseUnsubscribeToken(token);
  if (!p) return false;
  const want = unsubscribeToken(key, p.orgId, p.subscriptionId);
  return want.length === token.length && timingSafeEqual(Buffer.from(want), Buffer.from(token));
}
