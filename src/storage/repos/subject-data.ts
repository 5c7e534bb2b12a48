/**
 * What data-subject requests (R-PRIV-4) ask of the tables other modules own: one subject's rows,
 * found by device pseudonym, person id or keyed pseudonym, read for the access archive and deleted
 * (or stripped of the subject) on erasure. Kept together so every table a person may appear in is
 * visible in one place; the handlers that call these live in their own modules and register with
 * the privacy core. Lists of pseudonyms are bound in chunks well under both engines' limits.
 */
import type { Executor } from '../db.ts';
import type { DeviceRow } from './devices.ts';
import type { ThreatSubmissionRow } from './threat.ts';
import type { QuarantineMeta } from './email.ts';
import type { TraceCaseRow } from './proximity.ts';

const CHUNK = 500;

/** Run `q` over `values` in chunks, with `$<first>…` placeholders for each chunk. */
async function chunked<T>(values: readonly string[], first: number, q: (list: string, chunk: readonly string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    out.push(...(await q(chunk.map((_, j) => `$${j + first}`).join(', '), chunk)));
  }
  return out;
}

async function chunkedRun(x: Executor, values: readonly string[], first: number, sql: (list: string) => string, params: (chunk: readonly string[]) => unknown[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < values.length; i += CHUNK) {
    const chunk = values.slice(i, i + CHUNK);
    n += (await x.run(sql(chunk.map((_, j) => `$${j + first}`).join(', ')), params(chunk))).changes;
  }
  return n;
}

/** A fix of the subject's device (R-DATA-3). */
export interface SubjectFixRow {
  at_ms: number;
  device: string;
  source: string;
  kind: string;
  floor_id: string;
  x_m: number;
  y_m: number;
  accuracy_m: number;
  method: string;
  zone_id: string | null;
}

export interface SubjectSessionRow {
  device: string;
  site_id: string | null;
  ap_key: string;
  start_ms: number;
  end_ms: number;
  end_reason: string | null;
  event_count: number;
  source: string;
}

export interface SubjectVisitRow {
  device: string;
  site_id: string;
  floor_id: string;
  zone_id: string;
  enter_ms: number;
  last_ms: number;
  exit_ms: number | null;
}

export interface SubjectEncounterRow {
  a: string;
  b: string;
  at_ms: number;
  duration_ms: number;
  rssi_dbm: number | null;
}

export class SubjectDataRepo {
  constructor(private readonly x: Executor) {}

  // ---- devices (R-DATA-1/2) -----------------------------------------------------------------

  devices(orgId: string, devices: readonly string[]): Promise<DeviceRow[]> {
    return chunked(devices, 2, (list, c) => this.x.all<DeviceRow>(`SELECT * FROM devices WHERE org_id = $1 AND pseudonym IN (${list}) ORDER BY pseudonym`, [orgId, ...c]));
  }
  /** A page of the org's devices that carry a username (to find a subject by username). */
  devicesWithUsername(orgId: string, afterPseudonym: string, limit: number): Promise<{ pseudonym: string; username_enc: Buffer }[]> {
    return this.x.all('SELECT pseudonym, username_enc FROM devices WHERE org_id = $1 AND username_enc IS NOT NULL AND pseudonym > $2 ORDER BY pseudonym LIMIT $3', [orgId, afterPseudonym, limit]);
  }
  deleteDevices(orgId: string, devices: readonly string[]): Promise<number> {
    return chunkedRun(this.x, devices, 2, (l) => `DELETE FROM devices WHERE org_id = $1 AND pseudonym IN (${l})`, (c) => [orgId, ...c]);
  }

  // ---- fixes, association sessions, zone visits, encounters (R-DATA-3) ----------------------

