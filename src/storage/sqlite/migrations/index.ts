/**
 * Every sqlite migration, gathered from one file per module. Version ranges keep modules apart:
 * foundation 1-99, ingest and location 100-199, tracing 200-299, privacy rights 300-399,
 * threat 400-499. Migrations are append-only: never edit a shipped one, add the next version.
 * They are applied in version order; each module's tables depend only on the foundation's.
 */
import type { Migration } from '../../db.ts';
import { CONTROL_MIGRATIONS_SQLITE, REGION_MIGRATIONS_SQLITE } from './001-foundation.ts';
import { INGEST_LOCATION_MIGRATIONS_SQLITE } from './100-ingest-location.ts';
import { ASSOCIATION_SESSION_MIGRATIONS_SQLITE } from './120-association-sessions.ts';
import { MQTT_MIGRATIONS_SQLITE } from './130-mqtt.ts';
import { INGEST_SPACES_ZONES_MIGRATIONS_SQLITE } from './140-ingest-spaces-zones.ts';
import { PROXIMITY_MIGRATIONS_SQLITE } from './200-proximity.ts';
import { TRACING_OCCUPANCY_MIGRATIONS_SQLITE } from './220-tracing-occupancy.ts';
import { TRACING_JOURNEY_MIGRATIONS_SQLITE } from './230-tracing-journeys.ts';
import { TRACING_NOTICE_MIGRATIONS_SQLITE } from './240-tracing-notices.ts';
import { PRIVACY_RIGHTS_MIGRATIONS_SQLITE } from './310-privacy-rights.ts';
import { CONSENT_MIGRATIONS_SQLITE } from './300-consent.ts';
import { PORTABILITY_INCIDENT_MIGRATIONS_SQLITE } from './320-portability-incidents.ts';
import { THREAT_MIGRATIONS_SQLITE } from './400-threat.ts';
import { THREAT_YARA_MIGRATIONS_SQLITE } from './410-threat-yara.ts';
import { TLS_MIGRATIONS_SQLITE } from './420-tls.ts';
import { EMAIL_MIGRATIONS_SQLITE } from './450-email.ts';

const byVersion = (a: Migration, b: Migration) => a.version - b.version;

export const REGION_MIGRATIONS: Migration[] = [...REGION_MIGRATIONS_SQLITE, ...INGEST_LOCATION_MIGRATIONS_SQLITE, ...ASSOCIATION_SESSION_MIGRATIONS_SQLITE, ...MQTT_MIGRATIONS_SQLITE, ...INGEST_SPACES_ZONES_MIGRATIONS_SQLITE, ...PROXIMITY_MIGRATIONS_SQLITE, ...TRACING_OCCUPANCY_MIGRATIONS_SQLITE, ...TRACING_JOURNEY_MIGRATIONS_SQLITE, ...TRACING_NOTICE_MIGRATIONS_SQLITE, ...PRIVACY_RIGHTS_MIGRATIONS_SQLITE, ...CONSENT_MIGRATIONS_SQLITE, ...PORTABILITY_INCIDENT_MIGRATIONS_SQLITE, ...THREAT_MIGRATIONS_SQLITE, ...THREAT_YARA_MIGRATIONS_SQLITE, ...TLS_MIGRATIONS_SQLITE, ...EMAIL_MIGRATIONS_SQLITE].sort(byVersion);
export const CONTROL_MIGRATIONS: Migration[] = [...CONTROL_MIGRATIONS_SQLITE].sort(byVersion);
