/** All repositories bound to one executor (a store, or an open transaction on it). */
import type { Executor } from '../db.ts';
import { AuditRepo } from './audit.ts';
import { DevicesRepo } from './devices.ts';
import { ControlRepo, IdentityRepo } from './identity.ts';
import { KeysRepo } from './keys.ts';
import { RetentionRepo } from './retention.ts';
import { TenancyRepo } from './tenancy.ts';

export * from './audit.ts';
export * from './devices.ts';
export * from './identity.ts';
export * from './keys.ts';
export * from './retention.ts';
export * from './tenancy.ts';
export * from './email.ts';
export * from './threat.ts';
export * from './tls.ts';
export * from './ingest.ts';
export * from './location.ts';
export * from './proximity.ts';
export * from './occupancy.ts';
export * from './delivery.ts';
export * from './mqtt.ts';
export * from './sessions.ts';
export * from './fix-history.ts';
export * from './journeys.ts';
export * from './people.ts';
export * from './notify.ts';
export * from './rights.ts';
export * from './subject-data.ts';
export * from './consent.ts';
export * from './portability.ts';
export * from './incidents.ts';

export interface Repos {
  tenancy: TenancyRepo;
  identity: IdentityRepo;
  keys: KeysRepo;
  audit: AuditRepo;
  retention: RetentionRepo;
  devices: DevicesRepo;
}

const cache = new WeakMap<Executor, Repos>();

export function reposFor(x: Executor): Repos {
  let r = cache.get(x);
  if (!r) {
    r = { tenancy: new TenancyRepo(x), identity: new IdentityRepo(x), keys: new KeysRepo(x), audit: new AuditRepo(x), retention: new RetentionRepo(x), devices: new DevicesRepo(x) };
    cache.set(x, r);
  }
  return r;
}

export function controlRepo(x: Executor): ControlRepo {
  return new ControlRepo(x);
}
export * from './threat-yara.ts';
