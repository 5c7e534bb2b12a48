/**
 * PostgreSQL migrations of association sessions (versions 120-129): WiFiTrace sessions built from
 * controller syslog (a device's stay at one AP, association to disassociation), R-DATA-3
 * `location` retention, device as the org's keyed pseudonym only; the AP is infrastructure.
 */
import type { Migration } from '../../db.ts';

export const ASSOCIATION_SESSION_MIGRATIONS_PG: Migration[] = [
  {
    version: 120,
    name: 'association sessions: per device and AP, open ones kept for restarts',
    sql: `
-- R-DATA-3 (location, 30 days by default): a device's stay at one AP. device is the org's keyed
-- pseudonym (R-LOC-5), never a MAC. ap is what co-presence joins on: the registered sensor's id
-- when the AP is placed, else the controller's AP key lower-cased; ap_key is the AP name,
-- hostname or BSSID as the controller logged it, ap_mac the AP's own MAC: infrastructure, clear.
-- An open session (the device is still associated) has end_reason NULL and end_ms at its last
-- event; it is rewritten as events arrive, so a restart resumes it from here (feed: which
-- stream built it, 'listener' or a keyed file digest).
CREATE TABLE association_sessions (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  device TEXT NOT NULL,
  site_id TEXT,
  ap TEXT NOT NULL,
  ap_key TEXT NOT NULL,
  sensor_id TEXT,
  ap_mac TEXT,
  start_ms BIGINT NOT NULL,
  end_ms BIGINT NOT NULL,
  end_reason TEXT CHECK (end_reason IS NULL OR end_reason IN ('disassociation', 'roam', 'timeout', 'flush', 'evicted')),
  event_count INTEGER NOT NULL,
  randomized INTEGER NOT NULL,
  source TEXT NOT NULL,
  feed TEXT NOT NULL
);
-- A device's sessions in a window (the location API, the index side of co-presence).
CREATE INDEX association_sessions_device ON association_sessions(org_id, device, start_ms);
-- Everyone at one AP in a time range (co-presence), filtered on end and device inside the index.
CREATE INDEX association_sessions_ap ON association_sessions(org_id, ap, start_ms, end_ms, device);
-- Retention deletes by end.
CREATE INDEX association_sessions_end ON association_sessions(org_id, end_ms);
-- Open sessions of a feed, by last activity: what a restart loads back.
CREATE INDEX association_sessions_open ON association_sessions(org_id, feed, end_ms) WHERE end_reason IS NULL;

-- The longest session an org has stored (ms): bounds how far back a co-presence lookup must
-- reach for sessions that started before the index session. One number per org, no identifier.
CREATE TABLE association_session_bounds (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  max_duration_ms BIGINT NOT NULL
);
`,
  },
];
