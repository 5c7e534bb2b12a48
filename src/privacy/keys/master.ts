/**
 * Master key providers. Org keys are stored wrapped (encrypted) by the master key; only a
 * provider can unwrap them. `LocalKeyProvider` holds the master key in memory (from
 * configuration or a 0600 key file); a KMS provider implements the same two calls.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { aesGcmDecrypt, aesGcmEncrypt, deriveKey } from './crypto.ts';

export interface KeyProvider {
  /** Stable name stored beside each wrapped key, so the right provider unwraps it. */
  readonly id: string;
  wrap(plain: Buffer, context: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, context: string): Promise<Buffer>;
}

export class LocalKeyProvider implements KeyProvider {
  readonly id: string;
  private readonly kek: Buffer;
  constructor(master: Buffer) {
    if (master.length !== 32) throw new CairnError('CAIRN_ERR_CONFIG', 'The master key must be 32 bytes.');
    this.kek = deriveKey(master, 'kek');
    this.id = `local:${deriveKey(master, 'key-id', 4).toString('hex')}`;
  }
  async wrap(plain: Buffer, context: string): Promise<Buffer> {
    return aesGcmEncrypt(this.kek, 1, plain, `wrap|${context}`);
  }
  async unwrap(wrapped: Buffer, context: string): Promise<Buffer> {
    return aesGcmDecrypt(this.kek, wrapped, `wrap|${context}`);
  }
}

/**
 * The master key from configuration, or from the key file (created with mode 0600 on first
 * start of an embedded install). Returns where it came from for the start-up message.
 */
export function loadMasterKey(cfg: { masterKey?: string | undefined; masterKeyFile?: string | undefined; dataDir: string }): { key: Buffer; source: string } {
  if (cfg.masterKey) return { key: Buffer.from(cfg.masterKey, 'base64'), source: 'CAIRN_MASTER_KEY' };
  const file = cfg.masterKeyFile ?? join(cfg.dataDir, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration masterKeyFile: ${file} must hold 32 bytes, base64-encoded.`, { key: 'masterKeyFile' });
  return { key, source: file };
}
