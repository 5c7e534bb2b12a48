/**
 * Stable identities for BLE tags. A tag's BLE address is often random and rotates (R-LOC-5), but
 * its iBeacon triple or Eddystone UID is configured once and stays: when a payload carries one,
 * the adapters use it as the device id (`idType` `badge`), so a badge is one device over time.
 */

function hexOnly(s: string, want: number): string | undefined {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) continue; // '-'
    const lc = c >= 65 && c <= 70 ? c + 32 : c;
    if (!((lc >= 48 && lc <= 57) || (lc >= 97 && lc <= 102))) return undefined;
    out += String.fromCharCode(lc);
    if (out.length > want) return undefined;
  }
  return out.length === want ? out : undefined;
}

function u16(n: number | undefined): boolean {
  return n !== undefined && Number.isInteger(n) && n >= 0 && n <= 0xffff;
}

/**
 * `ibeacon:<uuid>:<major>:<minor>` for a valid iBeacon triple, else `undefined`. Major 0 and
 * minor 0 together are the factory default many tags share, so they identify nothing.
 *
 * @example iBeaconId('F3F17139-704A-F03A-2786-0400279E37C3', 13, 138) === 'ibeacon:f3f17139-704a-f03a-2786-0400279e37c3:13:138'
 */
export function iBeaconId(uuid: string | undefined, major: number | undefined, minor: number | undefined): string | undefined {
  if (uuid === undefined || uuid.length > 40 || !u16(major) || !u16(minor) || (major === 0 && minor === 0)) return undefined;
  const h = hexOnly(uuid, 32);
  if (h === undefined || /^0+$/.test(h)) return undefined;
  return `ibeacon:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}:${major}:${minor}`;
}

/**
 * `eddystone:<namespace>:<instance>` for a valid Eddystone-UID (10-byte namespace, 6-byte
 * instance, hex), else `undefined`.
 *
 * @example eddystoneUidId('2818e3868dec25629ede', '5c5b35000001') === 'eddystone:2818e3868dec25629ede:5c5b35000001'
 */
export function eddystoneUidId(namespace: string | undefined, instance: string | undefined): string | undefined {
  if (namespace === undefined || instance === undefined || namespace.length > 24 || instance.length > 16) return undefined;
  const ns = hexOnly(namespace, 20);
  const inst = hexOnly(instance, 12);
  if (ns === undefined || inst === undefined) return undefined;
  return `eddystone:${ns}:${inst}`;
}
