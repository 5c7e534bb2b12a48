/**
 * Org keys (R-SEC-2, R-LOC-5). Each org has a data key (AES-256-GCM, versioned for rotation) and
 * a pseudonym key (HMAC-SHA256), both stored wrapped by the master key. Device ids become
 * pseudonyms: HMAC of the normalised identifier under the org's pseudonym key, never a bare hash.
 * Personal fields that must be readable later are encrypted under the data key. Destroying an
 * org's keys makes all of its ciphertext and pseudonym linkage unrecoverable (crypto-shredding).
 */
import { randomBytes } from 'node:crypto';
import { CairnError } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Clock } from '../../kernel/clock.ts';
import { controlRepo, reposFor, type Executor, type OrgKeyRow, type Stores } from '../../storage/index.ts';
import { aesGcmDecrypt, aesGcmEncrypt, ciphertextKeyVersion } from './crypto.ts';
import { FastHmac } from './fasthmac.ts';
import type { KeyProvider } from './master.ts';

/** Kinds of identifier a pseudonym can stand for; part of the HMAC input (domain separation). */
export type IdKind = 'mac' | 'badge' | 'app' | 'asset' | 'user' | 'ip';

interface OrgKeys {
  dataVersions: Map<number, Buffer>;
  activeData: number;
  pseudo: FastHmac;
  /** Pseudonyms by id kind, keyed by the identifier exactly as it arrived (no normalising on a hit). */
  pseudoCache: Map<IdKind, Map<string, string>>;
}

const HEXVAL = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEXVAL[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEXVAL[97 + i] = 10 + i;
  HEXVAL[65 + i] = 10 + i;
}
const HEXCH = '0123456789abcdef';
const macScratch = Buffer.alloc(16);
macScratch.write('mac:', 0, 'latin1');

/**
 * Write `mac:` + 12 lowercase hex digits of a MAC in any usual notation into a shared scratch
 * buffer without a regular expression; false when it is not a MAC.
 */
function macInput(raw: string): boolean {
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 58 || c === 45 || c === 46 || c === 32) continue;
    const v = c < 128 ? HEXVAL[c]! : -1;
    if (v < 0 || n === 12) return false;
    macScratch[4 + n++] = HEXCH.charCodeAt(v);
  }
  return n === 12;
}

const PSEUDO_CACHE_MAX = 200_000;

/**
 * Normalise a MAC address in any usual notation to 12 lowercase hex digits, or null.
 * @example normaliseMac('AA-BB-CC-dd-ee-ff') === 'aabbccddeeff'
 */
export function normaliseMac(raw: string): string | null {
  const hex = raw.trim().toLowerCase().replace(/[:\-.\s]/g, '');
  return /^[0-9a-f]{12}$/.test(hex) ? hex : null;
}

/** Canonical form of an identifier before it is pseudonymised. */
export function normaliseId(kind: IdKind, raw: string): string {
  if (kind === 'mac') {
    const m = normaliseMac(raw);
    if (!m) throw new CairnError('CAIRN_ERR_VALIDATION', 'Not a MAC address.');
    return m;
  }
  if (kind === 'user') return raw.trim().toLowerCase();
  return raw.trim();
}

const SERVER_SECRETS = ['lookup/email', 'server-data'] as const;
type ServerSecret = (typeof SERVER_SECRETS)[number];

export class KeyService {
  private cache = new Map<string, OrgKeys>();
  private server = new Map<ServerSecret, Buffer>();
  private lookups = new Map<string, FastHmac>();
  constructor(
    private readonly provider: KeyProvider,
    private readonly clock: Clock,
  ) {}

  get providerId(): string {
    return this.provider.id;
  }

  /** Create an org's first data and pseudonym keys (inside the org-creation transaction). */
  async createOrgKeys(x: Executor, orgId: string): Promise<void> {
    const repo = reposFor(x).keys;
    for (const purpose of ['data', 'pseudonym'] as const) {
      await repo.insert({ id: newId(), org_id: orgId, purpose, version: 1, wrapped: await this.provider.wrap(randomBytes(32), `${orgId}|${purpose}|1`), provider: this.provider.id, status: 'active', created_at: this.clock.nowMs() });
    }
  }

  /** Load and unwrap an org's keys (cached). Destroyed keys → CAIRN_ERR_KEY_DESTROYED. */
  async load(x: Executor, orgId: string): Promise<OrgKeys> {
    const hit = this.cache.get(orgId);
    if (hit) return hit;
    const rows = await reposFor(x).keys.listForOrg(orgId);
    return this.install(orgId, rows);
  }

