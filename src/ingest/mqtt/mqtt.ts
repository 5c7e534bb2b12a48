/**
 * Cairn's MQTT sensor format. Sensors (Wi-Fi sniffers, BLE scanners) publish on
 * `cairn/<org>/<site>/<sensor>` a compact JSON report of what they heard:
 *
 * ```json
 * {"sensorId":"s-17","atMs":1710072000000,"reports":[{"id":"aa:bb:cc:dd:ee:ff","rssi":-67,"band":"5"},
 *   {"id":"badge-0042","rssi":-71,"kind":"ble-badge"}]}
 * ```
 *
 * `sensorId` may be left out; when present it must equal the topic's sensor, because the broker
 * authorises each sensor for its own topic only (R-SEC-1) and the payload must not claim another.
 * `rssi` is dBm (either sign is accepted and made negative); `band` is `2.4`, `5` or `6`;
 * `kind` defaults to `wifi-unconnected` (probe requests). Ids are MACs in any notation, or for
 * BLE kinds a badge id.
 */
import { malformed } from '../errors.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import {
  asObject,
  at,
  checkTimeMs,
  eachRecord,
  normaliseBand,
  normaliseRssiDbm,
  optArray,
  optString,
  parseJsonBody,
  reqNumber,
  reqString,
} from '../read.ts';
import type { ObservationKind, ParseOptions, RawObservation } from '../types.ts';

const S = 'mqtt' as const;

/** Default payload cap (256 KiB), for brokers that limit message size up front. */
export const MQTT_MAX_PAYLOAD_BYTES = 262_144;

/** The parts of a sensor topic. */
export interface MqttTopic {
  org: string;
  site: string;
  sensor: string;
}

export interface MqttOptions extends ParseOptions {
  /** Refuse topics of other organisations (the tenant the connection authenticated as). */
  expectOrg?: string;
  /** Payload cap, bytes. Default 256 KiB. */
  maxPayloadBytes?: number;
  /** Most reports per message. Default 1 000. */
  maxReports?: number;
}

/** The kinds a sensor may report. */
export const MQTT_KINDS: readonly ObservationKind[] = ['wifi-unconnected', 'wifi-connected', 'ble-badge', 'ble-asset'];

function isSegment(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 58;
    if (!ok) return false;
  }
  return true;
}

/**
 * Split `cairn/<org>/<site>/<sensor>`; each segment 1–64 of `A-Z a-z 0-9 . _ : -` (so no
 * wildcards). Throws `CAIRN_ERR_INGEST_MALFORMED` (`bad_topic`) otherwise.
 *
 * @example parseMqttTopic('cairn/acme/hq/s-17') // { org: 'acme', site: 'hq', sensor: 's-17' }
 */
export function parseMqttTopic(topic: string): MqttTopic {
  const parts = typeof topic === 'string' && topic.length <= 256 ? topic.split('/') : [];
  if (parts.length !== 4 || parts[0] !== 'cairn' || !isSegment(parts[1]!) || !isSegment(parts[2]!) || !isSegment(parts[3]!)) {
    throw malformed(S, 'bad_topic', 'The topic is not cairn/<org>/<site>/<sensor>.');
  }
  return { org: parts[1]!, site: parts[2]!, sensor: parts[3]! };
}

/**
 * Parse one sensor message into one observation per report (sensor = the topic's sensor, site =
 * the topic's site).
 *
 * @example parseMqttMessage('cairn/acme/hq/s-17', '{"atMs":1710072000000,"reports":[{"id":"AABBCCDDEEFF","rssi":67}]}')
 *   // [{ source: 'mqtt', kind: 'wifi-unconnected', deviceId: 'aa:bb:cc:dd:ee:ff', rssiDbm: -67, sensorId: 's-17', vendorSiteId: 'hq', … }]
 */
export function parseMqttMessage(topic: string, payload: string | Uint8Array, opts: MqttOptions = {}): RawObservation[] {
  const t = parseMqttTopic(topic);
  if (opts.expectOrg !== undefined && t.org !== opts.expectOrg) throw malformed(S, 'bad_topic', "The topic names another organisation than the sensor's.");
  const body = asObject(parseJsonBody(payload, S, opts.maxPayloadBytes ?? MQTT_MAX_PAYLOAD_BYTES), S, '');
  const claimed = optString(body, 'sensorId', S, '', 64);
  if (claimed !== undefined && claimed !== t.sensor) throw malformed(S, 'sensor_mismatch', 'sensorId differs from the sensor in the topic.', 'sensorId');
  const atMs = checkTimeMs(reqNumber(body, 'atMs', S, ''), S, 'atMs');
  const reports = optArray(body, 'reports', S, '', opts.maxReports ?? 1_000);
  if (reports === undefined) throw malformed(S, 'missing_field', 'reports is required.', 'reports');
  return eachRecord(reports, opts, [] as RawObservation[], (item, i, out) => {
    const p = at('reports', i);
    const r = asObject(item, S, p);
    const kindRaw = optString(r, 'kind', S, p, 32) ?? 'wifi-unconnected';
    if (!(MQTT_KINDS as readonly string[]).includes(kindRaw)) throw malformed(S, 'invalid_value', `${p}.kind is not a sensor observation kind.`, `${p}.kind`);
    const kind = kindRaw as ObservationKind;
    const id = reqString(r, 'id', S, p, 64);
    const mac = parseMac(id);
    const ble = kind === 'ble-badge' || kind === 'ble-asset';
    if (mac === undefined && !(ble && isSegment(id))) throw malformed(S, ble ? 'invalid_id' : 'invalid_mac', `${p}.id is not a ${ble ? 'MAC or badge id' : 'MAC address'}.`, `${p}.id`);
    const rssiDbm = normaliseRssiDbm(reqNumber(r, 'rssi', S, p));
    if (rssiDbm === undefined) throw malformed(S, 'invalid_rssi', `${p}.rssi is not an RSSI in dBm.`, `${p}.rssi`);
    const obs: RawObservation = {
      source: S,
      kind,
      deviceId: mac ?? id,
      idType: mac ? 'mac' : 'badge',
      randomized: mac ? isLocallyAdministered(mac) : false,
      atMs,
      sensorId: t.sensor,
      rssiDbm,
      vendorSiteId: t.site,
    };
    if (r['band'] !== undefined && r['band'] !== null) {
      const band = normaliseBand(r['band']);
      if (band === undefined) throw malformed(S, 'invalid_value', `${p}.band is not 2.4, 5 or 6.`, `${p}.band`);
      obs.band = band;
    }
    out.push(obs);
  });
}
