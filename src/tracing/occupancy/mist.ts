/**
 * Hot-zone alerts as Juniper Mist sends them on its `occupancy-alerts` webhook topic, so receivers
 * built for Mist work unchanged: `{ topic, events: [{ site_id, site_name, alert_events: [{ org_id,
 * map_id, zone_id, zone_name, current_occupancy, occupancy_limit, type, timestamp }] }] }` with
 * `type` `COMPLIANCE-VIOLATION` or `COMPLIANCE-OK` and `timestamp` in epoch seconds. Cairn's map
 * is the floor. Fields Cairn adds (receivers ignore what they do not know) carry the alert id,
 * the window and randomised-address policy behind the figure, where the limit came from, and,
 * only when the org turned identities on, the devices' pseudonyms. The e-mail text says the same
 * in words.
 */
import { toIso } from '../../kernel/clock.ts';
import type { RandomizedPolicy } from './settings.ts';
import type { BaselineSource } from './baseline.ts';

export const OCCUPANCY_TOPIC = 'occupancy-alerts';
export type AlertType = 'COMPLIANCE-VIOLATION' | 'COMPLIANCE-OK';

/** One alert, as the service records it. */
export interface HotZoneAlert {
  id: string;
  episodeId: string;
  type: AlertType;
  orgId: string;
  siteId: string;
  siteName: string;
  floorId: string;
  floorName: string;
  zoneId: string;
  zoneName: string;
  atMs: number;
  occupancy: number;
  randomized: number;
  limit: number;
  baseline: BaselineSource;
  windowMinutes: number;
  randomizedPolicy: RandomizedPolicy;
  holdMinutes: number;
  /** Tracked devices' pseudonyms, only when the org reveals identities. */
  devices?: string[];
}

/**
 * The webhook body for one alert.
 *
 * @example mistOccupancyPayload(alert).events[0].alert_events[0].type === 'COMPLIANCE-VIOLATION'
 */
export function mistOccupancyPayload(a: HotZoneAlert) {
  return {
    topic: OCCUPANCY_TOPIC,
    events: [
      {
        site_id: a.siteId,
        site_name: a.siteName,
        alert_events: [
          {
            org_id: a.orgId,
            map_id: a.floorId,
            zone_id: a.zoneId,
            zone_name: a.zoneName,
            current_occupancy: a.occupancy,
            occupancy_limit: a.limit,
            type: a.type,
            timestamp: a.atMs / 1000,
            cairn_alert_id: a.id,
            cairn_episode_id: a.episodeId,
            cairn_floor_name: a.floorName,
            cairn_baseline: a.baseline,
            cairn_window_minutes: a.windowMinutes,
            cairn_randomized_policy: a.randomizedPolicy,
            cairn_randomized: a.randomized,
            ...(a.devices ? { cairn_devices: a.devices } : {}),
          },
        ],
      },
    ],
  };
}

/** Subject and text of the e-mail for one alert (English). */
export function occupancyEmail(a: HotZoneAlert): { subject: string; text: string } {
  const where = `${a.zoneName} (${a.floorName}, ${a.siteName})`;
  const how = `Counted: devices last seen in the zone within ${a.windowMinutes} min; randomised addresses ${a.randomizedPolicy === 'count' ? 'counted' : a.randomizedPolicy === 'skip' ? 'left out' : `left out (${a.randomized} more seen)`}. Limit: ${a.baseline === 'learned' ? 'learned from this zone\'s history' : 'set by an administrator'}.`;
  if (a.type === 'COMPLIANCE-VIOLATION') {
    return {
      subject: `[Cairn] ${a.zoneName}: ${a.occupancy} present, limit ${a.limit}`,
      text: `Zone ${where} has been over its limit for ${a.holdMinutes} min: ${a.occupancy} present, limit ${a.limit}, at ${toIso(a.atMs)}.\n${how}\n${a.devices ? `Devices (pseudonyms): ${a.devices.join(', ')}\n` : ''}Alert ${a.id}\n`,
    };
  }
  return {
    subject: `[Cairn] ${a.zoneName}: back within its limit (${a.occupancy}/${a.limit})`,
    text: `Zone ${where} is back within its limit: ${a.occupancy} present, limit ${a.limit}, at ${toIso(a.atMs)}.\n${how}\nClears alert ${a.episodeId}\n`,
  };
}