  private async install(orgId: string, rows: OrgKeyRow[]): Promise<OrgKeys> {
    const usable = rows.filter((r) => r.status !== 'destroyed' && r.wrapped);
    const pseudoRow = usable.filter((r) => r.purpose === 'pseudonym').sort((a, b) => b.version - a.version)[0];
    const data = usable.filter((r) => r.purpose === 'data');
    const active = data.find((r) => r.status === 'active');
    if (!pseudoRow || !active) throw new CairnError('CAIRN_ERR_KEY_DESTROYED', 'The keys of this org have been destroyed.');
    const dataVersions = new Map<number, Buffer>();
    for (const r of data) dataVersions.set(r.version, await this.provider.unwrap(r.wrapped!, `${orgId}|data|${r.version}`));
    const keys: OrgKeys = {
      dataVersions,
      activeData: active.version,
      pseudo: new FastHmac(await this.provider.unwrap(pseudoRow.wrapped!, `${orgId}|pseudonym|${pseudoRow.version}`)),
      pseudoCache: new Map(),
    };
    this.cache.set(orgId, keys);
    return keys;
  }

  /**
   * The pseudonym of an identifier: 128-bit keyed HMAC, hex. Deterministic per org, unlinkable
   * across orgs. `kind` separates domains (a badge id never collides with a MAC).
   * @example await keys.pseudonym(x, orgId, 'mac', 'AA:BB:CC:DD:EE:FF') // '3f9c…' (32 hex)
   */
  async pseudonym(x: Executor, orgId: string, kind: IdKind, raw: string): Promise<string> {
    return this.pseudonymWith(await this.load(x, orgId), kind, raw);
  }

  /** Synchronous pseudonymiser for hot paths (ingest): load the org's keys once, then call. */
  async pseudonymiser(x: Executor, orgId: string): Promise<(kind: IdKind, raw: string) => string> {
    const k = await this.load(x, orgId);
    return (kind, raw) => this.pseudonymWith(k, kind, raw);
  }

  private pseudonymWith(k: OrgKeys, kind: IdKind, raw: string): string {
    let cache = k.pseudoCache.get(kind);
    if (!cache) {
      cache = new Map();
      k.pseudoCache.set(kind, cache);
    }
    let p = cache.get(raw);
    if (p === undefined) {
      if (kind === 'mac') {
        if (!macInput(raw)) throw new CairnError('CAIRN_ERR_VALIDATION', 'Not a MAC address.');
        p = k.pseudo.hex(macScratch);
      } else {
        p = k.pseudo.hex(Buffer.from(`${kind}:${normaliseId(kind, raw)}`));
      }
      if (cache.size >= PSEUDO_CACHE_MAX) cache.clear();
      cache.set(raw, p);
    }
    return p;
  }

  /** Encrypt a personal field under the org's active data key; `field` names it (`devices.ip`). */
  async encrypt(x: Executor, orgId: string, field: string, plain: string): Promise<Buffer> {
    return this.encryptBytes(x, orgId, field, Buffer.from(plain, 'utf8'));
  }

