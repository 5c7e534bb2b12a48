/**
 * Ingest: one folder per source format, each a pure function from a vendor payload to
 * `RawObservation`s (or associations, zone transitions, encounters) or a `CairnError` whose
 * `details.reason` is a metrics label. No storage and no HTTP server here; the pipeline stage
 * after this one pseudonymises identifiers before anything is kept (R-LOC-5, R-PRIV-1).
 */
export type {
  Association,
  AssociationSession,
  Band,
  ClientAtAp,
  DeviceIdType,
  Encounter,
  IngestSource,
  ObservationKind,
  ParseOptions,
  PersonalField,
  RawObservation,
  RssiReading,
  SessionEndReason,
  ZoneTransition,
} from './types.ts';
export { ingestReasonOf, type IngestErrorDetails, type IngestReason } from './errors.ts';
export { isLocallyAdministered, isMulticastMac, isValidMac, normaliseMac, parseMac } from './mac.ts';
export { eddystoneUidId, iBeaconId } from './ble.ts';
export { INGEST_LIMITS, normaliseBand, normaliseRssiDbm } from './read.ts';
export { AssociationSessionBuilder, type SessionBuilderOptions } from './sessions.ts';
export { AssociationSessionRecorder, SessionFeed, emptySessionCommit, type FeedOrigin, type SessionCommit } from './session-store.ts';

export { MIST_SIGNATURE_HEADER, mistSignature, verifyMistSignature } from './mist/signature.ts';
export { MIST_TOPICS, parseMistWebhook, receiveMistWebhook, type MistOptions, type MistTopic, type MistWebhookResult } from './mist/webhook.ts';

export { merakiValidatorResponse, parseMerakiScanning, type MerakiOptions } from './meraki/scanning.ts';

export { SPACES_COUNT_EVENTS, parseSpacesLine, type SpacesCount, type SpacesOptions, type SpacesRecord } from './spaces/firehose.ts';
export {
  MAX_BOUNDARY_UIDS,
  SPACES_FIREHOSE_PATH,
  SpacesFirehoseConsumer,
  type FirehoseBatch,
  type FirehoseCheckpoint,
  type FirehoseConsumerOptions,
  type FirehoseState,
  type FirehoseStateName,
  type FirehoseStats,
} from './spaces/consumer.ts';
export {
  SpacesFirehoseService,
  firehoseUrlProblem,
  type FirehoseSettingsPatch,
  type FirehoseSettingsView,
  type FirehoseStatus,
  type FirehoseStatusState,
  type FirehoseTuning,
} from './firehose.ts';
export { aggregateOnlyReason, applyVendorZones, type VendorZoneBatch } from './vendor-zones.ts';
export { LruSet } from './spaces/lru.ts';

export { parseSyslogLine, type SdElement, type SyslogMessage, type SyslogParseOptions } from './syslog/syslog.ts';
export {
  ARUBA_ASSOCIATION_IDS,
  ARUBA_DISASSOCIATION_IDS,
  arubaGrokFields,
  parseArubaMessage,
  type ArubaAuth,
  type ArubaMessage,
} from './syslog/aruba.ts';
export { parseHostapdMessage, type HostapdEvent } from './syslog/hostapd.ts';
export {
  associationToObservation,
  parseSyslogAssociation,
  syslogAssociation,
  type SyslogAssociationOptions,
} from './syslog/associations.ts';
export { SyslogFramer, type SyslogFramerOptions } from './syslog/framing.ts';

export { MQTT_KINDS, MQTT_MAX_PAYLOAD_BYTES, parseMqttMessage, parseMqttTopic, type MqttOptions, type MqttTopic } from './mqtt/mqtt.ts';
export {
  MOSQUITTO_PBKDF2_ITERATIONS,
  MQTT_SUBSCRIPTION,
  aclFileText,
  brokerSnippet,
  mosquittoPasswordHash,
  passwordFileText,
  sensorTopic,
  sensorUsername,
  verifyMosquittoPassword,
  type BrokerSensorEntry,
  type BrokerSubscriberEntry,
} from './mqtt/broker.ts';
export { MqttCredentialService, type BrokerFiles, type IssuedMqttCredential, type MqttCredentialInfo } from './mqtt/credentials.ts';
export { MqttSubscriber, mqttSubscriberFromConfig, mqttSubscriberPassword, safeBrokerUrl, type MqttSubscriberOptions, type MqttSubscriberStats } from './mqtt/subscriber.ts';

export {
  NATIVE_MAX_BATCH,
  NativeBatchSchema,
  NativeObservationSchema,
  NativeReadingSchema,
  type NativeBatch,
  type NativeObservation,
} from './native/schema.ts';
export { parseNativeBatch, type NativeOptions } from './native/native.ts';

export { badgeBefore, isBadgeId, makeEncounter, parseEncounterBatch, type EncounterOptions } from './encounters/encounters.ts';
export { parseSocioPatternsContacts, readSocioPatternsContacts, type SocioPatternsOptions } from './encounters/sociopatterns.ts';

export { IngestService, emptySummary, mergeSummary, webhookCtx, type IngestBatch, type IngestBatchHook, type IngestDeps, type IngestSummary } from './service.ts';
export { DEFAULT_INGEST_SETTINGS, INGEST_SOURCES, IngestSettingsService, PERSONAL_FIELDS, type EffectiveSettings, type IngestSettings, type IngestSettingsPatch, type IngestSettingsView } from './settings.ts';
export { FILE_FORMATS, ingestFile, merakiValidator, receiveMeraki, receiveMist, receiveNative, type FileFormat, type FileOptions, type FileSummary } from './receivers.ts';
export { createIngestServices, type IngestServices } from './wiring.ts';
export { SyslogListener, syslogListenerFromConfig, type SyslogListenerOptions, type SyslogListenerStats } from './syslog/listener.ts';
