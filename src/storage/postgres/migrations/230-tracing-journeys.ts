/**
 * PostgreSQL migrations of journeys and the people directory (issue 4, R-CT-2, R-CT-5, R-DATA-11;
 * versions 230-239): zone visits derived at ingest (R-DATA-3, device pseudonyms only), per-org
 * dwell bands, and the optional directory of people whose names, e-mail addresses and own ids
 * are AES-256-GCM under the org key, linked to devices by pseudonym only.
 */
import type { Migration } from '../../db.ts';

export const TRACING_JOURNEY_MIGRATIONS_PG: Migration[] = [
  {
    version: 230,
    name: 'journeys: zone visits (R-DATA-3) and dwell bands',
    sql: `
-- R-DATA-3 precise location history, retention class location (30 days by default, counted from
-- the visit's end): one row per stay of a device in a zone, written in the transaction of the
-- ingest batch that saw it begin, end, or (at most every few minutes) last. device is the org's
-- keyed pseudonym (R-LOC-5), never a MAC. exit_ms is NULL while the visit is open; last_ms is
-- its latest sighting as last written (a closed visit has last_ms = exit_ms). Keyed by device
-- first: a journey reads one contiguous range. No index on open visits: every close would
-- rewrite a random page of it; they are looked for once per process and org, by a scan.
CREATE TABLE zone_visits (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  enter_ms BIGINT NOT NULL,
  site_id TEXT NOT NULL,
  floor_id TEXT NOT NULL,
  zone_id TEXT NOT NULL,
  last_ms BIGINT NOT NULL,
  exit_ms BIGINT,
  PRIMARY KEY (org_id, device, enter_ms)
);
CREATE INDEX zone_visits_enter ON zone_visits(org_id, enter_ms);

-- Per-org dwell bands (upper bounds in seconds, inclusive). No personal data.
CREATE TABLE journey_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  passerby_max_s INTEGER NOT NULL,
  bounce_max_s INTEGER NOT NULL,
  engaged_max_s INTEGER NOT NULL,
  updated_at BIGINT NOT NULL
);
`,
  },
  {
    version: 231,
    name: 'people: optional directory and device links (R-DATA-11)',
    sql: `
-- Whether the org keeps a people directory at all (off by default, R-DATA-11).
CREATE TABLE people_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL,
  updated_at BIGINT NOT NULL
);

-- R-DATA-11 identity links, retention class identity_links (kept until unlinked or erased).
-- Personal: ref_enc (the org's own person id), name_enc and email_enc are AES-256-GCM under the
-- org key; ref_key is HMAC(org pseudonym key, person id) to find a person by the org's id.
CREATE TABLE people (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  ref_key TEXT NOT NULL,
  ref_enc BYTEA NOT NULL,
  name_enc BYTEA,
  email_enc BYTEA,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX people_ref ON people(org_id, ref_key);

-- A device of a person, by its pseudonym only (mac, badge or app id pseudonymised as ingest
-- does); a device belongs to at most one person. Unlinking deletes the row.
CREATE TABLE person_devices (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  linked_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, device)
);
CREATE INDEX person_devices_person ON person_devices(person_id);
`,
  },
];
