/**
 * Aruba controller and Instant-AP syslog messages (`stm`, `authmgr`). After the syslog header
 * the message reads `<id> [<pid>] <LEVEL> <controller ip>  text` (controller form) or
 * `<id> <LEVEL> |AP name@ip proc|  text` (Instant-AP form). The texts follow Aruba's
 * reference-guide templates, most of them ending in the AP triple `ip-bssid-name`:
 * `Assoc success @ 01:02:31.765562: <mac>: AP <ip>-<bssid>-<name>`.
 *
 * Which ids mean association and disassociation is taken from WiFiTrace (UMass, BSD-3-Clause,
 * `Preprocessor/src/session.py`), as are the message shapes. Logs that went through WiFiTrace's
 * anonymiser wrap hashed values: `#…#` a MAC or BSSID, `*…*` an IP, `%…%` a user name; the
 * wrappers are removed and the token kept, flagged as hashed.
 */

/** Aruba message ids that start or refresh an association (WiFiTrace `assoc_events`). */
export const ARUBA_ASSOCIATION_IDS: ReadonlySet<number> = new Set([
  501009, 501110, 501093, 501094, 501109, 501101, 501112, 501100, 501095, 501097, 501092, 522008,
]);

/** Aruba message ids that end an association (WiFiTrace `dis_events`). */
export const ARUBA_DISASSOCIATION_IDS: ReadonlySet<number> = new Set([
  501099, 501102, 501104, 501113, 501107, 501108, 501114, 501105, 501044, 501098, 501080, 501081, 501106, 501111,
]);

/** Ids whose AP name the elastic-wifitrace grok names `name` rather than `ap_name` (the "Ageout" shape). */
const AGEOUT_IDS: ReadonlySet<number> = new Set([501080, 501081, 501106]);

/** The fields of a `522008 User Authentication Successful` message. */
export interface ArubaAuth {
  /** Personal (R-DATA-1). */
  username?: string;
  usernameHashed?: boolean;
  /** Personal (R-DATA-1): the client's address. */
  ip?: string;
  role?: string;
  vlan?: string;
  ap?: string;
  ssid?: string;
  aaaProfile?: string;
  authMethod?: string;
  authServer?: string;
}

/** One Aruba message, split into its parts. Values are as written, minus pseudonym wrappers. */
export interface ArubaMessage {
  messageId: number;
  /** `NOTI`, `WARN`, `ERRS`, … */
  level: string;
  /** The second pid of the controller form. */
  pid2?: string;
  controller?: string;
  controllerIp?: string;
  /** Instant-AP form header: the reporting AP's name, address and process. */
  iapName?: string;
  iapIp?: string;
  iapProcess?: string;
  /** The event text after the header. */
  text: string;
  /** Personal (R-DATA-1): the client MAC, or its hashed token when `clientHashed`. */
  client?: string;
  clientHashed?: boolean;
  apIp?: string;
  apBssid?: string;
  apBssidHashed?: boolean;
  apName?: string;
  /** Text after the AP triple: the reason (`Reason STA has left…`, `APAE Disconnect`). */
  detail?: string;
  /** The `@ hh:mm:ss.micro` of assoc messages. */
  assocTime?: string;
  /** The sequence number of `Assoc request` (501095). */
  sn?: string;
  auth?: ArubaAuth;
}

/** True when `v` is wrapped as `w…w` (a pseudonymised value). */
function wrapped(v: string, w: number): boolean {
  return v.length >= 2 && v.charCodeAt(0) === w && v.charCodeAt(v.length - 1) === w;
}

/** `v` without its `w…w` pseudonym wrapper, if it has one. */
function unwrap(v: string, w: number): string {
  return wrapped(v, w) ? v.slice(1, -1) : v;
}

/** True when s[a, b) is 1+ ASCII letters. */
function isLetters(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i) | 32;
    if (c < 97 || c > 122) return false;
  }
  return b > a;
}

