/**
 * PostgreSQL migrations of proximity tracing (versions 200-219, issue 4, R-CT-3 … R-CT-8): badge
 * encounters, the tracing index derived from fixes (device and place numbers, per device-hour
 * tracks, per floor-cell-hour blobs, the indexer's progress), per-org thresholds and case
 * reports. Devices appear only as the org's keyed pseudonyms; case purposes and reports are
 * encrypted under the org key. Everything here except the settings is data class `location`.
 */
import type { Migration } from '../../db.ts';

export const PROXIMITY_MIGRATIONS_PG: Migration[] = [
  {
    version: 200,
    name: 'proximity tracing: encounters, tracing index, settings, case reports',
    sql: `
-- R-DATA-3 (class location): badge-to-badge encounters. a and b are keyed pseudonyms (kind badge),
-- a < b, so a pair has one spelling; re-delivery of the same encounter is stored once.
CREATE TABLE encounters (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  rssi_dbm INTEGER,
  PRIMARY KEY (org_id, a, at_ms, b)
);
CREATE INDEX encounters_b ON encounters(org_id, b, at_ms);
CREATE INDEX encounters_at ON encounters(org_id, at_ms);

-- The tracing index: derived from fixes (R-DATA-3, class location), purged with them, rebuildable.
-- Device numbers stand for keyed pseudonyms inside the index blobs (never for a MAC).
CREATE TABLE trace_devices (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  num INTEGER NOT NULL,
  device TEXT NOT NULL,
  last_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, num)
);
CREATE UNIQUE INDEX trace_devices_device ON trace_devices(org_id, device);

-- Floor and zone ids by number (infrastructure, not personal).
CREATE TABLE trace_places (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  num INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('floor', 'zone')),
  place_id TEXT NOT NULL,
  PRIMARY KEY (org_id, num)
);
CREATE UNIQUE INDEX trace_places_id ON trace_places(org_id, kind, place_id);

-- One device's smoothed minute points of one hour (binary, see tracing/proximity/codec.ts).
CREATE TABLE trace_tracks (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  device_num INTEGER NOT NULL,
  hour_ms BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (org_id, device_num, hour_ms)
);
CREATE INDEX trace_tracks_hour ON trace_tracks(org_id, hour_ms);

-- Every device's points inside one square of a floor during one hour (binary).
CREATE TABLE trace_cells (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  floor_num INTEGER NOT NULL,
  hour_ms BIGINT NOT NULL,
  cell INTEGER NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (org_id, floor_num, hour_ms, cell)
);
CREATE INDEX trace_cells_hour ON trace_cells(org_id, hour_ms);
-- The blobs are small, dense binary: stored uncompressed, read without decompressing.
ALTER TABLE trace_tracks ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE trace_cells ALTER COLUMN data SET STORAGE EXTERNAL;

-- How far the index reaches (hours before indexed_until_ms are in tracks and cells), and hours
-- that received fixes after they were indexed (rebuilt on the next run; mark_seq grows with
-- every new mark, so a rebuild clears only the marks it has seen).
CREATE TABLE trace_index_state (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  indexed_until_ms BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE trace_index_dirty (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  hour_ms BIGINT NOT NULL,
  mark_seq INTEGER NOT NULL,
  PRIMARY KEY (org_id, hour_ms)
);

-- R-CT-4: the org's thresholds (radius, duration, window, accuracy widening) as JSON.
CREATE TABLE trace_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

-- Case reports (class location, 30 days by default, R-CT-7). The subject is a device pseudonym or
-- a person id; the purpose (free text, never health information, R-CT-6) and the report (contacts
-- as pseudonyms, linked people) are encrypted under the org key.
CREATE TABLE trace_cases (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  subject_kind TEXT NOT NULL CHECK (subject_kind IN ('device', 'person')),
  subject TEXT NOT NULL,
  from_ms BIGINT NOT NULL,
  to_ms BIGINT NOT NULL,
  contacts INTEGER NOT NULL,
  purpose_enc BYTEA NOT NULL,
  report_enc BYTEA NOT NULL
);
CREATE INDEX trace_cases_org ON trace_cases(org_id, created_at);
`,
  },
];
