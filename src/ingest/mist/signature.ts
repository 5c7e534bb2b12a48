/**
 * Mist webhook signatures. When a secret is set, Mist sends `X-Mist-Signature-v2:
 * HMAC_SHA256(secret, body)` over the raw request body (and a legacy SHA-1 `X-Mist-Signature`,
 * which Cairn ignores). Verification runs on the raw bytes, before any JSON parsing, and compares
 * in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { reject } from '../errors.ts';

/** The header Mist signs with (SHA-256), lower-case as Node presents incoming headers. */
export const MIST_SIGNATURE_HEADER = 'x-mist-signature-v2';

const HEX64 = /^[0-9a-fA-F]{64}$/;
const B64_32 = /^[A-Za-z0-9+/]{43}=$/;

/**
 * The hex HMAC-SHA256 of `rawBody` under `secret`: what Mist puts in `X-Mist-Signature-v2`.
 *
 * @example mistSignature('{"topic":"ping"}', 'test-secret-not-real') // 64 hex chars
 */
export function mistSignature(rawBody: string | Uint8Array, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('hex');
}

/**
 * Check `X-Mist-Signature-v2` against the raw body; throw `CAIRN_ERR_SIGNATURE` (`missing_signature`
 * or `bad_signature`) when it is absent or does not match. The header is expected in hex; base64
 * of the same digest is accepted too, because Mist's spec does not name the encoding.
 *
 * @example verifyMistSignature(req.rawBody, req.headers['x-mist-signature-v2'], tenant.mistSecret)
 */
export function verifyMistSignature(rawBody: string | Uint8Array, header: string | readonly string[] | undefined, secret: string): void {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new CairnError('CAIRN_ERR_CONFIG', 'No Mist webhook secret is configured for this source.');
  }
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw reject('CAIRN_ERR_SIGNATURE', 'mist', 'missing_signature', 'The X-Mist-Signature-v2 header is missing.');
  }
  const v = value.trim();
  const got = HEX64.test(v) ? Buffer.from(v, 'hex') : B64_32.test(v) ? Buffer.from(v, 'base64') : undefined;
  const want = createHmac('sha256', secret).update(rawBody).digest();
  if (got === undefined || got.length !== want.length || !timingSafeEqual(got, want)) {
    throw reject('CAIRN_ERR_SIGNATURE', 'mist', 'bad_signature', 'The X-Mist-Signature-v2 header does not match the body.');
  }
}
