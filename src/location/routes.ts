/**
 * HTTP routes of the sensor/AP registry and site calibration: org and site admins place, move
 * and remove sensors and calibrate a site's path-loss model; site readers see them. Thin:
 * validate, take the caller's context, call the service.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ctxOf } from '../http/auth.ts';
import { Id, IsoTime, Strict, withErrors } from '../http/schema.ts';
import type { CalibrationInput, SensorInput, SensorService } from './sensors.ts';

const Kind = Type.Union([Type.Literal('ap'), Type.Literal('ble-sensor')], { description: 'An access point or a BLE sensor.' });
const Meters = (description: string) => Type.Number({ minimum: 0, maximum: 10_000, description });
const Mac = Type.String({ maxLength: 32, description: 'The sensor\'s own MAC (infrastructure, stored in clear; never a client\'s).' });
const VendorId = Type.String({ minLength: 1, maxLength: 128, description: 'The vendor\'s id for it: Mist device id, or the AP name a controller logs in syslog.' });
const TxPower = Type.Number({ minimum: -120, maximum: 30, description: 'RSSI at 1 m (dBm) for this sensor, overriding the site calibration.' });
const Sensor = Strict({
  id: Id,
  orgId: Id,
  siteId: Id,
  floorId: Id,
  kind: Kind,
  name: Type.String(),
  mac: Type.Union([Type.String(), Type.Null()]),
  vendorId: Type.Union([Type.String(), Type.Null()]),
  xM: Type.Number(),
  yM: Type.Number(),
  coverageRadiusM: Type.Number(),
  txPowerDbm: Type.Union([Type.Number(), Type.Null()]),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
const SensorBody = {
  floorId: Id,
  kind: Kind,
  name: Type.String({ minLength: 1, maxLength: 200 }),
  mac: Type.Optional(Type.Union([Mac, Type.Null()])),
  vendorId: Type.Optional(Type.Union([VendorId, Type.Null()])),
  xM: Meters('Position on the floor, metres from its origin.'),
  yM: Meters('Position on the floor, metres from its origin.'),
  coverageRadiusM: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000, description: 'Where its clients usually are, metres (default: AP 12, BLE sensor 8); the accuracy of association-only fixes.' })),
  txPowerDbm: Type.Optional(Type.Union([TxPower, Type.Null()])),
};
const Calibration = Strict({
  siteId: Id,
  calibrated: Type.Boolean({ description: 'False: the engine uses its defaults (Wi-Fi −40 dBm / 3.0, BLE −59 dBm / 2.2).' }),
  txPowerDbm: Type.Number(),
  exponent: Type.Number(),
  shadowingSigmaDb: Type.Number(),
  samples: Type.Integer(),
  residualSigmaDb: Type.Union([Type.Number(), Type.Null()]),
  updatedAt: Type.Union([IsoTime, Type.Null()]),
});
const CalibrationBody = Strict({
  txPowerDbm: Type.Optional(Type.Number({ minimum: -120, maximum: 30, description: 'RSSI at 1 m, dBm.' })),
  exponent: Type.Optional(Type.Number({ minimum: 1, maximum: 8, description: 'Path-loss exponent (2 free space, 2–4 indoors).' })),
  shadowingSigmaDb: Type.Optional(Type.Number({ minimum: 0.5, maximum: 20, description: 'Shadowing spread, dB.' })),
  samples: Type.Optional(Type.Array(Strict({ distanceM: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }), rssiDbm: Type.Number({ minimum: -130, maximum: 30 }) }), { maxItems: 10_000, description: 'Survey readings at known distances; two or more distances fit the model.' })),
});

export function locationRoutes(app: FastifyInstance, sensors: SensorService): void {
  const tags = ['sensors'];
  const SiteParams = Strict({ orgId: Id, siteId: Id });
  const SensorParams = Strict({ orgId: Id, sensorId: Id });
  app.get<{ Params: { orgId: string; siteId: string }; Querystring: { floorId?: string } }>(
    '/api/v1/orgs/:orgId/sites/:siteId/sensors',
    { schema: { tags, summary: 'Sensors and APs of a site (optionally one floor)', params: SiteParams, querystring: Strict({ floorId: Type.Optional(Id) }), response: withErrors({ 200: Type.Array(Sensor) }) } },
    (req) => sensors.list(ctxOf(req), req.params.orgId, req.params.siteId, req.query.floorId),
  );
  app.post<{ Params: { orgId: string; siteId: string }; Body: SensorInput }>(
    '/api/v1/orgs/:orgId/sites/:siteId/sensors',
    { schema: { tags, summary: 'Place a sensor or AP on a floor of the site', params: SiteParams, body: Strict(SensorBody), response: withErrors({ 201: Sensor }) } },
    async (req, reply) => reply.status(201).send(await sensors.create(ctxOf(req), req.params.orgId, req.params.siteId, req.body)),
  );
  app.get<{ Params: { orgId: string; sensorId: string } }>(
    '/api/v1/orgs/:orgId/sensors/:sensorId',
    { schema: { tags, summary: 'One sensor or AP', params: SensorParams, response: withErrors({ 200: Sensor }) } },
    (req) => sensors.get(ctxOf(req), req.params.orgId, req.params.sensorId),
  );
  app.patch<{ Params: { orgId: string; sensorId: string }; Body: Partial<SensorInput> }>(
    '/api/v1/orgs/:orgId/sensors/:sensorId',
    { schema: { tags, summary: 'Move, rename or re-identify a sensor (within its site)', params: SensorParams, body: Type.Partial(Strict(SensorBody)), response: withErrors({ 200: Sensor }) } },
    (req) => sensors.update(ctxOf(req), req.params.orgId, req.params.sensorId, req.body),
  );
  app.delete<{ Params: { orgId: string; sensorId: string } }>(
    '/api/v1/orgs/:orgId/sensors/:sensorId',
    { schema: { tags, summary: 'Remove a sensor or AP', params: SensorParams, response: withErrors({ 204: Type.Null() }) } },
    async (req, reply) => {
      await sensors.remove(ctxOf(req), req.params.orgId, req.params.sensorId);
      return reply.status(204).send();
    },
  );
  app.get<{ Params: { orgId: string; siteId: string } }>(
    '/api/v1/orgs/:orgId/sites/:siteId/calibration',
    { schema: { tags, summary: 'The site\'s path-loss model', params: SiteParams, response: withErrors({ 200: Calibration }) } },
    (req) => sensors.calibration(ctxOf(req), req.params.orgId, req.params.siteId),
  );
  app.put<{ Params: { orgId: string; siteId: string }; Body: CalibrationInput }>(
    '/api/v1/orgs/:orgId/sites/:siteId/calibration',
    { schema: { tags, summary: 'Calibrate the site: fit survey samples, or set the model', params: SiteParams, body: CalibrationBody, response: withErrors({ 200: Calibration }) } },
    (req) => sensors.calibrate(ctxOf(req), req.params.orgId, req.params.siteId, req.body),
  );
}
