/**
 * From syslog lines to `Association` events: parse the header, recognise Aruba (`<501100> …`)
 * or hostapd (`AP-STA-CONNECTED …`) messages, and keep only association and disassociation
 * events. Everything else on a controller's log (most lines) yields `undefined`, not an error.
 */
import { reject } from '../errors.ts';
import { isLocallyAdministered, parseMac } from '../mac.ts';
import { collectFlags, copyPersonal, type CollectFlags } from '../read.ts';
import type { Association, ParseOptions, RawObservation } from '../types.ts';
import { ARUBA_ASSOCIATION_IDS, ARUBA_DISASSOCIATION_IDS, parseArubaMessage, type ArubaMessage } from './aruba.ts';
import { parseHostapdMessage } from './hostapd.ts';
import { parseSyslogLine, type SyslogMessage, type SyslogParseOptions } from './syslog.ts';

export interface SyslogAssociationOptions extends SyslogParseOptions, Pick<ParseOptions, 'collect'> {}

function bad(message: string): never {
  throw reject('CAIRN_ERR_SYSLOG_MALFORMED', 'syslog', 'bad_message', message);
}

/** The client: a normalised MAC, or a hashed token kept as it is. */
function clientRef(raw: string | undefined, hashed: boolean | undefined): Pick<Association, 'deviceId' | 'idType' | 'randomized'> {
  if (raw === undefined || raw.length === 0 || raw.length > 128) bad('The association message names no client.');
  if (hashed) return { deviceId: raw, idType: 'hashed', randomized: false };
  const mac = parseMac(raw);
  if (mac === undefined) bad('The client in the association message is not a MAC address.');
  return { deviceId: mac, idType: 'mac', randomized: isLocallyAdministered(mac) };
}

function fromAruba(sys: SyslogMessage, m: ArubaMessage, flags: CollectFlags): Association | undefined {
  const type = ARUBA_ASSOCIATION_IDS.has(m.messageId) ? 'associate' : ARUBA_DISASSOCIATION_IDS.has(m.messageId) ? 'disassociate' : undefined;
  if (type === undefined) return undefined;
  const client = clientRef(m.client, m.clientHashed);
  const apName = (m.auth ? m.auth.ap : m.apName) || undefined;
  const bssid = m.apBssid && !m.apBssidHashed ? parseMac(m.apBssid) : undefined;
  // Sessions are per AP, not per radio: the name when there is one (WiFiTrace keys on AP_Name).
  const apKey = apName ?? bssid ?? (m.apBssidHashed ? m.apBssid : undefined);
  if (apKey === undefined || apKey.length > 128) bad('The association message names no AP.');
  const a: Association = {
    source: 'syslog',
    type,
    deviceId: client.deviceId,
    idType: client.idType,
    randomized: client.randomized,
    apKey,
    atMs: sys.atMs,
    eventId: String(m.messageId),
  };
  if (apName) a.apName = apName;
  if (bssid) a.apMac = bssid;
  if (m.auth) copyPersonal(a, flags, { ip: m.auth.ip, username: m.auth.username, ssid: m.auth.ssid });
  return a;
}

/**
 * The association event in an already parsed syslog message, or `undefined` when it is not one.
 * Throws `CAIRN_ERR_SYSLOG_MALFORMED` (`bad_message`) when it is an association id whose client
 * or AP cannot be read.
 *
 * @example syslogAssociation(parseSyslogLine(line, { referenceMs }), { collect: ['ssid'] })?.type // 'associate'
 */
export function syslogAssociation(sys: SyslogMessage, opts: Pick<ParseOptions, 'collect'> = {}): Association | undefined {
  const msg = sys.msg;
  if (msg.charCodeAt(0) === 60) {
    const m = parseArubaMessage(msg);
    return m ? fromAruba(sys, m, collectFlags(opts)) : undefined;
  }
  if (sys.appName !== undefined && sys.appName !== 'hostapd' && !sys.appName.startsWith('hostapd')) return undefined;
  const h = parseHostapdMessage(msg);
  if (!h) return undefined;
  const ref = clientRef(h.mac, false);
  // The AP is the host that logged the event; its radios (wlan0, wlan1) are one place.
  const apKey = sys.hostname ?? h.iface;
  if (apKey === undefined) bad('The hostapd message names no AP (no hostname, no interface).');
  return { source: 'syslog', type: h.type, ...ref, apKey, atMs: sys.atMs, eventId: h.eventId };
}

/**
 * Parse a syslog line and return its association event, if it is one.
 *
 * @example parseSyslogAssociation('Jun  3 01:02:31 ctl stm[4105]: <501100> <4105> <NOTI> <ctl 10.0.0.1>  Assoc success @ 01:02:31.7: 20:f8:5e:f4:44:0d: AP 10.0.6.1-40:e3:d6:e3:74:61-ap01', { referenceMs })
 *   // { type: 'associate', deviceId: '20:f8:5e:f4:44:0d', apKey: 'ap01', apMac: '40:e3:d6:e3:74:61', eventId: '501100', … }
 */
export function parseSyslogAssociation(line: string, opts: SyslogAssociationOptions = {}): Association | undefined {
  return syslogAssociation(parseSyslogLine(line, opts), opts);
}

/**
 * A connected-client observation at the AP, for sources that only have association events
 * (AP-level presence). Hashed clients and disassociations give `undefined`.
 *
 * @example associationToObservation(a) // { source: 'syslog', kind: 'wifi-connected', sensorId: a.apKey, … }
 */
export function associationToObservation(a: Association): RawObservation | undefined {
  if (a.idType !== 'mac' || a.type !== 'associate') return undefined;
  const o: RawObservation = { source: a.source, kind: 'wifi-connected', deviceId: a.deviceId, idType: 'mac', randomized: a.randomized, atMs: a.atMs, sensorId: a.apKey };
  if (a.apMac) o.apMac = a.apMac;
  for (const k of ['ip', 'username', 'ssid'] as const) if (a[k] !== undefined) o[k] = a[k];
  return o;
}
