/** Access control: roles per org or site, one policy file per resource, one enforcement path. */
export * from './service.ts';
export * from './policy.ts';
export * from './policies/index.ts';
