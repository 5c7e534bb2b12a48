/**
 * Terms of use (R-PRIV-5): what guests read on a site's portal (audience `portal`) and app users
 * read before they share their location (audience `sdk`). An org has its own terms and a site may
 * have its own, each in English and Dutch at least. Admins write drafts, edit them, and publish:
 * publication gives the next version number of that scope and freezes the text for good, so every
 * consent record points at exactly the words the person saw. Not personal data.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { newId } from '../../kernel/ids.ts';
import { toIso } from '../../kernel/clock.ts';
import { ConsentRepo, reposFor, type Database, type Executor, type TermsRow } from '../../storage/index.ts';
import type { Core } from '../core.ts';
import type { Ctx } from '../context.ts';
import { LANGUAGES, type Lang } from './i18n.ts';

export type Audience = 'portal' | 'sdk';
export const AUDIENCES: readonly Audience[] = ['portal', 'sdk'];

/** The text of the terms in one language. */
export interface TermsText {
  title: string;
  /** Plain text; blank lines separate paragraphs. */
  body: string;
}
export type TermsTexts = Record<Lang, TermsText>;

export interface Terms {
  id: string;
  orgId: string;
  /** null: the org's terms, for every site without its own. */
  siteId: string | null;
  audience: Audience;
  /** null while a draft. */
  version: number | null;
  status: 'draft' | 'published';
  texts: TermsTexts;
  createdAt: string;
  updatedAt: string;
  publishedAt: string | null;
}

export const TITLE_MAX = 200;
export const BODY_MAX = 50_000;

export function termsView(r: TermsRow): Terms {
  return { id: r.id, orgId: r.org_id, siteId: r.site_id, audience: r.audience, version: r.version === null ? null : Number(r.version), status: r.status, texts: JSON.parse(r.texts) as TermsTexts, createdAt: toIso(Number(r.created_at)), updatedAt: toIso(Number(r.updated_at)), publishedAt: r.published_at === null ? null : toIso(Number(r.published_at)) };
}

/** Every language present, each with a title and a body within bounds; nothing else. */
function checkTexts(texts: unknown): TermsTexts {
  if (!texts || typeof texts !== 'object') throw new CairnError('CAIRN_ERR_VALIDATION', 'texts must name en and nl.', { field: 'texts' });
  const t = texts as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!(LANGUAGES as readonly string[]).includes(k)) throw new CairnError('CAIRN_ERR_VALIDATION', `texts has an unsupported language "${k.slice(0, 8)}"; use ${LANGUAGES.join(', ')}.`, { field: 'texts' });
  const out = {} as TermsTexts;
  for (const lang of LANGUAGES) {
    const v = t[lang] as Partial<TermsText> | undefined;
    if (!v || typeof v.title !== 'string' || typeof v.body !== 'string' || v.title.trim() === '' || v.body.trim() === '' || v.title.length > TITLE_MAX || v.body.length > BODY_MAX) {
      throw new CairnError('CAIRN_ERR_VALIDATION', `texts.${lang} needs a title (≤ ${TITLE_MAX} characters) and a body (≤ ${BODY_MAX}); terms exist at least in English and Dutch.`, { field: `texts.${lang}` });
    }
    out[lang] = { title: v.title.trim(), body: v.body };
  }
  return out;
}

export class TermsService {
  constructor(private readonly core: Core) {}

