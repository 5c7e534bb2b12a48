/** Every policy, by resource name. A resource without a policy here cannot be reached. */
import { auditPolicy } from './audit.ts';
import { consentPolicy } from './consent.ts';
import { contactTracePolicy } from './contact-trace.ts';
import { noticePolicy } from './notice.ts';
import { deliveryPolicy } from './delivery.ts';
import { dsarPolicy } from './dsar.ts';
import { devicePolicy } from './device.ts';
import { deviceLocationPolicy } from './device-location.ts';
import { floorPolicy } from './floor.ts';
import { ingestPolicy } from './ingest.ts';
import { journeyPolicy } from './journey.ts';
import { keysPolicy } from './keys.ts';
import { mqttPolicy } from './mqtt.ts';
import { occupancyPolicy } from './occupancy.ts';
import { orgPolicy } from './org.ts';
import { personPolicy } from './person.ts';
import { quarantinePolicy } from './quarantine.ts';
import { retentionPolicy } from './retention.ts';
import { sensorPolicy } from './sensor.ts';
import { sitePolicy } from './site.ts';
import { supportGrantPolicy } from './support-grant.ts';
import { threatPolicy } from './threat.ts';
import { tlsPolicy } from './tls.ts';
import { tokenPolicy } from './token.ts';
import { userPolicy } from './user.ts';
import { zonePolicy } from './zone.ts';
import { portabilityPolicy } from './portability.ts';
import { incidentPolicy } from './incident.ts';

export const POLICIES = {
  org: orgPolicy,
  site: sitePolicy,
  floor: floorPolicy,
  zone: zonePolicy,
  user: userPolicy,
  token: tokenPolicy,
  supportGrant: supportGrantPolicy,
  audit: auditPolicy,
  retention: retentionPolicy,
  keys: keysPolicy,
  device: devicePolicy,
  deviceLocation: deviceLocationPolicy,
  sensor: sensorPolicy,
  ingest: ingestPolicy,
  mqtt: mqttPolicy,
  threat: threatPolicy,
  tls: tlsPolicy,
  quarantine: quarantinePolicy,
  occupancy: occupancyPolicy,
  delivery: deliveryPolicy,
  journey: journeyPolicy,
  person: personPolicy,
  contactTrace: contactTracePolicy,
  notice: noticePolicy,
  dsar: dsarPolicy,
  consent: consentPolicy,
  portability: portabilityPolicy,
  incident: incidentPolicy,
} as const;

export type Resource = keyof typeof POLICIES;
export type ActionOf<R extends Resource> = keyof (typeof POLICIES)[R] & string;
