/**
 * Every postgres migration, gathered from one file per module. Version ranges keep modules apart:
 * foundation 1-99, ingest and location 100-199, tracing 200-299, privacy rights 300-399,
 * threat 400-499. Migrations are append-only: never edit a shipped one, add the next version.
 * They are applied in version order; each module's tables depend only on the foundation's.
 */
import type { Migration } from '../../db.ts';
import { CONTROL_MIGRATIONS_PG, REGION_MIGRATIONS_PG } from './001-foundation.ts';
import { INGEST_LOCATION_MIGRATIONS_PG } from './100-ingest-location.ts';
import { ASSOCIATION_SESSION_MIGRATIONS_PG } from './120-association-sessions.ts';
import { MQTT_MIGRATIONS_PG } from './130-mqtt.ts';
import { INGEST_SPACES_ZONES_MIGRATIONS_PG } from './140-ingest-spaces-zones.ts';
import { PROXIMITY_MIGRATIONS_PG } from './200-proximity.ts';
import { TRACING_OCCUPANCY_MIGRATIONS_PG } from './220-tracing-occupancy.ts';
import { TRACING_JOURNEY_MIGRATIONS_PG } from './230-tracing-journeys.ts';
import { TRACING_NOTICE_MIGRATIONS_PG } from './240-tracing-notices.ts';
import { PRIVACY_RIGHTS_MIGRATIONS_PG } from './310-privacy-rights.ts';
import { CONSENT_MIGRATIONS_PG } from './300-consent.ts';
import { PORTABILITY_INCIDENT_MIGRATIONS_PG } from './320-portability-incidents.ts';
import { THREAT_MIGRATIONS_PG } from './400-threat.ts';
import { THREAT_YARA_MIGRATIONS_PG } from './410-threat-yara.ts';
import { TLS_MIGRATIONS_PG } from './420-tls.ts';
import { EMAIL_MIGRATIONS_PG } from './450-email.ts';

const byVersion = (a: Migration, b: Migration) => a.version - b.version;

export const REGION_MIGRATIONS: Migration[] = [...REGION_MIGRATIONS_PG, ...INGEST_LOCATION_MIGRATIONS_PG, ...ASSOCIATION_SESSION_MIGRATIONS_PG, ...MQTT_MIGRATIONS_PG, ...INGEST_SPACES_ZONES_MIGRATIONS_PG, ...PROXIMITY_MIGRATIONS_PG, ...TRACING_OCCUPANCY_MIGRATIONS_PG, ...TRACING_JOURNEY_MIGRATIONS_PG, ...TRACING_NOTICE_MIGRATIONS_PG, ...PRIVACY_RIGHTS_MIGRATIONS_PG, ...CONSENT_MIGRATIONS_PG, ...PORTABILITY_INCIDENT_MIGRATIONS_PG, ...THREAT_MIGRATIONS_PG, ...THREAT_YARA_MIGRATIONS_PG, ...TLS_MIGRATIONS_PG, ...EMAIL_MIGRATIONS_PG].sort(byVersion);
export const CONTROL_MIGRATIONS: Migration[] = [...CONTROL_MIGRATIONS_PG].sort(byVersion);
