/**
 * SQLite migrations of ingest and location (versions 100-119): the sensor/AP registry and per-site
 * path-loss calibration, per-org ingest settings (webhook secrets encrypted under the org key),
 * re-delivery bookkeeping, precise fixes (R-DATA-3) and per-minute zone presence aggregates.
 * Device identities appear only as keyed pseudonyms; sensor and AP MACs are infrastructure.
 */
import type { Migration } from '../../db.ts';

export const INGEST_LOCATION_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 100,
    name: 'ingest and location: sensors, calibration, settings, records, fixes, zone presence',
    sql: `
-- APs and BLE sensors placed on floors. Their MACs and vendor ids identify network equipment,
-- not people: they are infrastructure data and kept in clear (never a client device's MAC).
CREATE TABLE sensors (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  floor_id TEXT NOT NULL REFERENCES floors(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('ap', 'ble-sensor')),
  name TEXT NOT NULL,
  mac TEXT,
  vendor_id TEXT,
  x_m REAL NOT NULL,
  y_m REAL NOT NULL,
  coverage_radius_m REAL NOT NULL,
  tx_power_dbm REAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sensors_mac ON sensors(org_id, mac) WHERE mac IS NOT NULL;
CREATE UNIQUE INDEX sensors_vendor ON sensors(org_id, vendor_id) WHERE vendor_id IS NOT NULL;
CREATE INDEX sensors_site ON sensors(org_id, site_id);

-- Log-distance path-loss model of a site (RSSI at 1 m, exponent, shadowing sigma).
CREATE TABLE site_calibration (
  site_id TEXT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  tx_power_dbm REAL NOT NULL,
  exponent REAL NOT NULL,
  shadowing_sigma_db REAL NOT NULL,
  samples INTEGER NOT NULL,
  residual_sigma_db REAL,
  updated_at INTEGER NOT NULL
);

-- What an org collects (R-PRIV-1, R-LOC-3, R-LOC-4) as JSON; webhook secrets under the org key.
CREATE TABLE ingest_settings (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  settings TEXT NOT NULL,
  mist_secret_enc BLOB,
  meraki_secret_enc BLOB,
  updated_at INTEGER NOT NULL
);

-- Vendor record ids already stored (idempotent re-delivery). Never built from a device identifier.
CREATE TABLE ingest_records (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  record_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, source, record_id)
) WITHOUT ROWID;
CREATE INDEX ingest_records_at ON ingest_records(org_id, at_ms);

-- R-DATA-3 precise location history: one fix per device sighting, keyed by time first so inserts
-- append and retention deletes a prefix; the device index serves journeys and proximity.
-- device is the org's keyed pseudonym (R-LOC-5), never a MAC.
CREATE TABLE fixes (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  device TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  site_id TEXT NOT NULL,
  floor_id TEXT NOT NULL,
  x_m REAL NOT NULL,
  y_m REAL NOT NULL,
  accuracy_m REAL NOT NULL,
  method TEXT NOT NULL,
  zone_id TEXT,
  PRIMARY KEY (org_id, at_ms, device, source)
) WITHOUT ROWID;
CREATE INDEX fixes_device ON fixes(org_id, device, at_ms);

-- R-LOC-4 aggregates: distinct devices per zone and minute (zone_id '' = on the floor, in no
-- zone), randomised addresses counted apart (R-LOC-5). No device identifier.
CREATE TABLE zone_presence (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  floor_id TEXT NOT NULL,
  zone_id TEXT NOT NULL,
  bucket_ms INTEGER NOT NULL,
  site_id TEXT NOT NULL,
  devices INTEGER NOT NULL,
  randomized INTEGER NOT NULL,
  PRIMARY KEY (org_id, floor_id, zone_id, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX zone_presence_at ON zone_presence(org_id, bucket_ms);
`,
  },
  {
    version: 101,
    name: 'fixes: appended in arrival order, found by time',
    sql: `
-- R-DATA-3 precise location history: one fix per device sighting, in arrival order, found by
-- time. No unique key and no device-first index (version 100 had both): at ingest rates each
-- rewrote a random page per fix and halved the insert rate. Re-delivery is caught before storing
-- (vendor record ids and keyed delivery digests in ingest_records); per-device questions read a
-- time window. device is the org's keyed pseudonym (R-LOC-5), never a MAC; the site is the
-- floor's.
CREATE TABLE fixes_v2 (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  at_ms INTEGER NOT NULL,
  device TEXT NOT NULL,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  floor_id TEXT NOT NULL,
  x_m REAL NOT NULL,
  y_m REAL NOT NULL,
  accuracy_m REAL NOT NULL,
  method TEXT NOT NULL,
  zone_id TEXT
);
INSERT INTO fixes_v2 (org_id, at_ms, device, source, kind, floor_id, x_m, y_m, accuracy_m, method, zone_id)
  SELECT org_id, at_ms, device, source, kind, floor_id, x_m, y_m, accuracy_m, method, zone_id FROM fixes ORDER BY org_id, at_ms;
DROP TABLE fixes;
ALTER TABLE fixes_v2 RENAME TO fixes;
CREATE INDEX fixes_at ON fixes(org_id, at_ms);

-- Re-delivery bookkeeping now also holds keyed digests (HMAC under the org pseudonym key) of
-- whole deliveries, next to vendor record ids. Neither can be turned back into a device id.
`,
  },
];
