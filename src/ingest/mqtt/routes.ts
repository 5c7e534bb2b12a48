/**
 * HTTP routes of per-sensor MQTT credentials (R-SEC-1): org and site admins issue, rotate, revoke
 * and look at a registered sensor's broker account (the password only in the issue and rotate
 * answers); org admins fetch the org's Mosquitto `password_file` and `acl_file` entries. Thin:
 * validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../../http/auth.ts';
import { Id, IsoTime, OrgParams, Strict, withErrors } from '../../http/schema.ts';
import type { MqttCredentialService } from './credentials.ts';

const info = {
  sensorId: Id,
  siteId: Id,
  username: Type.String({ description: 'Broker user name of the sensor (`sensor-<sensorId>`).' }),
  topic: Type.String({ description: 'The only topic this account may publish to: cairn/<orgId>/<siteId>/<sensorId>.' }),
  createdAt: IsoTime,
  rotatedAt: IsoTime,
};
const Credential = Strict(info);
const Issued = Strict({ ...info, password: Type.String({ description: 'The password, shown only in this answer (stored as a $7$ PBKDF2-SHA512 hash). Takes effect when the broker reloads its files.' }) });
const BrokerFiles = Strict({
  passwordFile: Type.String({ description: 'Mosquitto password_file lines of the org\'s sensor accounts (user:$7$… hash).' }),
  aclFile: Type.String({ description: 'Mosquitto acl_file entries: each sensor writes only its own topic; Cairn\'s subscriber reads cairn/#.' }),
  sensors: Type.Integer({ description: 'Sensor accounts in the files.' }),
});

export function mqttRoutes(app: FastifyInstance, mqtt: MqttCredentialService, subscriberUsername: string): void {
  const tags = ['mqtt'];
  const SensorParams = Strict({ orgId: Id, sensorId: Id });
  const base = '/api/v1/orgs/:orgId/sensors/:sensorId/mqtt-credentials';
  type P = { Params: { orgId: string; sensorId: string } };
  app.get<P>(base, { schema: { tags, summary: 'A sensor\'s MQTT account (user name, topic; never the password)', params: SensorParams, response: withErrors({ 200: Credential }) } }, (req) =>
    mqtt.get(ctxOf(req), req.params.orgId, req.params.sensorId),
  );
  app.post<P>(
    base,
    { schema: { tags, summary: 'Issue MQTT credentials for a registered sensor (password shown once)', params: SensorParams, response: withErrors({ 201: Issued }) } },
    async (req, reply) => reply.status(201).send(await mqtt.issue(ctxOf(req), req.params.orgId, req.params.sensorId)),
  );
  app.post<P>(`${base}/rotate`, { schema: { tags, summary: 'Give the sensor\'s MQTT account a new password (shown once)', params: SensorParams, response: withErrors({ 200: Issued }) } }, (req) =>
    mqtt.rotate(ctxOf(req), req.params.orgId, req.params.sensorId),
  );
  app.delete<P>(base, { schema: { tags, summary: 'Revoke the sensor\'s MQTT account', params: SensorParams, response: withErrors({ 204: Type.Null() }) } }, async (req, reply) => {
    await mqtt.revoke(ctxOf(req), req.params.orgId, req.params.sensorId);
    return reply.status(204).send();
  });
  app.get<{ Params: { orgId: string } }>(
    '/api/v1/orgs/:orgId/mqtt/broker-config',
    { schema: { tags, summary: 'The org\'s Mosquitto password_file and acl_file entries (what `cairn mqtt broker-config` writes for it)', params: OrgParams, response: withErrors({ 200: BrokerFiles }) } },
    (req) => mqtt.brokerFiles(ctxOf(req), req.params.orgId, { username: subscriberUsername }),
  );
}
