/**
 * The quarantine (R-ATP-5, R-DATA-10). A held message is stored whole (content and attachments),
 * with its sender, recipient, subject and verdict, AES-256-GCM under the org key; one row per
 * recipient, found by the recipient's keyed pseudonym. Org admins list, preview, release and
 * delete every message; any other person of the org only messages addressed to their own e-mail
 * address. Every action and every read is audited; a release sends the message on to its
 * recipient (SMTP) or moves it back to the watched mailbox (IMAP) and then drops the body.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { EmailRepo, reposFor, type Database, type Executor, type QuarantineMeta, type QuarantineRow } from '../../storage/index.ts';
import { AccessService, isSystem, type Core, type Ctx } from '../../privacy/index.ts';
import type { Upstream } from './deliver.ts';
import { parseMessage } from './mime.ts';
import { stampMessage } from './rewrite.ts';
import type { MailSettings } from './settings.ts';
import type { AttachmentReport, MessageVerdict, VerdictState } from './types.ts';

/** A message to hold. Every string is R-DATA-10 personal data (stored encrypted). */
export interface HoldInput {
  source: 'smtp' | 'imap';
  raw: Buffer;
  /** Envelope sender; '' for the null sender. */
  sender: string;
  /** The org's recipients of this message: one quarantine entry each. */
  recipients: string[];
  subject: string | null;
  verdict: MessageVerdict;
  /** Where the watcher moved it (IMAP only). */
  imap?: { folder: string; uid: number | null; uidValidity: string | null };
}

export interface QuarantineEntry {
  id: string;
  source: 'smtp' | 'imap';
  status: 'held' | 'released';
  receivedAt: string;
  releasedAt: string | null;
  /** R-DATA-10 personal, decrypted for the caller. */
  sender: string | null;
  recipient: string;
  subject: string | null;
  sizeBytes: number;
  score: number;
  state: VerdictState;
  attachmentCount: number;
}

export interface QuarantinePreview extends QuarantineEntry {
  /** Top-level header fields, decoded (text only). */
  headers: { name: string; value: string }[];
  /** The plain-text body (HTML converted to text; no markup, no active content), at most 100 000 characters. */
  text: string;
  textTruncated: boolean;
  attachments: AttachmentReport[];
  reasons: MessageVerdict['reasons'];
}

/** The IMAP side of release and delete (implemented by imap.ts). */
export interface ImapQuarantineOps {
  restore(orgId: string, at: { folder: string; uid: number | null; uidValidity: string | null }, raw: Buffer): Promise<void>;
  remove(orgId: string, at: { folder: string; uid: number | null; uidValidity: string | null }): Promise<void>;
}

const PREVIEW_CHARS = 100_000;

export class Quarantine {
  constructor(
    private readonly core: Core,
    private readonly settings: MailSettings,
    private readonly deps: { upstream: () => Upstream | null; imap: ImapQuarantineOps },
  ) {}

  /** Store a message for each of its recipients; the relay and the watcher call this with a system context. */
  async hold(ctx: Ctx, orgId: string, m: HoldInput): Promise<string[]> {
    const { db } = await this.core.access.enforce(ctx, 'quarantine', 'manage', { orgId });
    const { keys, audit, clock } = this.core;
    const now = clock.nowMs();
    return db.tx(async (x) => {
      const raw = await keys.encryptBytes(x, orgId, 'email_quarantine.raw', m.raw);
      const verdict = await keys.encrypt(x, orgId, 'email_quarantine.verdict', JSON.stringify(m.verdict));
      const ids: string[] = [];
      for (const rcpt of [...new Set(m.recipients.map((r) => r.trim()))]) {
        const row: QuarantineRow = {
          id: newId(now),
          org_id: orgId,
          source: m.source,
          status: 'held',
          received_at: now,
          released_at: null,
          recipient_pseudo: await keys.pseudonym(x, orgId, 'user', rcpt),
          sender_enc: await keys.encryptOptional(x, orgId, 'email_quarantine.sender', m.sender),
          recipient_enc: await keys.encrypt(x, orgId, 'email_quarantine.recipient', rcpt),
          subject_enc: await keys.encryptOptional(x, orgId, 'email_quarantine.subject', m.subject),
          raw_enc: raw,
          verdict_enc: verdict,
          size_bytes: m.raw.length,
          score: m.verdict.score,
          state: m.verdict.state,
          attachment_count: m.verdict.attachments.length,
          imap_folder: m.imap?.folder ?? null,
          imap_uid: m.imap?.uid ?? null,
          imap_uid_validity: m.imap?.uidValidity ?? null,
        };
        await new EmailRepo(x).insertQuarantine(row);
        await audit.record(x, ctx, orgId, 'quarantine.hold', `quarantine:${row.id}`, { source: m.source, state: m.verdict.state, score: m.verdict.score, sizeBytes: m.raw.length });
        ids.push(row.id);
      }
      return ids;
    });
  }

