/**
 * The privacy core: context and roles, access policies, audit, keys and pseudonyms, tenancy,
 * identity, retention, notice and consent, data-subject requests. It depends on no other domain module; every other module depends on it.
 */
export * from './context.ts';
export * from './core.ts';
export * from './access/index.ts';
export * from './audit/index.ts';
export * from './keys/index.ts';
export * from './tenancy/index.ts';
export * from './identity/index.ts';
export * from './retention/index.ts';
export * from './rights/index.ts';
export * from './consent/index.ts';
export * from './portability/index.ts';
export * from './incidents/index.ts';
