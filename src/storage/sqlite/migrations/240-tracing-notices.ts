/**
 * SQLite migrations of notices to exposed people (issue 4, R-CT-3, R-CT-6, R-CT-8; versions
 * 240-249): per-org notice templates and default language, a person's notice language, notice
 * batches drafted from a case report (draft → approved → sent), their recipients (people of the
 * org's directory, by record id) with the rendered notice encrypted under the org key, and one row
 * per send (the delivery it queued). No e-mail address is stored here: it is decrypted from the
 * people directory only when a notice is sent.
 */
import type { Migration } from '../../db.ts';

export const TRACING_NOTICE_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 240,
    name: 'notices: templates, person languages, batches, recipients, sends',
    sql: `
-- Per-org notice settings: the default language and the org's own templates (JSON
-- {"en": {"subject", "body"}, "nl": …}; a language absent uses Cairn's default). No personal data.
CREATE TABLE notice_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  default_language TEXT NOT NULL,
  templates TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- R-DATA-11 with the person it belongs to: the language a person's notices are written in.
-- Deleted with the person (foreign key cascade), so it needs no purger of its own.
CREATE TABLE notice_person_languages (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  language TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, person_id)
);

-- R-DATA-3 contact-tracing data, retention class location (30 days by default, R-CT-7), counted
-- from created_at: a batch of notices drafted from one case report. state: draft, approved, sent.
-- purpose_enc: the case's purpose (AES-256-GCM under the org key), kept so every later step is
-- audited with it after the case report is gone; unlinked_enc: the contacts not linked to a
-- person (pseudonyms with when, where and how long), listed for the admin, never notified.
-- *_by are actor strings (user:<id>, token:<id>, system:cli), never names or addresses.
CREATE TABLE notice_batches (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  case_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  state TEXT NOT NULL,
  purpose_enc BLOB NOT NULL,
  unlinked_enc BLOB NOT NULL,
  recipients INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  approved_at INTEGER,
  approved_by TEXT,
  sent_at INTEGER,
  sent_by TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX notice_batches_org ON notice_batches(org_id, created_at);
CREATE INDEX notice_batches_case ON notice_batches(org_id, case_id);

-- One person to notify in a batch (class location with its batch). person_id is the people
-- directory's record id; notice_enc (AES-256-GCM) holds when, where and how long and the notice
-- as rendered in the person's language (what the approver saw is what is sent). state: ready, or
-- no_address (an e-mail channel and no address on file: listed, not sent).
CREATE TABLE notice_recipients (
  batch_id TEXT NOT NULL REFERENCES notice_batches(id) ON DELETE CASCADE,
  person_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  rank INTEGER NOT NULL,
  language TEXT NOT NULL,
  state TEXT NOT NULL,
  notice_enc BLOB NOT NULL,
  PRIMARY KEY (batch_id, person_id)
);
CREATE INDEX notice_recipients_person ON notice_recipients(org_id, person_id);

-- Each send of a notice (class location with its batch): the delivery it queued (its attempts,
-- times and outcome codes are in delivery_queue and delivery_attempts), the channel, when and by
-- whom; send_no counts a person's sends in the batch (1, 2, …). A person gets a new send only when
-- the previous one failed or was cancelled.
CREATE TABLE notice_sends (
  delivery_id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL,
  batch_id TEXT NOT NULL REFERENCES notice_batches(id) ON DELETE CASCADE,
  person_id TEXT NOT NULL,
  send_no INTEGER NOT NULL,
  channel_id TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  queued_by TEXT NOT NULL
);
CREATE UNIQUE INDEX notice_sends_batch ON notice_sends(batch_id, person_id, send_no);
`,
  },
];