  /**
   * Who may see what: everything for org admins (and the system), else only the caller's own
   * messages (their pseudonymised e-mail address). Refusals are audited and look like "not found".
   */
  private async scope(ctx: Ctx, orgId: string, action: string, target: string): Promise<{ db: Database; recipientPseudo?: string }> {
    const { db, view } = await this.core.access.enforce(ctx, 'quarantine', 'own', { orgId }, target);
    if (isSystem(ctx) || AccessService.allows(view, 'quarantine', 'manage', { orgId })) return { db };
    const user = ctx.actor.kind === 'user' ? await reposFor(db).identity.getUser(ctx.actor.id) : undefined;
    if (!user || user.org_id !== orgId) {
      await this.core.audit.recordDenied(db, ctx, orgId, action, target);
      throw notFoundOrNoAccess();
    }
    const email = await this.core.keys.decrypt(db, orgId, 'users.email', user.email_enc);
    return { db, recipientPseudo: await this.core.keys.pseudonym(db, orgId, 'user', email) };
  }

  /** One entry the caller may act on, or an audited refusal. */
  private async entry(ctx: Ctx, orgId: string, id: string, action: string): Promise<{ db: Database; row: QuarantineRow }> {
    const target = `quarantine:${id.slice(0, 64)}`;
    const { db, recipientPseudo } = await this.scope(ctx, orgId, action, target);
    const row = await new EmailRepo(db).getQuarantine(orgId, id);
    if (!row || (recipientPseudo !== undefined && row.recipient_pseudo !== recipientPseudo)) {
      if (row) await this.core.audit.recordDenied(db, ctx, orgId, action, target);
      throw notFoundOrNoAccess();
    }
    return { db, row };
  }

  private async meta(x: Executor, r: QuarantineMeta): Promise<QuarantineEntry> {
    const k = this.core.keys;
    return {
      id: r.id,
      source: r.source,
      status: r.status,
      receivedAt: toIso(r.received_at),
      releasedAt: r.released_at === null ? null : toIso(r.released_at),
      sender: await k.decryptOptional(x, r.org_id, 'email_quarantine.sender', r.sender_enc),
      recipient: await k.decrypt(x, r.org_id, 'email_quarantine.recipient', r.recipient_enc),
      subject: await k.decryptOptional(x, r.org_id, 'email_quarantine.subject', r.subject_enc),
      sizeBytes: r.size_bytes,
      score: r.score,
      state: r.state as VerdictState,
      attachmentCount: r.attachment_count,
    };
  }

