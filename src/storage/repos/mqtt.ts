/**
 * MQTT credential storage (R-SEC-1): one broker account per registered sensor, its password only
 * as Mosquitto's PBKDF2-SHA512 hash. Sensors are infrastructure; nothing here is personal data.
 * A credential goes with its sensor (foreign key, ON DELETE CASCADE).
 */
import type { Executor } from '../db.ts';

/** A sensor's broker account. */
export interface MqttCredentialRow {
  sensor_id: string;
  org_id: string;
  /** Broker user name (`sensor-<sensorId>`). */
  username: string;
  /** `$7$<iterations>$<salt>$<hash>` as mosquitto_passwd writes it; never the password. */
  password_hash: string;
  created_at: number;
  rotated_at: number;
}

/** A credential with its sensor's site (the topic is `cairn/<org>/<site>/<sensor>`). */
export interface MqttCredentialWithSite extends MqttCredentialRow {
  site_id: string;
}

const COLS = 'c.sensor_id, c.org_id, c.username, c.password_hash, c.created_at, c.rotated_at, s.site_id';

export class MqttCredentialRepo {
  constructor(private readonly x: Executor) {}

  get(orgId: string, sensorId: string): Promise<MqttCredentialWithSite | undefined> {
    return this.x.get<MqttCredentialWithSite>(`SELECT ${COLS} FROM mqtt_credentials c JOIN sensors s ON s.id = c.sensor_id WHERE c.org_id = $1 AND c.sensor_id = $2`, [orgId, sensorId]);
  }
  /** Every credential of an org, by user name. */
  listOrg(orgId: string): Promise<MqttCredentialWithSite[]> {
    return this.x.all<MqttCredentialWithSite>(`SELECT ${COLS} FROM mqtt_credentials c JOIN sensors s ON s.id = c.sensor_id WHERE c.org_id = $1 ORDER BY c.username`, [orgId]);
  }
  /** Insert; false when the sensor already has one. */
  async insert(r: MqttCredentialRow): Promise<boolean> {
    const res = await this.x.run(
      'INSERT INTO mqtt_credentials (sensor_id, org_id, username, password_hash, created_at, rotated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sensor_id) DO NOTHING',
      [r.sensor_id, r.org_id, r.username, r.password_hash, r.created_at, r.rotated_at],
    );
    return res.changes > 0;
  }
  /** Replace the hash (rotation); returns rows changed. */
  async setHash(orgId: string, sensorId: string, passwordHash: string, rotatedAt: number): Promise<number> {
    return (await this.x.run('UPDATE mqtt_credentials SET password_hash = $3, rotated_at = $4 WHERE org_id = $1 AND sensor_id = $2', [orgId, sensorId, passwordHash, rotatedAt])).changes;
  }
  async delete(orgId: string, sensorId: string): Promise<number> {
    return (await this.x.run('DELETE FROM mqtt_credentials WHERE org_id = $1 AND sensor_id = $2', [orgId, sensorId])).changes;
  }
}
