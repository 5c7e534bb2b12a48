/**
 * What contact tracing contributes to the org export (R-PRIV-3) and the records of processing
 * (GDPR Art. 30), one register function per part, each called from that part's wiring: journeys
 * and the people directory (zone visits, people with their identities decrypted, device links),
 * proximity tracing (settings, case reports with purpose and report decrypted), occupancy (settings,
 * baselines, hot-zone alerts with identities decrypted) and delivery (channels with their
 * recipients and URLs decrypted but signing secrets and SMTP passwords left out, the queue with
 * payloads decrypted, attempts) and notices to exposed people. Delivery channels are the
 * recipients the records list.
 */
import { hostOf, tableExporter, type Core, type Recipient } from '../privacy/index.ts';
import { DeliveryRepo, IngestRepo, OccupancyRepo, OrgExportRepo, PeopleRepo, ProximityRepo, type Executor } from '../storage/index.ts';
import { parseOccupancySettings } from './occupancy/settings.ts';
import { parseProximitySettings } from './proximity/settings.ts';

/** Whether the org has location services on (ingest's setting; tracing features need it). */
async function locationServices(x: Executor, orgId: string): Promise<boolean> {
  const row = await new IngestRepo(x).getSettings(orgId);
  return row ? (JSON.parse(row.settings) as { locationServices?: boolean }).locationServices === true : false;
}

/** The org's delivery channels as recipients (host only: URLs may carry tokens), optionally only those on a topic. */
export async function deliveryRecipients(core: Core, x: Executor, orgId: string, topic?: string): Promise<Recipient[]> {
  const out: Recipient[] = [];
  for (const r of await new DeliveryRepo(x).listChannels(orgId)) {
    if (Number(r.enabled) !== 1) continue;
    const topics = JSON.parse(r.topics) as string[];
    if (topic && !topics.includes(topic)) continue;
    if (r.kind === 'webhook') {
      const s = JSON.parse(await core.keys.decrypt(x, orgId, 'delivery_channels.secrets', r.secrets_enc)) as { url?: string };
      out.push({ kind: 'webhook', name: r.name, host: hostOf(s.url), purpose: `Receives ${topics.join(', ')}.` });
    } else {
      const c = JSON.parse(r.config) as { host?: string };
      out.push({ kind: 'email', name: r.name, host: c.host ?? null, purpose: `E-mail of ${topics.join(', ')} through this SMTP server.` });
    }
  }
  return out;
}

/** Journeys and the people directory (R-CT-2, R-DATA-11). */
export function registerJourneyGovernance(core: Core): void {
  core.exporters.register(tableExporter({ id: 'tracing.zone_visits', dataClass: 'location', table: 'zone_visits', description: 'Zone visits (R-CT-2): device pseudonym, site, floor, zone, enter, last seen and exit times.' }));
  core.exporters.register(tableExporter({ id: 'tracing.journey_settings', dataClass: 'config', table: 'journey_settings', description: 'Dwell bands of journeys (seconds).' }));
  core.exporters.register(tableExporter({ id: 'tracing.people_settings', dataClass: 'config', table: 'people_settings', description: 'Whether the people directory is on.' }));
  core.exporters.register(tableExporter({ id: 'tracing.people', dataClass: 'identity_links', table: 'people', decrypt: ['ref_enc', 'name_enc', 'email_enc'], omit: ['ref_key'], description: 'The people directory (R-DATA-11): the organisation\'s person id, name and e-mail address, decrypted.' }));
  core.exporters.register(tableExporter({ id: 'tracing.person_devices', dataClass: 'identity_links', table: 'person_devices', description: 'Links of people to device pseudonyms (MAC, badge, app), with when they were linked.' }));
  core.activities.register({
    id: 'tracing.journeys',
    name: 'Journeys (zones visited)',
    purpose: 'Show the zones a device visited with enter and exit times and dwell, for contact tracing and space planning (R-CT-2).',
    dataClasses: ['location'],
    dataCategories: ['device pseudonym', 'zones visited with enter, exit and dwell times'],
    subjectCategories: ['users of devices on the organisation\'s network', 'badge wearers'],
    source: 'Derived from the location fixes.',
    suggestedLegalBasis: 'legitimate_interests',
    state: async (x, orgId) => ({ enabled: await locationServices(x, orgId) }),
  });
  core.activities.register({
    id: 'tracing.people',
    name: 'People directory (identity links)',
    purpose: 'Link people to their devices so a journey or contact trace can name them (R-CT-5, R-DATA-11); off unless the organisation turns it on.',
    dataClasses: ['identity_links'],
    dataCategories: ['the organisation\'s person id', 'name', 'e-mail address', 'linked device pseudonyms'],
    subjectCategories: ['the organisation\'s staff and badge holders'],
    source: 'Imported or entered by the organisation\'s administrators.',
    suggestedLegalBasis: 'legitimate_interests',
    state: async (x, orgId) => ({ enabled: await new PeopleRepo(x).enabled(orgId) }),
  });
}

