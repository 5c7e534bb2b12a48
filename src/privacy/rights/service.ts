/**
 * Data-subject requests (R-PRIV-4): intake, verification, deadlines, approval and fulfilment.
 *
 *  - Intake (public page or API, or a privacy officer recording one received otherwise): access,
 *    correction, deletion, restriction, objection, opt-out of sale; the subject names themself by
 *    e-mail, MAC address, badge id or username. Stored: a keyed lookup of the identifier (HMAC
 *    under the org pseudonym key) and, under a random per-request key wrapped by the org data
 *    key, the identifier and contact address. The subject gets a status token (kept as SHA-256).
 *  - Verification: a 6-digit code by e-mail (10 minutes, kept as an HMAC, locked after 5 wrong
 *    tries) or, for a MAC address, a guest-portal session of that device after the request was
 *    made (the consent module's {@link DeviceProof}). Nothing about the subject's data is shown
 *    or done before a request is verified; the answer to intake is the same whether Cairn holds
 *    anything about the subject or not.
 *  - Deadlines per regime (`deadlines.ts`); CCPA access at most twice per person in 12 months,
 *    with a 12-month look-back; overdue requests flagged in listings and a metric.
 *  - A privacy officer approves; fulfilment resolves the subject through every registered
 *    handler (a person's linked devices, a device's username and addresses), then exports
 *    (access archive, ZIP of JSON and CSV with the processing information), erases (and redacts
 *    the subject's pseudonyms from the audit log, then shreds the request's key), corrects, or
 *    restricts (ingest drops the devices' observations until the restriction is lifted).
 *
 * Every step, refusals included, is an audit event naming the request (`dsar:<id>`), never the
 * identifier. Floods are refused by in-memory limits per client address and per subject; the
 * first refusal of each window is audited (not every one, so a flood cannot flood the log).
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { DAY_MS, MINUTE_MS, toIso } from '../../kernel/clock.ts';
import { newId } from '../../kernel/ids.ts';
import { RightsRepo, reposFor, type Database, type DsarRow, type Executor } from '../../storage/index.ts';
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { aesGcmDecrypt, aesGcmEncrypt } from '../keys/crypto.ts';
import { DATA_CLASSES, dataClass } from '../retention/registry.ts';
import { zip, toCsv, type ZipEntry } from './archive.ts';
import { deadlines, extendedDue, lookBackStart } from './deadlines.ts';
import { normaliseEmail, normaliseIdentifier } from './identifiers.ts';
import { FixedWindow, clientKey } from './limits.ts';
import type { RightsMailer } from './mailer.ts';
import { answerMail, codeMail, receiptMail, type Lang } from './messages.ts';
import type { SubjectRegistry } from './registry.ts';
import { DSAR_ID_KINDS, DSAR_KINDS, DSAR_REGIMES, loadSubject, newSubject, storeSubject, type Correction, type DsarIdKind, type DsarKind, type DsarRegime, type DsarStatus, type StoredSubject, type Subject } from './types.ts';

/** A verification code is valid this long. */
export const CODE_TTL_MS = 10 * MINUTE_MS;
/** Wrong codes (or failed device proofs) before a request locks. */
export const MAX_CODE_ATTEMPTS = 5;
/** Codes one request may be sent (the first and two more). */
export const MAX_CODES_SENT = 3;
/** A portal session proves a device when it is at most this old (and newer than the request). */
export const DEVICE_PROOF_WINDOW_MS = 30 * MINUTE_MS;
/** Requests never verified are closed (identifiers deleted) after this long. */
export const UNVERIFIED_TTL_MS = 7 * DAY_MS;
/** Resolving a subject stops adding devices beyond this many (a runaway link graph). */
const MAX_DEVICES = 10_000;

export interface RightsOptions {
  registry: SubjectRegistry;
  mailer?: RightsMailer;
  /** Public submissions per client address per hour. */
  perIpPerHour: number;
  /** Submissions per subject (keyed lookup) per day. */
  perSubjectPerDay: number;
  /** Code checks per client address per hour (guessing across requests). */
  verifyPerIpPerHour: number;
  /** Days an access archive waits for download. */
  archiveDays: number;
}

/** A request as the public intake takes it. Personal: `identifier.value`, `contactEmail`, `correction`. */
export interface IntakeInput {
  kind: DsarKind;
  /** Which law the subject invokes; default by the org's region (eu → gdpr, else ccpa). */
  regime?: DsarRegime;
  identifier: { kind: DsarIdKind; value: string };
  /** Where codes and notices go: required for badge ids and usernames; an e-mail identifier is its own. */
  contactEmail?: string;
  correction?: Correction;
  lang?: Lang;
}

/** Where a public call came from (only kept in memory, hashed). */
export interface PublicMeta {
  clientIp: string;
  requestId: string;
  channel: 'page' | 'api';
}

export type Verification = 'email_code' | 'portal_device' | 'officer' | 'none';

/** What the subject gets back from intake: the reference and the token to follow it. */
export interface IntakeReceipt {
  requestId: string;
  /** Shown once; the subject presents it to see the status and download an archive. */
  statusToken: string;
  status: DsarStatus;
  verification: Verification;
  receivedAt: string;
  dueAt: string;
}

/** What the subject sees with their token: no data, only where the request stands. */
export interface PublicStatus {
  requestId: string;
  kind: DsarKind;
  regime: DsarRegime;
  status: DsarStatus;
  verification: Verification | null;
  receivedAt: string;
  dueAt: string;
  extended: boolean;
  archiveAvailable: boolean;
  lifted: boolean;
}

/** A request as privacy officers list it (no identifiers). */
export interface DsarView {
  id: string;
  kind: DsarKind;
  regime: DsarRegime;
  idKind: DsarIdKind;
  channel: string;
  status: DsarStatus;
  verification: string | null;
  receivedAt: string;
  dueAt: string;
  receiptDueAt: string | null;
  receiptSentAt: string | null;
  verifiedAt: string | null;
  approvedAt: string | null;
  closedAt: string | null;
  extended: boolean;
  extensionReason: string | null;
  rejectReason: string | null;
  liftedAt: string | null;
  /** Past its answer (or receipt) deadline while open. */
  overdue: boolean;
  /** Records found or changed per handler, after fulfilment. */
  result: Record<string, number> | null;
}

/** One request with the subject's identifier (a personal read: privacy officers, audited). */
export interface DsarDetail extends DsarView {
  identifier: string | null;
  contactEmail: string | null;
  correction: Correction | null;
}

export interface FulfilResult {
  request: DsarView;
  /** Records per handler (exported, erased, corrected) or devices restricted. */
  records: Record<string, number>;
  /** Audit events whose text named the subject, redacted (erasure). */
  auditRedacted?: number;
  archiveBytes?: number;
}

