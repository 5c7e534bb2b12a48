/** Kernel: the pieces every module uses: errors, clock, ids, logger, event bus. */
export * from './errors.ts';
export * from './clock.ts';
export * from './ids.ts';
export * from './logger.ts';
export * from './events.ts';
export * from './paths.ts';
export * from './prng.ts';
