/**
 * The MQTT subscriber `cairn serve` runs when a broker is configured: one MQTT 5 connection with a
 * persistent session (clean start off, a week's session expiry), subscribed to `cairn/+/+/+` at
 * QoS 1. Each message is parsed as it arrives (`mqtt.ts`); at commit time its topic must name an
 * existing org and a sensor registered at that site, else it is refused
 * (CAIRN_ERR_MQTT_UNKNOWN_SENSOR) and counted in `cairn_ingest_rejected_total`, like malformed
 * payloads. Messages are committed in batches (≤ 1 000 observations, or after `flushMs`), one
 * transaction per org and site, and acknowledged (PUBACK) only after their batch committed: a crash
 * leaves them unacknowledged, the broker re-delivers them, and each message's keyed delivery digest
 * makes the re-delivery harmless (exactly once in the store).
 *
 * Deferred PUBACKs: MQTT.js's `handleMessage(packet, callback)` acknowledges when the callback is
 * called, but handles one message at a time (the next waits for the callback), so deferring it until
 * a commit would make every batch one message. So the callback is called at once with a marker error
 * (MQTT.js then sends no PUBACK and goes on), and the PUBACK is sent after the commit with the
 * client's `_sendPacket`, only on the connection the message came on (on a later one the broker
 * re-sends it anyway). The broker's in-flight limit (`max_inflight_messages`) bounds what waits.
 * Reconnects back off from 0.5 s to 30 s. Logs carry codes and counts, never payloads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { CairnError, isCairnError, type ErrorCode } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { Config } from '../../config.ts';
import type { Ctx } from '../../privacy/index.ts';
import type { Database } from '../../storage/index.ts';
import { ingestReasonOf } from '../errors.ts';
import type { EffectiveSettings } from '../settings.ts';
import type { IngestService } from '../service.ts';
import type { RawObservation } from '../types.ts';
import { MQTT_MAX_PAYLOAD_BYTES, parseMqttMessage, parseMqttTopic } from './mqtt.ts';
import { MQTT_SUBSCRIPTION } from './broker.ts';

export interface MqttSubscriberOptions {
  /** Broker URL: `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`. */
  url: string;
  username?: string;
  password?: string;
  /** Client id of the persistent session (one per Cairn server). */
  clientId: string;
  /** CA certificate(s) for an mqtts:// broker (default: the system's). */
  ca?: Buffer;
  /** Most observations per batch (default 1 000). */
  maxBatch?: number;
  /** Longest wait before a partial batch is committed, ms (default 50). */
  flushMs?: number;
  /** Messages the broker may send before Cairn acknowledges (MQTT 5 receive maximum; default 1 000). */
  receiveMaximum?: number;
  /** How long the broker keeps the session (and queues messages) while Cairn is away, seconds (default 7 days). */
  sessionExpirySeconds?: number;
  /** Reconnect back-off: first and longest delay, ms (default 500 and 30 000). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** Counts since start. */
export interface MqttSubscriberStats {
  /** Messages received (re-deliveries included). */
  messages: number;
  /** Observations stored (accepted by the pipeline). */
  observations: number;
  /** Observations skipped as already stored (re-delivery). */
  duplicates: number;
  /** Messages or records refused (malformed, unknown org or sensor). */
  rejected: number;
  /** Transactions committed. */
  batches: number;
  /** PUBACKs sent. */
  acked: number;
  /** Successful connections. */
  connects: number;
}

/** A message waiting for its batch to commit. */
interface Held {
  messageId: number | undefined;
  /** The connection it arrived on (its PUBACK is only valid there). */
  generation: number;
  /** Whether it needs a PUBACK (QoS 1). */
  ack: boolean;
  /** Refused already (counted); acknowledged with its batch, never stored. */
  refused: boolean;
  orgId: string;
  siteId: string;
  sensor: string;
  topic: string;
  digest: string;
  observations: RawObservation[];
}

