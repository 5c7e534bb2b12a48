/**
 * SQLite migrations, versioned and append-only: never edit a shipped migration, add one.
 * Personal-data columns are marked with their data class (R-DATA-n) and hold ciphertext or
 * keyed pseudonyms only.
 */
import type { Migration } from '../../db.ts';

export const REGION_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 1,
    name: 'tenancy, identity, keys, audit, retention, devices',
    sql: `
CREATE TABLE orgs (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT NOT NULL,
  region TEXT NOT NULL,
  settings TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE TABLE org_keys (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  purpose TEXT NOT NULL CHECK (purpose IN ('data', 'pseudonym')),
  version INTEGER NOT NULL,
  wrapped BLOB,
  provider TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'destroyed')),
  created_at INTEGER NOT NULL,
  UNIQUE (org_id, purpose, version)
);
CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX sites_org ON sites(org_id);
CREATE TABLE floors (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  level INTEGER NOT NULL,
  width_m REAL NOT NULL,
  height_m REAL NOT NULL,
  plan_mime TEXT,
  plan_image BLOB,
  created_at INTEGER NOT NULL
);
CREATE INDEX floors_site ON floors(site_id);
CREATE TABLE zones (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  floor_id TEXT NOT NULL REFERENCES floors(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  polygon TEXT NOT NULL,
  occupancy_limit INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX zones_floor ON zones(floor_id);
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  email_lookup TEXT NOT NULL UNIQUE,
  email_enc BLOB NOT NULL,
  name_enc BLOB,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);
CREATE TABLE role_bindings (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  site_id TEXT REFERENCES sites(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX role_bindings_user ON role_bindings(user_id);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  org_id TEXT,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  site_id TEXT REFERENCES sites(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  last_used_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX tokens_org ON tokens(org_id);
CREATE TABLE support_grants (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  granted_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  granted_by TEXT NOT NULL
);
CREATE TABLE audit_events (
  org_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  -- The event's fields joined by U+001F: seq, at_ms, actor, action, target, request id, outcome, details.
  canon TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_events_time ON audit_events(org_id, at_ms);
CREATE TABLE audit_heads (
  org_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  checkpoint_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE audit_checkpoints (
  org_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  from_seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  range_digest TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (org_id, seq)
);
CREATE TABLE audit_anchors (
  org_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  signature TEXT NOT NULL
);
CREATE TABLE signing_keys (
  id TEXT PRIMARY KEY,
  public_pem TEXT NOT NULL,
  private_wrapped BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE retention_policies (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  data_class TEXT NOT NULL,
  days INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, data_class)
);
-- R-DATA-1 Wi-Fi / wired device data, 60 days rolling: pseudonym plus encrypted fields only.
CREATE TABLE devices (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  pseudonym TEXT NOT NULL,
  site_id TEXT,
  kind TEXT NOT NULL,
  randomized INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  ip_enc BLOB,
  username_enc BLOB,
  hostname_enc BLOB,
  PRIMARY KEY (org_id, pseudonym)
);
CREATE INDEX devices_last_seen ON devices(org_id, last_seen);
`,
  },
];

export const CONTROL_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 1,
    name: 'org directory and operator staff',
    sql: `
-- Which region holds each org: the id and region only, never the org's data (R-PRIV-6).
CREATE TABLE org_directory (
  org_id TEXT PRIMARY KEY,
  region TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE operator_users (
  id TEXT PRIMARY KEY,
  email_lookup TEXT NOT NULL UNIQUE,
  email_enc BLOB NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  org_id TEXT,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
];
