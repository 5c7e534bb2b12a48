/**
 * Per-org allow and block lists of SHA-256 hashes, domains, IP addresses, JA3 and JA4 fingerprints.
 * IP entries are stored as a keyed pseudonym (for matching) plus the address encrypted under the
 * org key (for display, R-DATA-8/9); the other kinds are not personal and stay in clear. The file
 * pipeline matches a file's hash and the host of its download URL; the TLS engine gets the lists
 * through `intel(orgId)`. A block entry wins over an allow entry.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { notFoundOrNoAccess } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import { toIso } from '../kernel/clock.ts';
import type { Core, Ctx } from '../privacy/index.ts';
import { threatRepo, type Executor, type ThreatListEntryRow } from '../storage/index.ts';
import { threatError } from './messages.ts';

export const LIST_KINDS = ['hash', 'domain', 'ip', 'ja3', 'ja4'] as const;
export type ListKind = (typeof LIST_KINDS)[number];
export type ListName = 'allow' | 'block';

export interface ListEntry {
  id: string;
  list: ListName;
  kind: ListKind;
  /** The value; an IP address is decrypted for this read (audited). */
  value: string;
  note: string | null;
  createdAt: string;
}

/** The list entry that decided, as the pipeline reports it. */
export interface ListHit {
  list: ListName;
  kind: ListKind;
}

/** Lists of one org, loaded once and matched in memory (hash sets). */
export interface ListMatcher {
  /** Block and allow hashes, for `analyzeFile`'s own list stage. */
  readonly sha256: { allow: ReadonlySet<string>; block: ReadonlySet<string> };
  /**
   * The deciding entry for a file with this hash fetched from this host (domain or IP literal),
   * by precedence: blocked hash, blocked host, allowed hash, allowed host.
   */
  decide(sha256: string, host?: string): ListHit | undefined;
}

/** Indicators for the TLS engine's `compileThreatIntel`; IPs are decrypted in memory only. */
export interface ListIntel {
  block: { ja3: string[]; ja4: string[]; domains: string[]; ips: string[] };
  allow: { ja3: string[]; ja4: string[]; domains: string[]; ips: string[] };
}

const CACHE_MS = 5_000;

/**
 * Canonical form of a list value, or a reason why it is not one.
 * @example normaliseListValue('domain', 'Evil.Example.') // { value: 'evil.example' }
 */
