/**
 * PostgreSQL migrations of threat analysis (versions 400-409): file verdicts, submissions with their
 * R-DATA-8 metadata, allow/block lists, per-org threat settings and retained file bodies (R-DATA-7).
 * Personal-data columns hold ciphertext under the org key (`*_enc`) or keyed pseudonyms only.
 */
import type { Migration } from '../../db.ts';

export const THREAT_MIGRATIONS_PG: Migration[] = [
  {
    version: 400,
    name: 'threat: verdicts, submissions, lists, settings, retained file bodies',
    sql: `
-- R-ATP-6 verdict per (org, SHA-256): hash, type and verdict. Reasons may name archive entries
-- (file content, R-DATA-7), so they are stored encrypted under the org key. No file name here.
CREATE TABLE threat_verdicts (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  mime TEXT NOT NULL,
  category TEXT NOT NULL,
  subtype TEXT NOT NULL,
  description TEXT NOT NULL,
  type_basis TEXT NOT NULL,
  type_details TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL,
  complete INTEGER NOT NULL,
  basis TEXT NOT NULL CHECK (basis IN ('analysis', 'lists')),
  reasons_enc BYTEA NOT NULL,
  stages TEXT NOT NULL,
  analysis_version TEXT NOT NULL,
  analyzed_at BIGINT NOT NULL,
  first_seen BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  submission_count BIGINT NOT NULL,
  PRIMARY KEY (org_id, sha256)
);
CREATE INDEX threat_verdicts_last_seen ON threat_verdicts(org_id, last_seen);
-- R-DATA-8 threat metadata, one row per submission. Client host, client IP, file name, URL,
-- device name and username (only with the user firewall on, R-ATP-3) are encrypted under the org
-- key; vendor and times are in clear.
CREATE TABLE threat_submissions (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  submitted_at BIGINT NOT NULL,
  source TEXT NOT NULL,
  actor TEXT NOT NULL,
  vendor TEXT,
  user_firewall INTEGER NOT NULL,
  client_host_enc BYTEA,
  client_ip_enc BYTEA,
  file_name_enc BYTEA,
  url_enc BYTEA,
  device_name_enc BYTEA,
  username_enc BYTEA,
  score DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX threat_submissions_sha ON threat_submissions(org_id, sha256, received_at);
CREATE INDEX threat_submissions_time ON threat_submissions(org_id, received_at);
-- Allow and block lists. match_key is the value for hash/domain/ja3/ja4 and a keyed pseudonym
-- for IP entries, whose value is kept only encrypted (value_enc) for display.
CREATE TABLE threat_list_entries (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  list TEXT NOT NULL CHECK (list IN ('allow', 'block')),
  kind TEXT NOT NULL CHECK (kind IN ('hash', 'domain', 'ip', 'ja3', 'ja4')),
  match_key TEXT NOT NULL,
  value_enc BYTEA,
  note_enc BYTEA,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  UNIQUE (org_id, kind, match_key)
);
CREATE TABLE threat_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  file_retention TEXT NOT NULL,
  encrypted_traffic INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL
);
-- R-DATA-7 file bodies kept after analysis, only for categories the org set a retention for;
-- encrypted under the org key, purged at expires_at (or earlier by the threat_files class).
CREATE TABLE threat_file_bodies (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  category TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  body_enc BYTEA NOT NULL,
  stored_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, sha256)
);
CREATE INDEX threat_file_bodies_expiry ON threat_file_bodies(org_id, expires_at);
`,
  },
];
