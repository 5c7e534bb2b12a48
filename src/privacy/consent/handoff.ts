/**
 * The external-portal hand-off of access-point controllers (R-PRIV-5): when a guest joins a
 * portal SSID, the controller redirects the browser to the splash page with query parameters
 * naming the client, the AP, the SSID and the page first asked for. Each vendor spells them its
 * own way; this module reads them all into one shape, strictly (a malformed MAC, a non-HTTP URL,
 * control characters or over-long values are refused with CAIRN_ERR_PORTAL_HANDOFF). Pure.
 *
 * | vendor | client MAC | AP MAC | SSID | original URL | grant URL |
 * |---|---|---|---|---|---|
 * | Cisco Meraki (click-through) | `client_mac` | `node_mac` | – | `user_continue_url` | `base_grant_url` |
 * | Juniper Mist | `client_mac` | `ap_mac` | `ssid` | `url` | – |
 * | Ubiquiti UniFi | `id` | `ap` | `ssid` | `url` | – |
 * | Aruba (ArubaOS, Instant On) | `mac` | `apmac` | `essid` / `network` | `url` | – |
 *
 * The client MAC is personal data: it is used to compute the device pseudonym and to sign the
 * result for the controller, and never stored or logged.
 */
import { CairnError } from '../../kernel/errors.ts';
import { normaliseMac } from '../keys/index.ts';

export type PortalVendor = 'meraki' | 'mist' | 'unifi' | 'aruba' | 'generic';

/** The hand-off as Cairn uses it. MACs as `aa:bb:cc:dd:ee:ff`; absent values are ''. */
export interface Handoff {
  vendor: PortalVendor;
  /** Personal (R-DATA-1): the guest's MAC; pseudonymised before anything is kept. */
  clientMac: string;
  /** The AP's MAC (infrastructure), '' when the controller sends none. */
  apMac: string;
  ssid: string;
  /** The page the guest first asked for ('' when none was sent). */
  originalUrl: string;
  /** A vendor's grant endpoint from the hand-off (Meraki `base_grant_url`), '' when none. */
  grantUrl: string;
}

/** Longest value accepted for any hand-off parameter (URLs included). */
export const HANDOFF_MAX_CHARS = 2048;
const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_PORTAL_HANDOFF', message, { field });
}

function text(q: Record<string, unknown>, field: string): string {
  const v = q[field];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(field, `${field} must be given once, as text.`);
  if (v.length > HANDOFF_MAX_CHARS) throw bad(field, `${field} is longer than ${HANDOFF_MAX_CHARS} characters.`);
  if (CONTROL.test(v)) throw bad(field, `${field} contains control characters.`);
  return v;
}

/** `aa:bb:cc:dd:ee:ff` from any usual notation, or null. */
export function colonMac(raw: string): string | null {
  const hex = normaliseMac(raw);
  return hex ? hex.replace(/(..)(?!$)/g, '$1:') : null;
}

/** An absolute http(s) URL, or '' for none; anything else is refused. */
export function httpUrl(raw: string, field: string): string {
  if (raw === '') return '';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad(field, `${field} is not an absolute URL.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(field, `${field} must be an http or https URL.`);
  return u.toString();
}

/**
 * Read a controller's redirect parameters (any vendor above). The client MAC is required; the
 * others are optional but must be well-formed when present.
 *
 * @example parseHandoff({ id: '1c:71:25:63:e4:24', ap: '94:2a:6f:d0:30:57', ssid: 'Guest', url: 'http://example.com/' }).vendor === 'unifi'
 */
export function parseHandoff(q: Record<string, unknown>): Handoff {
  const has = (k: string) => typeof q[k] === 'string' && q[k] !== '';
  let vendor: PortalVendor = 'generic';
  if (has('node_mac') || has('base_grant_url') || has('user_continue_url')) vendor = 'meraki';
  else if (has('ap_mac')) vendor = 'mist';
  else if (has('id') && has('ap')) vendor = 'unifi';
  else if (has('mac') && (has('apmac') || has('essid') || has('apname') || has('network'))) vendor = 'aruba';
  const first = (...fields: string[]) => {
    for (const f of fields) {
      const v = text(q, f);
      if (v !== '') return { field: f, value: v };
    }
    return { field: fields[0]!, value: '' };
  };
  const client = first('client_mac', 'id', 'mac');
  if (client.value === '') throw bad('client_mac', 'The hand-off names no client MAC (client_mac, id or mac).');
  const clientMac = colonMac(client.value);
  if (!clientMac) throw bad(client.field, `${client.field} is not a MAC address.`);
  const ap = first('ap_mac', 'node_mac', 'apmac', 'ap');
  const apMac = ap.value === '' ? '' : colonMac(ap.value);
  if (apMac === null) throw bad(ap.field, `${ap.field} is not a MAC address.`);
  const ssid = first('ssid', 'essid', 'network').value;
  if (Buffer.byteLength(ssid, 'utf8') > 32) throw bad('ssid', 'The SSID is longer than 32 bytes.');
  const orig = first('url', 'user_continue_url', 'continue_url', 'redirect');
  const grant = first('base_grant_url');
  return { vendor, clientMac, apMac, ssid, originalUrl: httpUrl(orig.value, orig.field), grantUrl: httpUrl(grant.value, grant.field) };
}
