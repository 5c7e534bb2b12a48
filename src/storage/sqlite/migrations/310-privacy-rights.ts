/**
 * SQLite migrations of data-subject requests (R-PRIV-4; versions 310-319): the requests with
 * their deadlines and verification state, the devices whose processing a subject restricted,
 * access archives waiting for download, and signed redactions of audit events (erasure). Every
 * identifier is a keyed lookup (HMAC under the org pseudonym key) or ciphertext under a
 * per-request key that is itself wrapped by the org data key; erasure shreds that key.
 */
import type { Migration } from '../../db.ts';

export const PRIVACY_RIGHTS_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 310,
    name: 'privacy rights: data-subject requests, restrictions, access archives, audit redactions',
    sql: `
-- R-PRIV-4 data-subject requests, retention class dsar (closed requests kept 2 years: proof of
-- how each was answered). subject_key is HMAC(org pseudonym key, identifier kind and value), the
-- only way to find a subject's requests; NULL once the subject was erased. dek_enc is a random
-- per-request key wrapped by the org data key; subject_enc (identifier, contact address) and
-- details_enc (correction, resolved subject) are AES-256-GCM under it. Shredding dek_enc makes
-- them unreadable; erasure sets all three to NULL. token_hash: SHA-256 of the subject's status
-- token; code_hash: HMAC of the 6-digit code under the org pseudonym key.
CREATE TABLE dsar_requests (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('access', 'correction', 'deletion', 'restriction', 'objection', 'opt_out_sale')),
  regime TEXT NOT NULL CHECK (regime IN ('gdpr', 'ccpa')),
  id_kind TEXT NOT NULL CHECK (id_kind IN ('email', 'mac', 'badge', 'username')),
  channel TEXT NOT NULL,
  lang TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('unverified', 'verified', 'approved', 'fulfilled', 'rejected', 'locked')),
  subject_key TEXT,
  dek_enc BLOB,
  subject_enc BLOB,
  details_enc BLOB,
  token_hash TEXT NOT NULL,
  verify_method TEXT,
  code_hash TEXT,
  code_expires_at INTEGER,
  code_attempts INTEGER NOT NULL DEFAULT 0,
  codes_sent INTEGER NOT NULL DEFAULT 0,
  received_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  extended_at INTEGER,
  extension_reason TEXT,
  receipt_due_at INTEGER,
  receipt_sent_at INTEGER,
  verified_at INTEGER,
  approved_at INTEGER,
  approved_by TEXT,
  fulfil_started_at INTEGER,
  closed_at INTEGER,
  reject_reason TEXT,
  lifted_at INTEGER,
  result TEXT
);
CREATE INDEX dsar_requests_org ON dsar_requests(org_id, received_at);
CREATE INDEX dsar_requests_subject ON dsar_requests(org_id, subject_key) WHERE subject_key IS NOT NULL;
CREATE INDEX dsar_requests_open ON dsar_requests(org_id, due_at) WHERE closed_at IS NULL;

-- Devices (keyed pseudonyms, as ingest computes them) whose processing is restricted by a
-- fulfilled restriction or objection until it is lifted. Ingest drops their observations.
CREATE TABLE dsar_restrictions (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  request_id TEXT NOT NULL REFERENCES dsar_requests(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, device, request_id)
);
CREATE INDEX dsar_restrictions_request ON dsar_restrictions(request_id);

-- An access request's archive (zip of JSON and CSV), AES-256-GCM under the request's key, kept
-- until expires_at for the subject to download with their status token.
CREATE TABLE dsar_archives (
  request_id TEXT PRIMARY KEY REFERENCES dsar_requests(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  archive_enc BLOB NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  downloads INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dsar_archives_expiry ON dsar_archives(org_id, expires_at);

-- Audit events whose personal tokens (a subject's pseudonyms) were replaced after an erasure.
-- The event keeps its chain hash; the region's Ed25519 key signs (org, seq, that hash, SHA-256 of
-- the redacted canon), so verification accepts the new text and nothing else. No personal data.
CREATE TABLE audit_redactions (
  org_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  canon_digest TEXT NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (org_id, seq)
);
`,
  },
];
