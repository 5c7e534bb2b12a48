/**
 * Per-sensor MQTT credentials (R-SEC-1). An org or site admin issues a broker account for a
 * registered sensor: user `sensor-<sensorId>`, a random password shown once, stored only as the
 * `$7$` hash Mosquitto checks. Rotation replaces the password, revocation deletes the account; both
 * take effect when the operator regenerates the broker files (`cairn mqtt broker-config`, or the
 * org endpoint) and sends Mosquitto SIGHUP. Every change, and every export of the files, is audited.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { toIso } from '../../kernel/clock.ts';
import type { Core, Ctx } from '../../privacy/index.ts';
import { LocationRepo, MqttCredentialRepo, type MqttCredentialWithSite } from '../../storage/index.ts';
import { aclFileText, mosquittoPasswordHash, newSensorPassword, passwordFileText, sensorTopic, sensorUsername, type BrokerSensorEntry, type BrokerSubscriberEntry } from './broker.ts';

/** A credential as admins see it (never the hash). */
export interface MqttCredentialInfo {
  sensorId: string;
  siteId: string;
  username: string;
  /** The only topic the sensor may publish to. */
  topic: string;
  createdAt: string;
  rotatedAt: string;
}

/** A credential just issued or rotated: the password is in this answer and nowhere else. */
export interface IssuedMqttCredential extends MqttCredentialInfo {
  password: string;
}

/** An org's part of the broker files. */
export interface BrokerFiles {
  passwordFile: string;
  aclFile: string;
  /** Sensor accounts in the files. */
  sensors: number;
}

const info = (r: MqttCredentialWithSite): MqttCredentialInfo => ({
  sensorId: r.sensor_id,
  siteId: r.site_id,
  username: r.username,
  topic: sensorTopic(r.org_id, r.site_id, r.sensor_id),
  createdAt: toIso(r.created_at),
  rotatedAt: toIso(r.rotated_at),
});

export class MqttCredentialService {
  constructor(private readonly core: Core) {}

  /** The site of a sensor, for the access check (a placeholder when there is none, so the answer is "not found"). */
  private async sensorSite(orgId: string, sensorId: string): Promise<string> {
    const db = await this.core.directory.storeOf(orgId);
    return (await new LocationRepo(db).getSensor(orgId, sensorId))?.site_id ?? '__none__';
  }

  /** The sensor's credential (user name, topic, dates). @example await mqtt.get(ctx, orgId, sensorId) */
  async get(ctx: Ctx, orgId: string, sensorId: string): Promise<MqttCredentialInfo> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'mqtt', 'read', { orgId, siteId }, `sensor:${sensorId}`);
    const row = await new MqttCredentialRepo(db).get(orgId, sensorId);
    if (!row) throw notFoundOrNoAccess();
    return info(row);
  }

  /**
   * Issue the broker account of a registered sensor; CAIRN_ERR_CONFLICT when it has one (rotate it).
   *
   * @example const { username, password, topic } = await mqtt.issue(ctx, orgId, sensorId)
   */
  async issue(ctx: Ctx, orgId: string, sensorId: string): Promise<IssuedMqttCredential> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'mqtt', 'issue', { orgId, siteId }, `sensor:${sensorId}`);
    const password = newSensorPassword();
    const now = this.core.clock.nowMs();
    const row = { sensor_id: sensorId, org_id: orgId, username: sensorUsername(sensorId), password_hash: mosquittoPasswordHash(password), created_at: now, rotated_at: now };
    return db.tx(async (x) => {
      if (!(await new LocationRepo(x).getSensor(orgId, sensorId))) throw notFoundOrNoAccess();
      if (!(await new MqttCredentialRepo(x).insert(row))) throw new CairnError('CAIRN_ERR_CONFLICT', 'This sensor already has MQTT credentials; rotate them to get a new password.', { field: 'sensorId' });
      await this.core.audit.record(x, ctx, orgId, 'mqtt.credential.issue', `sensor:${sensorId}`, { siteId, username: row.username });
      return { ...info({ ...row, site_id: siteId }), password };
    });
  }

  /** A new password for the sensor's account (the old one works until the broker reloads its files). */
  async rotate(ctx: Ctx, orgId: string, sensorId: string): Promise<IssuedMqttCredential> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'mqtt', 'rotate', { orgId, siteId }, `sensor:${sensorId}`);
    const password = newSensorPassword();
    const hash = mosquittoPasswordHash(password);
    const now = this.core.clock.nowMs();
    return db.tx(async (x) => {
      const repo = new MqttCredentialRepo(x);
      if ((await repo.setHash(orgId, sensorId, hash, now)) === 0) throw notFoundOrNoAccess();
      const row = (await repo.get(orgId, sensorId))!;
      await this.core.audit.record(x, ctx, orgId, 'mqtt.credential.rotate', `sensor:${sensorId}`, { siteId, username: row.username });
      return { ...info(row), password };
    });
  }

  /** Delete the sensor's account (it can publish no more once the broker reloads its files). */
  async revoke(ctx: Ctx, orgId: string, sensorId: string): Promise<void> {
    const siteId = await this.sensorSite(orgId, sensorId);
    const { db } = await this.core.access.enforce(ctx, 'mqtt', 'revoke', { orgId, siteId }, `sensor:${sensorId}`);
    await db.tx(async (x) => {
      if ((await new MqttCredentialRepo(x).delete(orgId, sensorId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'mqtt.credential.revoke', `sensor:${sensorId}`, { siteId });
    });
  }

  /**
   * The org's sensor accounts for the broker (user name, hash, topic); audited, since it hands out
   * password hashes.
   */
  async entries(ctx: Ctx, orgId: string): Promise<BrokerSensorEntry[]> {
    const { db } = await this.core.access.enforce(ctx, 'mqtt', 'brokerConfig', { orgId });
    return db.tx(async (x) => {
      const rows = await new MqttCredentialRepo(x).listOrg(orgId);
      await this.core.audit.record(x, ctx, orgId, 'mqtt.broker_config', `org:${orgId}`, { sensors: rows.length });
      return rows.map((r) => ({ username: r.username, passwordHash: r.password_hash, topic: sensorTopic(r.org_id, r.site_id, r.sensor_id) }));
    });
  }

  /**
   * The org's broker files: its sensors' `password_file` lines and `acl_file` entries, plus the
   * ACL of Cairn's subscriber account (its password line only where the caller knows its hash: the
   * operator's `cairn mqtt broker-config`).
   *
   * @example const { passwordFile, aclFile } = await mqtt.brokerFiles(ctx, orgId, { username: 'cairn' })
   */
  async brokerFiles(ctx: Ctx, orgId: string, subscriber: BrokerSubscriberEntry): Promise<BrokerFiles> {
    const sensors = await this.entries(ctx, orgId);
    return { passwordFile: passwordFileText(sensors, subscriber), aclFile: aclFileText(sensors, subscriber), sensors: sensors.length };
  }
}
