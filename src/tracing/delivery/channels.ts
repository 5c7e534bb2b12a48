/**
 * Delivery channels: where an org's alerts (and later its notices) go. A channel is a webhook
 * (URL, HMAC-SHA256 signing secret) or an e-mail route (SMTP server, account, sender,
 * recipients), subscribed to topics and optionally to one site. The URL (it may carry a token),
 * the secret, the SMTP account, the sender and the recipients (personal) are encrypted together
 * under the org key and never shown again: views give the webhook's origin, whether a secret is
 * set and how many recipients there are. Org admins manage channels; every change is audited
 * with the names of the fields changed, never their values.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import type { Core, Ctx } from '../../privacy/index.ts';
import { DeliveryRepo, reposFor, type ChannelRow, type Executor } from '../../storage/index.ts';
import type { SmtpTarget } from './sender.ts';

export type ChannelKind = 'webhook' | 'email';
export type SmtpTls = 'tls' | 'starttls' | 'none';

/** A new channel. Personal: `email.from`, `email.to`; secret: `webhook.url`, `webhook.secret`, `email.password`. */
export interface ChannelInput {
  kind: ChannelKind;
  name: string;
  enabled?: boolean;
  topics: string[];
  /** Only messages about this site (default: every site). */
  siteId?: string | null;
  webhook?: { url: string; secret?: string };
  email?: { host: string; port: number; tls: SmtpTls; tlsVerify?: boolean; user?: string | null; password?: string | null; from: string; to: string[] };
}

/** A change; absent fields stay. Secrets and recipients are replaced whole when given. */
export interface ChannelPatch {
  name?: string;
  enabled?: boolean;
  topics?: string[];
  siteId?: string | null;
  webhook?: { url?: string; secret?: string };
  email?: { host?: string; port?: number; tls?: SmtpTls; tlsVerify?: boolean; user?: string | null; password?: string | null; from?: string; to?: string[] };
}

export interface ChannelView {
  id: string;
  orgId: string;
  kind: ChannelKind;
  name: string;
  enabled: boolean;
  topics: string[];
  siteId: string | null;
  webhook?: { origin: string; secretSet: boolean };
  email?: { host: string; port: number; tls: SmtpTls; tlsVerify: boolean; userSet: boolean; fromSet: boolean; recipients: number };
  createdAt: string;
  updatedAt: string;
  /** Only in the answer that created the channel (or rotated the secret), when Cairn generated it. */
  secret?: string;
}

/** What is encrypted (JSON) in `secrets_enc`. */
interface Secrets {
  url?: string;
  secret?: string;
  user?: string;
  password?: string;
  from?: string;
  to?: string[];
}

interface EmailConfig {
  host: string;
  port: number;
  tls: SmtpTls;
  tlsVerify: boolean;
}

/** A channel ready to send through (decrypted; in memory only). */
export interface LoadedChannel {
  id: string;
  orgId: string;
  kind: ChannelKind;
  enabled: boolean;
  topics: string[];
  siteId: string | null;
  webhook?: { url: string; secret: string };
  email?: { target: SmtpTarget; from: string; to: string[] };
}

const FIELD = 'delivery_channels.secrets';
const EMAIL_RE = /^[^\s@<>",;]{1,64}@[^\s@<>",;]{1,253}$/;

function bad(field: string, message: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', message, { field });
}

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('webhook.url', 'webhook.url must be an absolute http or https URL.');
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || url.length > 2048) throw bad('webhook.url', 'webhook.url must be an http or https URL of at most 2048 characters.');
  return u.toString();
}

function checkSecret(s: string): string {
  if (s.length < 16 || s.length > 256) throw bad('webhook.secret', 'webhook.secret must be 16-256 characters (leave it out and Cairn makes one).');
  return s;
}

function checkAddress(field: string, a: string): string {
  const t = a.trim();
  if (!EMAIL_RE.test(t)) throw bad(field, `${field} must hold e-mail addresses such as alerts@example.org.`);
  return t;
}

/** The channel's row without secrets, for views. */
function viewOf(r: ChannelRow, s: Secrets, generated?: string): ChannelView {
  const v: ChannelView = {
    id: r.id,
    orgId: r.org_id,
    kind: r.kind as ChannelKind,
    name: r.name,
    enabled: r.enabled === 1,
    topics: JSON.parse(r.topics) as string[],
    siteId: r.site_id,
    createdAt: toIso(r.created_at),
    updatedAt: toIso(r.updated_at),
  };
  if (r.kind === 'webhook') v.webhook = { origin: s.url ? new URL(s.url).origin : '', secretSet: !!s.secret };
  else {
    const c = JSON.parse(r.config) as EmailConfig;
    v.email = { host: c.host, port: c.port, tls: c.tls, tlsVerify: c.tlsVerify, userSet: !!s.user, fromSet: !!s.from, recipients: s.to?.length ?? 0 };
  }
  if (generated !== undefined) v.secret = generated;
  return v;
}