/** Proximity tracing and case reports (R-CT-3 … R-CT-8). */
export function registerProximityGovernance(core: Core): void {
  core.exporters.register(tableExporter({ id: 'tracing.trace_settings', dataClass: 'config', table: 'trace_settings', json: ['settings'], description: 'Contact-tracing thresholds (R-CT-4): radius in metres, minutes, window in days, evidence used.' }));
  core.exporters.register(tableExporter({ id: 'tracing.trace_cases', dataClass: 'location', table: 'trace_cases', pageRows: 20, decrypt: ['purpose_enc'], decryptJson: ['report_enc'], description: 'Case reports (R-CT-3): index device or person, window, purpose and the report with its contacts (decrypted).' }));
  core.activities.register({
    id: 'tracing.proximity',
    name: 'Proximity (contact) tracing',
    purpose: 'For an index device or person and a time window, find the devices that were near it long enough, so the organisation can notify the people behind them (R-CT-3); never health data (R-CT-6).',
    dataClasses: ['location'],
    dataCategories: ['device pseudonyms', 'when, where and how long devices were near each other', 'the purpose of each trace'],
    subjectCategories: ['index persons', 'their contacts'],
    source: 'Derived from location fixes, access point associations and badge encounters.',
    suggestedLegalBasis: 'legitimate_interests',
    async state(x, orgId) {
      const s = parseProximitySettings(await new ProximityRepo(x).getSettings(orgId));
      const any = new OrgExportRepo(x);
      return {
        enabled: (await locationServices(x, orgId)) || (await any.any('encounters', orgId)) || (await any.any('trace_cases', orgId)),
        settings: { radiusMeters: s.radiusMeters, minMinutes: s.minMinutes, maxWindowDays: s.maxWindowDays, coPresence: s.coPresence, encounters: s.encounters },
      };
    },
  });
}

