/** Devices: pseudonymous device records with encrypted personal fields (R-DATA-1/2). */
export * from './service.ts';
