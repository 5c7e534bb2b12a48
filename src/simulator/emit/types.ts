/**
 * What every emitter produces: payloads ready to deliver (an HTTP body with its headers, a
 * syslog line, an MQTT message with its topic), and the batching they share. Emitters are pure
 * generators over the simulation's ticks: the same ticks give the same payloads, byte for byte,
 * and a payload is produced as soon as its window closes, so streams of any length pass through
 * in bounded memory.
 */
import { toIso } from '../../kernel/clock.ts';

/** The formats `cairn simulate` writes (the ingest adapters' formats). */
export const SIM_FORMATS = ['mist', 'meraki', 'syslog', 'mqtt', 'native', 'encounters'] as const;
export type SimFormat = (typeof SIM_FORMATS)[number];

/** One delivery. */
export interface SimPayload {
  format: SimFormat;
  /** The HTTP request body, the syslog line (no newline), or the MQTT message. */
  body: string;
  /** HTTP headers to send with it (content type; Mist's signature when a secret is set). */
  headers: Record<string, string>;
  /** MQTT topic; Mist webhook topic; Meraki scanning type (`WiFi`, `BLE`). */
  topic?: string;
  /** Time of the first and last record it carries, epoch ms. */
  firstMs: number;
  lastMs: number;
  /** Records carried: events, observations, lines, reports or encounters. */
  records: number;
}

export const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/**
 * Collects serialised JSON items until a count or byte limit, for bodies built as
 * `prefix + items.join(',') + suffix` without re-serialising.
 */
export class JsonBatcher {
  items: string[] = [];
  bytes = 0;
  firstMs = Infinity;
  lastMs = -Infinity;

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /** True when adding `json` would break a limit (an empty batch always takes one item). */
  full(json: string): boolean {
    return this.items.length > 0 && (this.items.length >= this.maxItems || this.bytes + json.length + 1 > this.maxBytes);
  }

  add(json: string, atMs: number): void {
    this.items.push(json);
    this.bytes += json.length + 1;
    if (atMs < this.firstMs) this.firstMs = atMs;
    if (atMs > this.lastMs) this.lastMs = atMs;
  }

  /** The items as `prefix[…]suffix`, and a fresh start. */
  take(prefix: string, suffix: string): { body: string; firstMs: number; lastMs: number; records: number } {
    const r = { body: prefix + this.items.join(',') + suffix, firstMs: this.firstMs, lastMs: this.lastMs, records: this.items.length };
    this.items = [];
    this.bytes = 0;
    this.firstMs = Infinity;
    this.lastMs = -Infinity;
    return r;
  }
}

/** Epoch ms to ISO 8601 (UTC). */
export const iso = toIso;

/** Window bookkeeping: true when `atMs` falls outside the window started at `startMs`. */
export function windowClosed(startMs: number, atMs: number, windowMs: number): boolean {
  return atMs >= startMs + windowMs;
}
