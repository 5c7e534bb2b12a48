/**
 * Controller syslog: each association and disassociation as the line a wireless controller or
 * an AP would log it. `aruba`: the controller form of Aruba's `stm` messages (`<501100>` Assoc
 * success, `<501102>` Disassoc from sta) naming the AP by `ip-bssid-name`; `hostapd`: OpenWrt APs
 * logging `AP-STA-CONNECTED` / `AP-STA-DISCONNECTED` under their own host name; `mixed`: Aruba
 * in odd-numbered buildings, hostapd in the others. RFC 3164 with a PRI, timestamps in UTC
 * (BSD timestamps carry no year: parse them with a reference time).
 */
import type { SimSensor } from '../campus.ts';
import type { Simulation, SimAssociation, SimTick } from '../simulation.ts';
import type { SimPayload } from './types.ts';

export type SyslogFlavor = 'aruba' | 'hostapd' | 'mixed';

export interface SyslogEmitOptions {
  /** Default `aruba`. */
  flavor?: SyslogFlavor;
  /** Start lines with `<PRI>` as sent over the network (default true; files written by a syslog daemon have none). */
  pri?: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'text/plain' });

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `Mar  4 09:00:05` (UTC). */
function bsdTime(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * The syslog line for one association event.
 *
 * @example syslogLine(sim, a, 'hostapd') // '<30>Mar  4 09:00:05 b1-f0-ap01 hostapd: wlan1: AP-STA-CONNECTED 5e:…'
 */
export function syslogLine(sim: Simulation, a: SimAssociation, flavor: SyslogFlavor, pri = true): string {
  const ap: SimSensor = sim.campus.sensors[a.ap]!;
  const b = sim.campus.buildings[ap.building]!;
  const f = flavor === 'mixed' ? (b.index % 2 === 0 ? 'aruba' : 'hostapd') : flavor;
  const ts = bsdTime(a.atMs);
  if (f === 'hostapd') {
    const iface = a.band === '2.4' ? 'wlan0' : 'wlan1';
    const ev = a.type === 'associate' ? 'AP-STA-CONNECTED' : 'AP-STA-DISCONNECTED';
    return `${pri ? '<30>' : ''}${ts} ${ap.id} hostapd: ${iface}: ${ev} ${a.deviceId}`;
  }
  const pid = 4100 + (b.index % 50);
  const head = `${pri ? '<133>' : ''}${ts} ${b.controller} stm[${pid}]: `;
  const bssid = a.band === '2.4' ? ap.bssid24! : ap.bssid5!;
  const triple = `${ap.ip}-${bssid}-${ap.id}`;
  const d = new Date(a.atMs);
  if (a.type === 'associate') {
    const when = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds() * 1000).padStart(6, '0')}`;
    return `${head}<501100> <${pid}> <NOTI> <${b.controller} ${b.controllerIp}>  Assoc success @ ${when}: ${a.deviceId}: AP ${triple}`;
  }
  return `${head}<501102> <${pid}> <NOTI> <${b.controller} ${b.controllerIp}>  Disassoc from sta: ${a.deviceId}: AP ${triple} Reason STA has left and is disassociate`;
}

/**
 * One payload per syslog line (a datagram over UDP, a line in a file).
 *
 * @example for (const p of emitSyslog(sim, sim.ticks(), { flavor: 'mixed' })) socket.send(p.body, 514)
 */
export function* emitSyslog(sim: Simulation, ticks: Iterable<SimTick>, opts: SyslogEmitOptions = {}): Generator<SimPayload> {
  const flavor = opts.flavor ?? 'aruba';
  const pri = opts.pri ?? true;
  for (const tick of ticks) {
    for (const a of tick.associations) {
      yield { format: 'syslog', body: syslogLine(sim, a, flavor, pri), headers: HEADERS, firstMs: a.atMs, lastMs: a.atMs, records: 1 };
    }
  }
}
