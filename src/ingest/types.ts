/**
 * The shapes every ingest adapter produces. Adapters are pure: a vendor payload goes in, and
 * `RawObservation`s, `Association`s, `ZoneTransition`s or `Encounter`s come out, or a
 * `CairnError` is thrown. Raw identifiers (MACs, IPs, user names) are still present here; the
 * pipeline stage that follows pseudonymises them before anything is stored or logged (R-LOC-5).
 * Fields a tenant has not enabled are never copied in the first place (R-PRIV-1, `collect`).
 */

/** Where an observation came from: one value per adapter folder. */
export type IngestSource = 'mist' | 'meraki' | 'spaces' | 'syslog' | 'mqtt' | 'native' | 'encounter';

/** What was seen (R-LOC-1); the accuracy class to expect follows from it (R-LOC-2). */
export type ObservationKind =
  | 'wifi-connected'
  | 'wifi-unconnected'
  | 'ble-badge'
  | 'ble-asset'
  | 'sdk'
  | 'wired';

/**
 * What `deviceId` holds: `mac` a normalised MAC (Wi-Fi or BLE address); `badge` a badge or beacon
 * identity (iBeacon triple, Eddystone UID, badge number); `app` the tenant app's installation id
 * (SDK); `asset` a vendor's named-asset id.
 */
export type DeviceIdType = 'mac' | 'badge' | 'app' | 'asset';

/** Wi-Fi band in GHz, as the vendors name it. */
export type Band = '2.4' | '5' | '6';

/** Personal fields an adapter may copy, each only when the tenant enabled it (R-PRIV-1). */
export type PersonalField = 'ip' | 'username' | 'hostname' | 'ssid' | 'manufacturer' | 'os';

/** One sensor's (AP's, scanner's) reading of one device. */
export interface RssiReading {
  /** The sensor or AP that heard the device: a normalised MAC or a sensor id. Infrastructure, not personal. */
  sensorId: string;
  /** Received signal strength in dBm, always negative (e.g. -67). */
  rssiDbm: number;
  band?: Band;
}

/**
 * One sighting of one device at one moment, as the vendor reported it.
 *
 * Personal data (data class, default retention): `deviceId` R-DATA-1 (60 days, and pseudonymised
 * by the next stage); `ip`, `username`, `hostname`, `ssid`, `manufacturer`, `os` R-DATA-1 or
 * R-DATA-2 for wired (60 days); `vendorX`, `vendorY`, `vendorFloorId`, `lat`, `lng` R-DATA-3
 * (30 days with contact tracing on, otherwise real time only).
 */
export interface RawObservation {
  source: IngestSource;
  kind: ObservationKind;
  /** Personal (R-DATA-1). Normalised MAC `aa:bb:cc:dd:ee:ff` when `idType` is `mac`; otherwise the badge/app/asset id. */
  deviceId: string;
  idType: DeviceIdType;
  /** True when `deviceId` is a MAC with the locally-administered bit set (a randomised address, R-LOC-5). */
  randomized: boolean;
  /** When the device was seen, UTC epoch milliseconds. */
  atMs: number;
  /** The sensor/AP that heard it (AP MAC, scanner id, AP uuid). */
  sensorId?: string;
  /** The AP a connected client is associated with, or the nearest AP, as a normalised MAC. */
  apMac?: string;
  /** Signal strength at `sensorId`, dBm, always negative. */
  rssiDbm?: number;
  band?: Band;
  /** Several sensors' readings of the same sighting (multi-sensor RSSI, for the location engine). */
  readings?: RssiReading[];
  /** Personal (R-DATA-3). Vendor-computed position on `vendorFloorId`, metres from the map origin. */
  vendorX?: number;
  /** Personal (R-DATA-3). See `vendorX`. */
  vendorY?: number;
  /** Personal (R-DATA-3) in combination. The vendor's floor/map id. */
  vendorFloorId?: string;
  /** The vendor's site/building id, when it sends one. */
  vendorSiteId?: string;
  /** Vendor's stated uncertainty of the position, metres. */
  vendorAccuracyM?: number;
  /** Personal (R-DATA-3). WGS84 degrees, when the vendor geo-aligned its map. */
  lat?: number;
  /** Personal (R-DATA-3). WGS84 degrees. */
  lng?: number;
  /** The vendor's id for this record, for idempotent re-delivery. Never built from a MAC. */
  sourceRecordId?: string;
  /** Personal (R-DATA-1/2), only when `collect` has `ip`. */
  ip?: string;
  /** Personal (R-DATA-1/2), only when `collect` has `username`. */
  username?: string;
  /** Personal (R-DATA-2), only when `collect` has `hostname`. */
  hostname?: string;
  /** Personal (R-DATA-1), only when `collect` has `ssid`. */
  ssid?: string;
  /** Personal (R-DATA-1), only when `collect` has `manufacturer`. */
  manufacturer?: string;
  /** Personal (R-DATA-1), only when `collect` has `os`. */
  os?: string;
}

