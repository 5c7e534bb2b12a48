/**
 * Field encryption (AES-256-GCM) and key derivation. Ciphertext layout, version 1:
 * `[0x01][key version: uint32 BE][iv: 12][tag: 16][ciphertext]`. The additional data binds a
 * ciphertext to its org and field (`<orgId>|users.email`), so a value copied into another row
 * or another org does not decrypt.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';

const FORMAT = 1;

/** IVs are cut from a pool refilled 4 KiB at a time: one system call per 341 encryptions. */
const IV_POOL = Buffer.alloc(4092);
let ivOffset = IV_POOL.length;
function nextIv(): Buffer {
  if (ivOffset + 12 > IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivOffset = 0;
  }
  const iv = Buffer.from(IV_POOL.subarray(ivOffset, ivOffset + 12));
  ivOffset += 12;
  return iv;
}

export function aesGcmEncrypt(key: Buffer, keyVersion: number, plain: Buffer, aad: string): Buffer {
  const iv = nextIv();
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plain), c.final()]);
  const head = Buffer.alloc(5);
  head[0] = FORMAT;
  head.writeUInt32BE(keyVersion, 1);
  return Buffer.concat([head, iv, c.getAuthTag(), body]);
}

/** The key version a ciphertext was written with (to pick the key before decrypting). */
export function ciphertextKeyVersion(blob: Buffer): number {
  if (blob.length < 33 || blob[0] !== FORMAT) throw new CairnError('CAIRN_ERR_DECRYPT', 'Unknown ciphertext format.');
  return blob.readUInt32BE(1);
}

export function aesGcmDecrypt(key: Buffer, blob: Buffer, aad: string): Buffer {
  ciphertextKeyVersion(blob);
  const d = createDecipheriv('aes-256-gcm', key, blob.subarray(5, 17));
  d.setAAD(Buffer.from(aad));
  d.setAuthTag(blob.subarray(17, 33));
  try {
    return Buffer.concat([d.update(blob.subarray(33)), d.final()]);
  } catch {
    throw new CairnError('CAIRN_ERR_DECRYPT', 'Ciphertext failed authentication (wrong key, org or field).');
  }
}

/** HKDF-SHA256 sub-key of `length` bytes for a named purpose. */
export function deriveKey(ikm: Buffer, purpose: string, length = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.from(`cairn/${purpose}`), length));
}
