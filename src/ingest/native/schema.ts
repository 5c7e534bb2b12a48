/**
 * Cairn's own batch format for `POST /api/v1/ingest/observations`, as TypeBox schemas: the
 * request body is validated against them, and `http/` can publish them in the OpenAPI document.
 * Unknown fields are refused (a misspelt `rssi` for `rssiDbm` should fail loudly, not vanish).
 * Times are ISO 8601 at this edge (`at`); `atMs` (epoch ms) is accepted for machine clients.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_TIME_MS } from '../read.ts';

/** Most observations in one batch. */
export const NATIVE_MAX_BATCH = 1_000;

const Id = (description: string, maxLength = 128) => Type.String({ minLength: 1, maxLength, description });
const Personal = (description: string, maxLength = 256) => Type.Optional(Type.String({ maxLength, description: `${description} Personal data; kept only when the tenant collects it (R-PRIV-1).` }));
const Band = Type.Union([Type.Literal('2.4'), Type.Literal('5'), Type.Literal('6')], { description: 'Wi-Fi band, GHz.' });
const RssiDbm = Type.Number({ minimum: -130, exclusiveMaximum: 0, description: 'Signal strength, dBm (negative).' });

export const NativeReadingSchema = Type.Object(
  {
    sensorId: Id('The sensor or AP that heard the device.'),
    rssiDbm: RssiDbm,
    band: Type.Optional(Band),
  },
  { additionalProperties: false },
);

export const NativeObservationSchema = Type.Object(
  {
    kind: Type.Union(
      [Type.Literal('wifi-connected'), Type.Literal('wifi-unconnected'), Type.Literal('ble-badge'), Type.Literal('ble-asset'), Type.Literal('sdk'), Type.Literal('wired')],
      { description: 'What was seen (R-LOC-1).' },
    ),
    deviceId: Id('A MAC in any common notation, or a badge/app/asset id (see idType). Personal data.'),
    idType: Type.Optional(Type.Union([Type.Literal('mac'), Type.Literal('badge'), Type.Literal('app'), Type.Literal('asset')], { description: 'Default mac.' })),
    at: Type.Optional(Type.String({ minLength: 20, maxLength: 35, description: 'When it was seen, ISO 8601 with a zone, e.g. 2024-03-01T09:15:30Z. Give at or atMs.' })),
    atMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TIME_MS, description: 'When it was seen, UTC epoch milliseconds.' })),
    sensorId: Type.Optional(Id('The sensor or AP that heard it.')),
    apMac: Type.Optional(Type.String({ maxLength: 32, description: 'The AP a connected client is on, or the nearest AP.' })),
    rssiDbm: Type.Optional(RssiDbm),
    band: Type.Optional(Band),
    readings: Type.Optional(Type.Array(NativeReadingSchema, { maxItems: 64, description: 'Several sensors hearing the same sighting.' })),
    x: Type.Optional(Type.Number({ description: 'Position on floorId, metres. Personal data (R-DATA-3).' })),
    y: Type.Optional(Type.Number({ description: 'Position on floorId, metres. Personal data (R-DATA-3).' })),
    floorId: Type.Optional(Id('Your floor/map id.')),
    siteId: Type.Optional(Id('Your site/building id.')),
    accuracyM: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000, description: 'Position uncertainty, metres.' })),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90, description: 'WGS84 degrees. Personal data (R-DATA-3).' })),
    lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180, description: 'WGS84 degrees. Personal data (R-DATA-3).' })),
    sourceRecordId: Type.Optional(Id('Your id for this record: a re-sent record with the same id is stored once.')),
    ip: Personal('Client IP address.', 64),
    username: Personal('User name.'),
    hostname: Personal('Host name.'),
    ssid: Personal('SSID the client is connected to.', 64),
    manufacturer: Personal('Device manufacturer.', 128),
    os: Personal('Operating system.', 128),
  },
  { additionalProperties: false },
);

export const NativeBatchSchema = Type.Object(
  {
    observations: Type.Array(NativeObservationSchema, { minItems: 1, maxItems: NATIVE_MAX_BATCH }),
  },
  { additionalProperties: false, description: 'A batch of observations from your own system.' },
);

export type NativeObservation = Static<typeof NativeObservationSchema>;
export type NativeBatch = Static<typeof NativeBatchSchema>;
