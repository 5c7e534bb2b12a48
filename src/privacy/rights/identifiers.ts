/**
 * How a data subject names themself (R-PRIV-4): an e-mail address, a MAC address, a badge id or a
 * username. Each is checked and normalised the way the modules that store it normalise it (a MAC
 * to 12 lowercase hex digits as ingest pseudonymises it, a username lower-cased, a badge id
 * trimmed), so the same pseudonyms come out. A malformed identifier is refused with
 * CAIRN_ERR_DSAR_IDENTIFIER, whose message never repeats the value.
 */
import { CairnError } from '../../kernel/errors.ts';
import { normaliseMac } from '../keys/index.ts';
import type { DsarIdKind } from './types.ts';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;
const EMAIL = /^[^\s@"<>(),;:\\[\]]{1,64}@(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function bad(kind: DsarIdKind, why: string): CairnError {
  return new CairnError('CAIRN_ERR_DSAR_IDENTIFIER', `The ${kind === 'mac' ? 'MAC address' : kind === 'email' ? 'e-mail address' : kind === 'badge' ? 'badge id' : 'username'} is not valid: ${why}.`, { field: 'identifier', kind });
}

/**
 * Check and normalise an e-mail address (trimmed, lower-cased, at most 254 characters).
 * @example normaliseEmail(' Ann@Example.ORG ') === 'ann@example.org'
 */
export function normaliseEmail(raw: string): string {
  const v = raw.trim().toLowerCase();
  if (v.length === 0 || v.length > 254) throw bad('email', 'it must be 1 to 254 characters');
  if (CONTROL.test(v) || !EMAIL.test(v)) throw bad('email', 'expected name@domain.example');
  return v;
}

/**
 * Check and normalise an identifier of the given kind.
 * @example normaliseIdentifier('mac', 'AA-BB-CC-DD-EE-01') === 'aabbccddee01'
 */
export function normaliseIdentifier(kind: DsarIdKind, raw: unknown): string {
  if (typeof raw !== 'string') throw bad(kind, 'it must be text');
  switch (kind) {
    case 'email':
      return normaliseEmail(raw);
    case 'mac': {
      const m = normaliseMac(raw);
      if (!m) throw bad('mac', 'expected six pairs of hex digits such as 00:11:22:aa:bb:cc');
      if (m === '000000000000' || m === 'ffffffffffff') throw bad('mac', 'it names no device');
      if ((parseInt(m.slice(0, 2), 16) & 1) === 1) throw bad('mac', 'it is a group (multicast) address, not a device');
      return m;
    }
    case 'badge': {
      const v = raw.trim();
      if (v.length === 0 || v.length > 128) throw bad('badge', 'it must be 1 to 128 characters');
      if (CONTROL.test(v)) throw bad('badge', 'it holds control characters');
      return v;
    }
    case 'username': {
      const v = raw.trim().toLowerCase();
      if (v.length === 0 || v.length > 128) throw bad('username', 'it must be 1 to 128 characters');
      if (CONTROL.test(v) || /\s/.test(v)) throw bad('username', 'it holds spaces or control characters');
      return v;
    }
  }
}
