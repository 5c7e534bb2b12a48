/** Key administration for people: rotate an org's data key (audited). */
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';

export class KeyAdmin {
  constructor(private readonly core: Core) {}

  /** New data-key version for new writes; returns it. */
  async rotate(ctx: Ctx, orgId: string): Promise<{ dataKeyVersion: number }> {
    const { db } = await this.core.access.enforce(ctx, 'keys', 'rotate', { orgId });
    return db.tx(async (x) => {
      const v = await this.core.keys.rotateDataKey(x, orgId);
      await this.core.audit.record(x, ctx, orgId, 'keys.rotate', `org:${orgId}`, { dataKeyVersion: v });
      return { dataKeyVersion: v };
    });
  }
}
