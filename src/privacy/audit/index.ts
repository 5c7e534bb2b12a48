/** Audit: hash-chained, checkpoint-signed event log per org. */
export * from './service.ts';
export { GENESIS_HASH, eventHash, canonOf, parseCanon } from './chain.ts';
export { AuditQueries, type AuditEvent } from './queries.ts';
