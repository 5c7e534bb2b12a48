/**
 * Deterministic identifiers for the simulator: sub-seeds mixed from the run's seed (so each day,
 * each device and each noise source has its own reproducible stream), MAC addresses (vendor
 * addresses with a real-looking OUI, randomised ones with the locally-administered bit set, as
 * phones use, R-LOC-5), UUID-shaped vendor ids and iBeacon identities. Nothing here is random in
 * the cryptographic sense and nothing identifies a real device.
 */

/** murmur3's 32-bit finaliser: a fast avalanche of one word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A 32-bit seed mixed from several integers (order matters). Used to derive the seed of each
 * independent random stream from the run's seed.
 *
 * @example seededRandom(mixSeed(seed, STREAM_RADIO, day))
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    // Fold doubles beyond 32 bits (epoch ms) so no bit of a part is lost.
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = fmix32(h ^ lo);
    h = fmix32((h + 0x632be5ab) ^ hi);
  }
  return h;
}

/** Integer hash of a short string (names, org ids) to feed `mixSeed`. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

const HEX = '0123456789abcdef';

function hex2(b: number): string {
  return HEX[(b >>> 4) & 15]! + HEX[b & 15]!;
}

/** Six bytes as `aa:bb:cc:dd:ee:ff`. */
export function macFromBytes(b0: number, b1: number, b2: number, b3: number, b4: number, b5: number): string {
  return `${hex2(b0)}:${hex2(b1)}:${hex2(b2)}:${hex2(b3)}:${hex2(b4)}:${hex2(b5)}`;
}

/**
 * A randomised (private) MAC from two hash words: first octet with the locally-administered bit
 * (0x02) set and the group bit (0x01) clear, as iOS and Android generate them.
 *
 * @example randomisedMac(mixSeed(1, 2), mixSeed(3)) // e.g. '5e:1f:…' (first octet & 0x03 === 0x02)
 */
export function randomisedMac(h1: number, h2: number): string {
  return macFromBytes((h1 & 0xfc) | 0x02, (h1 >>> 8) & 0xff, (h1 >>> 16) & 0xff, (h1 >>> 24) & 0xff, h2 & 0xff, (h2 >>> 8) & 0xff);
}

/**
 * A universally administered MAC under `oui` (three bytes), the rest from a hash word.
 *
 * @example vendorMac([0x5c, 0x5b, 0x35], 7) // '5c:5b:35:…'
 */
export function vendorMac(oui: readonly [number, number, number], h: number): string {
  return macFromBytes(oui[0], oui[1], oui[2], h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff);
}

/**
 * A BLE random static address (two top bits set), as badges advertise with.
 *
 * @example bleStaticAddress(mixSeed(9)) // 'c?:…' or 'd?:…' … 'f?:…'
 */
export function bleStaticAddress(h1: number, h2: number): string {
  return macFromBytes(0xc0 | (h1 & 0x3f), (h1 >>> 8) & 0xff, (h1 >>> 16) & 0xff, (h1 >>> 24) & 0xff, h2 & 0xff, (h2 >>> 8) & 0xff);
}

/** A MAC as the 12 bare hex digits Mist writes. @example bareMac('aa:bb:cc:dd:ee:ff') === 'aabbccddeeff' */
export function bareMac(mac: string): string {
  return mac.replaceAll(':', '');
}

/**
 * A UUID-shaped id (8-4-4-4-12 hex) from four hash words: Mist site, map and SDK install ids.
 *
 * @example uuidFrom(mixSeed(1, 1)) // '3f2a…-…'
 */
export function uuidFrom(seed: number): string {
  const w = [mixSeed(seed, 1), mixSeed(seed, 2), mixSeed(seed, 3), mixSeed(seed, 4)];
  const h = w.map((x) => x.toString(16).padStart(8, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
