/** Tenancy: orgs, regions, sites, floors, zones. */
export * from './directory.ts';
export * from './service.ts';
