/**
 * The error catalogue: every domain error carries a stable code (`CAIRN_ERR_…`), never an HTTP
 * status. `http/errors.ts` maps codes to statuses in one place, and the CLI prints the code too,
 * so operators can search logs and docs by code.
 */

/** Every code Cairn can return, with the HTTP status it maps to and a default message. */
export const ERROR_CATALOGUE = {
  CAIRN_ERR_VALIDATION: { status: 400, message: 'The request is not valid.' },
  CAIRN_ERR_MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  CAIRN_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed.' },
  CAIRN_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The content type is not supported.' },
  CAIRN_ERR_UNAUTHENTICATED: { status: 401, message: 'Sign in or present a valid token.' },
  CAIRN_ERR_BAD_CREDENTIALS: { status: 401, message: 'The e-mail address or password is wrong.' },
  CAIRN_ERR_TOKEN_EXPIRED: { status: 401, message: 'The token has expired.' },
  CAIRN_ERR_NOT_FOUND: { status: 404, message: 'Not found or no access.' },
  CAIRN_ERR_CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  CAIRN_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests; try again later.' },
  CAIRN_ERR_CONFIG: { status: 500, message: 'The configuration is not valid.' },
  CAIRN_ERR_KEY_DESTROYED: { status: 410, message: 'The key for this data has been destroyed.' },
  CAIRN_ERR_DECRYPT: { status: 500, message: 'Stored data could not be decrypted.' },
  CAIRN_ERR_AUDIT_BROKEN: { status: 500, message: 'The audit chain failed verification.' },
  CAIRN_ERR_REGION: { status: 400, message: 'The region is not one this server hosts.' },
  CAIRN_ERR_RETENTION_BOUNDS: { status: 400, message: 'The retention period is outside the allowed bounds.' },
  CAIRN_ERR_STORAGE: { status: 503, message: 'The store is not available.' },
  CAIRN_ERR_NOT_READY: { status: 503, message: 'The server is not ready.' },
  CAIRN_ERR_SIGNATURE: { status: 401, message: 'The signature does not match the body.' },
  CAIRN_ERR_INGEST_MALFORMED: { status: 400, message: 'The payload is not in the expected format.' },
  CAIRN_ERR_INGEST_UNSUPPORTED: { status: 422, message: 'The payload is well-formed but not supported.' },
  CAIRN_ERR_INGEST_BACKPRESSURE: { status: 503, message: 'Ingest is saturated; retry after a moment.' },
  CAIRN_ERR_SYSLOG_MALFORMED: { status: 400, message: 'The syslog line could not be parsed.' },
  CAIRN_ERR_MQTT_UNKNOWN_SENSOR: { status: 422, message: 'The MQTT topic names no org, or no sensor registered at that site.' },
  CAIRN_ERR_MQTT_BROKER: { status: 503, message: 'The MQTT broker is unreachable or refused Cairn\'s subscriber.' },
  CAIRN_ERR_PCAP_CORRUPT: { status: 422, message: 'The capture file is corrupt or truncated.' },
  CAIRN_ERR_PCAP_UNSUPPORTED: { status: 422, message: 'The capture link type or format is not supported.' },
  CAIRN_ERR_TLS_MALFORMED: { status: 422, message: 'The TLS handshake could not be parsed.' },
  CAIRN_ERR_FILE_TOO_LARGE: { status: 413, message: 'The file is larger than the analysis limit.' },
  CAIRN_ERR_FILE_UNPARSABLE: { status: 422, message: 'The file could not be parsed.' },
  CAIRN_ERR_ARCHIVE_BOMB: { status: 422, message: 'The archive exceeds depth, size or ratio limits.' },
  CAIRN_ERR_MIME_MALFORMED: { status: 422, message: 'The e-mail message is malformed.' },
  CAIRN_ERR_LOCATION_UNSOLVABLE: { status: 422, message: 'Not enough readings to compute a position.' },
  CAIRN_ERR_DATASET: { status: 422, message: 'The dataset is not in the expected format.' },
  CAIRN_ERR_SCANNER_UNAVAILABLE: { status: 503, message: 'An external scanner (ClamAV) is not reachable.' },
  CAIRN_ERR_MAIL_UPSTREAM: { status: 503, message: 'The next-hop mail server (or the IMAP server) is not reachable or refused the message.' },
  CAIRN_ERR_FEATURE_DISABLED: { status: 409, message: 'This feature is turned off for the org; an org admin can turn it on.' },
  CAIRN_ERR_PORTAL_HANDOFF: { status: 400, message: 'The access point\'s hand-off is missing or malformed (client MAC, AP MAC, SSID or original URL).' },
  CAIRN_ERR_PORTAL_FORM_EXPIRED: { status: 400, message: 'This page has expired or was altered; reconnect to the network to open it again.' },
  CAIRN_ERR_PORTAL_RESULT_INVALID: { status: 401, message: 'The portal result is malformed or its signature does not match.' },
  CAIRN_ERR_PORTAL_RESULT_EXPIRED: { status: 401, message: 'The portal result has expired.' },
  CAIRN_ERR_PORTAL_RESULT_REPLAYED: { status: 409, message: 'The portal result was used before; a result is valid once.' },
  CAIRN_ERR_TERMS_PUBLISHED: { status: 409, message: 'Published terms never change; create a new version instead.' },
  CAIRN_ERR_TERMS_MISSING: { status: 409, message: 'No published terms apply here yet; an admin must publish terms first.' },
  CAIRN_ERR_UNSUBSCRIBE_TOKEN: { status: 400, message: 'The unsubscribe link is not valid.' },
  CAIRN_ERR_DSAR_IDENTIFIER: { status: 400, message: 'The identifier is not a valid e-mail address, MAC address, badge id or username.' },
  CAIRN_ERR_DSAR_CODE_WRONG: { status: 400, message: 'The verification code is wrong.' },
  CAIRN_ERR_DSAR_CODE_EXPIRED: { status: 410, message: 'The verification code has expired; ask for a new one.' },
  CAIRN_ERR_DSAR_LOCKED: { status: 423, message: 'Too many wrong codes: this request is locked; submit a new request later.' },
  CAIRN_ERR_DSAR_REPLAY: { status: 409, message: 'This request was verified already; the code cannot be used again.' },
  CAIRN_ERR_DSAR_DUPLICATE: { status: 409, message: 'The same request from this person is already open.' },
  CAIRN_ERR_DSAR_LIMIT: { status: 429, message: 'The limit of access requests for this person in 12 months has been reached (CCPA: two).' },
  CAIRN_ERR_DSAR_DEVICE_PROOF: { status: 409, message: 'No portal session from this device since the request was made; connect through the guest portal with it and try again.' },
  CAIRN_ERR_DSAR_STATE: { status: 409, message: 'The request is not in a state that allows this step.' },
  CAIRN_ERR_EXPORT_BUSY: { status: 409, message: 'An export of this org is already running (or the server runs as many as it allows); try again when it has finished.' },
  CAIRN_ERR_INCIDENT_STATE: { status: 409, message: 'The incident is not in a state that allows this step (open → notified → closed).' },
  CAIRN_ERR_NOTICE_STATE: { status: 409, message: 'The notices are not in a state that allows this step (draft → approved → sent).' },
  CAIRN_ERR_NOTICE_SAME_APPROVER: { status: 409, message: 'Another org admin must approve these notices (four eyes: the org has more than one admin).' },
  CAIRN_ERR_INTERNAL: { status: 500, message: 'Internal error.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * A domain error: a stable code, a message a person can act on, and optional details
 * (field names, limits; never personal data).
 *
 * @example throw new CairnError('CAIRN_ERR_NOT_FOUND')
 */
export class CairnError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CATALOGUE[code].message);
    this.name = 'CairnError';
    this.code = code;
    this.details = details;
  }
}

/** The uniform refusal: the same for "does not exist" and "exists but not yours". */
export function notFoundOrNoAccess(): CairnError {
  return new CairnError('CAIRN_ERR_NOT_FOUND');
}

export function isCairnError(e: unknown): e is CairnError {
  return e instanceof CairnError;
}

/** HTTP status for a code (used only by the HTTP error handler and tests). */
export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}
