/**
 * E-mail threat analysis (R-ATP-5, R-DATA-10): per-org relay and IMAP settings, the domains an org
 * receives mail for (one org per domain), and quarantined messages with their personal fields
 * as ciphertext under the org key. Quarantine rows are purged by the `quarantine` data class.
 */
import type { Executor } from '../db.ts';

export interface EmailSettingsRow {
  org_id: string;
  malicious_action: string;
  suspicious_action: string;
  language: string;
  imap_enabled: number;
  imap_host: string | null;
  imap_port: number | null;
  imap_tls: number;
  /** R-DATA-10 personal: the mailbox account (usually an e-mail address), encrypted under the org key. */
  imap_user_enc: Buffer | null;
  /** Secret: the mailbox password, encrypted under the org key; never returned by the API. */
  imap_password_enc: Buffer | null;
  imap_mailbox: string;
  imap_quarantine_folder: string;
  /** UIDVALIDITY of the watched mailbox when `imap_last_uid` was recorded (a bigint, as text). */
  imap_uid_validity: string | null;
  imap_last_uid: number | null;
  updated_at: number;
}

export interface QuarantineRow {
  id: string;
  org_id: string;
  source: 'smtp' | 'imap';
  status: 'held' | 'released';
  received_at: number;
  released_at: number | null;
  /** Keyed org pseudonym of the recipient address (finds a recipient's own messages). */
  recipient_pseudo: string;
  /** R-DATA-10 personal: envelope sender, encrypted; null for the null sender (bounces). */
  sender_enc: Buffer | null;
  /** R-DATA-10 personal: recipient address, encrypted. */
  recipient_enc: Buffer;
  /** R-DATA-10 personal: subject, encrypted. */
  subject_enc: Buffer | null;
  /** R-DATA-10 personal: the whole message (content and attachments), encrypted; null once released. */
  raw_enc: Buffer | null;
  /** R-DATA-10: the message verdict as JSON, encrypted (its reasons may name attachments). */
  verdict_enc: Buffer;
  size_bytes: number;
  score: number;
  state: string;
  attachment_count: number;
  imap_folder: string | null;
  imap_uid: number | null;
  imap_uid_validity: string | null;
}

/** Quarantine listing without the message body (metadata only). */
export type QuarantineMeta = Omit<QuarantineRow, 'raw_enc' | 'verdict_enc'>;

const META_COLUMNS = 'id, org_id, source, status, received_at, released_at, recipient_pseudo, sender_enc, recipient_enc, subject_enc, size_bytes, score, state, attachment_count, imap_folder, imap_uid, imap_uid_validity';

export class EmailRepo {
  constructor(private readonly x: Executor) {}

  getSettings(orgId: string): Promise<EmailSettingsRow | undefined> {
    return this.x.get<EmailSettingsRow>('SELECT * FROM email_settings WHERE org_id = $1', [orgId]);
  }
  listSettings(): Promise<EmailSettingsRow[]> {
    return this.x.all<EmailSettingsRow>('SELECT * FROM email_settings ORDER BY org_id');
  }
  async putSettings(s: EmailSettingsRow): Promise<void> {
    await this.x.run(
      `INSERT INTO email_settings (org_id, malicious_action, suspicious_action, language, imap_enabled, imap_host, imap_port, imap_tls, imap_user_enc, imap_password_enc, imap_mailbox, imap_quarantine_folder, imap_uid_validity, imap_last_uid, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       ON CONFLICT (org_id) DO UPDATE SET malicious_action = excluded.malicious_action, suspicious_action = excluded.suspicious_action, language = excluded.language,
         imap_enabled = excluded.imap_enabled, imap_host = excluded.imap_host, imap_port = excluded.imap_port, imap_tls = excluded.imap_tls,
         imap_user_enc = excluded.imap_user_enc, imap_password_enc = excluded.imap_password_enc, imap_mailbox = excluded.imap_mailbox, imap_quarantine_folder = excluded.imap_quarantine_folder,
         imap_uid_validity = excluded.imap_uid_validity, imap_last_uid = excluded.imap_last_uid, updated_at = excluded.updated_at`,
      [s.org_id, s.malicious_action, s.suspicious_action, s.language, s.imap_enabled, s.imap_host, s.imap_port, s.imap_tls, s.imap_user_enc, s.imap_password_enc, s.imap_mailbox, s.imap_quarantine_folder, s.imap_uid_validity, s.imap_last_uid, s.updated_at],
    );
  }
  /** Where an IMAP watcher has got to (not audited: a cursor, not a change anyone made). */
  async setImapCursor(orgId: string, uidValidity: string, lastUid: number): Promise<void> {
    await this.x.run('UPDATE email_settings SET imap_uid_validity = $2, imap_last_uid = $3 WHERE org_id = $1', [orgId, uidValidity, lastUid]);
  }

