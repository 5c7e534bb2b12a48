/** Keys and pseudonyms: org keys wrapped by a master key provider; HMAC pseudonyms; field encryption. */
export * from './service.ts';
export * from './master.ts';
export { FastHmac } from './fasthmac.ts';
export { KeyAdmin } from './admin.ts';