export function normaliseListValue(kind: ListKind, raw: string): { value: string } | { why: string } {
  const v = raw.trim();
  switch (kind) {
    case 'hash':
      return /^[0-9a-fA-F]{64}$/.test(v) ? { value: v.toLowerCase() } : { why: 'a SHA-256 of 64 hexadecimal digits' };
    case 'ja3':
      return /^[0-9a-fA-F]{32}$/.test(v) ? { value: v.toLowerCase() } : { why: 'a JA3 hash of 32 hexadecimal digits' };
    case 'ja4':
      return /^[tqd][0-9a-z]{2}[di]\d{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/.test(v.toLowerCase()) ? { value: v.toLowerCase() } : { why: 'a JA4 fingerprint such as t13d1516h2_8daaf6152771_e5627efa2ab1' };
    case 'domain': {
      const d = domainToASCII(v.replace(/\.$/, '').toLowerCase());
      if (!d || d.length > 253 || isIP(d) || !/^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/.test(d)) return { why: 'a domain name such as malware.example' };
      return { value: d };
    }
    case 'ip': {
      const ip = canonicalIp(v);
      return ip ? { value: ip } : { why: 'a single IPv4 or IPv6 address (no prefix)' };
    }
  }
}

/** IPv4 as is, IPv6 in its compressed lower-case form; null when not an address. */
export function canonicalIp(raw: string): string | null {
  const v = raw.trim().replace(/^\[|\]$/g, '');
  const fam = isIP(v);
  if (fam === 4) return v;
  if (fam === 6) {
    try {
      return new URL(`http://[${v}]/`).hostname.slice(1, -1);
    } catch {
      return null;
    }
  }
  return null;
}

export class ThreatListService {
  private cache = new Map<string, { atMs: number; matcher: ListMatcher }>();

  constructor(private readonly core: Core) {}

  /** The org's entries, optionally of one kind or list. IP values are decrypted: an audited read. */
  async list(ctx: Ctx, orgId: string, filter: { kind?: ListKind; list?: ListName } = {}): Promise<ListEntry[]> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'readLists', { orgId });
    const rows = await threatRepo(db).listEntries(orgId, filter);
    const out = await Promise.all(rows.map((r) => this.out(db, r)));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'threat.list.read', `org:${orgId}`, { count: out.length, ...(filter.kind ? { kind: filter.kind } : {}) }));
    return out;
  }

  /** Put a value on the allow or block list. A value may be on one list only (CAIRN_ERR_CONFLICT). */
  async add(ctx: Ctx, orgId: string, input: { list: ListName; kind: ListKind; value: string; note?: string }): Promise<ListEntry> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'writeLists', { orgId });
    const n = normaliseListValue(input.kind, input.value);
    if ('why' in n) throw threatError('CAIRN_ERR_VALIDATION', 'badListValue', { kind: input.kind, why: n.why }, { field: 'value' });
    const { keys, audit, clock } = this.core;
    const row = await db.tx(async (x) => {
      const repo = threatRepo(x);
      const matchKey = input.kind === 'ip' ? await keys.pseudonym(x, orgId, 'ip', n.value) : n.value;
      const existing = await repo.findEntry(orgId, input.kind, matchKey);
      if (existing) throw threatError('CAIRN_ERR_CONFLICT', 'listDuplicate', { kind: input.kind, list: existing.list }, { list: existing.list, id: existing.id });
      const r: ThreatListEntryRow = {
        id: newId(clock.nowMs()),
        org_id: orgId,
        list: input.list,
        kind: input.kind,
        match_key: matchKey,
        value_enc: input.kind === 'ip' ? await keys.encrypt(x, orgId, 'threat_list_entries.value', n.value) : null,
        note_enc: await keys.encryptOptional(x, orgId, 'threat_list_entries.note', input.note),
        created_at: clock.nowMs(),
        created_by: `${ctx.actor.kind}:${ctx.actor.id}`,
      };
      await repo.insertEntry(r);
      // The audit names IP entries by id only; other kinds are not personal.
      await audit.record(x, ctx, orgId, 'threat.list.add', `threat-list:${r.id}`, { list: r.list, kind: r.kind, ...(r.kind === 'ip' ? {} : { value: n.value }) });
      return r;
    });
    this.cache.delete(orgId);
    return this.out(db, row);
  }

  async remove(ctx: Ctx, orgId: string, entryId: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'writeLists', { orgId });
    await db.tx(async (x) => {
      const repo = threatRepo(x);
      const e = await repo.getEntry(orgId, entryId);
      if (!e) throw notFoundOrNoAccess();
      await repo.deleteEntry(orgId, entryId);
      await this.core.audit.record(x, ctx, orgId, 'threat.list.remove', `threat-list:${entryId}`, { list: e.list, kind: e.kind });
    });
    this.cache.delete(orgId);
  }

  /**
   * The org's lists as an in-memory matcher (cached for a few seconds, dropped on every change
   * made through this process). For the threat engines; not an API read.
   */
  async matcher(orgId: string, x?: Executor): Promise<ListMatcher> {
    const hit = this.cache.get(orgId);
    const now = this.core.clock.nowMs();
    if (hit && now - hit.atMs < CACHE_MS && now >= hit.atMs) return hit.matcher;
    const db = x ?? (await this.core.directory.storeOf(orgId));
    const rows = await threatRepo(db).listEntries(orgId);
    const pseudo = await this.core.keys.pseudonymiser(db, orgId);
    const sets = { allow: new Map<ListKind, Set<string>>(), block: new Map<ListKind, Set<string>>() };
    for (const r of rows) {
      const m = sets[r.list];
      if (!m.has(r.kind)) m.set(r.kind, new Set());
      m.get(r.kind)!.add(r.match_key);
    }
    const has = (list: ListName, kind: ListKind, key: string) => sets[list].get(kind)?.has(key) ?? false;
    const hostHit = (list: ListName, host: string | undefined): ListHit | undefined => {
      if (!host) return undefined;
      const ip = canonicalIp(host);
      if (ip) return has(list, 'ip', pseudo('ip', ip)) ? { list, kind: 'ip' } : undefined;
      // A domain entry covers its subdomains: a.b.evil.example matches evil.example.
      const labels = host.toLowerCase().replace(/\.$/, '').split('.');
      for (let i = 0; i < labels.length - 1; i++) if (has(list, 'domain', labels.slice(i).join('.'))) return { list, kind: 'domain' };
      return undefined;
    };
    const matcher: ListMatcher = {
      sha256: { allow: sets.allow.get('hash') ?? new Set(), block: sets.block.get('hash') ?? new Set() },
      decide(sha256, host) {
        if (has('block', 'hash', sha256)) return { list: 'block', kind: 'hash' };
        const hb = hostHit('block', host);
        if (hb) return hb;
        if (has('allow', 'hash', sha256)) return { list: 'allow', kind: 'hash' };
        return hostHit('allow', host);
      },
    };
    this.cache.set(orgId, { atMs: now, matcher });
    return matcher;
  }

  /** The org's domain lists (lower case; an entry covers its subdomains), for the e-mail engine's link checks. */
  async domainLists(orgId: string): Promise<{ block: ReadonlySet<string>; allow: ReadonlySet<string> }> {
    const intel = await this.intel(orgId, ['domain']);
    return { block: new Set(intel.block.domains), allow: new Set(intel.allow.domains) };
  }

  /**
   * Every indicator of the org for the TLS engine (`compileThreatIntel(intel.block)`); IP addresses
   * are decrypted in memory and must not be written anywhere.
   */
  async intel(orgId: string, kinds: readonly ListKind[] = LIST_KINDS): Promise<ListIntel> {
    const db = await this.core.directory.storeOf(orgId);
    const empty = () => ({ ja3: [] as string[], ja4: [] as string[], domains: [] as string[], ips: [] as string[] });
    const out: ListIntel = { block: empty(), allow: empty() };
    for (const r of await threatRepo(db).listEntries(orgId)) {
      if (!kinds.includes(r.kind)) continue;
      const side = out[r.list];
      if (r.kind === 'ja3') side.ja3.push(r.match_key);
      else if (r.kind === 'ja4') side.ja4.push(r.match_key);
      else if (r.kind === 'domain') side.domains.push(r.match_key);
      else if (r.kind === 'ip' && r.value_enc) side.ips.push(await this.core.keys.decrypt(db, orgId, 'threat_list_entries.value', r.value_enc));
    }
    return out;
  }

  private async out(x: Executor, r: ThreatListEntryRow): Promise<ListEntry> {
    const k = this.core.keys;
    return {
      id: r.id,
      list: r.list,
      kind: r.kind,
      value: r.kind === 'ip' && r.value_enc ? await k.decrypt(x, r.org_id, 'threat_list_entries.value', r.value_enc) : r.match_key,
      note: await k.decryptOptional(x, r.org_id, 'threat_list_entries.note', r.note_enc),
      createdAt: toIso(r.created_at),
    };
  }
}