  listDomains(orgId?: string): Promise<{ domain: string; org_id: string }[]> {
    return orgId
      ? this.x.all('SELECT domain, org_id FROM email_domains WHERE org_id = $1 ORDER BY domain', [orgId])
      : this.x.all('SELECT domain, org_id FROM email_domains ORDER BY domain');
  }
  getDomain(domain: string): Promise<{ domain: string; org_id: string } | undefined> {
    return this.x.get('SELECT domain, org_id FROM email_domains WHERE domain = $1', [domain]);
  }
  /** Replace an org's domains. */
  async setDomains(orgId: string, domains: readonly string[]): Promise<void> {
    await this.x.run('DELETE FROM email_domains WHERE org_id = $1', [orgId]);
    if (domains.length) await this.x.many('INSERT INTO email_domains (domain, org_id) VALUES ($1, $2)', domains.map((d) => [d, orgId]));
  }

  async insertQuarantine(q: QuarantineRow): Promise<void> {
    await this.x.run(
      `INSERT INTO email_quarantine (id, org_id, source, status, received_at, released_at, recipient_pseudo, sender_enc, recipient_enc, subject_enc, raw_enc, verdict_enc, size_bytes, score, state, attachment_count, imap_folder, imap_uid, imap_uid_validity)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
      [q.id, q.org_id, q.source, q.status, q.received_at, q.released_at, q.recipient_pseudo, q.sender_enc, q.recipient_enc, q.subject_enc, q.raw_enc, q.verdict_enc, q.size_bytes, q.score, q.state, q.attachment_count, q.imap_folder, q.imap_uid, q.imap_uid_validity],
    );
  }
  /** Newest first; `recipientPseudo` limits the list to one recipient's messages; `before` pages by (received_at, id). */
  listQuarantine(orgId: string, opts: { recipientPseudo?: string; limit: number; before?: { atMs: number; id: string } }): Promise<QuarantineMeta[]> {
    const params: unknown[] = [orgId];
    let where = 'org_id = $1';
    if (opts.recipientPseudo) {
      params.push(opts.recipientPseudo);
      where += ` AND recipient_pseudo = $${params.length}`;
    }
    if (opts.before) {
      params.push(opts.before.atMs, opts.before.id);
      where += ` AND (received_at < $${params.length - 1} OR (received_at = $${params.length - 1} AND id < $${params.length}))`;
    }
    params.push(opts.limit);
    return this.x.all<QuarantineMeta>(`SELECT ${META_COLUMNS} FROM email_quarantine WHERE ${where} ORDER BY received_at DESC, id DESC LIMIT $${params.length}`, params);
  }
  getQuarantine(orgId: string, id: string): Promise<QuarantineRow | undefined> {
    return this.x.get<QuarantineRow>('SELECT * FROM email_quarantine WHERE org_id = $1 AND id = $2', [orgId, id]);
  }
  /** Mark released and drop the message body (only metadata stays until retention purges it). */
  async markReleased(orgId: string, id: string, atMs: number): Promise<number> {
    return (await this.x.run("UPDATE email_quarantine SET status = 'released', released_at = $3, raw_enc = NULL WHERE org_id = $1 AND id = $2 AND status = 'held'", [orgId, id, atMs])).changes;
  }
  async deleteQuarantine(orgId: string, id: string): Promise<number> {
    return (await this.x.run('DELETE FROM email_quarantine WHERE org_id = $1 AND id = $2', [orgId, id])).changes;
  }
  /** Delete at most `limit` quarantined messages received before `beforeMs`; returns rows deleted. */
  async purgeQuarantineBefore(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM email_quarantine WHERE org_id = $1 AND id IN (SELECT id FROM email_quarantine WHERE org_id = $1 AND received_at < $2 ORDER BY received_at LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
}