  /** Terms of the org (both audiences unless one is named), newest first. */
  async list(ctx: Ctx, orgId: string, q: { audience?: Audience; siteId?: string } = {}): Promise<Terms[]> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readTerms', { orgId });
    return (await new ConsentRepo(db).listTerms(orgId, q.audience ?? null, q.siteId)).map(termsView);
  }

  async get(ctx: Ctx, orgId: string, termsId: string): Promise<Terms> {
    const { db } = await this.core.access.enforce(ctx, 'consent', 'readTerms', { orgId });
    const row = await new ConsentRepo(db).getTerms(orgId, termsId);
    if (!row) throw notFoundOrNoAccess();
    return termsView(row);
  }

  /** A new draft (of the org, or of one site); audited. */
  async create(ctx: Ctx, orgId: string, input: { audience: Audience; siteId?: string | null; texts: unknown }): Promise<Terms> {
    const siteId = input.siteId ?? null;
    const { db } = await this.core.access.enforce(ctx, 'consent', 'editTerms', { orgId, siteId });
    if (!AUDIENCES.includes(input.audience)) throw new CairnError('CAIRN_ERR_VALIDATION', 'audience is portal or sdk.', { field: 'audience' });
    const texts = checkTexts(input.texts);
    const now = this.core.clock.nowMs();
    const row: TermsRow = { id: newId(now), org_id: orgId, site_id: siteId, audience: input.audience, version: null, status: 'draft', texts: JSON.stringify(texts), created_at: now, updated_at: now, published_at: null };
    await db.tx(async (x) => {
      if (siteId !== null && !(await reposFor(x).tenancy.getSite(orgId, siteId))) throw notFoundOrNoAccess();
      await new ConsentRepo(x).insertTerms(row);
      await this.core.audit.record(x, ctx, orgId, 'consent.terms.create', `terms:${row.id}`, { audience: row.audience, siteId });
    });
    return termsView(row);
  }

  /** The row and the access check of an edit (the target site is the terms' own). */
  private async editable(ctx: Ctx, orgId: string, termsId: string): Promise<{ db: Database; row: TermsRow }> {
    const store = await this.core.directory.storeOf(orgId);
    const found = await new ConsentRepo(store).getTerms(orgId, termsId);
    const { db } = await this.core.access.enforce(ctx, 'consent', 'editTerms', { orgId, siteId: found?.site_id ?? null }, `terms:${termsId}`);
    if (!found) throw notFoundOrNoAccess();
    if (found.status !== 'draft') throw new CairnError('CAIRN_ERR_TERMS_PUBLISHED', undefined, { version: found.version });
    return { db, row: found };
  }

  /** Change a draft's texts; a published version is refused with CAIRN_ERR_TERMS_PUBLISHED. */
  async update(ctx: Ctx, orgId: string, termsId: string, input: { texts: unknown }): Promise<Terms> {
    const { db, row } = await this.editable(ctx, orgId, termsId);
    const texts = JSON.stringify(checkTexts(input.texts));
    const now = this.core.clock.nowMs();
    await db.tx(async (x) => {
      if ((await new ConsentRepo(x).updateDraft(orgId, termsId, texts, now)) === 0) throw new CairnError('CAIRN_ERR_TERMS_PUBLISHED');
      await this.core.audit.record(x, ctx, orgId, 'consent.terms.update', `terms:${termsId}`);
    });
    return termsView({ ...row, texts, updated_at: now });
  }

  /** Publish a draft as the next version of its scope (org or site, audience); audited. */
  async publish(ctx: Ctx, orgId: string, termsId: string): Promise<Terms> {
    const { db, row } = await this.editable(ctx, orgId, termsId);
    const now = this.core.clock.nowMs();
    let version = 0;
    try {
      await db.tx(async (x) => {
        const repo = new ConsentRepo(x);
        version = (await repo.maxVersion(orgId, row.audience, row.site_id)) + 1;
        if ((await repo.publish(orgId, termsId, version, now)) === 0) throw new CairnError('CAIRN_ERR_TERMS_PUBLISHED');
        await this.core.audit.record(x, ctx, orgId, 'consent.terms.publish', `terms:${termsId}`, { audience: row.audience, siteId: row.site_id, version });
      });
    } catch (e) {
      if (e instanceof CairnError) throw e;
      // Two drafts of one scope published at the same moment: the unique version index refuses one.
      throw new CairnError('CAIRN_ERR_CONFLICT', 'Another version of these terms was published at the same time; publish again.');
    }
    return termsView({ ...row, status: 'published', version, published_at: now, updated_at: now });
  }

  /** The terms in force for a site (its own, else the org's) and audience; no access check. */
  async current(x: Executor, orgId: string, audience: Audience, siteId: string | null): Promise<Terms | undefined> {
    const row = await new ConsentRepo(x).current(orgId, audience, siteId);
    return row ? termsView(row) : undefined;
  }
}