  /** Encrypt bytes (file bodies, whole messages) under the org's active data key. */
  async encryptBytes(x: Executor, orgId: string, field: string, plain: Uint8Array): Promise<Buffer> {
    const k = await this.load(x, orgId);
    return aesGcmEncrypt(k.dataVersions.get(k.activeData)!, k.activeData, Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength), `${orgId}|${field}`);
  }

  async encryptOptional(x: Executor, orgId: string, field: string, plain: string | undefined | null): Promise<Buffer | null> {
    return plain === undefined || plain === null || plain === '' ? null : this.encrypt(x, orgId, field, plain);
  }

  async decrypt(x: Executor, orgId: string, field: string, blob: Buffer): Promise<string> {
    return (await this.decryptBytes(x, orgId, field, blob)).toString('utf8');
  }

  /** The bytes of a value encrypted with `encryptBytes` (or `encrypt`). */
  async decryptBytes(x: Executor, orgId: string, field: string, blob: Buffer): Promise<Buffer> {
    const k = await this.load(x, orgId);
    const key = k.dataVersions.get(ciphertextKeyVersion(blob));
    if (!key) throw new CairnError('CAIRN_ERR_KEY_DESTROYED', 'The key of this value is no longer available.');
    return aesGcmDecrypt(key, blob, `${orgId}|${field}`);
  }

  async decryptOptional(x: Executor, orgId: string, field: string, blob: Buffer | null): Promise<string | null> {
    return blob ? this.decrypt(x, orgId, field, blob) : null;
  }

  /** New data-key version; new writes use it, older ciphertext stays readable. Returns the version. */
  async rotateDataKey(x: Executor, orgId: string): Promise<number> {
    const repo = reposFor(x).keys;
    const rows = await repo.listForOrg(orgId);
    if (rows.some((r) => r.status === 'destroyed')) throw new CairnError('CAIRN_ERR_KEY_DESTROYED');
    const next = Math.max(0, ...rows.filter((r) => r.purpose === 'data').map((r) => r.version)) + 1;
    await repo.retireActive(orgId, 'data');
    await repo.insert({ id: newId(), org_id: orgId, purpose: 'data', version: next, wrapped: await this.provider.wrap(randomBytes(32), `${orgId}|data|${next}`), provider: this.provider.id, status: 'active', created_at: this.clock.nowMs() });
    this.cache.delete(orgId);
    return next;
  }

  /** Re-wrap every key of an org under another master key provider (master-key rotation). */
  async rewrapOrg(x: Executor, orgId: string, to: KeyProvider): Promise<number> {
    const repo = reposFor(x).keys;
    let n = 0;
    for (const r of await repo.listForOrg(orgId)) {
      if (!r.wrapped) continue;
      const plain = await this.provider.unwrap(r.wrapped, `${orgId}|${r.purpose}|${r.version}`);
      await repo.rewrap(r.id, await to.wrap(plain, `${orgId}|${r.purpose}|${r.version}`), to.id);
      n++;
    }
    return n;
  }

  /** Crypto-shred an org: its wrapped keys are erased; ciphertext and pseudonyms become unlinkable. */
  async destroyOrgKeys(x: Executor, orgId: string): Promise<number> {
    this.cache.delete(orgId);
    return reposFor(x).keys.destroyAll(orgId);
  }

  /** Forget cached keys (after another process rotated or destroyed them). */
  evict(orgId: string): void {
    this.cache.delete(orgId);
  }

  /**
   * Load (or create on first start) the server-wide secrets: random keys stored in the control
   * store wrapped by the master key, so rotating the master key only re-wraps them.
   */
  async initServerSecrets(control: Executor): Promise<void> {
    const repo = controlRepo(control);
    for (const name of SERVER_SECRETS) {
      const row = await repo.getSetting(`secret.${name}`);
      let key: Buffer;
      if (row) key = await this.provider.unwrap(Buffer.from(row.value, 'base64'), `server|${name}`);
      else {
        key = randomBytes(32);
        await repo.setSetting(`secret.${name}`, (await this.provider.wrap(key, `server|${name}`)).toString('base64'));
      }
      this.server.set(name, key);
    }
    this.lookups.clear();
  }

  private serverKey(name: ServerSecret): Buffer {
    const k = this.server.get(name);
    if (!k) throw new CairnError('CAIRN_ERR_INTERNAL', 'Server secrets are not loaded.');
    return k;
  }

  /** Server-wide keyed lookup (e-mail → account) that does not store the address. */
  lookupHash(purpose: 'email', value: string): string {
    let h = this.lookups.get(purpose);
    if (!h) {
      h = new FastHmac(this.serverKey('lookup/email'));
      this.lookups.set(purpose, h);
    }
    return h.hex(Buffer.from(value.trim().toLowerCase()), 8);
  }

  /**
   * Master-key rotation: re-wrap every org key of every region, the audit signing keys and the
   * server secrets under `to`. Afterwards start the server with the new master key.
   */
  async rewrapAll(stores: Stores, to: KeyProvider): Promise<{ orgKeys: number; signingKeys: number; serverSecrets: number }> {
    let orgKeys = 0;
    let signingKeys = 0;
    for (const region of stores.regions) {
      const db = stores.region(region);
      await db.tx(async (x) => {
        for (const org of await reposFor(x).tenancy.listOrgs()) orgKeys += await this.rewrapOrg(x, org.id, to);
        for (const k of await reposFor(x).keys.listSigningKeys()) {
          const plain = await this.provider.unwrap(k.private_wrapped, `audit-signing|${k.id}`);
          await reposFor(x).keys.rewrapSigningKey(k.id, await to.wrap(plain, `audit-signing|${k.id}`));
          signingKeys++;
        }
      });
    }
    const repo = controlRepo(stores.control);
    for (const name of SERVER_SECRETS) await repo.setSetting(`secret.${name}`, (await to.wrap(this.serverKey(name), `server|${name}`)).toString('base64'));
    return { orgKeys, signingKeys, serverSecrets: SERVER_SECRETS.length };
  }

  /** Wrap and unwrap server secrets (signing keys) with the master key. */
  wrapSecret(plain: Buffer, context: string): Promise<Buffer> {
    return this.provider.wrap(plain, context);
  }
  unwrapSecret(wrapped: Buffer, context: string): Promise<Buffer> {
    return this.provider.unwrap(wrapped, context);
  }

  /** Server-side encryption for records that belong to no org (operator staff e-mail). */
  encryptServer(field: string, plain: string): Buffer {
    return aesGcmEncrypt(this.serverKey('server-data'), 1, Buffer.from(plain), `server|${field}`);
  }
  decryptServer(field: string, blob: Buffer): string {
    return aesGcmDecrypt(this.serverKey('server-data'), blob, `server|${field}`).toString('utf8');
  }
}
