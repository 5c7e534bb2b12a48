/**
 * Retention (R-DATA). Each data class has a default period that an org may change within the
 * configured bounds. A scheduler (and `cairn retention run`) purges every org's expired rows in
 * bounded batches, one transaction per batch, and audits each purge with its row count.
 */
import { CairnError } from '../../kernel/errors.ts';
import { DAY_MS, toIso } from '../../kernel/clock.ts';
import { reposFor, type Database } from '../../storage/index.ts';
import { systemCtx, type Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { DATA_CLASSES, dataClass, type Purger } from './registry.ts';

export interface RetentionPolicy {
  dataClass: string;
  requirement: string;
  name: string;
  days: number | null;
  defaultDays: number | null;
  minDays: number;
  maxDays: number;
  overridden: boolean;
  enforced: boolean;
  description: string;
}

export interface PurgeReport {
  orgId: string;
  atIso: string;
  purged: Record<string, number>;
}

export class RetentionService {
  private purgers = new Map<string, Purger[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeReport[]> | undefined;

  constructor(private readonly core: Core) {
    this.register('device', (x, orgId, before, limit) => reposFor(x).devices.purgeBefore(orgId, before, limit));
  }

  /** Attach a purge function to a data class (each module registers its own tables; a class may have several). */
  register(dataClassId: string, purger: Purger): void {
    if (!dataClass(dataClassId)) throw new Error(`unknown data class ${dataClassId}`);
    this.purgers.set(dataClassId, [...(this.purgers.get(dataClassId) ?? []), purger]);
  }

  private bounds(id: string): { min: number; max: number } {
    const c = dataClass(id)!;
    return { min: Math.max(this.core.cfg.retentionMinDays, c.minDays ?? 0), max: this.core.cfg.retentionMaxDays };
  }

  private async effective(db: Database, orgId: string): Promise<RetentionPolicy[]> {
    const overrides = new Map((await reposFor(db).retention.list(orgId)).map((r) => [r.data_class, r.days]));
    return DATA_CLASSES.map((c) => {
      const { min, max } = this.bounds(c.id);
      const o = overrides.get(c.id);
      return { dataClass: c.id, requirement: c.requirement, name: c.name, days: o ?? c.defaultDays, defaultDays: c.defaultDays, minDays: min, maxDays: max, overridden: o !== undefined, enforced: c.id === 'audit' || this.purgers.has(c.id), description: c.description };
    });
  }

  async list(ctx: Ctx, orgId: string): Promise<RetentionPolicy[]> {
    const { db } = await this.core.access.enforce(ctx, 'retention', 'read', { orgId });
    return this.effective(db, orgId);
  }

  /** Set an org's period for a class (days), or reset it to the default with `null`. */
  async set(ctx: Ctx, orgId: string, dataClassId: string, days: number | null): Promise<RetentionPolicy[]> {
    const { db } = await this.core.access.enforce(ctx, 'retention', 'update', { orgId });
    const c = dataClass(dataClassId);
    if (!c) throw new CairnError('CAIRN_ERR_VALIDATION', `Unknown data class "${dataClassId.slice(0, 64)}"; known: ${DATA_CLASSES.map((d) => d.id).join(', ')}.`, { field: 'dataClass' });
    const { min, max } = this.bounds(c.id);
    if (days !== null && (!Number.isInteger(days) || days < min || days > max)) throw new CairnError('CAIRN_ERR_RETENTION_BOUNDS', `Retention for ${c.id} must be between ${min} and ${max} days.`, { min, max });
    await db.tx(async (x) => {
      if (days === null) await reposFor(x).retention.unset(orgId, c.id);
      else await reposFor(x).retention.set(orgId, c.id, days, this.core.clock.nowMs());
      await this.core.audit.record(x, ctx, orgId, 'retention.set', `retention:${c.id}`, { days });
    });
    return this.effective(db, orgId);
  }

  /** Purge one org now (API: org admins). */
  async runForOrg(ctx: Ctx, orgId: string): Promise<PurgeReport> {
    const { db } = await this.core.access.enforce(ctx, 'retention', 'run', { orgId });
    return this.purgeOrg(ctx, db, orgId);
  }

  /** Purge every org (scheduler, CLI). Runs are never concurrent. */
  async runAll(ctx: Ctx = systemCtx('scheduler')): Promise<PurgeReport[]> {
    if (this.running) return this.running;
    this.running = (async () => {
      const out: PurgeReport[] = [];
      for (const d of await this.core.directory.list()) out.push(await this.purgeOrg(ctx, this.core.stores.region(d.region), d.org_id));
      return out;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeOrg(ctx: Ctx, db: Database, orgId: string): Promise<PurgeReport> {
    const now = this.core.clock.nowMs();
    const batch = this.core.cfg.retentionBatchRows;
    const purged: Record<string, number> = {};
    for (const p of await this.effective(db, orgId)) {
      if (p.days === null) continue;
      const before = now - p.days * DAY_MS;
      let n = 0;
      if (p.dataClass === 'audit') {
        n = await this.core.audit.prune(db, orgId, before, batch);
      } else {
        const purgers = this.purgers.get(p.dataClass);
        if (!purgers) continue;
        for (const purger of purgers) {
          for (;;) {
            const k = await db.tx((x) => purger(x, orgId, before, batch));
            n += k;
            if (k < batch) break;
          }
        }
      }
      if (n > 0) purged[p.dataClass] = n;
    }
    if (Object.keys(purged).length > 0) {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'retention.purge', `org:${orgId}`, { purged }));
      for (const [k, v] of Object.entries(purged)) this.core.bus.emit('retention.purged', { orgId, dataClass: k, rows: v });
    }
    return { orgId, atIso: toIso(now), purged };
  }

  /** Start the periodic purge (unref'd: it never keeps the process alive). */
  start(): void {
    const minutes = this.core.cfg.retentionIntervalMinutes;
    if (minutes <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.runAll().catch((e) => this.core.log.error({ err: e }, 'retention run failed'));
    }, minutes * 60_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
