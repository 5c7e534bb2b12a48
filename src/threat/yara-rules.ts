/**
 * Org YARA rules: sources an org adds to the bundled rule set (issue 6, "a bundled rule set plus
 * org rules"). A rule is refused unless it compiles alone and together with the org's others,
 * without slow patterns or loops (YARA-X's checks), so one org cannot make every scan slow. The
 * file pipeline gets the org's sources with a version: a verdict cached under other rules is
 * analysed again.
 */
import { createHash } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../kernel/errors.ts';
import { newId } from '../kernel/ids.ts';
import { toIso } from '../kernel/clock.ts';
import type { Core, Ctx } from '../privacy/index.ts';
import { yaraRulesRepo, type Executor } from '../storage/index.ts';
import { orgRules, validateOrgRules } from './files/index.ts';

export interface YaraRule {
  id: string;
  name: string;
  source: string;
  createdAt: string;
}

export interface OrgRuleSet {
  sources: string[];
  /** Short hash of the sources ('' when none): part of a cached verdict's analysis version. */
  version: string;
}

const MAX_RULES = 200;
const MAX_SOURCE_BYTES = 64 * 1024;

export class ThreatYaraRuleService {
  private cache = new Map<string, OrgRuleSet>();
  constructor(private readonly core: Core) {}

  /** The org's rule sources for the pipeline (cached until they change). */
  async forOrg(orgId: string, x?: Executor): Promise<OrgRuleSet> {
    const hit = this.cache.get(orgId);
    if (hit) return hit;
    const db = x ?? (await this.core.directory.storeOf(orgId));
    const sources = (await yaraRulesRepo(db).list(orgId)).map((r) => r.source);
    const set = { sources, version: sources.length ? createHash('sha256').update(sources.join('\0')).digest('hex').slice(0, 12) : '' };
    this.cache.set(orgId, set);
    return set;
  }

  async list(ctx: Ctx, orgId: string): Promise<YaraRule[]> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'readLists', { orgId });
    return (await yaraRulesRepo(db).list(orgId)).map((r) => ({ id: r.id, name: r.name, source: r.source, createdAt: toIso(r.created_at) }));
  }

  async add(ctx: Ctx, orgId: string, input: { name: string; source: string }): Promise<YaraRule> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'writeLists', { orgId });
    const name = input.name.trim();
    if (!name || name.length > 100) throw new CairnError('CAIRN_ERR_VALIDATION', 'name must be 1-100 characters.', { field: 'name' });
    if (Buffer.byteLength(input.source) > MAX_SOURCE_BYTES) throw new CairnError('CAIRN_ERR_VALIDATION', `A rule source may be at most ${MAX_SOURCE_BYTES} bytes.`, { field: 'source' });
    const existing = await yaraRulesRepo(db).list(orgId);
    if (existing.length >= MAX_RULES) throw new CairnError('CAIRN_ERR_VALIDATION', `An org may keep at most ${MAX_RULES} rule sources.`, { field: 'source' });
    await validateOrgRules([input.source]);
    await orgRules([...existing.map((r) => r.source), input.source]);
    const now = this.core.clock.nowMs();
    const row = { id: newId(now), org_id: orgId, name, source: input.source, created_at: now, created_by: `${ctx.actor.kind}:${ctx.actor.id}` };
    await db.tx(async (x) => {
      await yaraRulesRepo(x).insert(row);
      await this.core.audit.record(x, ctx, orgId, 'threat.yara.add', `yara:${row.id}`, { name, bytes: Buffer.byteLength(input.source) });
    });
    this.cache.delete(orgId);
    return { id: row.id, name, source: row.source, createdAt: toIso(now) };
  }

  async remove(ctx: Ctx, orgId: string, id: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'threat', 'writeLists', { orgId }, `yara:${id}`);
    await db.tx(async (x) => {
      if ((await yaraRulesRepo(x).delete(orgId, id)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'threat.yara.remove', `yara:${id}`);
    });
    this.cache.delete(orgId);
  }
}
