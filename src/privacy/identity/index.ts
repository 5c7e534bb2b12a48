/** Identity: users, sessions, machine tokens, operator staff, support grant. */
export * from './service.ts';
export { hashPassword, verifyPassword, checkPasswordPolicy } from './passwords.ts';
