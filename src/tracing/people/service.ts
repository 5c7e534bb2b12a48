/**
 * The optional people directory (R-CT-5, R-DATA-11, class `identity_links`). Off by default: an
 * org admin turns it on, then imports people (CSV or JSON) or adds and links them one by one.
 * The org's person id, names and e-mail addresses are AES-256-GCM under the org key; a person is
 * found by a keyed hash of the org's id; devices are linked by their pseudonym only (a MAC or
 * badge id is pseudonymised exactly as ingest does and then forgotten). Unlinking deletes the
 * link; removing a person deletes them and their links; turning the directory off erases it.
 * Without links everything else works on pseudonyms. Every change and every read of identities
 * is audited in the same transaction.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { normaliseMac, type Core, type Ctx } from '../../privacy/index.ts';
import { PeopleRepo, type Executor, type PersonDeviceRow, type PersonRow } from '../../storage/index.ts';
import { parsePeopleCsv, parsePeopleJson, personRecord, type ParsedPeople, type PersonRecord } from './parse.ts';

/** How a device is named when it is linked. */
export type DeviceRef = { mac: string } | { badge: string } | { app: string } | { device: string };
export type LinkKind = 'mac' | 'badge' | 'app' | 'device';

/** A person with decrypted identity (personal, R-DATA-11: only for those allowed to read it). */
export interface Person {
  id: string;
  /** The org's own id of the person. */
  personId: string;
  name: string | null;
  email: string | null;
  devices: { id: string; kind: string; linkedAt: string }[];
  createdAt: string;
  updatedAt: string;
}

export interface PeopleSettings {
  enabled: boolean;
  people: number;
}

export interface ImportSummary {
  people: number;
  created: number;
  updated: number;
  linked: number;
  unlinked: number;
  /** Devices that were linked to another person before. */
  moved: number;
  /** Columns or properties not read (R-PRIV-1). */
  ignored: string[];
}

const PSEUDONYM = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function disabled(): CairnError {
  return new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'The people directory is off for this org; an org admin can turn it on (PUT /api/v1/orgs/{orgId}/people/settings or `cairn people enable`).');
}

export class PeopleService {
  constructor(private readonly core: Core) {}

  /** The keyed hash a person is found by (never the org's id itself). */
  private async refKey(x: Executor, orgId: string, personId: string): Promise<string> {
    return this.core.keys.pseudonym(x, orgId, 'asset', `person:${personId}`);
  }

  /** The pseudonym of a device identifier, as ingest computes it for the same id. */
  private async deviceOf(x: Executor, orgId: string, ref: DeviceRef): Promise<{ device: string; kind: LinkKind }> {
    if ('device' in ref) {
      if (!PSEUDONYM.test(ref.device)) throw new CairnError('CAIRN_ERR_VALIDATION', 'device must be a device id (32 hex digits).', { field: 'device' });
      return { device: ref.device, kind: 'device' };
    }
    if ('mac' in ref) {
      const mac = normaliseMac(ref.mac);
      if (!mac) throw new CairnError('CAIRN_ERR_VALIDATION', 'mac is not a MAC address.', { field: 'mac' });
      return { device: await this.core.keys.pseudonym(x, orgId, 'mac', mac), kind: 'mac' };
    }
    if ('badge' in ref) {
      const b = ref.badge.trim();
      if (b === '' || b.length > 128) throw new CairnError('CAIRN_ERR_VALIDATION', 'badge must be 1 to 128 characters.', { field: 'badge' });
      return { device: await this.core.keys.pseudonym(x, orgId, 'badge', b), kind: 'badge' };
    }
    const a = ref.app.trim().toLowerCase();
    if (a === '' || a.length > 128) throw new CairnError('CAIRN_ERR_VALIDATION', 'app must be 1 to 128 characters.', { field: 'app' });
    return { device: await this.core.keys.pseudonym(x, orgId, 'app', a), kind: 'app' };
  }

