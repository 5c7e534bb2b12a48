/**
 * What ingest stores about a person, for data-subject requests (R-PRIV-4): fixes and association
 * sessions of the subject's devices and badge encounters they took part in (R-DATA-3). Found by
 * device pseudonym; exported with the look-back the regime allows; erased by deleting the rows.
 * An encounter is also the other badge's record: the subject's copy shows only that another
 * badge was there, and erasure deletes the encounter for both.
 */
import { toIso } from '../kernel/clock.ts';
import type { SubjectDataHandler } from '../privacy/index.ts';
import { SubjectDataRepo } from '../storage/index.ts';

const LOCATION_RECIPIENTS = 'The organisation\'s administrators and privacy officers (contact tracing: only they); Cairn\'s operator only under a support grant';

/** Handlers for `fixes`, `association_sessions` and `encounters`; registered by the ingest wiring. */
export function ingestSubjectHandlers(): SubjectDataHandler[] {
  return [
    {
      id: 'location.fixes',
      dataClass: 'location',
      info: { purpose: 'Locating devices on the organisation\'s premises (location services) and contact tracing.', categories: ['device pseudonym', 'time', 'floor', 'x and y in metres', 'accuracy', 'zone'], source: 'The organisation\'s Wi-Fi access points, BLE sensors and its own app', recipients: LOCATION_RECIPIENTS },
      async export(x, s, o) {
        const rows = await new SubjectDataRepo(x).fixes(s.orgId, [...s.devices], o.sinceMs);
        return { columns: ['at', 'device', 'source', 'kind', 'floor_id', 'x_m', 'y_m', 'accuracy_m', 'method', 'zone_id'], rows: rows.map((f) => [toIso(f.at_ms), f.device, f.source, f.kind, f.floor_id, f.x_m, f.y_m, f.accuracy_m, f.method, f.zone_id]) };
      },
      erase: (x, s) => new SubjectDataRepo(x).deleteFixes(s.orgId, [...s.devices]),
    },
    {
      id: 'location.sessions',
      dataClass: 'location',
      info: { purpose: 'Knowing which access point a device was connected to, and when (contact tracing by co-presence).', categories: ['device pseudonym', 'access point', 'start and end', 'why it ended'], source: 'The organisation\'s Wi-Fi controllers (syslog)', recipients: LOCATION_RECIPIENTS },
      async export(x, s, o) {
        const rows = await new SubjectDataRepo(x).sessions(s.orgId, [...s.devices], o.sinceMs);
        return { columns: ['device', 'site_id', 'access_point', 'start', 'end', 'end_reason', 'events', 'source'], rows: rows.map((r) => [r.device, r.site_id, r.ap_key, toIso(r.start_ms), toIso(r.end_ms), r.end_reason, r.event_count, r.source]) };
      },
      erase: (x, s) => new SubjectDataRepo(x).deleteSessions(s.orgId, [...s.devices]),
    },
    {
      id: 'location.encounters',
      dataClass: 'location',
      info: { purpose: 'Contact tracing between badges that sensed each other.', categories: ['badge pseudonym', 'time', 'duration', 'signal strength'], source: 'The badges themselves, uploaded by the organisation', recipients: LOCATION_RECIPIENTS },
      async export(x, s, o) {
        const rows = await new SubjectDataRepo(x).encounters(s.orgId, [...s.devices], o.sinceMs);
        return { columns: ['badge', 'other_badge', 'at', 'duration_s', 'rssi_dbm'], rows: rows.map((r) => [s.devices.has(r.a) ? r.a : r.b, 'another person', toIso(r.at_ms), Math.round(r.duration_ms / 1000), r.rssi_dbm]) };
      },
      erase: (x, s) => new SubjectDataRepo(x).deleteEncounters(s.orgId, [...s.devices]),
    },
  ];
}