  /** The devices' fixes at or after `sinceMs`, oldest first (a scan of the org's fixes by time: fixes have no device index). */
  fixes(orgId: string, devices: readonly string[], sinceMs: number): Promise<SubjectFixRow[]> {
    return chunked(devices, 3, (list, c) => this.x.all<SubjectFixRow>(`SELECT at_ms, device, source, kind, floor_id, x_m, y_m, accuracy_m, method, zone_id FROM fixes WHERE org_id = $1 AND at_ms >= $2 AND device IN (${list}) ORDER BY at_ms`, [orgId, sinceMs, ...c]));
  }
  deleteFixes(orgId: string, devices: readonly string[]): Promise<number> {
    return chunkedRun(this.x, devices, 2, (l) => `DELETE FROM fixes WHERE org_id = $1 AND device IN (${l})`, (c) => [orgId, ...c]);
  }
  sessions(orgId: string, devices: readonly string[], sinceMs: number): Promise<SubjectSessionRow[]> {
    return chunked(devices, 3, (list, c) => this.x.all<SubjectSessionRow>(`SELECT device, site_id, ap_key, start_ms, end_ms, end_reason, event_count, source FROM association_sessions WHERE org_id = $1 AND end_ms >= $2 AND device IN (${list}) ORDER BY start_ms`, [orgId, sinceMs, ...c]));
  }
  deleteSessions(orgId: string, devices: readonly string[]): Promise<number> {
    return chunkedRun(this.x, devices, 2, (l) => `DELETE FROM association_sessions WHERE org_id = $1 AND device IN (${l})`, (c) => [orgId, ...c]);
  }
  visits(orgId: string, devices: readonly string[], sinceMs: number): Promise<SubjectVisitRow[]> {
    return chunked(devices, 3, (list, c) => this.x.all<SubjectVisitRow>(`SELECT device, site_id, floor_id, zone_id, enter_ms, last_ms, exit_ms FROM zone_visits WHERE org_id = $1 AND last_ms >= $2 AND device IN (${list}) ORDER BY enter_ms`, [orgId, sinceMs, ...c]));
  }
  deleteVisits(orgId: string, devices: readonly string[]): Promise<number> {
    return chunkedRun(this.x, devices, 2, (l) => `DELETE FROM zone_visits WHERE org_id = $1 AND device IN (${l})`, (c) => [orgId, ...c]);
  }
  async encounters(orgId: string, devices: readonly string[], sinceMs: number): Promise<SubjectEncounterRow[]> {
    const rows = await chunked(devices, 3, (list, c) => this.x.all<SubjectEncounterRow>(`SELECT a, b, at_ms, duration_ms, rssi_dbm FROM encounters WHERE org_id = $1 AND at_ms >= $2 AND (a IN (${list}) OR b IN (${list})) ORDER BY at_ms`, [orgId, sinceMs, ...c]));
    const seen = new Set<string>();
    return rows.filter((r) => {
      const k = `${r.a}|${r.b}|${r.at_ms}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  deleteEncounters(orgId: string, devices: readonly string[]): Promise<number> {
    return chunkedRun(this.x, devices, 2, (l) => `DELETE FROM encounters WHERE org_id = $1 AND (a IN (${l}) OR b IN (${l}))`, (c) => [orgId, ...c]);
  }

  // ---- the tracing index (derived from fixes) -----------------------------------------------

  /**
   * Take the devices out of the tracing index: the hours of their tracks are marked for rebuilding
   * (their points in the floor cells go when those hours are rebuilt from the remaining fixes),
   * their tracks are deleted, and their dictionary entries keep their numbers under a random
   * stand-in, so a number is never reused for another device. Returns index rows changed.
   */
  async eraseFromIndex(orgId: string, devices: readonly string[], standIn: () => string): Promise<number> {
    const nums = (await chunked(devices, 2, (list, c) => this.x.all<{ num: number }>(`SELECT num FROM trace_devices WHERE org_id = $1 AND device IN (${list})`, [orgId, ...c]))).map((r) => Number(r.num));
    if (nums.length === 0) return 0;
    const hours = new Set<number>();
    for (const num of nums) for (const r of await this.x.all<{ hour_ms: number }>('SELECT hour_ms FROM trace_tracks WHERE org_id = $1 AND device_num = $2', [orgId, num])) hours.add(Number(r.hour_ms));
    // Marked as ingest marks hours with late fixes: a new mark, so a rebuild in progress does not clear it.
    if (hours.size > 0) await this.x.many('INSERT INTO trace_index_dirty (org_id, hour_ms, mark_seq) VALUES ($1, $2, $3) ON CONFLICT (org_id, hour_ms) DO UPDATE SET mark_seq = trace_index_dirty.mark_seq + 1', [...hours].map((h) => [orgId, h, 1]));
    let n = 0;
    for (const num of nums) {
      n += (await this.x.run('DELETE FROM trace_tracks WHERE org_id = $1 AND device_num = $2', [orgId, num])).changes;
      n += (await this.x.run('UPDATE trace_devices SET device = $3 WHERE org_id = $1 AND num = $2', [orgId, num, standIn()])).changes;
    }
    return n;
  }

  // ---- case reports ---------------------------------------------------------------------------

  /** Every case report of the org (they are few; contacts are only inside the encrypted report). */
  cases(orgId: string): Promise<TraceCaseRow[]> {
    return this.x.all<TraceCaseRow>('SELECT id, org_id, created_at, created_by, subject_kind, subject, from_ms, to_ms, contacts, purpose_enc, report_enc FROM trace_cases WHERE org_id = $1 ORDER BY created_at', [orgId]);
  }
  async deleteCase(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM trace_cases WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
  async rewriteCase(orgId: string, id: string, contacts: number, reportEnc: Buffer): Promise<number> {
    return (await this.x.run('UPDATE trace_cases SET contacts = $3, report_enc = $4 WHERE org_id = $1 AND id = $2', [orgId, id, contacts, reportEnc])).changes;
  }

  // ---- occupancy alerts and the delivery queue ----------------------------------------------

  /** Alerts that reveal identities (encrypted pseudonym lists). */
  alertIdentities(orgId: string): Promise<{ id: string; at_ms: number; zone_id: string; kind: string; identities_enc: Buffer }[]> {
    return this.x.all('SELECT id, at_ms, zone_id, kind, identities_enc FROM occupancy_alerts WHERE org_id = $1 AND identities_enc IS NOT NULL ORDER BY at_ms', [orgId]);
  }
  async setAlertIdentities(orgId: string, id: string, enc: Buffer | null): Promise<void> {
    await this.x.run('UPDATE occupancy_alerts SET identities_enc = $3 WHERE org_id = $1 AND id = $2', [orgId, id, enc]);
  }
  /** A page of the org's queued and sent messages (encrypted payloads). */
  deliveryPayloads(orgId: string, afterId: string, limit: number): Promise<{ id: string; payload_enc: Buffer }[]> {
    return this.x.all('SELECT id, payload_enc FROM delivery_queue WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3', [orgId, afterId, limit]);
  }
  async setDeliveryPayload(orgId: string, id: string, enc: Buffer): Promise<void> {
    await this.x.run('UPDATE delivery_queue SET payload_enc = $3 WHERE org_id = $1 AND id = $2', [orgId, id, enc]);
  }

  // ---- threat metadata, quarantined mail, TLS handshakes ------------------------------------

  /** A page of the org's file submissions with their encrypted metadata (R-DATA-8). */
  submissions(orgId: string, afterId: string, limit: number): Promise<ThreatSubmissionRow[]> {
    return this.x.all<ThreatSubmissionRow>('SELECT * FROM threat_submissions WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3', [orgId, afterId, limit]);
  }
  deleteSubmissions(orgId: string, ids: readonly string[]): Promise<number> {
    return chunkedRun(this.x, ids, 2, (l) => `DELETE FROM threat_submissions WHERE org_id = $1 AND id IN (${l})`, (c) => [orgId, ...c]);
  }
  /** Quarantined messages addressed to these recipient pseudonyms. */
  quarantineOf(orgId: string, recipients: readonly string[]): Promise<QuarantineMeta[]> {
    return chunked(recipients, 2, (list, c) => this.x.all<QuarantineMeta>(`SELECT id, org_id, source, status, received_at, released_at, recipient_pseudo, sender_enc, recipient_enc, subject_enc, size_bytes, score, state, attachment_count, imap_folder, imap_uid, imap_uid_validity FROM email_quarantine WHERE org_id = $1 AND recipient_pseudo IN (${list}) ORDER BY received_at`, [orgId, ...c]));
  }
  /** A page of the org's quarantined messages with a sender (to find mail sent by the subject). */
  quarantineSenders(orgId: string, afterId: string, limit: number): Promise<{ id: string; sender_enc: Buffer }[]> {
    return this.x.all('SELECT id, sender_enc FROM email_quarantine WHERE org_id = $1 AND sender_enc IS NOT NULL AND id > $2 ORDER BY id LIMIT $3', [orgId, afterId, limit]);
  }
  quarantineByIds(orgId: string, ids: readonly string[]): Promise<QuarantineMeta[]> {
    return chunked(ids, 2, (list, c) => this.x.all<QuarantineMeta>(`SELECT id, org_id, source, status, received_at, released_at, recipient_pseudo, sender_enc, recipient_enc, subject_enc, size_bytes, score, state, attachment_count, imap_folder, imap_uid, imap_uid_validity FROM email_quarantine WHERE org_id = $1 AND id IN (${list}) ORDER BY received_at`, [orgId, ...c]));
  }
  deleteQuarantine(orgId: string, ids: readonly string[]): Promise<number> {
    return chunkedRun(this.x, ids, 2, (l) => `DELETE FROM email_quarantine WHERE org_id = $1 AND id IN (${l})`, (c) => [orgId, ...c]);
  }
  /** TLS handshakes of these client pseudonyms (R-DATA-9). */
  tlsOf(orgId: string, clients: readonly string[], sinceMs: number): Promise<{ id: string; seen_at: number; received_at: number; client_pseudonym: string; src_ip_enc: Buffer; src_port: number; dst_ip_enc: Buffer; dst_port: number; sni_enc: Buffer | null; ja3_hash: string; ja4: string; score: number }[]> {
    return chunked(clients, 3, (list, c) => this.x.all(`SELECT id, seen_at, received_at, client_pseudonym, src_ip_enc, src_port, dst_ip_enc, dst_port, sni_enc, ja3_hash, ja4, score FROM tls_handshakes WHERE org_id = $1 AND received_at >= $2 AND client_pseudonym IN (${list}) ORDER BY seen_at`, [orgId, sinceMs, ...c]));
  }
  deleteTls(orgId: string, clients: readonly string[]): Promise<number> {
    return chunkedRun(this.x, clients, 2, (l) => `DELETE FROM tls_handshakes WHERE org_id = $1 AND client_pseudonym IN (${l})`, (c) => [orgId, ...c]);
  }
}
