/**
 * Per-org e-mail settings (R-ATP-5): the domains the relay accepts mail for (each domain belongs
 * to one org on the whole server), what happens to malicious and suspicious mail, the language
 * of tags and notices, and the IMAP mailbox to watch. The IMAP account name (R-DATA-10, usually
 * an e-mail address) and its password are stored encrypted under the org key; the password is
 * never returned. Reads are audited (they show the account), every change is audited.
 */
import { CairnError } from '../../kernel/errors.ts';
import { toIso } from '../../kernel/clock.ts';
import { EmailRepo, type Database, type EmailSettingsRow } from '../../storage/index.ts';
import type { Core, Ctx } from '../../privacy/index.ts';
import { MAIL_ACTIONS, MAIL_LANGUAGES, type MailAction, type MailLanguage, type MailPolicy } from './types.ts';

export interface ImapSettings {
  enabled: boolean;
  host: string | null;
  port: number | null;
  tls: boolean;
  /** R-DATA-10 personal: the mailbox account, decrypted for the caller. */
  user: string | null;
  passwordSet: boolean;
  mailbox: string;
  quarantineFolder: string;
}

export interface EmailSettings extends MailPolicy {
  domains: string[];
  imap: ImapSettings;
  updatedAt: string | null;
}

export interface EmailSettingsInput {
  domains?: string[];
  maliciousAction?: MailAction;
  suspiciousAction?: MailAction;
  language?: MailLanguage;
  imap?: {
    enabled?: boolean;
    host?: string | null;
    port?: number | null;
    tls?: boolean;
    user?: string | null;
    /** Write-only; omit to keep the stored one, null to remove it. */
    password?: string | null;
    mailbox?: string;
    quarantineFolder?: string;
  };
}

/** A decrypted IMAP account for the watcher (never leaves the process). */
export interface ImapAccount {
  orgId: string;
  host: string;
  port: number;
  tls: boolean;
  user: string;
  password: string;
  mailbox: string;
  quarantineFolder: string;
}

export const DEFAULT_POLICY: Readonly<MailPolicy> = Object.freeze({ maliciousAction: 'quarantine', suspiciousAction: 'deliver-with-warning', language: 'en' });

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const FOLDER = /^[^\0\r\n*%]{1,200}$/;

function bad(field: string, msg: string): CairnError {
  return new CairnError('CAIRN_ERR_VALIDATION', `${field} ${msg}`, { field });
}

/**
 * Lower-cases and checks a mail domain (IDNs as punycode).
 * @example normaliseDomain(' Example.ORG. ') === 'example.org'
 */
export function normaliseDomain(d: string): string | null {
  let s = d.trim().toLowerCase().replace(/\.$/, '');
  try {
    if (/[^\x00-\x7f]/.test(s)) s = new URL(`http://${s}`).hostname;
  } catch {
    return null;
  }
  return DOMAIN.test(s) ? s : null;
}

/** Settings, the domain index and the org policies, cached for the relay's hot path. */
export class MailSettings {
  private domainIndex = new Map<string, string>();
  private indexAtMs = 0;
  private policies = new Map<string, { atMs: number; policy: MailPolicy }>();
  /** Called after an org's settings changed (the service restarts its IMAP watcher). */
  onChange: (orgId: string) => void = () => undefined;

  constructor(
    private readonly core: Core,
    private readonly cacheMs = 30_000,
  ) {}

  private defaults(orgId: string): EmailSettingsRow {
    return { org_id: orgId, ...{ malicious_action: DEFAULT_POLICY.maliciousAction, suspicious_action: DEFAULT_POLICY.suspiciousAction, language: DEFAULT_POLICY.language }, imap_enabled: 0, imap_host: null, imap_port: null, imap_tls: 1, imap_user_enc: null, imap_password_enc: null, imap_mailbox: 'INBOX', imap_quarantine_folder: 'Quarantine', imap_uid_validity: null, imap_last_uid: null, updated_at: 0 };
  }

  private async out(db: Database, row: EmailSettingsRow, domains: string[]): Promise<EmailSettings> {
    return {
      domains,
      maliciousAction: row.malicious_action as MailAction,
      suspiciousAction: row.suspicious_action as MailAction,
      language: row.language as MailLanguage,
      imap: {
        enabled: row.imap_enabled === 1,
        host: row.imap_host,
        port: row.imap_port,
        tls: row.imap_tls === 1,
        user: await this.core.keys.decryptOptional(db, row.org_id, 'email_settings.imap_user', row.imap_user_enc),
        passwordSet: row.imap_password_enc !== null,
        mailbox: row.imap_mailbox,
        quarantineFolder: row.imap_quarantine_folder,
      },
      updatedAt: row.updated_at ? toIso(row.updated_at) : null,
    };
  }