/** A vendor's zone enter/exit event (Mist `zone` topic): input for journeys (R-CT-2). */
export interface ZoneTransition {
  source: IngestSource;
  kind: ObservationKind;
  /** Personal (R-DATA-1). As in `RawObservation`. */
  deviceId: string;
  idType: DeviceIdType;
  randomized: boolean;
  trigger: 'enter' | 'exit';
  vendorZoneId: string;
  vendorFloorId?: string;
  vendorSiteId?: string;
  atMs: number;
}

/** Who was at which AP: what an association event and a session have in common. */
export interface ClientAtAp {
  source: IngestSource;
  /** Personal (R-DATA-1). Normalised MAC, or the sender's opaque token when `idType` is `hashed`. */
  deviceId: string;
  idType: 'mac' | 'hashed';
  randomized: boolean;
  /** The AP identity sessions are keyed on: the AP name when known (all radios of one AP are one place), else its BSSID. */
  apKey: string;
  apName?: string;
  /** BSSID or AP MAC, normalised, when the source carried a clear one. */
  apMac?: string;
}

/**
 * A client associating with or leaving an AP, from controller syslog (Aruba `stm`/`authmgr`,
 * hostapd). Feeds `AssociationSessionBuilder`.
 *
 * `idType` `hashed` means the sender already pseudonymised the MAC (Aruba logs run through
 * WiFiTrace's anonymiser wrap such tokens in `#…#`): the token is kept as it is.
 */
export interface Association extends ClientAtAp {
  type: 'associate' | 'disassociate';
  atMs: number;
  /** The vendor's event id (`501100`, `AP-STA-CONNECTED`), as a metrics label. */
  eventId: string;
  /** Personal (R-DATA-1), only when `collect` has `ip`. */
  ip?: string;
  /** Personal (R-DATA-1), only when `collect` has `username`. */
  username?: string;
  /** Only when `collect` has `ssid`. */
  ssid?: string;
}

/** Why an association session ended. */
export type SessionEndReason = 'disassociation' | 'roam' | 'timeout' | 'flush' | 'evicted';

/** A device's stay at one AP, from association to disassociation (WiFiTrace's session). */
export interface AssociationSession extends ClientAtAp {
  startMs: number;
  /** The last moment there is evidence for: the disassociation, the roam, or (timeout, flush) the last event. */
  endMs: number;
  endReason: SessionEndReason;
  /** How many association events fell into the session. */
  eventCount: number;
}

/** Badge-to-badge proximity: `a` and `b` were near each other at `atMs` (for `durationMs` when known). */
export interface Encounter {
  /** Personal (R-DATA-11 once linked). Badge id; `a < b` so each pair has one spelling. */
  a: string;
  /** Personal. Badge id, never equal to `a`. */
  b: string;
  /** Signal strength between the badges, dBm, negative. */
  rssiDbm?: number;
  /** Start of the encounter, UTC epoch ms. */
  atMs: number;
  /** Length of the proximity slot, ms (SocioPatterns: 20 000). */
  durationMs?: number;
}

/** Options every adapter accepts. */
export interface ParseOptions {
  /** Personal fields the tenant enabled for this source (R-PRIV-1). Default: none. */
  collect?: readonly PersonalField[];
  /**
   * Called for each record skipped inside an otherwise valid payload (unsupported type, bad
   * MAC…), with a reason usable as a metrics label. Ignored when `strict` is set.
   */
  onSkip?: (reason: string, index: number) => void;
  /** Reject the whole payload on the first bad record instead of skipping it. */
  strict?: boolean;
}
