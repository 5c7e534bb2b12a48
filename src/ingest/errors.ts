/**
 * How ingest refuses input. Every refusal is a `CairnError` whose `details.reason` is a short,
 * fixed label (`bad_json`, `invalid_mac`, …) that metrics can count by, and whose details carry
 * only field paths and limits: never the offending value, which may be a MAC, IP or user name.
 */
import { CairnError, isCairnError, type ErrorCode } from '../kernel/errors.ts';
import type { IngestSource } from './types.ts';

/** Every reason label ingest uses; stable, so dashboards can rely on them. */
export type IngestReason =
  | 'empty_body'
  | 'body_too_large'
  | 'bad_json'
  | 'not_object'
  | 'missing_field'
  | 'wrong_type'
  | 'string_too_long'
  | 'too_many_items'
  | 'invalid_mac'
  | 'invalid_id'
  | 'invalid_timestamp'
  | 'invalid_rssi'
  | 'invalid_number'
  | 'invalid_value'
  | 'unsupported_topic'
  | 'unsupported_type'
  | 'unsupported_version'
  | 'missing_signature'
  | 'bad_signature'
  | 'bad_secret'
  | 'bad_topic'
  | 'sensor_mismatch'
  | 'unknown_org'
  | 'unknown_sensor'
  | 'self_encounter'
  | 'bad_line'
  | 'line_too_long'
  | 'frame_too_large'
  | 'bad_frame_header'
  | 'bad_pri'
  | 'bad_timestamp'
  | 'bad_header'
  | 'bad_structured_data'
  | 'bad_message';

/** What a refusal's `details` hold: the reason, the source, and where (never what). */
export interface IngestErrorDetails {
  reason: IngestReason;
  source: IngestSource;
  /** JSON path of the offending field, e.g. `events[3].mac`. */
  path?: string;
  /** The limit that was exceeded (bytes, characters or items). */
  limit?: number;
  /** 1-based line number, for line formats. */
  line?: number;
}

/**
 * Build (not throw) an ingest refusal. The message must not quote input values.
 *
 * @example throw reject('CAIRN_ERR_INGEST_MALFORMED', 'mist', 'invalid_mac', 'events[0].mac is not a MAC address.', { path: 'events[0].mac' })
 */
export function reject(
  code: ErrorCode,
  source: IngestSource,
  reason: IngestReason,
  message: string,
  extra?: { path?: string; limit?: number; line?: number },
): CairnError {
  const details: IngestErrorDetails = { reason, source };
  if (extra?.path !== undefined) details.path = extra.path;
  if (extra?.limit !== undefined) details.limit = extra.limit;
  if (extra?.line !== undefined) details.line = extra.line;
  return new CairnError(code, message, details as unknown as Record<string, unknown>);
}

/** Shorthand for the common case: a malformed payload. @example throw malformed('mqtt', 'bad_topic', 'The topic is not cairn/<org>/<site>/<sensor>.') */
export function malformed(source: IngestSource, reason: IngestReason, message: string, path?: string, limit?: number): CairnError {
  const extra: { path?: string; limit?: number } = {};
  if (path !== undefined) extra.path = path;
  if (limit !== undefined) extra.limit = limit;
  return reject('CAIRN_ERR_INGEST_MALFORMED', source, reason, message, extra);
}

/**
 * The metrics label for any error thrown by an adapter: its reason, or `internal` when the error
 * is not an ingest refusal (which would be a bug).
 *
 * @example ingestReasonOf(e) // 'bad_signature'
 */
export function ingestReasonOf(e: unknown): string {
  if (isCairnError(e) && e.details && typeof e.details['reason'] === 'string') return e.details['reason'];
  return 'internal';
}