export const REJECT_REASONS = ['unverifiable', 'manifestly_unfounded', 'excessive', 'legal_obligation', 'other'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
export const EXTEND_REASONS = ['complexity', 'number_of_requests'] as const;
export type ExtendReason = (typeof EXTEND_REASONS)[number];

interface Secret {
  identifier: string;
  contact: string | null;
}
interface Details {
  correction?: Correction;
  subject?: StoredSubject;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** What forgets the subject on a request: its key (crypto-shredding) and everything under it. */
const SHRED = { dek_enc: null, subject_enc: null, details_enc: null } as const;

function publicCtx(requestId: string): Ctx {
  return { actor: { kind: 'system', id: 'privacy-page' }, bindings: [], requestId };
}

/** Fields of a correction, checked: name 1-200 characters, a valid e-mail address. */
function checkCorrection(c: Correction | undefined): Correction {
  const out: Correction = {};
  if (c?.name !== undefined) {
    const n = c.name.trim();
    // eslint-disable-next-line no-control-regex
    if (n.length === 0 || n.length > 200 || /[\x00-\x1f\x7f]/.test(n)) throw new CairnError('CAIRN_ERR_VALIDATION', 'correction.name must be 1 to 200 characters.', { field: 'correction.name' });
    out.name = n;
  }
  if (c?.email !== undefined) out.email = normaliseEmail(c.email);
  if (out.name === undefined && out.email === undefined) throw new CairnError('CAIRN_ERR_VALIDATION', 'A correction names the new value of at least one field (name, email).', { field: 'correction' });
  return out;
}

export class RightsService {
  private readonly perIp: FixedWindow;
  private readonly perSubject: FixedWindow;
  private readonly verifyPerIp: FixedWindow;

  constructor(
    private readonly core: Core,
    private readonly opts: RightsOptions,
  ) {
    const now = () => core.clock.nowMs();
    this.perIp = new FixedWindow(opts.perIpPerHour, 60 * MINUTE_MS, now);
    this.perSubject = new FixedWindow(opts.perSubjectPerDay, DAY_MS, now);
    this.verifyPerIp = new FixedWindow(opts.verifyPerIpPerHour, 60 * MINUTE_MS, now);
    // The requests themselves hold the subject too: erasure forgets the subject on all of them
    // and drops the subject's restrictions; access lists them.
    opts.registry.register({
      id: 'privacy.requests',
      dataClass: 'dsar',
      info: { purpose: 'Answering your privacy requests and proving how they were answered.', categories: ['kind of request', 'dates', 'outcome', 'identifier and contact address (encrypted)'], source: 'You, through the privacy page or the API', recipients: 'The organisation\'s privacy officers' },
      export: async (x, s) => {
        const rows: (string | number | null)[][] = [];
        for (const k of await this.subjectKeys(x, s)) for (const r of await new RightsRepo(x).bySubject(s.orgId, k)) rows.push([r.id, r.kind, r.regime, r.status, toIso(r.received_at), r.closed_at ? toIso(r.closed_at) : null]);
        return { columns: ['request', 'kind', 'regime', 'status', 'received_at', 'closed_at'], rows };
      },
      erase: async (x, s) => {
        const repo = new RightsRepo(x);
        const n = (await repo.scrubSubject(s.orgId, await this.subjectKeys(x, s), s.requestId)) + (await repo.deleteRestrictions(s.orgId, [...s.devices]));
        await opts.registry.reloadOrg(x, s.orgId);
        return n;
      },
    });
    core.bus.on('org.deleted', ({ orgId }) => opts.registry.forgetOrg(orgId));
  }

  get registry(): SubjectRegistry {
    return this.opts.registry;
  }

  /** Close the mailer's connections (app shutdown). */
  close(): void {
    this.opts.mailer?.close();
  }

  // ---- keys and ciphertext ------------------------------------------------------------------

  /** The keyed lookup of an identifier: finds a subject's requests, never reversible without the org key. */
  private subjectKey(x: Executor, orgId: string, kind: DsarIdKind, value: string): Promise<string> {
    return this.core.keys.pseudonym(x, orgId, 'asset', `dsar:${kind}:${value}`);
  }

  /** Every keyed lookup Cairn can compute for a resolved subject (given identifier, e-mails, usernames). */
  private async subjectKeys(x: Executor, s: Subject): Promise<string[]> {
    const keys = new Set([await this.subjectKey(x, s.orgId, s.given.kind, s.given.value)]);
    for (const e of s.emails) keys.add(await this.subjectKey(x, s.orgId, 'email', e));
    for (const u of s.usernames) keys.add(await this.subjectKey(x, s.orgId, 'username', u));
    return [...keys];
  }

  private async dek(x: Executor, r: DsarRow): Promise<Buffer> {
    if (!r.dek_enc) throw new CairnError('CAIRN_ERR_KEY_DESTROYED', 'This request\'s key was shredded (the subject was erased).');
    return this.core.keys.decryptBytes(x, r.org_id, 'dsar_requests.dek', r.dek_enc);
  }

  private seal(dek: Buffer, r: { org_id: string; id: string }, field: string, v: unknown): Buffer {
    return aesGcmEncrypt(dek, 1, Buffer.from(JSON.stringify(v)), `${r.org_id}|dsar_requests.${field}|${r.id}`);
  }

  private open<T>(dek: Buffer, r: { org_id: string; id: string }, field: string, blob: Buffer | null): T | null {
    return blob ? (JSON.parse(aesGcmDecrypt(dek, blob, `${r.org_id}|dsar_requests.${field}|${r.id}`).toString('utf8')) as T) : null;
  }

  private async secret(x: Executor, r: DsarRow): Promise<Secret> {
    const s = this.open<Secret>(await this.dek(x, r), r, 'subject', r.subject_enc);
    if (!s) throw new CairnError('CAIRN_ERR_KEY_DESTROYED', 'This request no longer holds its identifier.');
    return s;
  }

  private codeHash(x: Executor, orgId: string, requestId: string, code: string): Promise<string> {
    return this.core.keys.pseudonym(x, orgId, 'asset', `dsar-code:${requestId}:${code}`);
  }

  // ---- public side --------------------------------------------------------------------------

  /** Refuse over a limit; the first refusal of a window is audited (a flood does not flood the log). */
  private async limit(db: Database, orgId: string, w: FixedWindow, key: string, meta: PublicMeta, action: string, scope: string): Promise<void> {
    const n = w.hit(key);
    if (n <= w.max) return;
    if (n === w.max + 1) await db.tx((x) => this.core.audit.record(x, publicCtx(meta.requestId), orgId, action, `org:${orgId}`, { reason: `rate_limited_${scope}`, limit: w.max, windowMinutes: w.windowMs / MINUTE_MS }, 'denied'));
    throw new CairnError('CAIRN_ERR_RATE_LIMITED', scope === 'subject' ? 'Too many requests for this person; try again tomorrow.' : 'Too many privacy requests from this address; try again in an hour.', { scope });
  }

  private async refuse(db: Database, orgId: string, meta: PublicMeta, action: string, target: string, reason: string, err: CairnError, extra: Record<string, unknown> = {}): Promise<never> {
    await db.tx((x) => this.core.audit.record(x, publicCtx(meta.requestId), orgId, action, target, { reason, code: err.code, ...extra }, 'denied'));
    throw err;
  }

  private async defaultRegime(db: Database, orgId: string): Promise<DsarRegime> {
    const org = await reposFor(db).tenancy.getOrg(orgId);
    return org?.region === 'eu' ? 'gdpr' : 'ccpa';
  }

  /** What the public privacy page shows of an org: its name and the regime it defaults to. */
  async publicOrg(orgId: string): Promise<{ id: string; name: string; regime: DsarRegime }> {
    const db = await this.core.directory.storeOf(orgId);
    const org = await reposFor(db).tenancy.getOrg(orgId);
    if (!org) throw notFoundOrNoAccess();
    return { id: org.id, name: org.name, regime: org.region === 'eu' ? 'gdpr' : 'ccpa' };
  }

  private async orgName(x: Executor, orgId: string): Promise<string> {
    return (await reposFor(x).tenancy.getOrg(orgId))?.name ?? 'the organisation';
  }

  /**
   * Take a request from the privacy page or the public API. Returns the reference and the status
   * token; sends the code when the subject verifies by e-mail. The answer is the same whether or
   * not Cairn holds data about the subject. Opt-out of sale needs no verification: it is recorded
   * and closed at once (Cairn never sells personal information).
   *
   * @example await rights.submit(orgId, { kind: 'access', identifier: { kind: 'email', value: 'ann@example.org' } }, meta)
   */
  async submit(orgId: string, input: IntakeInput, meta: PublicMeta): Promise<IntakeReceipt> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.perIp, clientKey(meta.clientIp), meta, 'dsar.submit', 'ip');
    const target = `org:${orgId}`;
    if (!DSAR_KINDS.includes(input.kind) || (input.regime !== undefined && !DSAR_REGIMES.includes(input.regime)) || !DSAR_ID_KINDS.includes(input.identifier?.kind)) {
      return this.refuse(db, orgId, meta, 'dsar.submit', target, 'malformed_request', new CairnError('CAIRN_ERR_VALIDATION', `kind must be one of ${DSAR_KINDS.join(', ')}; identifier.kind one of ${DSAR_ID_KINDS.join(', ')}; regime gdpr or ccpa.`));
    }
    let value: string;
    let contact: string | null = null;
    let correction: Correction | undefined;
    try {
      value = normaliseIdentifier(input.identifier.kind, input.identifier.value);
      if (input.identifier.kind === 'email') contact = value;
      else if (input.contactEmail !== undefined && input.contactEmail !== '') contact = normaliseEmail(input.contactEmail);
      if (input.kind === 'correction') correction = checkCorrection(input.correction);
    } catch (e) {
      const err = e instanceof CairnError ? e : new CairnError('CAIRN_ERR_VALIDATION');
      return this.refuse(db, orgId, meta, 'dsar.submit', target, err.code === 'CAIRN_ERR_DSAR_IDENTIFIER' ? 'malformed_identifier' : 'malformed_request', err, { idKind: input.identifier.kind });
    }
    const regime = input.regime ?? (await this.defaultRegime(db, orgId));
    const lang: Lang = input.lang === 'nl' ? 'nl' : 'en';
    const idKind = input.identifier.kind;
    const subjectKey = await this.subjectKey(db, orgId, idKind, value);
    await this.limit(db, orgId, this.perSubject, clientKey(subjectKey), meta, 'dsar.submit', 'subject');

    let verification: Verification;
    if (input.kind === 'opt_out_sale') verification = 'none';
    else if (idKind === 'mac') {
      if (!this.opts.registry.deviceProof) return this.refuse(db, orgId, meta, 'dsar.submit', target, 'no_device_proof', new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'Requests by MAC address are verified through the guest portal, which this server does not run; name yourself by e-mail instead.'));
      verification = 'portal_device';
    } else {
      if (!contact) return this.refuse(db, orgId, meta, 'dsar.submit', target, 'no_contact', new CairnError('CAIRN_ERR_VALIDATION', 'Give the e-mail address the verification code should go to (contactEmail).', { field: 'contactEmail' }));
      if (!this.opts.mailer) return this.refuse(db, orgId, meta, 'dsar.submit', target, 'no_mailer', new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'This server sends no e-mail (smtpUpstream is not set), so requests cannot be verified by e-mail.'));
      verification = 'email_code';
    }

    const now = this.core.clock.nowMs();
    const id = newId(now);
    const token = randomBytes(24).toString('base64url');
    const code = verification === 'email_code' ? String(randomInt(0, 1_000_000)).padStart(6, '0') : null;
    const { dueMs, receiptDueMs } = deadlines(regime, now);
    await db.tx(async (x) => {
      const repo = new RightsRepo(x);
      // Another verified request of the same kind still open: a duplicate. Unverified ones do not
      // count (anyone may type an address; the owner must still be able to ask).
      const open = (await repo.bySubject(orgId, subjectKey)).filter((r) => r.kind === input.kind && (r.status === 'verified' || r.status === 'approved'));
      if (open.length > 0) throw new CairnError('CAIRN_ERR_DSAR_DUPLICATE', 'The same request for this person is already being handled; follow it with its reference.', { requestId: open[0]!.id });
      if (regime === 'ccpa' && input.kind === 'access') await this.ccpaLimit(repo, orgId, subjectKey, now, id);
      const dekPlain = randomBytes(32);
      const row: DsarRow = {
        id, org_id: orgId, kind: input.kind, regime, id_kind: idKind, channel: meta.channel, lang, status: verification === 'none' ? 'fulfilled' : 'unverified',
        subject_key: subjectKey, dek_enc: await this.core.keys.encryptBytes(x, orgId, 'dsar_requests.dek', dekPlain), subject_enc: null, details_enc: null,
        token_hash: sha256(token), verify_method: verification === 'none' ? 'none' : null,
        code_hash: code ? await this.codeHash(x, orgId, id, code) : null, code_expires_at: code ? now + CODE_TTL_MS : null, code_attempts: 0, codes_sent: code ? 1 : 0,
        received_at: now, due_at: dueMs, extended_at: null, extension_reason: null, receipt_due_at: receiptDueMs, receipt_sent_at: verification === 'none' ? now : null,
        verified_at: null, approved_at: null, approved_by: null, fulfil_started_at: null, closed_at: verification === 'none' ? now : null, reject_reason: null, lifted_at: null,
        result: verification === 'none' ? JSON.stringify({ recorded: 1 }) : null,
      };
      row.subject_enc = this.seal(dekPlain, row, 'subject', { identifier: value, contact } satisfies Secret);
      if (correction) row.details_enc = this.seal(dekPlain, row, 'details', { correction } satisfies Details);
      await repo.insert(row);
      await this.core.audit.record(x, publicCtx(meta.requestId), orgId, 'dsar.submit', `dsar:${id}`, { kind: input.kind, regime, idKind, channel: meta.channel, verification });
    }).catch(async (e: unknown) => {
      if (e instanceof CairnError && (e.code === 'CAIRN_ERR_DSAR_DUPLICATE' || e.code === 'CAIRN_ERR_DSAR_LIMIT')) {
        await db.tx((x) => this.core.audit.record(x, publicCtx(meta.requestId), orgId, 'dsar.submit', target, { reason: e.code === 'CAIRN_ERR_DSAR_LIMIT' ? 'ccpa_access_limit' : 'duplicate', code: e.code, kind: input.kind }, 'denied'));
      }
      throw e;
    });
    if (code && contact) {
      const m = codeMail(lang, await this.orgName(db, orgId), code, id);
      await this.opts.mailer!.send({ to: contact, ...m });
    }
    return { requestId: id, statusToken: token, status: verification === 'none' ? 'fulfilled' : 'unverified', verification, receivedAt: toIso(now), dueAt: toIso(dueMs) };
  }

  /** CCPA: at most two verified access requests per person in 12 months (1798.100(d)). */
  private async ccpaLimit(repo: RightsRepo, orgId: string, subjectKey: string, now: number, exceptId: string): Promise<void> {
    const counted = (await repo.bySubject(orgId, subjectKey, lookBackStart('ccpa', now))).filter((r) => r.id !== exceptId && r.kind === 'access' && r.regime === 'ccpa' && (r.status === 'verified' || r.status === 'approved' || r.status === 'fulfilled'));
    if (counted.length >= 2) throw new CairnError('CAIRN_ERR_DSAR_LIMIT');
  }

  /** The request behind a public reference and token, or "not found" (a wrong token says no more). */
  private async byToken(x: Executor, orgId: string, requestId: string, token: string, forUpdate = false): Promise<DsarRow | undefined> {
    const repo = new RightsRepo(x);
    const r = forUpdate ? await repo.getForUpdate(orgId, requestId) : await repo.get(orgId, requestId);
    if (!r || typeof token !== 'string') return undefined;
    const a = Buffer.from(r.token_hash, 'hex');
    const b = Buffer.from(sha256(token), 'hex');
    return a.length === b.length && timingSafeEqual(a, b) ? r : undefined;
  }

  /**
   * Check the subject's 6-digit code. Wrong codes count against the request (locked at 5), an
   * expired code must be sent again, a code for a request already verified is a replay; each
   * refusal is audited. On success the subject gets the receipt confirmation by e-mail.
   */
  async verifyCode(orgId: string, requestId: string, token: string, code: string, meta: PublicMeta): Promise<PublicStatus> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.verifyPerIp, clientKey(meta.clientIp), meta, 'dsar.verify', 'ip');
    const now = this.core.clock.nowMs();
    const ctx = publicCtx(meta.requestId);
    const target = `dsar:${requestId}`;
    const outcome = await db.tx(async (x): Promise<{ err?: CairnError; row?: DsarRow }> => {
      const r = await this.byToken(x, orgId, requestId, token, true);
      const deny = async (reason: string, err: CairnError, extra: Record<string, unknown> = {}) => {
        await this.core.audit.record(x, ctx, orgId, 'dsar.verify', r ? target : `org:${orgId}`, { reason, code: err.code, ...extra }, 'denied');
        return { err };
      };
      if (!r) return deny('unknown_request_or_token', notFoundOrNoAccess());
      if (r.status === 'verified' || r.status === 'approved' || r.status === 'fulfilled') return deny('replayed', new CairnError('CAIRN_ERR_DSAR_REPLAY'));
      if (r.status === 'locked') return deny('locked', new CairnError('CAIRN_ERR_DSAR_LOCKED'));
      if (r.status !== 'unverified' || r.verify_method === 'portal_device' || r.id_kind === 'mac') return deny('wrong_state', new CairnError('CAIRN_ERR_DSAR_STATE', 'This request is not verified by an e-mail code.'));
      if (!r.code_hash || r.code_expires_at === null || r.code_expires_at <= now) return deny('code_expired', new CairnError('CAIRN_ERR_DSAR_CODE_EXPIRED'));
      const given = typeof code === 'string' && /^\d{6}$/.test(code) ? await this.codeHash(x, orgId, r.id, code) : '';
      const ok = given.length === r.code_hash.length && timingSafeEqual(Buffer.from(given), Buffer.from(r.code_hash));
      if (!ok) {
        const attempts = r.code_attempts + 1;
        const repo = new RightsRepo(x);
        if (attempts >= MAX_CODE_ATTEMPTS) {
          await repo.update(orgId, r.id, { code_attempts: attempts, status: 'locked', code_hash: null, closed_at: now, reject_reason: 'locked', ...SHRED });
          return deny('locked_after_wrong_codes', new CairnError('CAIRN_ERR_DSAR_LOCKED'), { attempts });
        }
        await repo.update(orgId, r.id, { code_attempts: attempts });
        return deny('wrong_code', new CairnError('CAIRN_ERR_DSAR_CODE_WRONG', `The code is wrong; ${MAX_CODE_ATTEMPTS - attempts} tries left.`, { attemptsLeft: MAX_CODE_ATTEMPTS - attempts }), { attempts });
      }
      return { row: await this.markVerified(x, ctx, r, 'email_code', now) };
    });
    if (outcome.err) throw outcome.err;
    await this.sendReceipt(db, outcome.row!);
    return this.publicStatus(db, outcome.row!);
  }

  /**
   * Verify a request for a MAC address: the device must have gone through the org's guest portal
   * after the request was made and within the last 30 minutes (the consent portal records it by
   * the device's pseudonym). Failures count like wrong codes.
   */
  async verifyDevice(orgId: string, requestId: string, token: string, meta: PublicMeta): Promise<PublicStatus> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.verifyPerIp, clientKey(meta.clientIp), meta, 'dsar.verify', 'ip');
    const now = this.core.clock.nowMs();
    const ctx = publicCtx(meta.requestId);
    const proof = this.opts.registry.deviceProof;
    const outcome = await db.tx(async (x): Promise<{ err?: CairnError; row?: DsarRow }> => {
      const r = await this.byToken(x, orgId, requestId, token, true);
      const deny = async (reason: string, err: CairnError, extra: Record<string, unknown> = {}) => {
        await this.core.audit.record(x, ctx, orgId, 'dsar.verify', r ? `dsar:${r.id}` : `org:${orgId}`, { reason, code: err.code, ...extra }, 'denied');
        return { err };
      };
      if (!r) return deny('unknown_request_or_token', notFoundOrNoAccess());
      if (r.status === 'verified' || r.status === 'approved' || r.status === 'fulfilled') return deny('replayed', new CairnError('CAIRN_ERR_DSAR_REPLAY'));
      if (r.status === 'locked') return deny('locked', new CairnError('CAIRN_ERR_DSAR_LOCKED'));
      if (r.status !== 'unverified' || r.id_kind !== 'mac' || !proof) return deny('wrong_state', new CairnError('CAIRN_ERR_DSAR_STATE', 'This request is not verified through the guest portal.'));
      const mac = (await this.secret(x, r)).identifier;
      const device = await this.core.keys.pseudonym(x, orgId, 'mac', mac);
      const seen = await proof.portalSeenSince(x, orgId, device, Math.max(r.received_at, now - DEVICE_PROOF_WINDOW_MS));
      if (seen === null) {
        const attempts = r.code_attempts + 1;
        const repo = new RightsRepo(x);
        if (attempts >= MAX_CODE_ATTEMPTS) {
          await repo.update(orgId, r.id, { code_attempts: attempts, status: 'locked', closed_at: now, reject_reason: 'locked', ...SHRED });
          return deny('locked_after_failed_proofs', new CairnError('CAIRN_ERR_DSAR_LOCKED'), { attempts });
        }
        await repo.update(orgId, r.id, { code_attempts: attempts });
        return deny('no_portal_session', new CairnError('CAIRN_ERR_DSAR_DEVICE_PROOF'), { attempts });
      }
      return { row: await this.markVerified(x, ctx, r, 'portal_device', now) };
    });
    if (outcome.err) throw outcome.err;
    await this.sendReceipt(db, outcome.row!);
    return this.publicStatus(db, outcome.row!);
  }

  private async markVerified(x: Executor, ctx: Ctx, r: DsarRow, method: Verification, now: number): Promise<DsarRow> {
    const repo = new RightsRepo(x);
    if (r.regime === 'ccpa' && r.kind === 'access' && r.subject_key) {
      try {
        await this.ccpaLimit(repo, r.org_id, r.subject_key, now, r.id);
      } catch (e) {
        await repo.update(r.org_id, r.id, { status: 'rejected', reject_reason: 'ccpa_access_limit', closed_at: now, code_hash: null, verified_at: now, verify_method: method });
        await this.core.audit.record(x, ctx, r.org_id, 'dsar.verify', `dsar:${r.id}`, { reason: 'ccpa_access_limit', code: 'CAIRN_ERR_DSAR_LIMIT' }, 'denied');
        throw e;
      }
    }
    const set: Partial<DsarRow> = { status: 'verified', verified_at: now, verify_method: method, code_hash: null, code_expires_at: null };
    await repo.update(r.org_id, r.id, set);
    await this.core.audit.record(x, ctx, r.org_id, 'dsar.verify', `dsar:${r.id}`, { method });
    return { ...r, ...set };
  }

  /** The receipt confirmation after verification (CCPA asks for it within 10 business days; GDPR subjects get it too). */
  private async sendReceipt(db: Database, r: DsarRow): Promise<void> {
    const secret = await this.secret(db, r);
    const now = this.core.clock.nowMs();
    if (secret.contact && this.opts.mailer) {
      try {
        await this.opts.mailer.send({ to: secret.contact, ...receiptMail(r.lang as Lang, await this.orgName(db, r.org_id), r.kind, r.regime, r.id, toIso(r.due_at)) });
      } catch (e) {
        this.core.log.warn({ code: (e as CairnError).code, request: r.id }, 'receipt confirmation not sent; the request is flagged until it is');
        return;
      }
    }
    // Without a contact address the page the subject is on confirms receipt.
    await db.tx(async (x) => {
      await new RightsRepo(x).update(r.org_id, r.id, { receipt_sent_at: now });
      await this.core.audit.record(x, publicCtx(newId()), r.org_id, 'dsar.receipt', `dsar:${r.id}`, { by: secret.contact ? 'email' : 'page' });
    });
  }

  /** Send a fresh code (at most three per request); earlier codes stop working. */
  async resendCode(orgId: string, requestId: string, token: string, meta: PublicMeta): Promise<PublicStatus> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.verifyPerIp, clientKey(meta.clientIp), meta, 'dsar.code', 'ip');
    const now = this.core.clock.nowMs();
    const ctx = publicCtx(meta.requestId);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const outcome = await db.tx(async (x): Promise<{ err?: CairnError; row?: DsarRow; contact?: string }> => {
      const r = await this.byToken(x, orgId, requestId, token, true);
      const deny = async (reason: string, err: CairnError) => {
        await this.core.audit.record(x, ctx, orgId, 'dsar.code', r ? `dsar:${r.id}` : `org:${orgId}`, { reason, code: err.code }, 'denied');
        return { err };
      };
      if (!r) return deny('unknown_request_or_token', notFoundOrNoAccess());
      if (r.status === 'locked') return deny('locked', new CairnError('CAIRN_ERR_DSAR_LOCKED'));
      if (r.status !== 'unverified' || r.id_kind === 'mac') return deny('wrong_state', new CairnError('CAIRN_ERR_DSAR_STATE', 'Only a request waiting for its e-mail code can get a new one.'));
      if (r.codes_sent >= MAX_CODES_SENT) return deny('too_many_codes', new CairnError('CAIRN_ERR_RATE_LIMITED', `At most ${MAX_CODES_SENT} codes are sent for one request; submit a new request later.`, { scope: 'request' }));
      const contact = (await this.secret(x, r)).contact;
      if (!contact || !this.opts.mailer) return deny('no_mailer', new CairnError('CAIRN_ERR_FEATURE_DISABLED', 'This server sends no e-mail.'));
      await new RightsRepo(x).update(orgId, r.id, { code_hash: await this.codeHash(x, orgId, r.id, code), code_expires_at: now + CODE_TTL_MS, codes_sent: r.codes_sent + 1 });
      await this.core.audit.record(x, ctx, orgId, 'dsar.code', `dsar:${r.id}`, { sent: r.codes_sent + 1 });
      return { row: r, contact };
    });
    if (outcome.err) throw outcome.err;
    await this.opts.mailer!.send({ to: outcome.contact!, ...codeMail(outcome.row!.lang as Lang, await this.orgName(db, orgId), code, outcome.row!.id) });
    return this.publicStatus(db, outcome.row!);
  }

  /** Where a request stands, for the subject holding its token (no data). */
  async status(orgId: string, requestId: string, token: string, meta: PublicMeta): Promise<PublicStatus> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.verifyPerIp, clientKey(meta.clientIp), meta, 'dsar.status', 'ip');
    const r = await this.byToken(db, orgId, requestId, token);
    if (!r) return this.refuse(db, orgId, meta, 'dsar.status', `org:${orgId}`, 'unknown_request_or_token', notFoundOrNoAccess());
    return this.publicStatus(db, r);
  }

  private async publicStatus(x: Executor, r: DsarRow): Promise<PublicStatus> {
    const archive = r.kind === 'access' && r.status === 'fulfilled' ? await new RightsRepo(x).getArchive(r.org_id, r.id) : undefined;
    return {
      requestId: r.id, kind: r.kind, regime: r.regime, status: r.status, verification: r.verify_method as Verification | null,
      receivedAt: toIso(r.received_at), dueAt: toIso(r.due_at), extended: r.extended_at !== null,
      archiveAvailable: !!archive && archive.expires_at > this.core.clock.nowMs(), lifted: r.lifted_at !== null,
    };
  }

  /** The access archive (ZIP), for the subject holding the token; each download is audited. */
  async downloadArchive(orgId: string, requestId: string, token: string, meta: PublicMeta): Promise<Buffer> {
    const db = await this.core.directory.storeOf(orgId);
    await this.limit(db, orgId, this.verifyPerIp, clientKey(meta.clientIp), meta, 'dsar.archive', 'ip');
    const r = await this.byToken(db, orgId, requestId, token);
    if (!r) return this.refuse(db, orgId, meta, 'dsar.archive', `org:${orgId}`, 'unknown_request_or_token', notFoundOrNoAccess());
    return this.readArchive(db, publicCtx(meta.requestId), r, 'subject');
  }

  private async readArchive(db: Database, ctx: Ctx, r: DsarRow, by: 'subject' | 'officer'): Promise<Buffer> {
    const a = r.kind === 'access' && r.status === 'fulfilled' ? await new RightsRepo(db).getArchive(r.org_id, r.id) : undefined;
    if (!a || a.expires_at <= this.core.clock.nowMs() || !r.dek_enc) throw new CairnError('CAIRN_ERR_NOT_FOUND', 'No archive is waiting for this request (not an answered access request, or its download window has passed).');
    const plain = aesGcmDecrypt(await this.dek(db, r), a.archive_enc, `${r.org_id}|dsar_archives.archive|${r.id}`);
    await db.tx(async (x) => {
      await new RightsRepo(x).countDownload(r.org_id, r.id);
      await this.core.audit.record(x, ctx, r.org_id, 'dsar.archive.download', `dsar:${r.id}`, { by, bytes: plain.length });
    });
    return plain;
  }

  // ---- privacy officers ---------------------------------------------------------------------

  private view(r: DsarRow, now: number): DsarView {
    const open = r.closed_at === null && (r.status === 'verified' || r.status === 'approved');
    return {
      id: r.id, kind: r.kind, regime: r.regime, idKind: r.id_kind, channel: r.channel, status: r.status, verification: r.verify_method,
      receivedAt: toIso(r.received_at), dueAt: toIso(r.due_at), receiptDueAt: r.receipt_due_at !== null ? toIso(r.receipt_due_at) : null, receiptSentAt: r.receipt_sent_at !== null ? toIso(r.receipt_sent_at) : null,
      verifiedAt: r.verified_at !== null ? toIso(r.verified_at) : null, approvedAt: r.approved_at !== null ? toIso(r.approved_at) : null, closedAt: r.closed_at !== null ? toIso(r.closed_at) : null,
      extended: r.extended_at !== null, extensionReason: r.extension_reason, rejectReason: r.reject_reason, liftedAt: r.lifted_at !== null ? toIso(r.lifted_at) : null,
      overdue: open && (r.due_at < now || (r.receipt_due_at !== null && r.receipt_sent_at === null && r.receipt_due_at < now)),
      result: r.result ? (JSON.parse(r.result) as Record<string, number>) : null,
    };
  }

  /** Requests of an org, newest first; `overdue` keeps only open ones past a deadline. No identifiers. */
  async list(ctx: Ctx, orgId: string, q: { status?: DsarStatus; overdue?: boolean; open?: boolean; limit?: number; before?: string } = {}): Promise<DsarView[]> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'list', { orgId });
    const now = this.core.clock.nowMs();
    const rows = await new RightsRepo(db).list(orgId, { ...(q.status ? { status: q.status } : {}), ...(q.open ? { open: true } : {}), ...(q.overdue ? { overdueAt: now } : {}), limit: Math.min(Math.max(q.limit ?? 100, 1), 1000), ...(q.before ? { beforeId: q.before } : {}) });
    return rows.map((r) => this.view(r, now));
  }

  private async row(db: Executor, orgId: string, id: string): Promise<DsarRow> {
    const r = await new RightsRepo(db).get(orgId, id);
    if (!r) throw notFoundOrNoAccess();
    return r;
  }

  /** One request with the subject's identifier and contact address: a personal read, audited. */
  async get(ctx: Ctx, orgId: string, id: string): Promise<DsarDetail> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'read', { orgId }, `dsar:${id}`);
    const r = await this.row(db, orgId, id);
    let secret: Secret | null = null;
    let details: Details | null = null;
    if (r.dek_enc) {
      const dek = await this.dek(db, r);
      secret = this.open<Secret>(dek, r, 'subject', r.subject_enc);
      details = this.open<Details>(dek, r, 'details', r.details_enc);
    }
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'dsar.read', `dsar:${id}`));
    return { ...this.view(r, this.core.clock.nowMs()), identifier: secret?.identifier ?? null, contactEmail: secret?.contact ?? null, correction: details?.correction ?? null };
  }

  /**
   * Record a request received another way (letter, in person) whose identity the privacy officer
   * checked: it starts verified. Returns the request and the status token to hand to the subject.
   */
  async intake(ctx: Ctx, orgId: string, input: IntakeInput): Promise<DsarView & { statusToken: string }> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'intake', { orgId });
    if (!DSAR_KINDS.includes(input.kind) || !DSAR_ID_KINDS.includes(input.identifier?.kind)) throw new CairnError('CAIRN_ERR_VALIDATION', 'Unknown kind or identifier kind.');
    const value = normaliseIdentifier(input.identifier.kind, input.identifier.value);
    const contact = input.identifier.kind === 'email' ? value : input.contactEmail ? normaliseEmail(input.contactEmail) : null;
    const correction = input.kind === 'correction' ? checkCorrection(input.correction) : undefined;
    const regime = input.regime ?? (await this.defaultRegime(db, orgId));
    const now = this.core.clock.nowMs();
    const id = newId(now);
    const token = randomBytes(24).toString('base64url');
    const { dueMs, receiptDueMs } = deadlines(regime, now);
    const subjectKey = await this.subjectKey(db, orgId, input.identifier.kind, value);
    const row = await db.tx(async (x) => {
      const repo = new RightsRepo(x);
      if (regime === 'ccpa' && input.kind === 'access') await this.ccpaLimit(repo, orgId, subjectKey, now, id);
      const dekPlain = randomBytes(32);
      const done = input.kind === 'opt_out_sale';
      const row: DsarRow = {
        id, org_id: orgId, kind: input.kind, regime, id_kind: input.identifier.kind, channel: 'officer', lang: input.lang === 'nl' ? 'nl' : 'en', status: done ? 'fulfilled' : 'verified',
        subject_key: subjectKey, dek_enc: await this.core.keys.encryptBytes(x, orgId, 'dsar_requests.dek', dekPlain), subject_enc: null, details_enc: null,
        token_hash: sha256(token), verify_method: 'officer', code_hash: null, code_expires_at: null, code_attempts: 0, codes_sent: 0,
        received_at: now, due_at: dueMs, extended_at: null, extension_reason: null, receipt_due_at: receiptDueMs, receipt_sent_at: now,
        verified_at: now, approved_at: null, approved_by: null, fulfil_started_at: null, closed_at: done ? now : null, reject_reason: null, lifted_at: null, result: done ? JSON.stringify({ recorded: 1 }) : null,
      };
      row.subject_enc = this.seal(dekPlain, row, 'subject', { identifier: value, contact } satisfies Secret);
      if (correction) row.details_enc = this.seal(dekPlain, row, 'details', { correction } satisfies Details);
      await repo.insert(row);
      await this.core.audit.record(x, ctx, orgId, 'dsar.intake', `dsar:${id}`, { kind: input.kind, regime, idKind: input.identifier.kind, verification: 'officer' });
      return row;
    });
    return { ...this.view(row, now), statusToken: token };
  }

  /** Transition a request under the officer's decision, audited in the same transaction. */
  private async decide(ctx: Ctx, orgId: string, id: string, action: string, allowed: readonly DsarStatus[], change: (r: DsarRow, now: number) => Partial<DsarRow>, details: (r: DsarRow) => Record<string, unknown> = () => ({})): Promise<DsarRow> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', action === 'dsar.fulfil' ? 'fulfil' : 'decide', { orgId }, `dsar:${id}`);
    const now = this.core.clock.nowMs();
    return db.tx(async (x) => {
      const repo = new RightsRepo(x);
      const r = await repo.getForUpdate(orgId, id);
      if (!r) throw notFoundOrNoAccess();
      if (!allowed.includes(r.status)) {
        throw new CairnError('CAIRN_ERR_DSAR_STATE', `The request is ${r.status}; ${action.slice(5)} needs ${allowed.join(' or ')}.`, { status: r.status });
      }
      const set = change(r, now);
      await repo.update(orgId, id, set);
      await this.core.audit.record(x, ctx, orgId, action, `dsar:${id}`, { kind: r.kind, ...details(r) });
      return { ...r, ...set };
    }).catch(async (e: unknown) => {
      // A refusal for the wrong state is written even though the transaction rolled back.
      if (e instanceof CairnError && e.code === 'CAIRN_ERR_DSAR_STATE') await db.tx((x) => this.core.audit.record(x, ctx, orgId, action, `dsar:${id}`, { reason: 'wrong_state', status: e.details?.status }, 'denied'));
      throw e;
    });
  }

  /** Approve a verified request (privacy officers): fulfilment may then run. */
  async approve(ctx: Ctx, orgId: string, id: string): Promise<DsarView> {
    const r = await this.decide(ctx, orgId, id, 'dsar.approve', ['verified'], (_r, now) => ({ status: 'approved', approved_at: now, approved_by: `${ctx.actor.kind}:${ctx.actor.id}` }));
    return this.view(r, this.core.clock.nowMs());
  }

  /** Refuse a request with a reason code; the subject is told by e-mail when they gave an address. */
  async reject(ctx: Ctx, orgId: string, id: string, reason: RejectReason): Promise<DsarView> {
    if (!REJECT_REASONS.includes(reason)) throw new CairnError('CAIRN_ERR_VALIDATION', `reason must be one of ${REJECT_REASONS.join(', ')}.`, { field: 'reason' });
    const r = await this.decide(ctx, orgId, id, 'dsar.reject', ['unverified', 'verified', 'approved'], (_r, now) => ({ status: 'rejected', reject_reason: reason, closed_at: now, code_hash: null }), () => ({ reason }));
    await this.notify(r, 'rejected', '');
    return this.view(r, this.core.clock.nowMs());
  }

  /** Use the regime's one extension (GDPR two months, CCPA 45 days); the subject is told why. */
  async extend(ctx: Ctx, orgId: string, id: string, reason: ExtendReason): Promise<DsarView> {
    if (!EXTEND_REASONS.includes(reason)) throw new CairnError('CAIRN_ERR_VALIDATION', `reason must be one of ${EXTEND_REASONS.join(', ')}.`, { field: 'reason' });
    const r = await this.decide(ctx, orgId, id, 'dsar.extend', ['verified', 'approved'], (row, now) => {
      if (row.extended_at !== null) throw new CairnError('CAIRN_ERR_DSAR_STATE', 'This request was extended already; the law allows one extension.', { status: row.status });
      return { due_at: extendedDue(row.regime, row.received_at), extended_at: now, extension_reason: reason };
    }, (row) => ({ reason, dueAt: toIso(extendedDue(row.regime, row.received_at)) }));
    return this.view(r, this.core.clock.nowMs());
  }

  /** Lift a restriction or objection: the devices are processed again from now on. */
  async lift(ctx: Ctx, orgId: string, id: string): Promise<DsarView> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'decide', { orgId }, `dsar:${id}`);
    const r = await this.row(db, orgId, id);
    if (!(r.kind === 'restriction' || r.kind === 'objection') || r.status !== 'fulfilled' || r.lifted_at !== null) {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'dsar.lift', `dsar:${id}`, { reason: 'wrong_state', status: r.status }, 'denied'));
      throw new CairnError('CAIRN_ERR_DSAR_STATE', 'Only a restriction or objection in force can be lifted.');
    }
    const now = this.core.clock.nowMs();
    const out = await db.tx(async (x) => {
      const repo = new RightsRepo(x);
      const devices = await repo.lift(orgId, id);
      await repo.update(orgId, id, { lifted_at: now });
      await this.core.audit.record(x, ctx, orgId, 'dsar.lift', `dsar:${id}`, { kind: r.kind, devices: devices.length });
      return { ...r, lifted_at: now };
    });
    await this.opts.registry.reloadOrg(db, orgId);
    return this.view(out, now);
  }

  /** The archive of an answered access request, for the privacy officer to pass on; audited. */
  async archive(ctx: Ctx, orgId: string, id: string): Promise<Buffer> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'read', { orgId }, `dsar:${id}`);
    return this.readArchive(db, ctx, await this.row(db, orgId, id), 'officer');
  }

  // ---- fulfilment ---------------------------------------------------------------------------

  /**
   * Resolve the subject: seed with the identifier, then let every handler add what it knows (a
   * person's devices, a device's username and addresses) until nothing new turns up. The result
   * is stored with the request (under its key), so an interrupted fulfilment resumes with the
   * same subject even after part of the data is gone.
   */
  private async resolve(db: Database, r: DsarRow): Promise<Subject> {
    const dek = await this.dek(db, r);
    const details = this.open<Details>(dek, r, 'details', r.details_enc) ?? {};
    if (details.subject) return { ...loadSubject(r.org_id, details.subject), requestId: r.id };
    const secret = await this.secret(db, r);
    const s: Subject = { ...newSubject(r.org_id, r.id_kind, secret.identifier), requestId: r.id };
    const k = this.core.keys;
    switch (r.id_kind) {
      case 'email':
        s.emails.add(secret.identifier);
        break;
      case 'username':
        s.usernames.add(secret.identifier);
        break;
      case 'mac':
        s.devices.add(await k.pseudonym(db, r.org_id, 'mac', secret.identifier));
        break;
      case 'badge':
        s.devices.add(await k.pseudonym(db, r.org_id, 'badge', secret.identifier));
        break;
    }
    const size = () => s.emails.size + s.usernames.size + s.ips.size + s.devices.size + s.people.size;
    for (let round = 0; round < 4; round++) {
      const before = size();
      for (const h of this.opts.registry.list()) if (h.expand && s.devices.size < MAX_DEVICES) await h.expand(db, s);
      if (size() === before) break;
    }
    for (const d of s.devices) s.tokens.add(d);
    for (const p of s.people) s.tokens.add(p);
    for (const e of [...s.emails, ...s.usernames]) s.tokens.add(await k.pseudonym(db, r.org_id, 'user', e));
    for (const key of await this.subjectKeys(db, s)) s.tokens.add(key);
    await db.tx(async (x) => {
      await new RightsRepo(x).update(r.org_id, r.id, { details_enc: this.seal(dek, r, 'details', { ...details, subject: storeSubject(s) } satisfies Details), fulfil_started_at: this.core.clock.nowMs() });
    });
    return s;
  }

  /**
   * Carry out an approved request (privacy officers, or the CLI): access builds the archive,
   * deletion erases everywhere and then forgets the subject on the request itself, correction
   * changes identity fields, restriction and objection stop processing of the subject's devices,
   * opt-out of sale is recorded. Each handler's step is its own audited transaction; running it
   * again after an interruption finishes the job.
   *
   * @example const { records } = await rights.fulfil(ctx, orgId, requestId)
   */
  async fulfil(ctx: Ctx, orgId: string, id: string): Promise<FulfilResult> {
    const { db } = await this.core.access.enforce(ctx, 'dsar', 'fulfil', { orgId }, `dsar:${id}`);
    const r = await this.row(db, orgId, id);
    if (r.status !== 'approved') {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'dsar.fulfil', `dsar:${id}`, { reason: 'wrong_state', status: r.status }, 'denied'));
      throw new CairnError('CAIRN_ERR_DSAR_STATE', r.status === 'verified' ? 'A privacy officer must approve the request first.' : `The request is ${r.status}; only an approved request is fulfilled.`, { status: r.status });
    }
    const handlers = this.opts.registry.list();
    const records: Record<string, number> = {};
    const now = this.core.clock.nowMs();
    const target = `dsar:${id}`;
    const step = async (action: string, h: { id: string }, fn: (x: Executor) => Promise<number>, extra: Record<string, unknown> = {}) => {
      records[h.id] = await db.tx(async (x) => {
        const n = await fn(x);
        await this.core.audit.record(x, ctx, orgId, action, target, { handler: h.id, records: n, ...extra });
        return n;
      });
    };
    let archiveBytes: number | undefined;
    let auditRedacted: number | undefined;
    let extra = '';
    const close = async (set: Partial<DsarRow>, details: Record<string, unknown>) =>
      db.tx(async (x) => {
        const full: Partial<DsarRow> = { status: 'fulfilled', closed_at: this.core.clock.nowMs(), result: JSON.stringify(records), ...set };
        await new RightsRepo(x).update(orgId, id, full);
        await this.core.audit.record(x, ctx, orgId, 'dsar.fulfil', target, { kind: r.kind, handlers: Object.keys(records).length, records: Object.values(records).reduce((a, b) => a + b, 0), ...details });
        return { ...r, ...full } as DsarRow;
      });

    let done: DsarRow;
    switch (r.kind) {
      case 'opt_out_sale':
        records.recorded = 1;
        done = await close({}, { sold: false });
        break;
      case 'access': {
        const s = await this.resolve(db, r);
        const sinceMs = lookBackStart(r.regime, r.received_at);
        const entries: ZipEntry[] = [];
        const index: { handler: string; dataClass: string; records: number; withheld: number; files: string[] }[] = [];
        for (const h of handlers) {
          if (!h.export) continue;
          const out = await h.export(db, s, { sinceMs });
          records[h.id] = out.rows.length;
          if (out.rows.length === 0 && !out.withheld) continue;
          const objects = out.rows.map((row) => Object.fromEntries(out.columns.map((c, i) => [c, row[i] ?? null])));
          entries.push({ name: `data/${h.id}.json`, data: JSON.stringify(objects, null, 2) }, { name: `data/${h.id}.csv`, data: toCsv(out.columns, out.rows) });
          index.push({ handler: h.id, dataClass: h.dataClass, records: out.rows.length, withheld: out.withheld ?? 0, files: [`data/${h.id}.json`, `data/${h.id}.csv`] });
        }
        const processing = await this.processingInfo(db, orgId);
        const request = { reference: r.id, kind: r.kind, regime: r.regime, identifiedBy: r.id_kind, receivedAt: toIso(r.received_at), answeredAt: toIso(now), lookBackFrom: sinceMs > 0 ? toIso(sinceMs) : null, contents: index };
        entries.unshift({ name: 'README.txt', data: readme(r.lang as Lang, processing.controller.name, index.length) }, { name: 'request.json', data: JSON.stringify(request, null, 2) }, { name: 'processing.json', data: JSON.stringify(processing, null, 2) });
        const archive = zip(entries, now);
        archiveBytes = archive.length;
        const dek = await this.dek(db, r);
        done = await db.tx(async (x) => {
          await new RightsRepo(x).putArchive({ request_id: id, org_id: orgId, archive_enc: aesGcmEncrypt(dek, 1, archive, `${orgId}|dsar_archives.archive|${id}`), size_bytes: archive.length, created_at: now, expires_at: now + this.opts.archiveDays * DAY_MS, downloads: 0 });
          const full: Partial<DsarRow> = { status: 'fulfilled', closed_at: now, result: JSON.stringify(records) };
          await new RightsRepo(x).update(orgId, id, full);
          await this.core.audit.record(x, ctx, orgId, 'dsar.fulfil', target, { kind: r.kind, sections: index.length, records: Object.values(records).reduce((a, b) => a + b, 0), bytes: archive.length });
          return { ...r, ...full } as DsarRow;
        });
        extra = r.lang === 'nl' ? `Uw kopie staat ${this.opts.archiveDays} dagen klaar op de privacypagina (met uw referentie en code).\n` : `Your copy is ready for ${this.opts.archiveDays} days on the privacy page (with your reference and token).\n`;
        break;
      }
      case 'correction': {
        const s = await this.resolve(db, r);
        const details = this.open<Details>(await this.dek(db, r), r, 'details', r.details_enc);
        const c = details?.correction;
        if (!c) throw new CairnError('CAIRN_ERR_DSAR_STATE', 'The request holds no correction.');
        for (const h of handlers) if (h.correct) await step('dsar.correct', h, (x) => h.correct!(x, s, c), { fields: Object.keys(c) });
        done = await close({}, { fields: Object.keys(c) });
        break;
      }
      case 'restriction':
      case 'objection': {
        const s = await this.resolve(db, r);
        await step('dsar.restrict', { id: 'privacy.restrictions' }, async (x) => {
          await new RightsRepo(x).restrict(orgId, id, [...s.devices], now);
          return s.devices.size;
        });
        await this.opts.registry.reloadOrg(db, orgId);
        done = await close({}, { devices: s.devices.size });
        break;
      }
      case 'deletion': {
        const s = await this.resolve(db, r);
        const secret = await this.secret(db, r);
        for (const h of handlers) if (h.erase && h.id !== 'privacy.requests') await step('dsar.erase', h, (x) => h.erase!(x, s));
        // The requests last: the subject's other requests forget them, restrictions go.
        const own = handlers.find((h) => h.id === 'privacy.requests');
        if (own?.erase) await step('dsar.erase', own, (x) => own.erase!(x, s));
        auditRedacted = await db.tx(async (x) => {
          const n = await this.core.audit.redact(x, orgId, [...s.tokens]);
          await this.core.audit.record(x, ctx, orgId, 'dsar.redact', target, { events: n });
          return n;
        });
        // This request forgets the subject too: its key is shredded with the identifier.
        done = await close({ subject_key: null, code_hash: null, ...SHRED }, { auditRedacted });
        if (secret.contact && this.opts.mailer) await this.mail(secret.contact, r, 'fulfilled', '');
        return { request: this.view(done, this.core.clock.nowMs()), records, auditRedacted };
      }
    }
    await this.notify(done, 'fulfilled', extra);
    return { request: this.view(done, this.core.clock.nowMs()), records, ...(archiveBytes !== undefined ? { archiveBytes } : {}), ...(auditRedacted !== undefined ? { auditRedacted } : {}) };
  }

  private async notify(r: DsarRow, status: 'fulfilled' | 'rejected', extra: string): Promise<void> {
    if (!this.opts.mailer || !r.dek_enc) return;
    const db = await this.core.directory.storeOf(r.org_id);
    const contact = (await this.secret(db, r)).contact;
    if (contact) await this.mail(contact, r, status, extra);
  }

  private async mail(to: string, r: DsarRow, status: 'fulfilled' | 'rejected', extra: string): Promise<void> {
    try {
      const db = await this.core.directory.storeOf(r.org_id);
      await this.opts.mailer!.send({ to, ...answerMail(r.lang as Lang, await this.orgName(db, r.org_id), r.kind, status, r.id, extra) });
    } catch (e) {
      this.core.log.warn({ code: (e as CairnError).code, request: r.id }, 'answer notice not sent');
    }
  }

  // ---- processing information, deadlines, retention -----------------------------------------

  /**
   * What a controller must tell the subject (GDPR Art. 13-15, CCPA 1798.110): controller, where the
   * data is kept, and per kind of record its purpose, categories, source, recipients and
   * retention (the org's setting, else the default).
   */
  async processingInfo(x: Executor, orgId: string): Promise<ProcessingDocument> {
    const org = await reposFor(x).tenancy.getOrg(orgId);
    const overrides = new Map((await reposFor(x).retention.list(orgId)).map((p) => [p.data_class, p.days]));
    return {
      controller: { orgId, name: org?.name ?? '', country: org?.country ?? '' },
      processor: 'Cairn, run for the organisation; its operator sees the organisation\'s data only under a support grant the organisation controls.',
      storageRegion: org?.region ?? '',
      sale: 'Personal information is never sold or shared for advertising.',
      automatedDecisions: 'None: no decision with legal or similar effect is made by automated means.',
      rights: ['access', 'correction', 'deletion', 'restriction', 'objection', 'opt-out of sale', 'portability', 'complaint to a supervisory authority', 'no discrimination for exercising a right'],
      records: this.opts.registry.list().map((h) => {
        const c = dataClass(h.dataClass);
        const days = overrides.get(h.dataClass) ?? c?.defaultDays ?? null;
        return { handler: h.id, dataClass: h.dataClass, requirement: c?.requirement ?? '', purpose: h.info.purpose, categories: h.info.categories, source: h.info.source, recipients: h.info.recipients, retentionDays: days };
      }),
      dataClasses: DATA_CLASSES.map((c) => ({ id: c.id, requirement: c.requirement, name: c.name, retentionDays: overrides.get(c.id) ?? c.defaultDays })),
    };
  }

  /** Open requests past a deadline, over every org (the `cairn_dsar_overdue` metric). */
  async overdueCount(): Promise<number> {
    const now = this.core.clock.nowMs();
    let n = 0;
    for (const region of this.core.stores.regions) for (const r of await new RightsRepo(this.core.stores.region(region)).overdueCounts(now)) n += r.n;
    return n;
  }

  /**
   * Retention of class dsar: close requests never verified within 7 days (their identifiers go),
   * delete archives past their download window, and delete requests closed longer than the
   * class's period (restrictions in force stay).
   */
  async purge(x: Executor, orgId: string, beforeMs: number, limit: number): Promise<number> {
    const now = this.core.clock.nowMs();
    const repo = new RightsRepo(x);
    return (await repo.expireUnverified(orgId, now - UNVERIFIED_TTL_MS, now, limit)) + (await repo.purgeArchives(orgId, now, limit)) + (await repo.purge(orgId, beforeMs, limit));
  }
}

export interface ProcessingDocument {
  controller: { orgId: string; name: string; country: string };
  processor: string;
  storageRegion: string;
  sale: string;
  automatedDecisions: string;
  rights: string[];
  records: { handler: string; dataClass: string; requirement: string; purpose: string; categories: string[]; source: string; recipients: string; retentionDays: number | null }[];
  dataClasses: { id: string; requirement: string; name: string; retentionDays: number | null }[];
}

function readme(lang: Lang, org: string, sections: number): string {
  return lang === 'nl'
    ? `Kopie van uw gegevens bij ${org}\n\nrequest.json    uw verzoek en de inhoud van dit archief\nprocessing.json waarvoor, welke gegevens, bron, ontvangers, bewaartermijn en opslagregio\ndata/           ${sections} onderdelen, elk als JSON en als CSV\n`
    : `Copy of your data held by ${org}\n\nrequest.json    your request and what this archive holds\nprocessing.json purposes, categories, sources, recipients, retention and storage region\ndata/           ${sections} sections, each as JSON and as CSV\n`;
}
