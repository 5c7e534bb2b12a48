/**
 * The shapes data-subject requests (R-PRIV-4) share with the modules that hold personal data: the
 * subject as resolved for one request, and the handler each module registers for every table it
 * keeps about people (find, export, erase, correct). Handlers run on the org's store; the privacy
 * core never imports the modules, they register with it at start-up.
 */
import type { Executor } from '../../storage/index.ts';
import type { DsarIdKind, DsarKind, DsarRegime } from '../../storage/index.ts';

export type { DsarIdKind, DsarKind, DsarRegime, DsarStatus } from '../../storage/index.ts';

export const DSAR_KINDS: readonly DsarKind[] = ['access', 'correction', 'deletion', 'restriction', 'objection', 'opt_out_sale'];
export const DSAR_REGIMES: readonly DsarRegime[] = ['gdpr', 'ccpa'];
export const DSAR_ID_KINDS: readonly DsarIdKind[] = ['email', 'mac', 'badge', 'username'];

/**
 * The person a request is about, as far as Cairn can tell. Raw values (e-mail addresses,
 * usernames, IP addresses) live only in memory while the request is fulfilled; stored data is
 * found through the org's keyed pseudonyms of them. Handlers add what they learn in `expand`
 * (a person's linked devices, a device's username) and every token that names the subject in
 * storage (`tokens`: pseudonyms, record ids), which erasure also removes from the audit log.
 */
export interface Subject {
  orgId: string;
  /** The identifier the subject gave, normalised. */
  given: { kind: DsarIdKind; value: string };
  /** E-mail addresses, lower-cased (personal, memory only). */
  emails: Set<string>;
  /** Usernames, lower-cased (personal, memory only). */
  usernames: Set<string>;
  /** IP addresses seen on the subject's own device records (personal, memory only). */
  ips: Set<string>;
  /** Device pseudonyms (MAC, badge or app id, as ingest computes them). */
  devices: Set<string>;
  /** Record ids of the subject in the org's people directory. */
  people: Set<string>;
  /** Every stored token that names the subject (pseudonyms, record ids): erased from the audit log too. */
  tokens: Set<string>;
  /** The request being fulfilled (its own record forgets the subject last). */
  requestId?: string;
}

/** A correction of identity fields (R-PRIV-4): only the fields given change. Personal. */
export interface Correction {
  name?: string;
  email?: string;
}

/** One table's records about the subject, for the access archive. Values are the subject's own data. */
export interface SubjectRecords {
  /** Column names in order (the CSV header). */
  columns: string[];
  rows: (string | number | boolean | null)[][];
  /** Rows left out because another person's data would show (counted, never listed). */
  withheld?: number;
}

/** What a controller must tell the subject about one kind of record (GDPR Art. 15, CCPA 1798.110). */
export interface ProcessingInfo {
  purpose: string;
  categories: string[];
  source: string;
  recipients: string;
}

/**
 * What a module registers for a table (or a few tables) that hold data about people. Every method
 * is optional; a handler that cannot find the subject by anything in `Subject` does nothing.
 * `erase` and `correct` run in a transaction of their own (the caller writes its audit event in
 * it); they must be idempotent, since an interrupted fulfilment runs them again.
 */
export interface SubjectDataHandler {
  /** Stable id, `<module>.<what>` (`location.fixes`): the archive's file name and the audit detail. */
  id: string;
  /** The retention data class of the records (`location`, `identity_links`, R-DATA). */
  dataClass: string;
  info: ProcessingInfo;
  /** Learn more identifiers of the subject from this table (devices of a person, a device's username). */
  expand?(x: Executor, s: Subject): Promise<void>;
  /** The subject's records; `sinceMs` is the look-back (CCPA: 12 months). */
  export?(x: Executor, s: Subject, o: { sinceMs: number }): Promise<SubjectRecords>;
  /** Delete (or strip the subject from) every record; returns how many records changed. */
  erase?(x: Executor, s: Subject): Promise<number>;
  /** Change identity fields; returns how many records changed. */
  correct?(x: Executor, s: Subject, c: Correction): Promise<number>;
}

/**
 * Proof that a request for a MAC address comes from that device: the consent portal answers
 * whether the device (by pseudonym) went through the guest portal at or after `sinceMs`.
 */
export interface DeviceProof {
  /** Time (UTC ms) of the newest portal record of this device pseudonym at or after `sinceMs`, or null. */
  portalSeenSince(x: Executor, orgId: string, device: string, sinceMs: number): Promise<number | null>;
}

/** A new, empty subject for an identifier. */
export function newSubject(orgId: string, kind: DsarIdKind, value: string): Subject {
  return { orgId, given: { kind, value }, emails: new Set(), usernames: new Set(), ips: new Set(), devices: new Set(), people: new Set(), tokens: new Set() };
}

/** The subject as stored with its request (inside the request's own ciphertext). */
export interface StoredSubject {
  given: { kind: DsarIdKind; value: string };
  emails: string[];
  usernames: string[];
  ips: string[];
  devices: string[];
  people: string[];
  tokens: string[];
}

export function storeSubject(s: Subject): StoredSubject {
  return { given: s.given, emails: [...s.emails], usernames: [...s.usernames], ips: [...s.ips], devices: [...s.devices], people: [...s.people], tokens: [...s.tokens] };
}

export function loadSubject(orgId: string, v: StoredSubject): Subject {
  return { orgId, given: v.given, emails: new Set(v.emails), usernames: new Set(v.usernames), ips: new Set(v.ips), devices: new Set(v.devices), people: new Set(v.people), tokens: new Set(v.tokens) };
}