/** Passed to MQTT.js's handleMessage callback: "no PUBACK now", see the module comment. */
const DEFERRED = new Error('PUBACK deferred until the batch commits');
const MAX_PACKET_BYTES = 1_048_576;
const WEEK_S = 7 * 24 * 3600;
const TRANSIENT: ReadonlySet<string> = new Set(['CAIRN_ERR_STORAGE', 'CAIRN_ERR_NOT_READY']);

type PacketSender = { _sendPacket?: (packet: { cmd: 'puback'; messageId: number }, cb?: (err?: Error) => void) => void };

/** The broker URL without any credentials in it, for logs and the start-up line. */
export function safeBrokerUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * @example
 * const sub = new MqttSubscriber(ingest, log, { url: 'mqtt://127.0.0.1:1883', username: 'cairn', password, clientId: 'cairn-ingest' });
 * await sub.start(); … await sub.stop();
 */
export class MqttSubscriber {
  private client: MqttClient | undefined;
  private generation = 0;
  private pending: Held[] = [];
  private pendingObs = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private stopping = false;
  /** Set by stop() and abort(): a subscriber runs one session lifetime. */
  private ended = false;
  private reconnectMs: number;
  private retryMs: number;
  /** Refusals since they were last logged: `code|reason` → count. */
  private refusals = new Map<string, number>();
  /** Topics already logged as naming no registered sensor (each is logged once, not per message). */
  private readonly unknownTopics = new Set<string>();
  readonly stats: MqttSubscriberStats = { messages: 0, observations: 0, duplicates: 0, rejected: 0, batches: 0, acked: 0, connects: 0 };

  constructor(
    private readonly ingest: IngestService,
    private readonly log: Logger,
    private readonly opts: MqttSubscriberOptions,
  ) {
    this.reconnectMs = opts.reconnectMinMs ?? 500;
    this.retryMs = opts.reconnectMinMs ?? 500;
  }

  private get maxBatch(): number {
    return this.opts.maxBatch ?? 1000;
  }
  private get receiveMaximum(): number {
    return this.opts.receiveMaximum ?? 1000;
  }

