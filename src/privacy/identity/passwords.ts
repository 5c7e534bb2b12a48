/** Password hashing with argon2id (OWASP parameters: 19 MiB, 2 iterations, 1 lane). */
import argon2 from 'argon2';
import { CairnError } from '../../kernel/errors.ts';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A fixed hash to verify against when the account does not exist, so timing reveals nothing. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword('cairn-dummy-password-for-timing');
  return dummy;
}

/** At least 12 characters, at most 1024. */
export function checkPasswordPolicy(password: string): void {
  if (password.length < 12) throw new CairnError('CAIRN_ERR_VALIDATION', 'The password must be at least 12 characters long.', { field: 'password' });
  if (password.length > 1024) throw new CairnError('CAIRN_ERR_VALIDATION', 'The password must be at most 1024 characters long.', { field: 'password' });
}