/** Occupancy, hot-zone alerts and where alerts and notices go (R-CT-1, R-LOC-4). */
export function registerOccupancyGovernance(core: Core): void {
  core.exporters.register(tableExporter({ id: 'tracing.occupancy_settings', dataClass: 'config', table: 'occupancy_settings', json: ['settings'], description: 'Occupancy window, treatment of randomised addresses, hot-zone alert settings.' }));
  core.exporters.register(tableExporter({ id: 'tracing.occupancy_baselines', dataClass: 'config', table: 'occupancy_baselines', json: ['learned'], description: 'Hot-zone baselines per zone (fixed or learned).' }));
  core.exporters.register(tableExporter({ id: 'tracing.occupancy_alerts', dataClass: 'location', table: 'occupancy_alerts', json: ['baseline'], decryptJson: ['identities_enc'], description: 'Hot-zone alerts (R-CT-1): zone, time, occupancy, limit; device pseudonyms in the zone when the org reveals identities (decrypted).' }));
  core.exporters.register(
    tableExporter({
      id: 'tracing.delivery_channels',
      dataClass: 'config',
      table: 'delivery_channels',
      json: ['topics', 'config'],
      decryptJson: ['secrets_enc'],
      description: 'Where alerts and notices go: webhooks (URL) and e-mail routes (SMTP account, sender, recipients), decrypted. Signing secrets and SMTP passwords are not exported.',
      map: (r) => {
        const { secrets, ...rest } = r as { secrets: Record<string, unknown> | null };
        if (!secrets) return { ...rest, secrets: null };
        const { secret: _s, password: _p, ...kept } = secrets;
        return { ...rest, secrets: kept };
      },
    }),
  );
  core.exporters.register(tableExporter({ id: 'tracing.delivery_queue', dataClass: 'location', table: 'delivery_queue', pageRows: 200, decryptJson: ['payload_enc'], description: 'Outgoing alerts and notices: channel, topic, state, attempts, the message (decrypted).' }));
  core.exporters.register(tableExporter({ id: 'tracing.delivery_attempts', dataClass: 'location', table: 'delivery_attempts', description: 'Each delivery attempt: time, duration in ms, outcome, HTTP status or error.' }));
  core.activities.register({
    id: 'tracing.hot_zones',
    name: 'Occupancy and hot-zone alerts',
    purpose: 'Count devices per zone and raise an alert when a zone stays over its baseline (R-CT-1); counts are aggregates.',
    dataClasses: ['analytics', 'location'],
    dataCategories: ['distinct devices per zone and minute (aggregate)', 'device pseudonyms in the zone, only when the organisation reveals identities in alerts'],
    subjectCategories: ['people in the organisation\'s zones'],
    source: 'Derived from the live location of devices.',
    suggestedLegalBasis: 'legitimate_interests',
    async state(x, orgId) {
      const row = await new OccupancyRepo(x).getSettings(orgId);
      const s = parseOccupancySettings(row?.settings);
      return {
        enabled: s.alerts.enabled,
        collected: ['distinct devices per zone and minute (aggregate)', ...(s.alerts.revealIdentities ? ['device pseudonyms in a hot zone'] : [])],
        settings: { alerts: s.alerts.enabled, revealIdentities: s.alerts.revealIdentities, holdMinutes: s.alerts.holdMinutes, randomized: s.randomized },
        recipients: await deliveryRecipients(core, x, orgId, 'occupancy-alerts'),
      };
    },
  });
  core.activities.register({
    id: 'tracing.delivery',
    name: 'Alerts and notices delivery',
    purpose: 'Send the alerts and notices the organisation subscribed to, to the webhooks and mail servers it configured.',
    dataClasses: ['location'],
    dataCategories: ['alert and notice content (may name device pseudonyms or people)', 'recipient addresses'],
    subjectCategories: ['people named in alerts and notices', 'recipients'],
    source: 'Cairn\'s alerts and notices.',
    suggestedLegalBasis: 'legitimate_interests',
    async state(x, orgId) {
      const recipients = await deliveryRecipients(core, x, orgId);
      return { enabled: recipients.length > 0, recipients };
    },
  });
}

/** Notices to exposed people (R-CT-3): templates, languages, batches drafted from case reports, recipients, sends. */
export function registerNoticeGovernance(core: Core): void {
  core.exporters.register(tableExporter({ id: 'tracing.notice_settings', dataClass: 'config', table: 'notice_settings', json: ['templates'], description: 'Notice templates and the default language.' }));
  core.exporters.register(tableExporter({ id: 'tracing.notice_person_languages', dataClass: 'identity_links', table: 'notice_person_languages', description: 'The language notices to a person (directory record id) are written in.' }));
  core.exporters.register(tableExporter({ id: 'tracing.notice_batches', dataClass: 'location', table: 'notice_batches', decrypt: ['purpose_enc'], decryptJson: ['unlinked_enc'], description: 'Notice batches drafted from case reports: case, channel, state, purpose and the contacts without a linked person (decrypted), approvals and sending.' }));
  core.exporters.register(tableExporter({ id: 'tracing.notice_recipients', dataClass: 'location', table: 'notice_recipients', pageRows: 200, decryptJson: ['notice_enc'], description: 'Recipients of each batch (directory record ids) with the rendered notice (decrypted).' }));
  core.exporters.register(tableExporter({ id: 'tracing.notice_sends', dataClass: 'location', table: 'notice_sends', description: 'Each notice sent: batch, person, channel, the delivery it queued.' }));
  core.activities.register({
    id: 'tracing.notices',
    name: 'Notices to exposed people',
    purpose: 'Tell the people behind a trace\'s contacts that they may have been exposed, after an administrator approved the notice (R-CT-3); never health data (R-CT-6).',
    dataClasses: ['location', 'identity_links'],
    dataCategories: ['name and e-mail address from the people directory', 'that the person was near an index case, when and where'],
    subjectCategories: ['contacts of an index case who are in the people directory'],
    source: 'Case reports and the people directory.',
    suggestedLegalBasis: 'legitimate_interests',
    async state(x, orgId) {
      return { enabled: await new OrgExportRepo(x).any('notice_batches', orgId), recipients: await deliveryRecipients(core, x, orgId, 'contact-notices') };
    },
  });
}
