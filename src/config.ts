/**
 * One schema for every setting. Each key has an environment variable, an optional config-file
 * name, a description and a default. Precedence: environment > config file (`CAIRN_CONFIG_FILE`,
 * JSON) > default. Invalid configuration stops start-up with a message naming the key.
 * This is the only module that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CairnError } from './kernel/errors.ts';

type Kind = 'string' | 'int' | 'bool' | 'list' | 'enum';
interface KeySpec {
  env: string;
  description: string;
  kind: Kind;
  default: string | number | boolean | string[] | undefined;
  secret?: boolean;
  min?: number;
  max?: number;
  values?: readonly string[];
}

/** The schema. The config-file name of a key is its property name here. */
export const CONFIG_SCHEMA = {
  host: { env: 'HOST', kind: 'string', default: '127.0.0.1', description: 'Address the HTTP server binds to.' },
  port: { env: 'PORT', kind: 'int', default: 8080, min: 0, max: 65535, description: 'TCP port of the HTTP server (0 picks a free port).' },
  dataDir: { env: 'CAIRN_DATA_DIR', kind: 'string', default: './data', description: 'Directory of the embedded SQLite stores and the local key file.' },
  store: { env: 'CAIRN_STORE', kind: 'enum', values: ['sqlite', 'postgres'], default: 'sqlite', description: 'Storage engine: embedded SQLite (default) or PostgreSQL.' },
  pgUrl: { env: 'CAIRN_PG_URL', kind: 'string', default: 'postgres://postgres@127.0.0.1:5432/test', secret: true, description: 'PostgreSQL connection string, used when store=postgres.' },
  pgSchemaPrefix: { env: 'CAIRN_PG_SCHEMA_PREFIX', kind: 'string', default: 'cairn', description: 'Prefix of the PostgreSQL schemas: <prefix>_control and <prefix>_<region>.' },
  regions: { env: 'CAIRN_REGIONS', kind: 'list', default: ['eu', 'us'], description: 'Regions this server hosts; each is its own store (R-PRIV-6).' },
  defaultRegion: { env: 'CAIRN_DEFAULT_REGION', kind: 'string', default: 'us', description: 'Region of orgs headquartered outside the EU/EEA unless they choose another.' },
  masterKey: { env: 'CAIRN_MASTER_KEY', kind: 'string', default: undefined, secret: true, description: 'Master key (32 bytes, base64) that wraps every org key. If unset, a key file in dataDir is created and used.' },
  masterKeyFile: { env: 'CAIRN_MASTER_KEY_FILE', kind: 'string', default: undefined, description: 'File holding the master key (base64); default <dataDir>/master.key.' },
  tlsCert: { env: 'CAIRN_TLS_CERT', kind: 'string', default: undefined, description: 'PEM certificate file; with tlsKey, the server speaks HTTPS only.' },
  tlsKey: { env: 'CAIRN_TLS_KEY', kind: 'string', default: undefined, secret: true, description: 'PEM private key file for tlsCert.' },
  logLevel: { env: 'CAIRN_LOG_LEVEL', kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', description: 'Minimum level of log lines written to stdout.' },
  bodyLimitBytes: { env: 'CAIRN_BODY_LIMIT_BYTES', kind: 'int', default: 1_048_576, min: 1024, max: 64 * 1_048_576, description: 'Largest JSON request body accepted, in bytes.' },
  sessionTtlHours: { env: 'CAIRN_SESSION_TTL_HOURS', kind: 'int', default: 12, min: 1, max: 720, description: 'Lifetime of a dashboard session, in hours.' },
  loginRateLimitPerMinute: { env: 'CAIRN_LOGIN_RATE_LIMIT', kind: 'int', default: 10, min: 1, max: 10_000, description: 'Login attempts allowed per client address and per account each minute.' },
  supportGrantDays: { env: 'CAIRN_SUPPORT_GRANT_DAYS', kind: 'int', default: 30, min: 0, max: 365, description: 'Length of the support grant switched on at org creation (R-SEC-4); 0 creates orgs without one.' },
  auditCheckpointEvery: { env: 'CAIRN_AUDIT_CHECKPOINT_EVERY', kind: 'int', default: 10_000, min: 1, max: 1_000_000, description: 'A signed audit checkpoint is written after this many events of an org.' },
  auditCheckpointIntervalMinutes: { env: 'CAIRN_AUDIT_CHECKPOINT_INTERVAL_MIN', kind: 'int', default: 60, min: 0, max: 10_080, description: 'Every this many minutes each org whose chain grew gets a signed checkpoint at its head (0 disables).' },
  retentionIntervalMinutes: { env: 'CAIRN_RETENTION_INTERVAL_MIN', kind: 'int', default: 60, min: 0, max: 10_080, description: 'How often the retention scheduler runs, in minutes (0 disables the scheduler).' },
  retentionBatchRows: { env: 'CAIRN_RETENTION_BATCH', kind: 'int', default: 5000, min: 1, max: 1_000_000, description: 'Rows deleted per transaction when purging.' },
  retentionMinDays: { env: 'CAIRN_RETENTION_MIN_DAYS', kind: 'int', default: 1, min: 0, max: 3650, description: 'Smallest retention an org may set for any data class, in days.' },
  retentionMaxDays: { env: 'CAIRN_RETENTION_MAX_DAYS', kind: 'int', default: 730, min: 1, max: 3650, description: 'Largest retention an org may set for any data class, in days.' },
  clamdSocket: { env: 'CAIRN_CLAMD_SOCKET', kind: 'string', default: undefined, description: 'clamd for file analysis: a unix socket path or host:port (INSTREAM). Unset: no ClamAV stage.' },
  threatUploadLimitBytes: { env: 'CAIRN_THREAT_UPLOAD_LIMIT_BYTES', kind: 'int', default: 33_554_432, min: 1024, max: 268_435_456, description: 'Largest file accepted for threat analysis, in bytes (32 MiB); larger uploads are refused with CAIRN_ERR_FILE_TOO_LARGE.' },
  tlsPcapLimitBytes: { env: 'CAIRN_TLS_PCAP_LIMIT_BYTES', kind: 'int', default: 268_435_456, min: 1024, max: 4_294_967_296, description: 'Largest packet capture accepted for encrypted-traffic analysis, in bytes (256 MiB); it is analysed while it streams in and never stored. Larger uploads are refused with CAIRN_ERR_BODY_TOO_LARGE.' },
  smtpRelay: { env: 'CAIRN_SMTP_RELAY', kind: 'bool', default: false, description: 'Run the scanning SMTP relay (R-ATP-5) with `serve`: it accepts mail for the domains orgs configured, scans it and quarantines, warns or passes it on.' },
  smtpHost: { env: 'CAIRN_SMTP_HOST', kind: 'string', default: '127.0.0.1', description: 'Address the SMTP relay binds to.' },
  smtpPort: { env: 'CAIRN_SMTP_PORT', kind: 'int', default: 2525, min: 0, max: 65535, description: 'TCP port of the SMTP relay (0 picks a free port).' },
  smtpMaxMessageBytes: { env: 'CAIRN_SMTP_MAX_MESSAGE_BYTES', kind: 'int', default: 26_214_400, min: 1024, max: 104_857_600, description: 'Largest message the SMTP relay accepts, in bytes (25 MiB); larger ones are refused with 552 5.3.4.' },
  smtpScanTimeoutMs: { env: 'CAIRN_SMTP_SCAN_TIMEOUT_MS', kind: 'int', default: 60_000, min: 100, max: 600_000, description: 'Time budget for scanning one message, in milliseconds; a message not scanned in time is never treated as clean.' },
  smtpUpstream: { env: 'CAIRN_SMTP_UPSTREAM', kind: 'string', default: undefined, description: 'Next hop of relayed and released mail, host:port (the organisation\'s mail server). Required when smtpRelay is on.' },
  smtpUpstreamTlsVerify: { env: 'CAIRN_SMTP_UPSTREAM_TLS_VERIFY', kind: 'bool', default: true, description: 'Verify the upstream\'s certificate when it offers STARTTLS.' },
  imapPollSeconds: { env: 'CAIRN_IMAP_POLL_SECONDS', kind: 'int', default: 60, min: 1, max: 3600, description: 'How often an IMAP watcher checks its mailbox when the server has no IDLE, and the longest IDLE lasts before it is renewed, in seconds.' },
  ingestBodyLimitBytes: { env: 'CAIRN_INGEST_BODY_LIMIT_BYTES', kind: 'int', default: 4_194_304, min: 65_536, max: 64 * 1_048_576, description: 'Largest body of an ingest request (native batch, Mist or Meraki webhook), in bytes (4 MiB: 1 000 observations with their readings).' },
  ingestMaxInFlight: { env: 'CAIRN_INGEST_MAX_IN_FLIGHT', kind: 'int', default: 8, min: 1, max: 1024, description: 'HTTP ingest deliveries (native batches, Mist and Meraki webhooks) read, parsed or waiting for the store at once; beyond it they are answered 503 CAIRN_ERR_INGEST_BACKPRESSURE with Retry-After, before their body is read (memory stays below this × ingestBodyLimitBytes plus the parsed batches).' },
  spacesFirehoseHosts: { env: 'CAIRN_SPACES_FIREHOSE_HOSTS', kind: 'list', default: ['*.ciscospaces.io', '*.ciscospaces.eu', '*.ciscospaces.sg', '*.dnaspaces.io', '*.dnaspaces.eu'], description: 'Hosts an org\'s Cisco Spaces firehose URL may point at (exact names, or *.domain for its subdomains), so a tenant cannot make the server connect elsewhere; plain http only to a loopback host listed here.' },
  syslogHost: { env: 'CAIRN_SYSLOG_HOST', kind: 'string', default: '127.0.0.1', description: 'Address the syslog listeners bind to.' },
  syslogUdpPort: { env: 'CAIRN_SYSLOG_UDP_PORT', kind: 'int', default: -1, min: -1, max: 65535, description: 'UDP port receiving controller syslog (Aruba, hostapd association events); -1 (default) off, 0 any free port.' },
  syslogTcpPort: { env: 'CAIRN_SYSLOG_TCP_PORT', kind: 'int', default: -1, min: -1, max: 65535, description: 'TCP port receiving controller syslog (RFC 6587 framing); -1 (default) off, 0 any free port.' },
  syslogOrg: { env: 'CAIRN_SYSLOG_ORG', kind: 'string', default: undefined, description: 'Org whose controllers send to the syslog listeners (required when a syslog port is set).' },
  syslogSite: { env: 'CAIRN_SYSLOG_SITE', kind: 'string', default: undefined, description: 'Site whose APs the syslog lines name (optional: any site of the org).' },
  mqttUrl: { env: 'CAIRN_MQTT_URL', kind: 'string', default: undefined, description: 'MQTT broker the sensor subscriber connects to (mqtt://host:1883, mqtts://host:8883); unset (default): no MQTT subscriber. Sensors publish on cairn/<org>/<site>/<sensor>.' },
  mqttUsername: { env: 'CAIRN_MQTT_USERNAME', kind: 'string', default: 'cairn', description: 'Cairn\'s own broker account, the one that may read cairn/# (`cairn mqtt broker-config` writes its entry).' },
  mqttPassword: { env: 'CAIRN_MQTT_PASSWORD', kind: 'string', default: undefined, secret: true, description: 'Password of mqttUsername (or use mqttPasswordFile).' },
  mqttPasswordFile: { env: 'CAIRN_MQTT_PASSWORD_FILE', kind: 'string', default: undefined, description: 'File whose first line is the password of mqttUsername (instead of mqttPassword).' },
  mqttClientId: { env: 'CAIRN_MQTT_CLIENT_ID', kind: 'string', default: 'cairn-ingest', description: 'Client id of the subscriber\'s persistent session: the broker keeps messages for it while Cairn is down (a week). One per Cairn server.' },
  mqttCaFile: { env: 'CAIRN_MQTT_CA_FILE', kind: 'string', default: undefined, description: 'PEM CA certificate(s) to verify an mqtts:// broker with (default: the system\'s CAs).' },
  deliveryMaxAttempts: { env: 'CAIRN_DELIVERY_MAX_ATTEMPTS', kind: 'int', default: 10, min: 1, max: 100, description: 'Attempts at an outgoing webhook or e-mail (alerts, notices) before it is given up as failed; every attempt is recorded.' },
  deliveryRetryBaseSeconds: { env: 'CAIRN_DELIVERY_RETRY_BASE_SECONDS', kind: 'int', default: 2, min: 1, max: 3600, description: 'Wait before the second attempt at a delivery, in seconds; it doubles with each further attempt (with jitter, at most an hour).' },
  deliveryTimeoutSeconds: { env: 'CAIRN_DELIVERY_TIMEOUT_SECONDS', kind: 'int', default: 10, min: 1, max: 300, description: 'Time one webhook request or SMTP session may take, in seconds, before the attempt counts as failed.' },
  deliveryAllowPrivateTargets: { env: 'CAIRN_DELIVERY_ALLOW_PRIVATE_TARGETS', kind: 'bool', default: false, description: 'Let org webhooks and SMTP servers be on loopback, private or link-local addresses. Off (default): an org admin cannot make the server reach internal services; turn it on when receivers live on the internal network.' },
  dsarMailFrom: { env: 'CAIRN_DSAR_MAIL_FROM', kind: 'string', default: 'privacy@cairn.invalid', description: 'Sender address of the e-mail data subjects get (verification codes, receipts, answers); it goes out through smtpUpstream. Without smtpUpstream, requests cannot be verified by e-mail.' },
  dsarPerIpPerHour: { env: 'CAIRN_DSAR_PER_IP_PER_HOUR', kind: 'int', default: 10, min: 1, max: 10_000, description: 'Data-subject requests the public privacy page and API take from one client address per hour; more are refused with CAIRN_ERR_RATE_LIMITED.' },
  dsarPerSubjectPerDay: { env: 'CAIRN_DSAR_PER_SUBJECT_PER_DAY', kind: 'int', default: 3, min: 1, max: 1000, description: 'Data-subject requests taken for one person (identifier) per day.' },
  dsarVerifyPerIpPerHour: { env: 'CAIRN_DSAR_VERIFY_PER_IP_PER_HOUR', kind: 'int', default: 30, min: 1, max: 10_000, description: 'Verification attempts, status look-ups and downloads of data-subject requests from one client address per hour (each request also locks after 5 wrong codes).' },
  dsarArchiveDays: { env: 'CAIRN_DSAR_ARCHIVE_DAYS', kind: 'int', default: 30, min: 1, max: 90, description: 'Days the archive of an answered access request waits for the subject to download it (encrypted), before it is deleted.' },
  demo: { env: 'CAIRN_DEMO', kind: 'bool', default: false, description: 'On first start, create a demo org with an admin user and print its credentials once.' },
} as const satisfies Record<string, KeySpec>;

type Schema = typeof CONFIG_SCHEMA;
type ValueOf<S extends KeySpec> = S extends { kind: 'enum'; values: readonly (infer V)[] }
  ? V
  : S['kind'] extends 'int'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S['default'] extends undefined
        ? string | undefined
        : string;
export type Config = { -readonly [K in keyof Schema]: ValueOf<Schema[K]> };

function bad(key: string, msg: string): CairnError {
  return new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration ${key}: ${msg}`, { key });
}

function parseValue(key: string, spec: KeySpec, raw: unknown): unknown {
  const name = `${key} (${spec.env})`;
  switch (spec.kind) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(String(raw).trim()) ? Number(String(raw).trim()) : NaN;
      if (!Number.isSafeInteger(n)) throw bad(name, `expected a whole number, got ${JSON.stringify(raw)}`);
      if (spec.min !== undefined && n < spec.min) throw bad(name, `must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) throw bad(name, `must be at most ${spec.max}`);
      return n;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
      throw bad(name, `expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'list': {
      const list = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      const out = list.map((s) => s.trim()).filter(Boolean);
      if (out.length === 0) throw bad(name, 'must not be empty');
      return out;
    }
    case 'enum': {
      const s = String(raw).trim();
      if (!spec.values?.includes(s)) throw bad(name, `must be one of ${spec.values?.join(', ')}, got ${JSON.stringify(raw)}`);
      return s;
    }
    case 'string':
      if (typeof raw !== 'string' || raw.length === 0) throw bad(name, 'expected a non-empty string');
      return raw;
  }
}

/**
 * Build the effective configuration. `env` defaults to `process.env`; `overrides` (tests, CLI
 * flags) win over everything.
 * @example loadConfig({ env: { PORT: '0' } }).port === 0
 */
export function loadConfig(opts: { env?: Record<string, string | undefined>; extraEnv?: Record<string, string>; overrides?: Partial<Config> } = {}): Config {
  const env = { ...(opts.env ?? process.env), ...(opts.extraEnv ?? {}) };
  let file: Record<string, unknown> = {};
  const filePath = env.CAIRN_CONFIG_FILE;
  if (filePath) {
    try {
      file = JSON.parse(readFileSync(filePath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw bad(`CAIRN_CONFIG_FILE`, `could not read ${filePath}: ${(e as Error).message}`);
    }
    if (!file || typeof file !== 'object' || Array.isArray(file)) throw bad('CAIRN_CONFIG_FILE', 'must hold a JSON object');
    for (const k of Object.keys(file)) if (!(k in CONFIG_SCHEMA)) throw bad(k, `unknown key in ${filePath}`);
  }
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [string, KeySpec][]) {
    const raw = env[spec.env] !== undefined && env[spec.env] !== '' ? env[spec.env] : file[key];
    out[key] = raw === undefined ? spec.default : parseValue(key, spec, raw);
  }
  Object.assign(out, opts.overrides ?? {});
  const cfg = out as Config;
  cfg.dataDir = resolve(cfg.dataDir);
  if (!cfg.regions.includes(cfg.defaultRegion)) throw bad('defaultRegion (CAIRN_DEFAULT_REGION)', `"${cfg.defaultRegion}" is not in regions (${cfg.regions.join(', ')})`);
  if (cfg.regions.some((r) => !/^[a-z][a-z0-9]{1,15}$/.test(r))) throw bad('regions (CAIRN_REGIONS)', 'each region must be 2-16 lowercase letters or digits');
  if (!/^[a-z][a-z0-9_]{0,30}$/.test(cfg.pgSchemaPrefix)) throw bad('pgSchemaPrefix (CAIRN_PG_SCHEMA_PREFIX)', 'lowercase letters, digits and _ only');
  if ((cfg.tlsCert === undefined) !== (cfg.tlsKey === undefined)) throw bad('tlsCert/tlsKey (CAIRN_TLS_CERT, CAIRN_TLS_KEY)', 'set both or neither');
  if (cfg.clamdSocket !== undefined && !/^[/.]|^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(cfg.clamdSocket)) throw bad('clamdSocket (CAIRN_CLAMD_SOCKET)', 'expected a unix socket path (/run/clamav/clamd.ctl) or host:port (127.0.0.1:3310)');
  if (cfg.mqttUrl !== undefined && !/^(mqtts?|wss?|tcp|tls|ssl):\/\/[^/\s]+/.test(cfg.mqttUrl)) throw bad('mqttUrl (CAIRN_MQTT_URL)', 'expected mqtt://host:port, mqtts://host:port, ws:// or wss://');
  if (cfg.mqttPassword !== undefined && cfg.mqttPasswordFile !== undefined) throw bad('mqttPassword/mqttPasswordFile (CAIRN_MQTT_PASSWORD, CAIRN_MQTT_PASSWORD_FILE)', 'set one or the other');
  if (cfg.retentionMinDays > cfg.retentionMaxDays) throw bad('retentionMinDays (CAIRN_RETENTION_MIN_DAYS)', 'must not exceed retentionMaxDays');
  if (cfg.masterKey !== undefined && Buffer.from(cfg.masterKey, 'base64').length !== 32) throw bad('masterKey (CAIRN_MASTER_KEY)', 'must be 32 bytes, base64-encoded');
  return cfg;
}

/** The configuration with secrets replaced, for `cairn config` and the logs. */
export function redactedConfig(cfg: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [keyof Config, KeySpec][]) {
    const v = cfg[key];
    out[key] = spec.secret && v !== undefined ? (key === 'pgUrl' ? String(v).replace(/\/\/([^@/]*)@/, '//[redacted]@') : '[redacted]') : v;
  }
  return out;
}

/** One line per key: name, env var, default and description (for `cairn config --describe` and the README). */
export function describeConfig(): { key: string; env: string; default: unknown; description: string }[] {
  return Object.entries(CONFIG_SCHEMA).map(([key, s]) => ({ key, env: s.env, default: s.default, description: s.description }));
}
