/**
 * Identifiers. Record ids are time-ordered, URL-safe and unguessable (UUIDv7 layout), so they sort
 * by creation and reveal nothing else.
 */
import { randomBytes } from 'node:crypto';

/** A UUIDv7 string: 48-bit millisecond time, then 74 random bits. */
export function newId(nowMs: number = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function isId(s: string): boolean {
  return UUID_RE.test(s);
}

/** A random secret, base64url, with `bytes` of entropy (default 32 = 256 bits). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
