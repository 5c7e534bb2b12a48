/**
 * PostgreSQL migrations of the e-mail side of threat analysis (R-ATP-5, R-DATA-10): per-org relay and
 * IMAP settings, the domains an org receives mail for, and the quarantine. Personal data is held
 * as ciphertext under the org key or as a keyed pseudonym only.
 */
import type { Migration } from '../../db.ts';

export const EMAIL_MIGRATIONS_PG: Migration[] = [
  {
    version: 450,
    name: 'e-mail settings, domains and quarantine',
    sql: `
CREATE TABLE email_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  malicious_action TEXT NOT NULL CHECK (malicious_action IN ('quarantine', 'deliver-with-warning', 'pass')),
  suspicious_action TEXT NOT NULL CHECK (suspicious_action IN ('quarantine', 'deliver-with-warning', 'pass')),
  language TEXT NOT NULL CHECK (language IN ('en', 'nl')),
  imap_enabled SMALLINT NOT NULL DEFAULT 0,
  imap_host TEXT,
  imap_port INTEGER,
  imap_tls SMALLINT NOT NULL DEFAULT 1,
  imap_user_enc BYTEA,
  imap_password_enc BYTEA,
  imap_mailbox TEXT NOT NULL DEFAULT 'INBOX',
  imap_quarantine_folder TEXT NOT NULL DEFAULT 'Quarantine',
  imap_uid_validity TEXT,
  imap_last_uid BIGINT,
  updated_at BIGINT NOT NULL
);
CREATE TABLE email_domains (
  domain TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE
);
CREATE INDEX email_domains_org ON email_domains(org_id);
-- R-DATA-10 quarantined e-mail, 30 days by default: sender, recipient, subject, the whole message
-- and the verdict (which may name attachments) are AES-256-GCM under the org key.
CREATE TABLE email_quarantine (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('smtp', 'imap')),
  status TEXT NOT NULL CHECK (status IN ('held', 'released')),
  received_at BIGINT NOT NULL,
  released_at BIGINT,
  recipient_pseudo TEXT NOT NULL,
  sender_enc BYTEA,
  recipient_enc BYTEA NOT NULL,
  subject_enc BYTEA,
  raw_enc BYTEA,
  verdict_enc BYTEA NOT NULL,
  size_bytes BIGINT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL,
  attachment_count INTEGER NOT NULL,
  imap_folder TEXT,
  imap_uid BIGINT,
  imap_uid_validity TEXT
);
CREATE INDEX email_quarantine_received ON email_quarantine(org_id, received_at);
CREATE INDEX email_quarantine_recipient ON email_quarantine(org_id, recipient_pseudo, received_at);
`,
  },
];
