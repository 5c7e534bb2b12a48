/**
 * SQLite migrations of the MQTT source (versions 130-139): per-sensor broker credentials
 * (R-SEC-1), the password only as Mosquitto's `$7$` PBKDF2-SHA512 hash. Infrastructure data.
 */
import type { Migration } from '../../db.ts';

export const MQTT_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 130,
    name: 'mqtt: per-sensor broker credentials',
    sql: `
-- One broker account per registered sensor: it may publish only to cairn/<org>/<site>/<sensor>.
-- password_hash is what mosquitto_passwd writes ($7$iterations$salt$hash); the password itself
-- is shown once at issue or rotation and never stored. Not personal data.
CREATE TABLE mqtt_credentials (
  sensor_id TEXT PRIMARY KEY REFERENCES sensors(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  rotated_at INTEGER NOT NULL
);
CREATE INDEX mqtt_credentials_org ON mqtt_credentials(org_id, username);
`,
  },
];
