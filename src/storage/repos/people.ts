/**
 * The optional people directory (issue 4, R-CT-5, R-DATA-11, class `identity_links`): people with
 * their own id, name and e-mail as ciphertext under the org key (found by a keyed hash of the
 * org's id), and the devices linked to them by pseudonym only. Unlinking deletes the link row;
 * deleting a person deletes their links (foreign key cascade).
 */
import type { Executor } from '../db.ts';

/** R-DATA-11 personal: a person of the org's directory. Every identifying field is ciphertext. */
export interface PersonRow {
  id: string;
  org_id: string;
  /** HMAC(org pseudonym key, the org's person id): finds a person by the org's own id. */
  ref_key: string;
  /** R-DATA-11 personal: the org's own person id, AES-256-GCM under the org key. */
  ref_enc: Buffer;
  /** R-DATA-11 personal: name, AES-256-GCM under the org key. */
  name_enc: Buffer | null;
  /** R-DATA-11 personal: e-mail address, AES-256-GCM under the org key. */
  email_enc: Buffer | null;
  created_at: number;
  updated_at: number;
}

/** R-DATA-11: a device (by pseudonym only) linked to a person. */
export interface PersonDeviceRow {
  org_id: string;
  /** The org's keyed pseudonym of the MAC, badge or app id, as ingest computes it (R-LOC-5). */
  device: string;
  person_id: string;
  /** What the identifier was: mac, badge, app, or device (a pseudonym given as such). */
  kind: string;
  linked_at: number;
}

const PERSON_COLS = 'id, org_id, ref_key, ref_enc, name_enc, email_enc, created_at, updated_at';
const LINK_COLS = 'org_id, device, person_id, kind, linked_at';
/** Values per `IN (…)` list: well under both engines' parameter limits. */
const IN_CHUNK = 500;

/** Run `query` over `values` in chunks of {@link IN_CHUNK}, with `$2…` placeholders for each chunk. */
async function inChunks<T>(values: readonly string[], query: (list: string, chunk: readonly string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += IN_CHUNK) {
    const chunk = values.slice(i, i + IN_CHUNK);
    out.push(...(await query(chunk.map((_, j) => `$${j + 2}`).join(', '), chunk)));
  }
  return out;
}

export class PeopleRepo {
  constructor(private readonly x: Executor) {}

  // ---- settings -------------------------------------------------------------------------

  async enabled(orgId: string): Promise<boolean> {
    return Number((await this.x.get<{ enabled: number }>('SELECT enabled FROM people_settings WHERE org_id = $1', [orgId]))?.enabled ?? 0) === 1;
  }
  async setEnabled(orgId: string, enabled: boolean, atMs: number): Promise<void> {
    await this.x.run('INSERT INTO people_settings (org_id, enabled, updated_at) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at', [orgId, enabled ? 1 : 0, atMs]);
  }

  // ---- people ---------------------------------------------------------------------------