/** `<digits>` at `i`: the value and the index after `>`, or undefined. */
function angleDigits(s: string, i: number): [number, number] | undefined {
  if (s.charCodeAt(i) !== 60) return undefined;
  let v = 0;
  let j = i + 1;
  for (; j < s.length && j - i <= 10; j++) {
    const c = s.charCodeAt(j) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (j === i + 1 || s.charCodeAt(j) !== 62) return undefined;
  return [v, j + 1];
}

function skipSpaces(s: string, i: number): number {
  while (s.charCodeAt(i) === 32) i++;
  return i;
}

const AUTH_KEYS: [string, keyof ArubaAuth | 'mac'][] = [
  ['username=', 'username'],
  [' MAC=', 'mac'],
  [' IP=', 'ip'],
  [' role=', 'role'],
  [' VLAN=', 'vlan'],
  [' AP=', 'ap'],
  [' SSID=', 'ssid'],
  [' AAA profile=', 'aaaProfile'],
  [' auth method=', 'authMethod'],
  [' auth server=', 'authServer'],
];

/** `User Authentication Successful: username=… MAC=… IP=… role=… VLAN=… AP=… SSID=… AAA profile=… auth method=… auth server=…` */
function parseAuth(m: ArubaMessage, text: string): void {
  const auth: ArubaAuth = {};
  const starts: number[] = [];
  let from = 0;
  for (const [key] of AUTH_KEYS) {
    const k = text.indexOf(key, from);
    starts.push(k);
    if (k >= 0) from = k + key.length;
  }
  for (let n = 0; n < AUTH_KEYS.length; n++) {
    const k = starts[n]!;
    if (k < 0) continue;
    const [key, name] = AUTH_KEYS[n]!;
    let stop = text.length;
    for (let q = n + 1; q < AUTH_KEYS.length; q++) {
      if (starts[q]! >= 0) {
        stop = starts[q]!;
        break;
      }
    }
    const raw = text.slice(k + key.length, stop);
    if (name === 'mac') {
      m.client = unwrap(raw, 35);
      m.clientHashed = wrapped(raw, 35);
    } else if (name === 'username') {
      auth.username = unwrap(raw, 37);
      auth.usernameHashed = wrapped(raw, 37);
    } else if (name === 'ip') {
      auth.ip = unwrap(raw, 42);
    } else if (name !== 'usernameHashed') {
      auth[name] = raw;
    }
  }
  m.auth = auth;
}

/** The AP triple `ip-bssid-name[ detail]` starting at `t`. */
function parseTriple(m: ArubaMessage, text: string, t: number): void {
  const ipEnd = text.indexOf('-', t);
  if (ipEnd < 0) return;
  const bssEnd = text.indexOf('-', ipEnd + 1);
  if (bssEnd < 0) return;
  let nameEnd = text.indexOf(' ', bssEnd + 1);
  if (nameEnd < 0) nameEnd = text.length;
  m.apIp = unwrap(text.slice(t, ipEnd), 42);
  const b = text.slice(ipEnd + 1, bssEnd);
  m.apBssid = unwrap(b, 35);
  m.apBssidHashed = wrapped(b, 35);
  m.apName = text.slice(bssEnd + 1, nameEnd);
  const detail = text.slice(nameEnd + 1).trim();
  if (detail.length > 0) m.detail = detail;
}

/** `Station <mac>: No authentication found trying to de-authenticate to BSSID <bss> on AP <name>` (501044). */
function parseStation(m: ArubaMessage, text: string): void {
  const start = 'Station '.length;
  const colon = text.indexOf(': ', start);
  if (!text.startsWith('Station ') || colon < 0) return;
  const c = text.slice(start, colon);
  m.client = unwrap(c, 35);
  m.clientHashed = wrapped(c, 35);
  const b = text.indexOf('BSSID ', colon);
  const on = text.indexOf(' on AP ', colon);
  if (b >= 0 && on > b) {
    const u = text.slice(b + 6, on);
    m.apBssid = unwrap(u, 35);
    m.apBssidHashed = wrapped(u, 35);
    m.apName = text.slice(on + 7).trim();
  }
}

/** The common shapes: `<what>[ @ time]: <mac>[ (SN n)]: [Ageout |Moved out from |Dropped ]AP <ip>-<bssid>-<name>[ detail]`. */
function parseGeneric(m: ArubaMessage, text: string): void {
  const p = text.indexOf(': ');
  if (p < 0) return;
  const at = text.lastIndexOf(' @ ', p);
  if (at >= 0) m.assocTime = text.slice(at + 3, p);
  const macStart = p + 2;
  const colon = text.indexOf(': ', macStart);
  const space = text.indexOf(' ', macStart);
  const macEnd = colon >= 0 && (space < 0 || colon < space) ? colon : space;
  if (macEnd <= macStart) return;
  const c = text.slice(macStart, macEnd);
  m.client = unwrap(c, 35);
  m.clientHashed = wrapped(c, 35);
  const ap = text.indexOf(' AP ', macEnd - 1);
  const sn = text.indexOf('(SN ', macEnd);
  if (sn >= 0 && (ap < 0 || sn < ap)) {
    const close = text.indexOf(')', sn);
    if (close > sn) m.sn = text.slice(sn + 4, close);
  }
  if (ap >= 0) parseTriple(m, text, ap + 4);
}

/**
 * Split an Aruba syslog message (the part after the syslog header) into its fields, or return
 * `undefined` when it does not start like one (`<digits>`). Never throws: fields it cannot find
 * stay undefined, and `arubaAssociation` decides whether that is an error.
 *
 * @example parseArubaMessage('<501100> <4105> <NOTI> <ctl 10.0.0.1>  Assoc success @ 01:02:31.765562: 20:f8:5e:f4:44:0d: AP 10.0.6.1-40:e3:d6:e3:74:61-ap01')?.apName === 'ap01'
 */
export function parseArubaMessage(msg: string): ArubaMessage | undefined {
  const id = angleDigits(msg, 0);
  if (!id) return undefined;
  let i = skipSpaces(msg, id[1]);
  let pid2: string | undefined;
  const second = angleDigits(msg, i);
  if (second) {
    pid2 = msg.slice(i + 1, second[1] - 1);
    i = skipSpaces(msg, second[1]);
  }
  if (msg.charCodeAt(i) !== 60) return undefined;
  const lvEnd = msg.indexOf('>', i);
  if (lvEnd < 0 || lvEnd - i > 9 || !isLetters(msg, i + 1, lvEnd)) return undefined;
  const m: ArubaMessage = { messageId: id[0], level: msg.slice(i + 1, lvEnd), text: '' };
  if (pid2 !== undefined) m.pid2 = pid2;
  i = skipSpaces(msg, lvEnd + 1);
  const open = msg.charCodeAt(i);
  if (open === 60 || open === 124) {
    // `<controller ip>` or `|AP name@ip proc|`
    const close = msg.indexOf(open === 60 ? '>' : '|', i + 1);
    if (close > i) {
      const inner = msg.slice(i + 1, close);
      const sp = inner.lastIndexOf(' ');
      if (open === 60) {
        if (sp > 0) {
          m.controller = inner.slice(0, sp);
          m.controllerIp = unwrap(inner.slice(sp + 1), 42);
        } else {
          m.controller = inner;
        }
      } else {
        const body = inner.startsWith('AP ') ? inner.slice(3) : inner;
        const atSign = body.indexOf('@');
        const sp2 = body.lastIndexOf(' ');
        if (atSign > 0 && sp2 > atSign) {
          m.iapName = body.slice(0, atSign);
          m.iapIp = unwrap(body.slice(atSign + 1, sp2), 42);
          m.iapProcess = body.slice(sp2 + 1);
        }
      }
      i = skipSpaces(msg, close + 1);
    }
  }
  const text = msg.slice(i);
  m.text = text;
  if (m.messageId === 522008) parseAuth(m, text);
  else if (m.messageId === 501044) parseStation(m, text);
  else parseGeneric(m, text);
  return m;
}

/**
 * The same message in elastic-wifitrace's grok field names (`msg_code`, `mac`, `ap_bssid`,
 * `ap_name` — `name` for the Ageout ids —, `controller_ip`, `user_name`, …), so operators
 * moving from that pipeline keep their dashboards. `header` is the parsed syslog header.
 *
 * @example arubaGrokFields(sys, parseArubaMessage(sys.msg)!)['msg_code'] === '501080'
 */
export function arubaGrokFields(
  header: { timestampText: string; hostname?: string; appName?: string; procId?: string },
  m: ArubaMessage,
): Record<string, string> {
  const f: Record<string, string> = {};
  f['timestamp'] = header.timestampText;
  if (header.hostname !== undefined) f['source_name'] = unwrap(header.hostname, 42);
  if (header.appName !== undefined) f['process'] = header.appName;
  if (header.procId !== undefined) f['pid'] = header.procId;
  f['msg_code'] = String(m.messageId);
  f['error_level'] = m.level;
  if (m.pid2 !== undefined) f['pid2'] = m.pid2;
  if (m.controller !== undefined) f['controller'] = m.controller;
  if (m.controllerIp !== undefined) f['controller_ip'] = m.controllerIp;
  if (m.client !== undefined) f['mac'] = m.client;
  if (m.auth) {
    const a = m.auth;
    const map: [string, string | undefined][] = [
      ['user_name', a.username],
      ['user_ip', a.ip],
      ['role', a.role],
      ['vlan', a.vlan],
      ['ap_name', a.ap],
      ['ssid', a.ssid],
      ['aaa_profile', a.aaaProfile],
      ['auth_method', a.authMethod],
      ['auth_server', a.authServer],
    ];
    for (const [k, v] of map) if (v !== undefined) f[k] = v;
    return f;
  }
  if (m.apIp !== undefined) f['ap_ip'] = m.apIp;
  if (m.apBssid !== undefined) f['ap_bssid'] = m.apBssid;
  if (m.apName !== undefined) f[AGEOUT_IDS.has(m.messageId) ? 'name' : 'ap_name'] = m.apName;
  if (m.detail !== undefined) f['message'] = m.detail;
  if (m.assocTime !== undefined) f['assoc_time'] = m.assocTime;
  if (m.sn !== undefined) f['sn'] = m.sn;
  return f;
}