  /** Whether the directory is on, and how many people it holds. */
  async settings(ctx: Ctx, orgId: string): Promise<PeopleSettings> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'readConfig', { orgId });
    const r = new PeopleRepo(db);
    return { enabled: await r.enabled(orgId), people: await r.count(orgId) };
  }

  /**
   * Turn the directory on or off. Off erases it: every person and link is deleted in the same
   * transaction (identities are kept only while the org wants the directory).
   */
  async setEnabled(ctx: Ctx, orgId: string, enabled: boolean): Promise<PeopleSettings & { erased: { people: number; links: number } }> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'configure', { orgId });
    return db.tx(async (x) => {
      const r = new PeopleRepo(x);
      const [people, links] = enabled ? [0, 0] : await r.deleteAll(orgId);
      await r.setEnabled(orgId, enabled, this.core.clock.nowMs());
      await this.core.audit.record(x, ctx, orgId, 'person.settings', `org:${orgId}`, { enabled, erasedPeople: people, erasedLinks: links });
      return { enabled, people: enabled ? await r.count(orgId) : 0, erased: { people, links } };
    });
  }

  /**
   * Import people (parsed by `parsePeople`): a person already there (same person id) gets the
   * file's name, e-mail and exactly the file's devices; a device linked to someone else moves.
   * People not in the file are left alone. One transaction, audited with counts only. The input
   * is read only after the access check: CSV text, JSON (parsed), or already parsed records.
   *
   * @example await people.import(ctx, orgId, { csv: 'person_id,name,macs\r\nE1,Ann,aa:bb:cc:dd:ee:01\r\n' })
   */
  async import(ctx: Ctx, orgId: string, input: { csv: string } | { json: unknown } | ParsedPeople): Promise<ImportSummary> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'manage', { orgId });
    const parsed = 'csv' in input ? parsePeopleCsv(input.csv) : 'json' in input ? parsePeopleJson(input.json) : input;
    const sum: ImportSummary = { people: parsed.people.length, created: 0, updated: 0, linked: 0, unlinked: 0, moved: 0, ignored: parsed.ignored };
    await db.tx(async (x) => {
      const r = new PeopleRepo(x);
      if (!(await r.enabled(orgId))) throw disabled();
      const now = this.core.clock.nowMs();
      const keys = await Promise.all(parsed.people.map((p) => this.refKey(x, orgId, p.personId)));
      const existing = new Map((await r.byRefs(orgId, keys)).map((p) => [p.ref_key, p]));
      const ids = parsed.people.map((_, i) => existing.get(keys[i]!)?.id ?? newId(now));
      const links = new Map<string, PersonDeviceRow[]>();
      for (const l of await r.linksOfMany(orgId, [...existing.values()].map((p) => p.id))) links.set(l.person_id, [...(links.get(l.person_id) ?? []), l]);
      const wanted: { device: string; kind: LinkKind }[][] = [];
      for (const p of parsed.people) wanted.push([...(await Promise.all(p.macs.map((mac) => this.deviceOf(x, orgId, { mac })))), ...(await Promise.all(p.badges.map((badge) => this.deviceOf(x, orgId, { badge }))))]);
      const owners = new Map((await r.owners(orgId, wanted.flat().map((w) => w.device))).map((o) => [o.device, o.person_id]));
      for (const [i, p] of parsed.people.entries()) {
        const id = ids[i]!;
        const row = await this.personRow(x, orgId, id, keys[i]!, p, existing.get(keys[i]!), now);
        if (existing.has(keys[i]!)) {
          await r.update(row);
          sum.updated++;
        } else {
          await r.insert(row);
          sum.created++;
        }
        const want = new Set(wanted[i]!.map((w) => w.device));
        for (const l of links.get(id) ?? []) {
          if (!want.has(l.device) && (await r.unlink(orgId, id, l.device)) > 0) sum.unlinked++;
        }
        const have = new Set((links.get(id) ?? []).map((l) => l.device));
        for (const w of wanted[i]!) {
          if (have.has(w.device)) continue;
          const owner = owners.get(w.device);
          if (owner !== undefined && owner !== id) sum.moved++;
          await r.link({ org_id: orgId, device: w.device, person_id: id, kind: w.kind, linked_at: now });
          sum.linked++;
        }
      }
      await this.core.audit.record(x, ctx, orgId, 'person.import', `org:${orgId}`, { people: sum.people, created: sum.created, updated: sum.updated, linked: sum.linked, unlinked: sum.unlinked, moved: sum.moved });
    });
    return sum;
  }

  private async personRow(x: Executor, orgId: string, id: string, refKey: string, p: PersonRecord, prev: PersonRow | undefined, now: number): Promise<PersonRow> {
    const k = this.core.keys;
    return {
      id,
      org_id: orgId,
      ref_key: refKey,
      ref_enc: prev?.ref_enc ?? (await k.encrypt(x, orgId, 'people.ref', p.personId)),
      name_enc: await k.encryptOptional(x, orgId, 'people.name', p.name),
      email_enc: await k.encryptOptional(x, orgId, 'people.email', p.email),
      created_at: prev?.created_at ?? now,
      updated_at: now,
    };
  }

  /** Add one person (with devices, optionally); a person id already there is a conflict. */
  async create(ctx: Ctx, orgId: string, input: { personId: string; name?: string; email?: string; macs?: string[]; badges?: string[] }): Promise<Person> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'manage', { orgId });
    const p = personRecord(input, 1);
    const id = await db.tx(async (x) => {
      const r = new PeopleRepo(x);
      if (!(await r.enabled(orgId))) throw disabled();
      const key = await this.refKey(x, orgId, p.personId);
      if (await r.byRef(orgId, key)) throw new CairnError('CAIRN_ERR_CONFLICT', 'A person with this person id is already in the directory.', { field: 'personId' });
      const now = this.core.clock.nowMs();
      const id = newId(now);
      await r.insert(await this.personRow(x, orgId, id, key, p, undefined, now));
      for (const ref of [...p.macs.map((mac) => ({ mac })), ...p.badges.map((badge) => ({ badge }))]) {
        const d = await this.deviceOf(x, orgId, ref);
        await r.link({ org_id: orgId, device: d.device, person_id: id, kind: d.kind, linked_at: now });
      }
      await this.core.audit.record(x, ctx, orgId, 'person.create', `person:${id}`, { devices: p.macs.length + p.badges.length });
      return id;
    });
    return this.out(db, (await new PeopleRepo(db).get(orgId, id))!, await new PeopleRepo(db).linksOf(orgId, id));
  }

  /** A page of the directory with decrypted identities: a personal read, audited. */
  async list(ctx: Ctx, orgId: string, opts: { limit?: number; after?: string } = {}): Promise<Person[]> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'read', { orgId });
    const r = new PeopleRepo(db);
    const rows = await r.list(orgId, Math.min(opts.limit ?? 100, 1000), opts.after ?? '');
    const links = await r.linksOfMany(orgId, rows.map((p) => p.id));
    const out = await Promise.all(rows.map((p) => this.out(db, p, links.filter((l) => l.person_id === p.id))));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'person.read', `org:${orgId}`, { count: out.length }));
    return out;
  }

  /** One person with decrypted identity and linked devices: a personal read, audited. */
  async get(ctx: Ctx, orgId: string, id: string): Promise<Person> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'read', { orgId }, `person:${id}`);
    const r = new PeopleRepo(db);
    const row = await r.get(orgId, id);
    if (!row) throw notFoundOrNoAccess();
    const out = await this.out(db, row, await r.linksOf(orgId, id));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'person.read', `person:${id}`));
    return out;
  }

  /** Remove a person and every link (erasure). */
  async remove(ctx: Ctx, orgId: string, id: string): Promise<{ unlinked: number }> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'remove', { orgId }, `person:${id}`);
    return db.tx(async (x) => {
      const r = new PeopleRepo(x);
      const links = (await r.linksOf(orgId, id)).length;
      if ((await r.delete(orgId, id)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'person.delete', `person:${id}`, { unlinked: links });
      return { unlinked: links };
    });
  }

  /** Link one device (by MAC, badge id, app id or pseudonym); one linked to someone else is a conflict. */
  async link(ctx: Ctx, orgId: string, id: string, ref: DeviceRef): Promise<{ id: string; kind: LinkKind }> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'manage', { orgId }, `person:${id}`);
    return db.tx(async (x) => {
      const r = new PeopleRepo(x);
      if (!(await r.enabled(orgId))) throw disabled();
      if (!(await r.get(orgId, id))) throw notFoundOrNoAccess();
      const d = await this.deviceOf(x, orgId, ref);
      const owner = (await r.owners(orgId, [d.device]))[0];
      if (owner && owner.person_id !== id) throw new CairnError('CAIRN_ERR_CONFLICT', 'This device is linked to another person; unlink it there first.', { field: 'device' });
      await r.link({ org_id: orgId, device: d.device, person_id: id, kind: d.kind, linked_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'person.link', `person:${id}`, { device: d.device, kind: d.kind });
      return { id: d.device, kind: d.kind };
    });
  }

  /** Remove one link (the link row is deleted). */
  async unlink(ctx: Ctx, orgId: string, id: string, device: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'person', 'remove', { orgId }, `person:${id}`);
    await db.tx(async (x) => {
      if ((await new PeopleRepo(x).unlink(orgId, id, device)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'person.unlink', `person:${id}`, { device });
    });
  }

  /**
   * A person by Cairn id or by the org's own person id, with the pseudonyms of their devices. No
   * access check and no audit: for services that did both for their own question (journeys,
   * proximity, notices). Undefined when there is no such person.
   */
  async resolve(x: Executor, orgId: string, person: { id?: string; personId?: string }): Promise<{ id: string; devices: string[] } | undefined> {
    const r = new PeopleRepo(x);
    let row: PersonRow | undefined;
    if (person.id !== undefined && UUID.test(person.id)) row = await r.get(orgId, person.id);
    if (!row && person.personId !== undefined && person.personId.trim() !== '') row = await r.byRef(orgId, await this.refKey(x, orgId, person.personId.trim()));
    if (!row) return undefined;
    return { id: row.id, devices: (await r.linksOf(orgId, row.id)).map((l) => l.device) };
  }

  /**
   * A person's org id and e-mail address, decrypted, for a notice being sent now; undefined when
   * the person is gone. No access check and no audit: the notice service did both when the send
   * was started. Personal: keep in memory only, never log.
   */
  async contactOf(x: Executor, orgId: string, id: string): Promise<{ personRef: string; email: string | null } | undefined> {
    const row = UUID.test(id) ? await new PeopleRepo(x).get(orgId, id) : undefined;
    if (!row) return undefined;
    const k = this.core.keys;
    return { personRef: await k.decrypt(x, orgId, 'people.ref', row.ref_enc), email: await k.decryptOptional(x, orgId, 'people.email', row.email_enc) };
  }

  /** Who these devices are linked to (device pseudonym → person id); unlinked ones are absent. No access check. */
  async ownersOf(x: Executor, orgId: string, devices: readonly string[]): Promise<Map<string, string>> {
    return new Map((await new PeopleRepo(x).owners(orgId, devices)).map((o) => [o.device, o.person_id]));
  }

  private async out(x: Executor, p: PersonRow, links: readonly PersonDeviceRow[]): Promise<Person> {
    const k = this.core.keys;
    return {
      id: p.id,
      personId: await k.decrypt(x, p.org_id, 'people.ref', p.ref_enc),
      name: await k.decryptOptional(x, p.org_id, 'people.name', p.name_enc),
      email: await k.decryptOptional(x, p.org_id, 'people.email', p.email_enc),
      devices: links.map((l) => ({ id: l.device, kind: l.kind, linkedAt: toIso(l.linked_at) })),
      createdAt: toIso(p.created_at),
      updatedAt: toIso(p.updated_at),
    };
  }
}
