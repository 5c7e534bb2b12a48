/**
 * hostapd (OpenWrt, Linux APs) client events: the control-interface events
 * `wlan0: AP-STA-CONNECTED 11:22:33:44:55:66 auth_alg=open` / `AP-STA-DISCONNECTED`, and the
 * older log lines `wlan0: STA 11:22:33:44:55:66 IEEE 802.11: associated (aid 1)` /
 * `disassociated` / `deauthenticated due to …`.
 */

/** A hostapd client event. The MAC is as written; the caller normalises it. */
export interface HostapdEvent {
  /** The radio/BSS interface (`wlan0`, `phy0-ap0`), when written. */
  iface?: string;
  /** `AP-STA-CONNECTED`, `AP-STA-DISCONNECTED`, `IEEE-802.11-associated`, … */
  eventId: string;
  type: 'associate' | 'disassociate';
  /** Personal (R-DATA-1). */
  mac: string;
}

function token(s: string, i: number): string {
  const sp = s.indexOf(' ', i);
  return s.slice(i, sp < 0 ? s.length : sp);
}

/**
 * Parse a hostapd message (after the syslog header), or return `undefined` when it is not a
 * client association event.
 *
 * @example parseHostapdMessage('wlan0: AP-STA-CONNECTED 11:22:33:44:55:66')?.type === 'associate'
 */
export function parseHostapdMessage(msg: string): HostapdEvent | undefined {
  let i = 0;
  let iface: string | undefined;
  const colon = msg.indexOf(': ');
  if (colon > 0 && colon <= 32 && msg.lastIndexOf(' ', colon) < 0) {
    iface = msg.slice(0, colon);
    i = colon + 2;
  }
  let ev: HostapdEvent | undefined;
  if (msg.startsWith('AP-STA-CONNECTED ', i)) {
    ev = { eventId: 'AP-STA-CONNECTED', type: 'associate', mac: token(msg, i + 17) };
  } else if (msg.startsWith('AP-STA-DISCONNECTED ', i)) {
    ev = { eventId: 'AP-STA-DISCONNECTED', type: 'disassociate', mac: token(msg, i + 20) };
  } else if (msg.startsWith('STA ', i)) {
    const mac = token(msg, i + 4);
    const rest = i + 4 + mac.length;
    if (msg.startsWith(' IEEE 802.11: associated', rest)) ev = { eventId: 'IEEE-802.11-associated', type: 'associate', mac };
    else if (msg.startsWith(' IEEE 802.11: disassociated', rest)) ev = { eventId: 'IEEE-802.11-disassociated', type: 'disassociate', mac };
    else if (msg.startsWith(' IEEE 802.11: deauthenticated', rest)) ev = { eventId: 'IEEE-802.11-deauthenticated', type: 'disassociate', mac };
  }
  if (ev && iface !== undefined) ev.iface = iface;
  return ev;
}
