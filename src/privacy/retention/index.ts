/** Retention: data-class registry with defaults, per-org overrides, bounded purges. */
export * from './registry.ts';
export * from './service.ts';
