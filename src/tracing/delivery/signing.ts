/**
 * Signatures of outgoing webhooks (HMAC-SHA256 under the channel's secret). Two headers, so that
 * both kinds of receiver can check them:
 *  - `X-Mist-Signature-v2: hex(HMAC-SHA256(secret, body))`, what Juniper Mist sends, so receivers
 *    written for Mist's `occupancy-alerts` topic verify Cairn's alerts unchanged;
 *  - `X-Cairn-Signature: t=<unix seconds>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`, which also
 *    binds the send time, so a receiver can refuse replays older than a tolerance.
 * Verification compares in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CAIRN_SIGNATURE_HEADER = 'x-cairn-signature';
export const MIST_COMPATIBLE_SIGNATURE_HEADER = 'x-mist-signature-v2';

/**
 * The signature headers for `body` sent at `atMs` under `secret`.
 *
 * @example signatureHeaders('{"topic":"ping"}', 'test-secret-not-real', 1_700_000_000_000)['X-Cairn-Signature'] // 't=1700000000,v1=…'
 */
export function signatureHeaders(body: string, secret: string, atMs: number): Record<string, string> {
  const t = Math.floor(atMs / 1000);
  return {
    'X-Mist-Signature-v2': createHmac('sha256', secret).update(body).digest('hex'),
    'X-Cairn-Signature': `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`,
  };
}

function same(hex: string, want: Buffer): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const got = Buffer.from(hex, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Check an `X-Cairn-Signature` header for `body` (what a receiver does): true when it matches and
 * its time is within `toleranceSeconds` of `nowMs`.
 *
 * @example verifyCairnSignature(rawBody, req.headers['x-cairn-signature'], secret, Date.now())
 */
export function verifyCairnSignature(body: string | Buffer, header: string | undefined, secret: string, nowMs: number, toleranceSeconds = 300): boolean {
  if (typeof header !== 'string') return false;
  const parts = new Map(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isSafeInteger(t) || v1 === undefined || Math.abs(nowMs / 1000 - t) > toleranceSeconds) return false;
  return same(v1, createHmac('sha256', secret).update(`${t}.`).update(body).digest());
}

/** Check an `X-Mist-Signature-v2` header for `body` (body only, no time: as Mist receivers do). */
export function verifyMistCompatibleSignature(body: string | Buffer, header: string | undefined, secret: string): boolean {
  return typeof header === 'string' && same(header.trim(), createHmac('sha256', secret).update(body).digest());
}
