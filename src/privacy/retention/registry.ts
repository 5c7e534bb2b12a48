/**
 * The data-class registry: every class of data Cairn may hold (PRODUCT.md, R-DATA), its default
 * retention, the bounds an org may set, and, for classes that some module stores, the purge
 * function that deletes expired rows in bounded batches. Modules register their purgers at start.
 */
import type { Executor } from '../../storage/index.ts';

export interface DataClass {
  id: string;
  requirement: string;
  name: string;
  /** Default retention in days; null = kept until the owner removes it (identity links, consent). */
  defaultDays: number | null;
  /** Smallest an org may set (audit must stay 6 months). */
  minDays?: number;
  description: string;
}

export const DATA_CLASSES: DataClass[] = [
  { id: 'device', requirement: 'R-DATA-1/2', name: 'Wi-Fi and wired device data', defaultDays: 60, description: 'Device pseudonym, type, coarse location, encrypted IP, username and hostname; 60 days rolling.' },
  { id: 'location', requirement: 'R-DATA-3', name: 'Precise location history and contact-tracing data', defaultDays: 30, description: 'Fixes (x, y, floor, accuracy, zone), journeys, case reports; 30 days when contact tracing is on.' },
  { id: 'analytics', requirement: 'R-DATA-4', name: 'Long-term analytics', defaultDays: 365, description: 'Aggregates kept beyond the defaults when the tenant opts in.' },
  { id: 'pcap', requirement: 'R-DATA-5', name: 'Packet captures', defaultDays: 7, description: 'Manual captures that may hold payload; 7 days.' },
  { id: 'audit', requirement: 'R-DATA-6', name: 'Audit log', defaultDays: 183, minDays: 183, description: 'Access, admin and incident events; 6 months.' },
  { id: 'threat_files', requirement: 'R-DATA-7', name: 'Files under threat analysis', defaultDays: 1, description: 'File bodies kept only when the tenant sets retention for a type; otherwise discarded after analysis.' },
  { id: 'threat_metadata', requirement: 'R-DATA-8', name: 'Threat metadata', defaultDays: 90, description: 'Client host, IP, file name, username (only with the user firewall on), URL, device name.' },
  { id: 'tls_metadata', requirement: 'R-DATA-9', name: 'TLS session set-up metadata', defaultDays: 30, description: 'Addresses, ciphers, SNI and parameters of TLS hellos.' },
  { id: 'quarantine', requirement: 'R-DATA-10', name: 'Quarantined e-mail', defaultDays: 30, description: 'Sender, recipient, subject, content and attachments of quarantined mail.' },
  { id: 'identity_links', requirement: 'R-DATA-11', name: 'Identity links', defaultDays: null, description: 'Person-to-device links; kept until unlinked or erased.' },
  { id: 'consent', requirement: 'R-DATA-12', name: 'Consent records', defaultDays: null, description: 'Terms versions accepted or declined; kept as long as needed to prove consent.' },
  { id: 'dsar', requirement: 'R-PRIV-4', name: 'Data-subject requests', defaultDays: 730, description: 'Requests, their dates and outcome, kept 2 years after they closed to show how each was answered (CCPA keeps 24 months); identifiers encrypted under a per-request key, shredded on erasure; unverified requests closed after 7 days; access archives deleted after their download window.' },
  { id: 'incidents', requirement: 'R-PRIV-8', name: 'Incident records', defaultDays: 730, minDays: 365, description: 'Personal-data breach records (what happened, when detected, categories and approximate numbers of people and records, measures) and the notices sent; kept 2 years after they closed (within the retention bounds an org may set) to document breaches (GDPR Art. 33(5)); free text encrypted under the org key.' },
];

/** Deletes at most `limit` rows of an org older than `beforeMs`; returns how many it deleted. */
export type Purger = (x: Executor, orgId: string, beforeMs: number, limit: number) => Promise<number>;

export function dataClass(id: string): DataClass | undefined {
  return DATA_CLASSES.find((c) => c.id === id);
}