  async insert(p: PersonRow): Promise<void> {
    await this.x.run(`INSERT INTO people (${PERSON_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [p.id, p.org_id, p.ref_key, p.ref_enc, p.name_enc, p.email_enc, p.created_at, p.updated_at]);
  }
  async update(p: PersonRow): Promise<void> {
    await this.x.run('UPDATE people SET name_enc = $3, email_enc = $4, updated_at = $5 WHERE org_id = $1 AND id = $2', [p.org_id, p.id, p.name_enc, p.email_enc, p.updated_at]);
  }
  get(orgId: string, id: string): Promise<PersonRow | undefined> {
    return this.x.get<PersonRow>(`SELECT ${PERSON_COLS} FROM people WHERE org_id = $1 AND id = $2`, [orgId, id]);
  }
  byRef(orgId: string, refKey: string): Promise<PersonRow | undefined> {
    return this.x.get<PersonRow>(`SELECT ${PERSON_COLS} FROM people WHERE org_id = $1 AND ref_key = $2`, [orgId, refKey]);
  }
  /** The people with these ref keys (an import's look-up), in no order. */
  byRefs(orgId: string, refKeys: readonly string[]): Promise<PersonRow[]> {
    return inChunks(refKeys, (list, chunk) => this.x.all<PersonRow>(`SELECT ${PERSON_COLS} FROM people WHERE org_id = $1 AND ref_key IN (${list})`, [orgId, ...chunk]));
  }
  /** A page of people by record id. */
  list(orgId: string, limit: number, afterId: string): Promise<PersonRow[]> {
    return this.x.all<PersonRow>(`SELECT ${PERSON_COLS} FROM people WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [orgId, afterId, limit]);
  }
  async count(orgId: string): Promise<number> {
    return Number((await this.x.get<{ n: number }>('SELECT COUNT(*) AS n FROM people WHERE org_id = $1', [orgId]))?.n ?? 0);
  }
  /** Delete a person and (by cascade) their links; returns 1 when there was one. */
  async delete(orgId: string, id: string): Promise<number> {
    await this.x.run('DELETE FROM person_devices WHERE org_id = $1 AND person_id = $2', [orgId, id]);
    return (await this.x.run('DELETE FROM people WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
  /** Delete the whole directory of an org; returns [people, links] deleted. */
  async deleteAll(orgId: string): Promise<[number, number]> {
    const links = (await this.x.run('DELETE FROM person_devices WHERE org_id = $1', [orgId])).changes;
    return [(await this.x.run('DELETE FROM people WHERE org_id = $1', [orgId])).changes, links];
  }
  /** Delete at most `limit` people not updated since `beforeMs`, with their links (retention). */
  async purge(orgId: string, beforeMs: number, limit: number): Promise<number> {
    const ids = (await this.x.all<{ id: string }>('SELECT id FROM people WHERE org_id = $1 AND updated_at < $2 ORDER BY updated_at LIMIT $3', [orgId, beforeMs, limit])).map((r) => r.id);
    if (ids.length === 0) return 0;
    const list = ids.map((_, i) => `$${i + 2}`).join(', ');
    await this.x.run(`DELETE FROM person_devices WHERE org_id = $1 AND person_id IN (${list})`, [orgId, ...ids]);
    return (await this.x.run(`DELETE FROM people WHERE org_id = $1 AND id IN (${list})`, [orgId, ...ids])).changes;
  }

  // ---- device links ---------------------------------------------------------------------

  /** Link a device to a person; a device linked to someone else moves. */
  async link(r: PersonDeviceRow): Promise<void> {
    await this.x.run(
      `INSERT INTO person_devices (${LINK_COLS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, device) DO UPDATE SET person_id = excluded.person_id, kind = excluded.kind, linked_at = excluded.linked_at`,
      [r.org_id, r.device, r.person_id, r.kind, r.linked_at],
    );
  }
  async unlink(orgId: string, personId: string, device: string): Promise<number> {
    return (await this.x.run('DELETE FROM person_devices WHERE org_id = $1 AND person_id = $2 AND device = $3', [orgId, personId, device])).changes;
  }
  linksOf(orgId: string, personId: string): Promise<PersonDeviceRow[]> {
    return this.x.all<PersonDeviceRow>(`SELECT ${LINK_COLS} FROM person_devices WHERE org_id = $1 AND person_id = $2 ORDER BY linked_at, device`, [orgId, personId]);
  }
  /** Links of several people at once (a page of the directory, an import), in no order. */
  linksOfMany(orgId: string, personIds: readonly string[]): Promise<PersonDeviceRow[]> {
    return inChunks(personIds, (list, chunk) => this.x.all<PersonDeviceRow>(`SELECT ${LINK_COLS} FROM person_devices WHERE org_id = $1 AND person_id IN (${list})`, [orgId, ...chunk]));
  }
  /** Who each of these devices is linked to (devices without a link are absent), in no order. */
  owners(orgId: string, devices: readonly string[]): Promise<PersonDeviceRow[]> {
    return inChunks(devices, (list, chunk) => this.x.all<PersonDeviceRow>(`SELECT ${LINK_COLS} FROM person_devices WHERE org_id = $1 AND device IN (${list})`, [orgId, ...chunk]));
  }
}