  /** Whether the subscriber is connected to the broker now. */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /**
   * Connect and subscribe. Resolves once subscribed, or after the first failure (then it keeps
   * retrying in the background, with back-off): `connected` says which.
   */
  start(): Promise<{ url: string; connected: boolean }> {
    if (this.client || this.ended) throw new CairnError('CAIRN_ERR_CONFLICT', 'This MQTT subscriber was started before; make a new one.');
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: o.sessionExpirySeconds ?? WEEK_S, receiveMaximum: this.receiveMaximum, maximumPacketSize: MAX_PACKET_BYTES },
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: this.reconnectMs,
      reconnectOnConnackError: true,
      resubscribe: false,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.ca ? { ca: o.ca } : {}),
    };
    const client = mqtt.connect(o.url, options);
    if (typeof (client as unknown as PacketSender)._sendPacket !== 'function') {
      client.end(true);
      throw new CairnError('CAIRN_ERR_CONFIG', 'This MQTT.js version offers no way to acknowledge after commit; the MQTT subscriber needs MQTT.js 5.');
    }
    this.client = client;
    client.handleMessage = (packet: IPublishPacket, done: (error?: Error) => void) => {
      if (this.stopping && packet.qos > 0) return done(DEFERRED); // not acknowledged: the broker keeps it for the next session
      this.receive(packet);
      done(packet.qos > 0 ? DEFERRED : undefined);
    };
    const where = safeBrokerUrl(o.url);
    const first = new Promise<{ url: string; connected: boolean }>((resolve) => {
      let settled = false;
      const settle = (connected: boolean) => {
        if (!settled) resolve({ url: where, connected });
        settled = true;
      };
      client.on('connect', (connack) => {
        this.generation++;
        this.stats.connects++;
        this.reconnectMs = o.reconnectMinMs ?? 500;
        client.options.reconnectPeriod = this.reconnectMs;
        this.log.info({ broker: where, clientId: o.clientId, sessionPresent: connack.sessionPresent }, 'MQTT subscriber connected');
        // rh 2: retained messages are old readings; do not replay them on (re)subscription.
        client.subscribe(MQTT_SUBSCRIPTION, { qos: 1, rh: 2 }, (err, granted) => {
          const refused = err !== null && err !== undefined ? true : (granted ?? []).some((g) => g.qos >= 128);
          if (refused) this.log.error({ code: 'CAIRN_ERR_MQTT_BROKER', reason: 'subscribe_refused', broker: where }, `The broker refused the subscription to ${MQTT_SUBSCRIPTION}; check the subscriber account's ACL (topic read cairn/#).`);
          settle(!refused);
        });
      });
      client.on('error', (err: Error & { code?: string | number }) => {
        const reason = typeof err.code === 'number' ? `broker_${err.code}` : (err.code ?? 'error');
        this.log.warn({ code: 'CAIRN_ERR_MQTT_BROKER', reason, broker: where, retryInMs: this.reconnectMs }, `MQTT broker connection failed: ${err.message}`);
        settle(false);
      });
      client.on('close', () => {
        settle(false);
        if (this.stopping) return;
        // MQTT.js has already armed this reconnect; the next waits twice as long (up to the cap).
        this.reconnectMs = Math.min(o.reconnectMaxMs ?? 30_000, this.reconnectMs * 2);
        client.options.reconnectPeriod = this.reconnectMs;
      });
    });
    return first;
  }

  /** Parse one message into a held entry (refusals counted now), then batch it. */
  private receive(packet: IPublishPacket): void {
    this.stats.messages++;
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const held: Held = {
      messageId: packet.messageId,
      generation: this.generation,
      ack: packet.qos > 0,
      refused: false,
      orgId: '',
      siteId: '',
      sensor: '',
      topic: '',
      digest: '',
      observations: [],
    };
    try {
      const t = parseMqttTopic(packet.topic);
      held.orgId = t.org;
      held.siteId = t.site;
      held.sensor = t.sensor;
      held.topic = packet.topic;
      held.observations = parseMqttMessage(packet.topic, payload, { maxPayloadBytes: MQTT_MAX_PAYLOAD_BYTES, onSkip: (reason) => this.refuse('CAIRN_ERR_INGEST_MALFORMED', reason) });
      held.digest = createHash('sha256').update(packet.topic).update('\0').update(payload).digest('hex');
    } catch (e) {
      held.refused = true;
      held.observations = [];
      this.refuse(isCairnError(e) ? e.code : 'CAIRN_ERR_INGEST_MALFORMED', ingestReasonOf(e));
    }
    this.pending.push(held);
    this.pendingObs += held.observations.length;
    this.schedule();
  }

  /** Commit now when a batch is full (or the broker's window is), else within `flushMs`; a running drain takes what arrives. */
  private schedule(): void {
    if (this.draining) return;
    if (this.pendingObs >= this.maxBatch || this.pending.length >= this.receiveMaximum) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs ?? 50);
  }

  private refuse(code: string, reason: string, n = 1): void {
    this.stats.rejected += n;
    this.ingest.countRejected('mqtt', reason, n);
    const k = `${code}|${reason}`;
    this.refusals.set(k, (this.refusals.get(k) ?? 0) + n);
  }

  /** Commit everything waiting now (in batches of ≤ maxBatch observations, one drain at a time), then acknowledge it. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
      if (this.pending.length > 0 && !this.ended) this.schedule();
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 && !this.ended) {
      let n = 0;
      let obs = 0;
      while (n < this.pending.length && (n === 0 || obs + this.pending[n]!.observations.length <= this.maxBatch)) obs += this.pending[n++]!.observations.length;
      const batch = this.pending.slice(0, n);
      try {
        await this.commit(batch);
      } catch (err) {
        const code = isCairnError(err) ? err.code : 'CAIRN_ERR_STORAGE';
        if (this.stopping) {
          this.log.error({ code, messages: batch.length }, `MQTT batch not stored at shutdown; the broker re-delivers it to the next session: ${(err as Error).message}`);
          return;
        }
        this.log.error({ code, messages: batch.length, retryInMs: this.retryMs }, `MQTT batch not stored; retrying: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, this.retryMs));
        this.retryMs = Math.min(this.opts.reconnectMaxMs ?? 30_000, this.retryMs * 2);
        continue;
      }
      this.retryMs = this.opts.reconnectMinMs ?? 500;
      if (this.ended) return; // aborted while committing: nothing is acknowledged
      this.pending.splice(0, n);
      this.pendingObs -= obs;
      for (const h of batch) this.ack(h);
    }
    this.logRefusals();
  }

  /** Store a batch: one pipeline run per org and site of the messages not refused. Throws only what is worth retrying. */
  private async commit(batch: readonly Held[]): Promise<void> {
    const groups = new Map<string, Held[]>();
    for (const h of batch) {
      if (h.refused) continue;
      const k = `${h.orgId}/${h.siteId}`;
      const g = groups.get(k);
      if (g) g.push(h);
      else groups.set(k, [h]);
    }
    const ctx: Ctx = { actor: { kind: 'system', id: 'mqtt-subscriber' }, bindings: [], requestId: newId() };
    for (const msgs of groups.values()) {
      const { orgId, siteId } = msgs[0]!;
      let db: Database;
      let eff: EffectiveSettings;
      try {
        ({ db, eff } = await this.ingest.webhookSettings(orgId));
      } catch (e) {
        if (!(isCairnError(e) && e.code === 'CAIRN_ERR_NOT_FOUND')) throw e;
        this.refuseAll(msgs, 'unknown_org');
        continue;
      }
      const ok: Held[] = [];
      for (const h of msgs) {
        if (await this.ingest.sensorAt(db, orgId, siteId, h.sensor)) ok.push(h);
        else this.refuseAll([h], 'unknown_sensor');
      }
      if (ok.length === 0) continue;
      try {
        await this.run(db, ctx, orgId, siteId, eff, ok);
      } catch (e) {
        if (isCairnError(e) && e.code === 'CAIRN_ERR_CONFLICT' && e.details?.['reason'] === 'partial_redelivery') {
          // Some were stored before a crash: each message alone is either new or a duplicate.
          for (const h of ok) await this.run(db, ctx, orgId, siteId, eff, [h]);
        } else if (isCairnError(e) && !TRANSIENT.has(e.code)) {
          // The pipeline refused them for good (an org being deleted): acknowledged, counted, not retried.
          for (const h of ok) h.refused = true;
          this.refuse(e.code, 'pipeline_refused', ok.length);
        } else throw e;
      }
    }
  }

  private refuseAll(msgs: Held[], reason: 'unknown_org' | 'unknown_sensor'): void {
    for (const h of msgs) h.refused = true;
    this.refuse('CAIRN_ERR_MQTT_UNKNOWN_SENSOR', reason, msgs.length);
    const topic = msgs[0]!.topic;
    if (this.unknownTopics.has(topic)) return;
    if (this.unknownTopics.size >= 1000) this.unknownTopics.clear();
    this.unknownTopics.add(topic);
    // Topics are validated ids (org/site/sensor), never payload data.
    this.log.warn({ code: 'CAIRN_ERR_MQTT_UNKNOWN_SENSOR', reason, topic }, 'MQTT messages on a topic that names no org, or no sensor registered at that site, are refused.');
  }

  /** One transaction for the messages (distinct deliveries; a copy re-received while waiting counts once). */
  private async run(db: Database, ctx: Ctx, orgId: string, siteId: string, eff: EffectiveSettings, msgs: readonly Held[]): Promise<void> {
    const seen = new Set<string>();
    const observations: RawObservation[] = [];
    for (const h of msgs) {
      if (seen.has(h.digest)) continue;
      seen.add(h.digest);
      for (const o of h.observations) observations.push(o);
    }
    if (observations.length === 0) return;
    const s = await this.ingest.run(db, ctx, orgId, eff, { source: 'mqtt', observations, siteId, deliveryIds: [...seen] });
    this.stats.batches++;
    this.stats.observations += s.accepted;
    this.stats.duplicates += s.duplicates;
  }

  /** PUBACK, only on the connection the message came on (see the module comment). Protected: a test stands in a crash between commit and PUBACK. */
  protected ack(h: Held): void {
    const c = this.client;
    if (!h.ack || h.messageId === undefined || !c || !c.connected || h.generation !== this.generation) return;
    (c as unknown as Required<PacketSender>)._sendPacket({ cmd: 'puback', messageId: h.messageId });
    this.stats.acked++;
  }

  private logRefusals(): void {
    if (this.refusals.size === 0) return;
    for (const [k, count] of this.refusals) {
      const [code, reason] = k.split('|') as [ErrorCode, string];
      this.log.warn({ code, reason, count, source: 'mqtt' }, 'MQTT records refused');
    }
    this.refusals.clear();
  }

  /** Stop: no new messages are taken, what was received is committed and acknowledged, then a clean disconnect (the session stays on the broker). */
  async stop(): Promise<void> {
    if (!this.client || this.ended) return;
    this.stopping = true;
    await this.flush();
    this.ended = true;
    const c = this.client;
    this.client = undefined;
    await c.endAsync();
  }

  /**
   * Drop the connection at once, committing and acknowledging nothing more: what a crash does.
   * The broker re-delivers what was not acknowledged to the next session with this client id.
   */
  async abort(): Promise<void> {
    if (!this.client || this.ended) return;
    this.stopping = true;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.client;
    this.client = undefined;
    this.pending = [];
    this.pendingObs = 0;
    await c.endAsync(true);
  }
}