  /** Newest first, with decrypted sender, recipient and subject (a personal-data read: audited). */
  async list(ctx: Ctx, orgId: string, opts: { limit?: number; before?: string } = {}): Promise<QuarantineEntry[]> {
    const { db, recipientPseudo } = await this.scope(ctx, orgId, 'quarantine.list', `org:${orgId}`);
    let before: { atMs: number; id: string } | undefined;
    if (opts.before) {
      const b = await new EmailRepo(db).getQuarantine(orgId, opts.before);
      if (!b) throw new CairnError('CAIRN_ERR_VALIDATION', 'before is not a quarantined message of this org.', { field: 'before' });
      before = { atMs: b.received_at, id: b.id };
    }
    const rows = await new EmailRepo(db).listQuarantine(orgId, { limit: Math.min(Math.max(1, opts.limit ?? 50), 500), ...(recipientPseudo ? { recipientPseudo } : {}), ...(before ? { before } : {}) });
    const out = await Promise.all(rows.map((r) => this.meta(db, r)));
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'quarantine.list', `org:${orgId}`, { count: out.length, scope: recipientPseudo ? 'own' : 'org' }));
    return out;
  }

  /** Headers, plain text and the attachment list of one message; nothing active (no HTML). Audited. */
  async preview(ctx: Ctx, orgId: string, id: string): Promise<QuarantinePreview> {
    const { db, row } = await this.entry(ctx, orgId, id, 'quarantine.preview');
    const k = this.core.keys;
    const verdict = JSON.parse(await k.decrypt(db, orgId, 'email_quarantine.verdict', row.verdict_enc)) as MessageVerdict;
    let headers: QuarantinePreview['headers'] = [];
    let text = '';
    if (row.raw_enc) {
      const raw = await k.decryptBytes(db, orgId, 'email_quarantine.raw', row.raw_enc);
      try {
        const p = await parseMessage(raw, { htmlToText: true });
        headers = p.headers;
        text = p.text;
      } catch (e) {
        if (!(e instanceof CairnError)) throw e;
        text = '';
      }
    }
    const out: QuarantinePreview = { ...(await this.meta(db, row)), headers, text: text.slice(0, PREVIEW_CHARS), textTruncated: text.length > PREVIEW_CHARS, attachments: verdict.attachments, reasons: verdict.reasons };
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'quarantine.preview', `quarantine:${id}`));
    return out;
  }

  /**
   * Send a held message on to its recipient (through the upstream for relayed mail, back into the
   * watched mailbox for IMAP mail), then keep only its metadata. Audited.
   */
  async release(ctx: Ctx, orgId: string, id: string): Promise<QuarantineEntry> {
    const { db, row } = await this.entry(ctx, orgId, id, 'quarantine.release');
    if (row.status !== 'held' || !row.raw_enc) throw new CairnError('CAIRN_ERR_CONFLICT', 'This message was already released.');
    const k = this.core.keys;
    const raw = await k.decryptBytes(db, orgId, 'email_quarantine.raw', row.raw_enc);
    if (row.source === 'smtp') {
      const upstream = this.deps.upstream();
      if (!upstream) throw new CairnError('CAIRN_ERR_MAIL_UPSTREAM', 'No upstream mail server is configured (smtpUpstream), so nothing can be released.');
      const { language } = await this.settings.policyOf(orgId);
      const sender = (await k.decryptOptional(db, orgId, 'email_quarantine.sender', row.sender_enc)) ?? '';
      const recipient = await k.decrypt(db, orgId, 'email_quarantine.recipient', row.recipient_enc);
      await upstream.send(sender, [recipient], stampMessage(raw, { state: row.state as VerdictState, score: row.score, lang: language, warn: false, released: true }));
    } else {
      await this.deps.imap.restore(orgId, { folder: row.imap_folder ?? 'Quarantine', uid: row.imap_uid, uidValidity: row.imap_uid_validity }, raw);
    }
    const now = this.core.clock.nowMs();
    await db.tx(async (x) => {
      if ((await new EmailRepo(x).markReleased(orgId, id, now)) === 0) throw new CairnError('CAIRN_ERR_CONFLICT', 'This message was already released.');
      await this.core.audit.record(x, ctx, orgId, 'quarantine.release', `quarantine:${id}`, { source: row.source });
    });
    return this.meta(db, { ...row, status: 'released', released_at: now });
  }

  /** Delete a message for good (and, for IMAP mail, from the quarantine folder). Audited. */
  async delete(ctx: Ctx, orgId: string, id: string): Promise<void> {
    const { db, row } = await this.entry(ctx, orgId, id, 'quarantine.delete');
    if (row.source === 'imap' && row.status === 'held') {
      try {
        await this.deps.imap.remove(orgId, { folder: row.imap_folder ?? 'Quarantine', uid: row.imap_uid, uidValidity: row.imap_uid_validity });
      } catch (e) {
        this.core.log.warn({ orgId, code: (e as CairnError).code ?? 'CAIRN_ERR_MAIL_UPSTREAM' }, 'quarantined message could not be removed from the IMAP folder');
      }
    }
    await db.tx(async (x) => {
      await new EmailRepo(x).deleteQuarantine(orgId, id);
      await this.core.audit.record(x, ctx, orgId, 'quarantine.delete', `quarantine:${id}`, { source: row.source, status: row.status });
    });
  }
}

/** Retention purger of the `quarantine` data class (R-DATA-10, 30 days by default). */
export function purgeQuarantine(x: Executor, orgId: string, beforeMs: number, limit: number): Promise<number> {
  return new EmailRepo(x).purgeQuarantineBefore(orgId, beforeMs, limit);
}
