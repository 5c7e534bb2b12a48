/**
 * What ingest and location contribute to the org export (R-PRIV-3) and the records of processing
 * (GDPR Art. 30): exporters of the sensor registry, calibration, collect settings (webhook
 * secrets left out), fixes, zone-minute counts, association sessions, MQTT accounts (password
 * hashes left out), the Spaces firehose settings (API key left out) and badge encounters; and the
 * activities "network device records", "indoor location" and "badge encounters", read from the
 * org's collect settings (R-PRIV-1, R-LOC-3/4).
 */
import { tableExporter, type Core, type OrgExporter, type ProcessingActivity } from '../privacy/index.ts';
import { IngestRepo, OrgExportRepo } from '../storage/index.ts';
import { DEFAULT_INGEST_SETTINGS, type IngestSettings } from './settings.ts';
import type { PersonalField } from './types.ts';

const FIELD_NAMES: Record<PersonalField, string> = { ip: 'IP address', username: 'username', hostname: 'host name', ssid: 'SSID', manufacturer: 'manufacturer', os: 'operating system' };

/** The org's collect settings, every field defaulted (no secrets). */
async function settingsOf(x: Parameters<ProcessingActivity['state']>[0], orgId: string): Promise<IngestSettings> {
  const row = await new IngestRepo(x).getSettings(orgId);
  const s = row ? (JSON.parse(row.settings) as Partial<IngestSettings>) : {};
  return { ...DEFAULT_INGEST_SETTINGS, ...s, collect: { ...(s.collect ?? {}) } };
}

/** @example for (const e of ingestExporters()) core.exporters.register(e) */
export function ingestExporters(): OrgExporter[] {
  return [
    tableExporter({ id: 'location.sensors', dataClass: 'config', table: 'sensors', description: 'Sensors and access points: kind, name, MAC (infrastructure), vendor id, position in floor metres, coverage radius, transmit power.' }),
    tableExporter({ id: 'location.site_calibration', dataClass: 'config', table: 'site_calibration', description: 'Path-loss calibration per site (dBm, exponent, shadowing).' }),
    tableExporter({ id: 'ingest.settings', dataClass: 'config', table: 'ingest_settings', json: ['settings'], omit: ['mist_secret_enc', 'meraki_secret_enc'], description: 'What each source may collect (R-PRIV-1), location services, vendor floor maps. Webhook secrets are not exported.' }),
    tableExporter({ id: 'ingest.spaces_firehose', dataClass: 'config', table: 'spaces_firehose', omit: ['api_key_enc'], description: 'Cisco Spaces firehose settings. The API key is not exported.' }),
    tableExporter({ id: 'ingest.mqtt_credentials', dataClass: 'config', table: 'mqtt_credentials', omit: ['password_hash'], description: 'MQTT broker accounts of sensors (user names). Password hashes are not exported.' }),
    tableExporter({ id: 'location.fixes', dataClass: 'location', table: 'fixes', description: 'Location fixes (R-DATA-3): time, device pseudonym, source, kind, floor, x and y in metres, accuracy in metres, method, zone.' }),
    tableExporter({ id: 'location.association_sessions', dataClass: 'location', table: 'association_sessions', description: 'Association sessions (R-DATA-3): device pseudonym at an access point from start to end, end reason, events.' }),
    tableExporter({ id: 'location.zone_presence', dataClass: 'analytics', table: 'zone_presence', description: 'Distinct devices per zone and minute (aggregates, no identities).' }),
    tableExporter({ id: 'ingest.encounters', dataClass: 'location', table: 'encounters', description: 'Badge-to-badge encounters: two badge pseudonyms, time, duration in ms, signal strength in dBm.' }),
  ];
}

/** @example for (const a of ingestActivities()) core.activities.register(a) */
export function ingestActivities(): ProcessingActivity[] {
  return [
    {
      id: 'ingest.devices',
      name: 'Network device records',
      purpose: 'Operate the network: know which devices use it, where roughly, and when (R-DATA-1/2).',
      dataClasses: ['device'],
      dataCategories: ['device pseudonym (from the MAC address, badge or app id)', 'device kind', 'site', 'first and last seen', ...Object.values(FIELD_NAMES)],
      subjectCategories: ['users of devices on the organisation\'s network (staff, guests, visitors)'],
      source: 'The organisation\'s access points, BLE sensors and controllers (Mist, Meraki, Cisco Spaces, syslog, MQTT, native API).',
      suggestedLegalBasis: 'legitimate_interests',
      async state(x, orgId) {
        const s = await settingsOf(x, orgId);
        const fields = new Set<PersonalField>();
        const bySource: Record<string, string[]> = {};
        for (const [src, list] of Object.entries(s.collect)) {
          if (!list?.length) continue;
          bySource[`collect.${src}`] = [...list].sort();
          for (const f of list) fields.add(f);
        }
        const fh = await new IngestRepo(x).getFirehose(orgId);
        return {
          enabled: true,
          collected: ['device pseudonym (from the MAC address, badge or app id)', 'device kind', 'site', 'first and last seen', ...[...fields].sort().map((f) => FIELD_NAMES[f])],
          settings: { ...bySource, spacesFirehose: fh ? Number(fh.enabled) === 1 : false },
          notes: fields.size === 0 ? ['No personal field of any source is collected (the default).'] : [],
        };
      },
    },
    {
      id: 'location.services',
      name: 'Indoor location (location services)',
      purpose: 'Locate devices on the organisation\'s floors for the features the organisation turned on: location history, journeys and contact tracing (R-LOC, R-DATA-3).',
      dataClasses: ['location'],
      dataCategories: ['device pseudonym', 'position (x, y, floor, accuracy, zone) over time', 'access point associations'],
      subjectCategories: ['users of devices on the organisation\'s network', 'badge wearers', 'app users who opted in'],
      source: 'Signal readings from the organisation\'s own access points and sensors; no GPS.',
      suggestedLegalBasis: 'legitimate_interests',
      async state(x, orgId) {
        const s = await settingsOf(x, orgId);
        return {
          enabled: s.locationServices,
          collected: ['device pseudonym', 'position (x, y, floor, accuracy, zone) over time', 'access point associations (start, end)'],
          settings: { locationServices: s.locationServices, trackUnconnected: s.trackUnconnected, trackAssets: s.trackAssets, bleTags: s.bleTags },
          notes: [s.trackUnconnected ? 'Unconnected (probing) Wi-Fi devices are tracked precisely.' : 'Unconnected (probing) Wi-Fi devices are not tracked precisely (R-LOC-3 default).'],
        };
      },
    },
    {
      id: 'ingest.encounters',
      name: 'Badge encounters',
      purpose: 'Record which badges were near each other and for how long, for contact tracing (R-CT-3).',
      dataClasses: ['location'],
      dataCategories: ['badge pseudonyms', 'time', 'duration', 'signal strength'],
      subjectCategories: ['badge wearers'],
      source: 'Badges reporting each other through the organisation\'s sensors.',
      suggestedLegalBasis: 'legitimate_interests',
      state: async (x, orgId) => ({ enabled: await new OrgExportRepo(x).any('encounters', orgId) }),
    },
  ];
}

/** Register ingest's exporters and processing activities with the privacy core. */
export function registerIngestGovernance(core: Core): void {
  for (const e of ingestExporters()) core.exporters.register(e);
  for (const a of ingestActivities()) core.activities.register(a);
}