/** The subscriber account's password: `mqttPassword`, else the first line of `mqttPasswordFile`, else none. */
export function mqttSubscriberPassword(cfg: Pick<Config, 'mqttPassword' | 'mqttPasswordFile'>): string | undefined {
  if (cfg.mqttPassword !== undefined) return cfg.mqttPassword;
  if (cfg.mqttPasswordFile === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(cfg.mqttPasswordFile, 'utf8');
  } catch (e) {
    throw new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration mqttPasswordFile (CAIRN_MQTT_PASSWORD_FILE): could not read it (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { key: 'mqttPasswordFile' });
  }
  const pw = text.split(/\r?\n/)[0] ?? '';
  if (!pw) throw new CairnError('CAIRN_ERR_CONFIG', 'Invalid configuration mqttPasswordFile (CAIRN_MQTT_PASSWORD_FILE): its first line is empty.', { key: 'mqttPasswordFile' });
  return pw;
}

/**
 * The subscriber `cairn serve` runs, from the configuration: null when no broker URL is set.
 *
 * @example const sub = mqttSubscriberFromConfig(cfg, c.services.ingest, c.core.log); await sub?.start();
 */
export function mqttSubscriberFromConfig(
  cfg: Pick<Config, 'mqttUrl' | 'mqttUsername' | 'mqttPassword' | 'mqttPasswordFile' | 'mqttClientId' | 'mqttCaFile'>,
  ingest: IngestService,
  log: Logger,
): MqttSubscriber | null {
  if (cfg.mqttUrl === undefined) return null;
  const password = mqttSubscriberPassword(cfg);
  let ca: Buffer | undefined;
  if (cfg.mqttCaFile !== undefined) {
    try {
      ca = readFileSync(cfg.mqttCaFile);
    } catch (e) {
      throw new CairnError('CAIRN_ERR_CONFIG', `Invalid configuration mqttCaFile (CAIRN_MQTT_CA_FILE): could not read it (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { key: 'mqttCaFile' });
    }
  }
  return new MqttSubscriber(ingest, log, {
    url: cfg.mqttUrl,
    username: cfg.mqttUsername,
    clientId: cfg.mqttClientId,
    ...(password !== undefined ? { password } : {}),
    ...(ca ? { ca } : {}),
  });
}
