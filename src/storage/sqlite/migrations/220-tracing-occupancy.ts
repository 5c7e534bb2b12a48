/**
 * SQLite migrations of live occupancy and hot-zone alerts (issue 4, R-CT-1, R-LOC-4; versions
 * 220-224) and of the delivery channels that carry alerts out (225-229). No device identifier is
 * stored in clear anywhere here: occupancy is counted per zone-minute, alerts name devices only
 * as encrypted pseudonyms when the org turned that on, and delivery targets, secrets, recipients
 * and payloads are AES-256-GCM under the org key.
 */
import type { Migration } from '../../db.ts';

export const TRACING_OCCUPANCY_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 220,
    name: 'occupancy: live counts per zone-minute, settings, baselines, hot-zone alerts',
    sql: `
-- R-LOC-4 aggregates (retention class analytics, with the rest of the row): the live count of
-- the zone (devices whose last sighting in the org's window put them there) at the end of the
-- minute, and its peak during the minute, each with the randomised addresses among them. NULL:
-- occupancy was not tracked that minute. No device identifier.
ALTER TABLE zone_presence ADD COLUMN occupancy INTEGER;
ALTER TABLE zone_presence ADD COLUMN occupancy_randomized INTEGER;
ALTER TABLE zone_presence ADD COLUMN occupancy_peak INTEGER;
ALTER TABLE zone_presence ADD COLUMN occupancy_peak_randomized INTEGER;

-- Per org: window, randomised-address policy, alert hold and hysteresis (JSON; no personal data).
CREATE TABLE occupancy_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Per zone: a fixed limit, or one learned from the zone-minute history per hour of week (JSON
-- array of 168 limits in the site's time, Monday 00:00 first; null where history is too thin).
CREATE TABLE occupancy_baselines (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  mode TEXT NOT NULL,
  fixed_limit INTEGER,
  percentile REAL NOT NULL,
  lookback_days INTEGER NOT NULL,
  learned TEXT,
  learned_at INTEGER,
  learned_minutes INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (org_id, zone_id)
);

-- R-CT-1 hot-zone alerts, contact-tracing data (retention class location, 30 days by default,
-- counted from at_ms): a violation opens an episode, an ok closes it (episode_id = the
-- violation's id). Counts only; identities_enc (the tracked devices' pseudonyms, JSON) is
-- AES-256-GCM under the org key and set only when the org turned identities on.
CREATE TABLE occupancy_alerts (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL,
  floor_id TEXT NOT NULL,
  zone_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  episode_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  occupancy INTEGER NOT NULL,
  randomized INTEGER NOT NULL,
  limit_devices INTEGER NOT NULL,
  baseline TEXT NOT NULL,
  identities_enc BLOB
);
CREATE INDEX occupancy_alerts_at ON occupancy_alerts(org_id, at_ms);
CREATE INDEX occupancy_alerts_episode ON occupancy_alerts(org_id, episode_id);
`,
  },
  {
    version: 225,
    name: 'delivery: channels, durable outgoing queue, attempts',
    sql: `
-- Where an org's alerts (and later notices) go. config holds what is not secret (SMTP host, port
-- and TLS mode; webhook payload format); secrets_enc holds, AES-256-GCM under the org key, the
-- webhook URL and signing secret or the SMTP account, sender and recipients (personal).
CREATE TABLE delivery_channels (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  topics TEXT NOT NULL,
  site_id TEXT,
  config TEXT NOT NULL,
  secrets_enc BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX delivery_channels_org ON delivery_channels(org_id);

-- The durable queue (retention class location, counted from created_at): one row per message
-- and channel; payload_enc (the body, which may name devices or people) is AES-256-GCM under the
-- org key. A restart resumes every pending row at its next_at.
CREATE TABLE delivery_queue (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  channel_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  source_id TEXT,
  payload_enc BLOB NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  last_error TEXT
);
CREATE INDEX delivery_queue_due ON delivery_queue(state, next_at);
CREATE INDEX delivery_queue_org ON delivery_queue(org_id, created_at);

-- Every attempt: when, how long, and the outcome as a code (HTTP status, SMTP reply, or a
-- reason such as timeout or connect_refused); never a message text or an address.
CREATE TABLE delivery_attempts (
  delivery_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  status INTEGER,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX delivery_attempts_org ON delivery_attempts(org_id, at_ms);
`,
  },
];