export class ChannelService {
  constructor(
    private readonly core: Core,
    private readonly topics: () => ReadonlySet<string>,
  ) {}

  private checkTopics(topics: string[]): string[] {
    const known = this.topics();
    if (!Array.isArray(topics) || topics.length === 0 || topics.some((t) => !known.has(t))) throw bad('topics', `topics must name one or more of: ${[...known].join(', ')}.`);
    return [...new Set(topics)].sort();
  }

  private async checkSite(x: Executor, orgId: string, siteId: string | null | undefined): Promise<string | null> {
    if (!siteId) return null;
    if (!(await reposFor(x).tenancy.getSite(orgId, siteId))) throw bad('siteId', 'siteId names no site of this org.');
    return siteId;
  }

  private async secretsOf(x: Executor, r: ChannelRow): Promise<Secrets> {
    return JSON.parse(await this.core.keys.decrypt(x, r.org_id, FIELD, r.secrets_enc)) as Secrets;
  }

  async list(ctx: Ctx, orgId: string): Promise<ChannelView[]> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'read', { orgId });
    const out: ChannelView[] = [];
    for (const r of await new DeliveryRepo(db).listChannels(orgId)) out.push(viewOf(r, await this.secretsOf(db, r)));
    return out;
  }

  async get(ctx: Ctx, orgId: string, id: string): Promise<ChannelView> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'read', { orgId }, `delivery-channel:${id}`);
    const r = await new DeliveryRepo(db).getChannel(orgId, id);
    if (!r) throw notFoundOrNoAccess();
    return viewOf(r, await this.secretsOf(db, r));
  }

  /**
   * Add a channel. A webhook without a secret gets a generated one, shown once in the answer.
   *
   * @example await channels.create(ctx, orgId, { kind: 'webhook', name: 'BMS', topics: ['occupancy-alerts'], webhook: { url: 'https://bms.example/hooks/cairn' } })
   */
  async create(ctx: Ctx, orgId: string, input: ChannelInput): Promise<ChannelView> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'manage', { orgId });
    const name = input.name.trim();
    if (!name || name.length > 200) throw bad('name', 'name must be 1-200 characters.');
    const topics = this.checkTopics(input.topics);
    let secrets: Secrets;
    let config: EmailConfig | Record<string, never> = {};
    let generated: string | undefined;
    if (input.kind === 'webhook') {
      if (!input.webhook || input.email) throw bad('webhook', 'A webhook channel takes webhook: { url, secret? } and no email.');
      const secret = input.webhook.secret !== undefined ? checkSecret(input.webhook.secret) : (generated = randomBytes(24).toString('base64url'));
      secrets = { url: checkUrl(input.webhook.url), secret };
    } else if (input.kind === 'email') {
      const e = input.email;
      if (!e || input.webhook) throw bad('email', 'An e-mail channel takes email: { host, port, tls, from, to } and no webhook.');
      config = this.emailConfig(e.host, e.port, e.tls, e.tlsVerify ?? true);
      secrets = this.emailSecrets({}, e);
    } else throw bad('kind', 'kind must be webhook or email.');
    const now = this.core.clock.nowMs();
    return db.tx(async (x) => {
      const row: ChannelRow = {
        id: newId(now),
        org_id: orgId,
        kind: input.kind,
        name,
        enabled: input.enabled === false ? 0 : 1,
        topics: JSON.stringify(topics),
        site_id: await this.checkSite(x, orgId, input.siteId),
        config: JSON.stringify(config),
        secrets_enc: await this.core.keys.encrypt(x, orgId, FIELD, JSON.stringify(secrets)),
        created_at: now,
        updated_at: now,
      };
      await new DeliveryRepo(x).insertChannel(row);
      await this.core.audit.record(x, ctx, orgId, 'delivery.channel.create', `delivery-channel:${row.id}`, { kind: row.kind, topics, siteId: row.site_id, enabled: row.enabled === 1 });
      return viewOf(row, secrets, generated);
    });
  }

  private emailConfig(host: string, port: number, tls: SmtpTls, tlsVerify: boolean): EmailConfig {
    const h = host.trim();
    if (!h || h.length > 255 || /[\s/]/.test(h)) throw bad('email.host', 'email.host must be the SMTP server\'s host name or address.');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('email.port', 'email.port must be 1-65535.');
    if (!['tls', 'starttls', 'none'].includes(tls)) throw bad('email.tls', 'email.tls must be tls, starttls or none.');
    return { host: h, port, tls, tlsVerify };
  }

  private emailSecrets(prev: Secrets, e: NonNullable<ChannelPatch['email']>): Secrets {
    const s: Secrets = { ...prev };
    if (e.user !== undefined) {
      if (e.user === null || e.user === '') delete s.user;
      else s.user = e.user;
    }
    if (e.password !== undefined) {
      if (e.password === null || e.password === '') delete s.password;
      else s.password = e.password;
    }
    if (e.from !== undefined) s.from = checkAddress('email.from', e.from);
    if (e.to !== undefined) {
      if (!Array.isArray(e.to) || e.to.length === 0 || e.to.length > 50) throw bad('email.to', 'email.to must list 1-50 recipients.');
      s.to = [...new Set(e.to.map((a) => checkAddress('email.to', a)))];
    }
    if (!s.from) throw bad('email.from', 'email.from (the sender address) is required.');
    if (!s.to?.length) throw bad('email.to', 'email.to must list 1-50 recipients.');
    return s;
  }

  /** Change a channel; audited with the names of the fields changed. */
  async update(ctx: Ctx, orgId: string, id: string, patch: ChannelPatch): Promise<ChannelView> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'manage', { orgId }, `delivery-channel:${id}`);
    return db.tx(async (x) => {
      const repo = new DeliveryRepo(x);
      const row = await repo.getChannel(orgId, id);
      if (!row) throw notFoundOrNoAccess();
      let secrets = await this.secretsOf(x, row);
      let generated: string | undefined;
      if (patch.name !== undefined) {
        const name = patch.name.trim();
        if (!name || name.length > 200) throw bad('name', 'name must be 1-200 characters.');
        row.name = name;
      }
      if (patch.enabled !== undefined) row.enabled = patch.enabled ? 1 : 0;
      if (patch.topics !== undefined) row.topics = JSON.stringify(this.checkTopics(patch.topics));
      if (patch.siteId !== undefined) row.site_id = await this.checkSite(x, orgId, patch.siteId);
      if (patch.webhook !== undefined) {
        if (row.kind !== 'webhook') throw bad('webhook', 'This is an e-mail channel.');
        if (patch.webhook.url !== undefined) secrets = { ...secrets, url: checkUrl(patch.webhook.url) };
        if (patch.webhook.secret !== undefined) secrets = { ...secrets, secret: patch.webhook.secret === '' ? (generated = randomBytes(24).toString('base64url')) : checkSecret(patch.webhook.secret) };
      }
      if (patch.email !== undefined) {
        if (row.kind !== 'email') throw bad('email', 'This is a webhook channel.');
        const c = JSON.parse(row.config) as EmailConfig;
        const e = patch.email;
        row.config = JSON.stringify(this.emailConfig(e.host ?? c.host, e.port ?? c.port, e.tls ?? c.tls, e.tlsVerify ?? c.tlsVerify));
        secrets = this.emailSecrets(secrets, e);
      }
      row.secrets_enc = await this.core.keys.encrypt(x, orgId, FIELD, JSON.stringify(secrets));
      row.updated_at = this.core.clock.nowMs();
      await repo.updateChannel(row);
      const fields = [...Object.keys(patch).filter((k) => k !== 'webhook' && k !== 'email'), ...Object.keys(patch.webhook ?? {}).map((k) => `webhook.${k}`), ...Object.keys(patch.email ?? {}).map((k) => `email.${k}`)].sort();
      await this.core.audit.record(x, ctx, orgId, 'delivery.channel.update', `delivery-channel:${id}`, { fields });
      return viewOf(row, secrets, generated);
    });
  }

  /** Remove a channel; its pending deliveries are cancelled when their turn comes. */
  async remove(ctx: Ctx, orgId: string, id: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'delivery', 'manage', { orgId }, `delivery-channel:${id}`);
    await db.tx(async (x) => {
      if ((await new DeliveryRepo(x).deleteChannel(orgId, id)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'delivery.channel.delete', `delivery-channel:${id}`);
    });
  }

  /** A channel decrypted for sending (no access check: the sender acts for the org). */
  async load(x: Executor, orgId: string, id: string): Promise<LoadedChannel | undefined> {
    const r = await new DeliveryRepo(x).getChannel(orgId, id);
    return r ? this.loaded(x, r) : undefined;
  }

  /** Every channel of an org, decrypted (the enqueue path picks those subscribed). */
  async loadAll(x: Executor, orgId: string): Promise<LoadedChannel[]> {
    const out: LoadedChannel[] = [];
    for (const r of await new DeliveryRepo(x).listChannels(orgId)) out.push(await this.loaded(x, r));
    return out;
  }

  private async loaded(x: Executor, r: ChannelRow): Promise<LoadedChannel> {
    const s = await this.secretsOf(x, r);
    const c: LoadedChannel = { id: r.id, orgId: r.org_id, kind: r.kind as ChannelKind, enabled: r.enabled === 1, topics: JSON.parse(r.topics) as string[], siteId: r.site_id };
    if (r.kind === 'webhook') c.webhook = { url: s.url ?? '', secret: s.secret ?? '' };
    else {
      const e = JSON.parse(r.config) as EmailConfig;
      c.email = { target: { ...e, ...(s.user ? { user: s.user } : {}), ...(s.password ? { password: s.password } : {}) }, from: s.from ?? '', to: s.to ?? [] };
    }
    return c;
  }
}