  /** The org's settings (defaults when never set). Audited: it shows the IMAP account. */
  async get(ctx: Ctx, orgId: string): Promise<EmailSettings> {
    const { db } = await this.core.access.enforce(ctx, 'quarantine', 'readConfig', { orgId });
    const repo = new EmailRepo(db);
    const row = (await repo.getSettings(orgId)) ?? this.defaults(orgId);
    const out = await this.out(db, row, (await repo.listDomains(orgId)).map((d) => d.domain));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'email.settings.read', `org:${orgId}`));
    return out;
  }

  /** Change some settings; fields left out keep their value. */
  async set(ctx: Ctx, orgId: string, input: EmailSettingsInput): Promise<EmailSettings> {
    const { db } = await this.core.access.enforce(ctx, 'quarantine', 'configure', { orgId });
    let domains: string[] | undefined;
    if (input.domains) {
      if (input.domains.length > 100) throw bad('domains', 'may list at most 100 domains.');
      domains = [...new Set(input.domains.map((d, i) => normaliseDomain(d) ?? (() => { throw bad(`domains[${i}]`, 'is not a domain name.'); })()))].sort();
      for (const region of this.core.stores.regions) {
        for (const d of domains) {
          const owner = await new EmailRepo(this.core.stores.region(region)).getDomain(d);
          if (owner && owner.org_id !== orgId) throw new CairnError('CAIRN_ERR_CONFLICT', `The domain ${d} is already served for another organisation.`, { field: 'domains' });
        }
      }
    }
    for (const k of ['maliciousAction', 'suspiciousAction'] as const) if (input[k] !== undefined && !MAIL_ACTIONS.includes(input[k])) throw bad(k, `must be one of ${MAIL_ACTIONS.join(', ')}.`);
    if (input.language !== undefined && !MAIL_LANGUAGES.includes(input.language)) throw bad('language', `must be one of ${MAIL_LANGUAGES.join(', ')}.`);
    const im = input.imap ?? {};
    if (im.host !== undefined && im.host !== null && !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(im.host)) throw bad('imap.host', 'is not a host name or address.');
    if (im.port !== undefined && im.port !== null && (!Number.isInteger(im.port) || im.port < 1 || im.port > 65535)) throw bad('imap.port', 'must be 1-65535.');
    for (const k of ['mailbox', 'quarantineFolder'] as const) if (im[k] !== undefined && !FOLDER.test(im[k])) throw bad(`imap.${k}`, 'must be 1-200 characters without control characters, * or %.');
    const { keys, audit, clock } = this.core;
    await db.tx(async (x) => {
      const repo = new EmailRepo(x);
      const cur = (await repo.getSettings(orgId)) ?? this.defaults(orgId);
      const row: EmailSettingsRow = {
        ...cur,
        malicious_action: input.maliciousAction ?? cur.malicious_action,
        suspicious_action: input.suspiciousAction ?? cur.suspicious_action,
        language: input.language ?? cur.language,
        imap_enabled: im.enabled === undefined ? cur.imap_enabled : im.enabled ? 1 : 0,
        imap_host: im.host === undefined ? cur.imap_host : im.host,
        imap_port: im.port === undefined ? cur.imap_port : im.port,
        imap_tls: im.tls === undefined ? cur.imap_tls : im.tls ? 1 : 0,
        imap_user_enc: im.user === undefined ? cur.imap_user_enc : await keys.encryptOptional(x, orgId, 'email_settings.imap_user', im.user),
        imap_password_enc: im.password === undefined ? cur.imap_password_enc : await keys.encryptOptional(x, orgId, 'email_settings.imap_password', im.password),
        imap_mailbox: im.mailbox ?? cur.imap_mailbox,
        imap_quarantine_folder: im.quarantineFolder ?? cur.imap_quarantine_folder,
        updated_at: clock.nowMs(),
      };
      if (row.imap_enabled === 1 && (!row.imap_host || !row.imap_port || !row.imap_user_enc || !row.imap_password_enc)) throw bad('imap', 'needs host, port, user and password before it can be enabled.');
      if (im.host !== undefined || im.port !== undefined || im.mailbox !== undefined || im.user !== undefined) {
        row.imap_uid_validity = null;
        row.imap_last_uid = null;
      }
      await repo.putSettings(row);
      if (domains) await repo.setDomains(orgId, domains);
      await audit.record(x, ctx, orgId, 'email.settings.update', `org:${orgId}`, {
        ...(domains ? { domains: domains.length } : {}),
        maliciousAction: row.malicious_action,
        suspiciousAction: row.suspicious_action,
        language: row.language,
        imapEnabled: row.imap_enabled === 1,
        ...(im.password !== undefined ? { imapPassword: im.password === null ? 'removed' : 'changed' } : {}),
      });
    });
    this.policies.delete(orgId);
    this.indexAtMs = 0;
    this.onChange(orgId);
    const repo = new EmailRepo(db);
    return this.out(db, (await repo.getSettings(orgId))!, (await repo.listDomains(orgId)).map((d) => d.domain));
  }

  /** The org that receives mail for `domain`, or undefined (relay hot path; cached). */
  async orgOfDomain(domain: string): Promise<string | undefined> {
    const now = Date.now();
    if (now - this.indexAtMs > this.cacheMs) {
      const next = new Map<string, string>();
      for (const region of this.core.stores.regions) for (const d of await new EmailRepo(this.core.stores.region(region)).listDomains()) next.set(d.domain, d.org_id);
      this.domainIndex = next;
      this.indexAtMs = now;
    }
    return this.domainIndex.get(domain.toLowerCase().replace(/\.$/, ''));
  }

  /** The org's policy (relay and watcher hot path; cached). */
  async policyOf(orgId: string): Promise<MailPolicy> {
    const hit = this.policies.get(orgId);
    if (hit && Date.now() - hit.atMs < this.cacheMs) return hit.policy;
    const row = await new EmailRepo(await this.core.directory.storeOf(orgId)).getSettings(orgId);
    const policy: MailPolicy = row ? { maliciousAction: row.malicious_action as MailAction, suspiciousAction: row.suspicious_action as MailAction, language: row.language as MailLanguage } : { ...DEFAULT_POLICY };
    this.policies.set(orgId, { atMs: Date.now(), policy });
    return policy;
  }

  /** Every enabled IMAP account, decrypted (for starting watchers). */
  async imapAccounts(): Promise<ImapAccount[]> {
    const out: ImapAccount[] = [];
    for (const region of this.core.stores.regions) {
      const db = this.core.stores.region(region);
      for (const row of await new EmailRepo(db).listSettings()) {
        const a = await this.accountOf(db, row);
        if (a) out.push(a);
      }
    }
    return out;
  }

  /** One org's IMAP account, decrypted, or null when none is enabled. */
  async imapAccount(orgId: string): Promise<ImapAccount | null> {
    const db = await this.core.directory.storeOf(orgId);
    const row = await new EmailRepo(db).getSettings(orgId);
    return row ? this.accountOf(db, row) : null;
  }

  private async accountOf(db: Database, row: EmailSettingsRow): Promise<ImapAccount | null> {
    if (row.imap_enabled !== 1 || !row.imap_host || !row.imap_port || !row.imap_user_enc || !row.imap_password_enc) return null;
    const k = this.core.keys;
    return {
      orgId: row.org_id,
      host: row.imap_host,
      port: row.imap_port,
      tls: row.imap_tls === 1,
      user: await k.decrypt(db, row.org_id, 'email_settings.imap_user', row.imap_user_enc),
      password: await k.decrypt(db, row.org_id, 'email_settings.imap_password', row.imap_password_enc),
      mailbox: row.imap_mailbox,
      quarantineFolder: row.imap_quarantine_folder,
    };
  }

  /** Where the org's watcher got to, if it is still the same mailbox generation. */
  async imapCursor(orgId: string): Promise<{ uidValidity: string; lastUid: number } | null> {
    const row = await new EmailRepo(await this.core.directory.storeOf(orgId)).getSettings(orgId);
    return row?.imap_uid_validity && row.imap_last_uid !== null ? { uidValidity: row.imap_uid_validity, lastUid: row.imap_last_uid } : null;
  }

  async saveImapCursor(orgId: string, uidValidity: string, lastUid: number): Promise<void> {
    await new EmailRepo(await this.core.directory.storeOf(orgId)).setImapCursor(orgId, uidValidity, lastUid);
  }
}

