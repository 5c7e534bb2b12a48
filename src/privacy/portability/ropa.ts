/**
 * Records of processing activities (GDPR Art. 30(1)), generated, not written by hand: the
 * activities modules registered, each as the org's settings make it (on or off, what is
 * collected, who receives data), with the data classes' retention after the org's overrides, the
 * org's storage region, the processor and its support access, and what only the controller can
 * say (its contacts, its data-protection officer, the legal basis of each activity), which the
 * org fills in here. As JSON for machines and as a Markdown document for people.
 */
import { CairnError } from '../../kernel/errors.ts';
import { toIso } from '../../kernel/clock.ts';
import { RopaRepo, reposFor, type Executor } from '../../storage/index.ts';
import type { Ctx } from '../context.ts';
import type { Core } from '../core.ts';
import { DATA_CLASSES } from '../retention/registry.ts';
import { LEGAL_BASES, type LegalBasis, type Recipient } from './activities.ts';

export const ROPA_FORMAT = 'cairn-ropa/1';

/** What only the controller can say about itself (Art. 30(1)(a)). Personal: encrypted at rest. */
export interface ControllerDetails {
  name?: string;
  contact?: string;
  representative?: string;
  dataProtectionOfficer?: string;
}

export interface RetentionLine {
  dataClass: string;
  requirement: string;
  name: string;
  /** Days, or null: kept until the owner removes it. */
  days: number | null;
  overridden: boolean;
}

export interface ActivityRecord {
  id: string;
  name: string;
  enabled: boolean;
  purpose: string;
  legalBasis: { basis: LegalBasis | null; note: string | null; suggested: LegalBasis | null; placeholder: string | null };
  dataSubjects: string[];
  /** What the org's settings collect (or every category the activity may process, when it does not say). */
  dataCategories: string[];
  source: string;
  retention: RetentionLine[];
  recipients: Recipient[];
  settings: Record<string, string | number | boolean | null | string[]>;
  notes: string[];
}

export interface RecordsOfProcessing {
  format: typeof ROPA_FORMAT;
  generatedAt: string;
  controller: { orgId: string; orgName: string; country: string } & Required<{ [K in keyof ControllerDetails]: string | null }>;
  processor: { role: string; supportAccess: { active: boolean; expiresAt: string | null } };
  storage: { region: string; inEuEea: boolean; transfers: string };
  activities: ActivityRecord[];
  /** Activities this server offers that the org's settings leave off. */
  notInUse: { id: string; name: string }[];
  recipients: Recipient[];
  retention: RetentionLine[];
  security: string[];
}

const PLACEHOLDER = 'To be set by the controller: the legal basis under GDPR Art. 6(1) (PUT …/ropa/activities/{id}).';
const MAX_TEXT = 1000;

function text(v: unknown, field: string): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw new CairnError('CAIRN_ERR_VALIDATION', `${field} must be text of at most ${MAX_TEXT} characters.`, { field });
  return v.trim() || null;
}

export class RopaService {
  constructor(private readonly core: Core) {}

  /**
   * The org's records of processing, from its settings as they are now.
   * @example const doc = await ropa.generate(ctx, orgId); ropaMarkdown(doc)
   */
  async generate(ctx: Ctx, orgId: string): Promise<RecordsOfProcessing> {
    const { db } = await this.core.access.enforce(ctx, 'portability', 'readRecords', { orgId });
    const doc = await this.build(db, orgId);
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'ropa.read', `org:${orgId}`, { activities: doc.activities.length }));
    return doc;
  }

  private async build(x: Executor, orgId: string): Promise<RecordsOfProcessing> {
    const r = reposFor(x);
    const org = await r.tenancy.getOrg(orgId);
    if (!org) throw new CairnError('CAIRN_ERR_NOT_FOUND');
    const overrides = new Map((await r.retention.list(orgId)).map((p) => [p.data_class, p.days]));
    const retention: RetentionLine[] = DATA_CLASSES.map((c) => ({ dataClass: c.id, requirement: c.requirement, name: c.name, days: overrides.get(c.id) ?? c.defaultDays, overridden: overrides.has(c.id) }));
    const repo = new RopaRepo(x);
    const controller = await this.controllerOf(x, orgId);
    const bases = new Map((await repo.listActivities(orgId)).map((a) => [a.activity_id, a]));
    const activities: ActivityRecord[] = [];
    const notInUse: { id: string; name: string }[] = [];
    for (const a of this.core.activities.list()) {
      const s = await a.state(x, orgId);
      if (!s.enabled) {
        notInUse.push({ id: a.id, name: a.name });
        continue;
      }
      const chosen = bases.get(a.id);
      const basis = (chosen?.legal_basis ?? null) as LegalBasis | null;
      activities.push({
        id: a.id,
        name: a.name,
        enabled: true,
        purpose: a.purpose,
        legalBasis: { basis, note: chosen?.note_enc ? await this.core.keys.decrypt(x, orgId, 'ropa_activities.note', chosen.note_enc) : null, suggested: a.suggestedLegalBasis ?? null, placeholder: basis ? null : PLACEHOLDER },
        dataSubjects: a.subjectCategories,
        dataCategories: s.collected ?? a.dataCategories,
        source: a.source,
        retention: retention.filter((l) => a.dataClasses.includes(l.dataClass)),
        recipients: s.recipients ?? [],
        settings: s.settings ?? {},
        notes: s.notes ?? [],
      });
    }
    const grant = await r.identity.getGrant(orgId);
    const grantActive = !!grant && grant.revoked_at === null && grant.expires_at > this.core.clock.nowMs();
    const recipients = new Map<string, Recipient>();
    for (const a of activities) for (const rc of a.recipients) recipients.set(`${rc.kind}|${rc.name}|${rc.host ?? ''}`, rc);
    const inEu = org.region === 'eu';
    return {
      format: ROPA_FORMAT,
      generatedAt: toIso(this.core.clock.nowMs()),
      controller: { orgId, orgName: org.name, country: org.country, name: controller.name ?? null, contact: controller.contact ?? null, representative: controller.representative ?? null, dataProtectionOfficer: controller.dataProtectionOfficer ?? null },
      processor: { role: 'The operator of this Cairn server processes on the organisation\'s behalf (GDPR Art. 28); its staff see the organisation\'s data only under a support grant the organisation controls (R-SEC-4).', supportAccess: { active: grantActive, expiresAt: grantActive ? toIso(grant!.expires_at) : null } },
      storage: {
        region: org.region,
        inEuEea: inEu,
        transfers: inEu
          ? 'Stored in the EU region of this server. Recipients listed below receive data where they are hosted: check each for transfers outside the EU/EEA.'
          : `Stored in region "${org.region}" of this server. Recipients listed below receive data where they are hosted.`,
      },
      activities,
      notInUse,
      recipients: [...recipients.values()],
      retention,
      security: this.security(),
    };
  }

  /** Art. 30(1)(g): the technical and organisational measures this server applies to every org. */
  private security(): string[] {
    const cfg = this.core.cfg;
    return [
      'Encryption at rest: personal fields (IP addresses, usernames, host names, e-mail addresses, names, free text, mail and files kept) are AES-256-GCM under a key of the organisation (R-SEC-2); destroying it makes them unreadable.',
      'Pseudonymisation: device identifiers (MAC, badge, app id) are stored only as keyed HMAC-SHA256 pseudonyms (R-LOC-5).',
      'Minimisation: what each source may collect is the organisation\'s setting; what is not enabled is dropped at ingest (R-PRIV-1).',
      'Access control per org and site by role; refusals and access are audited (R-SEC-3).',
      'A hash-chained, signed audit log of access and changes, kept 6 months (R-SEC-5).',
      'Retention enforced by scheduled, bounded purges per data class (R-DATA).',
      cfg.tlsCert ? 'HTTPS on the API and dashboard (certificate configured).' : 'HTTPS: no certificate is configured on this server; TLS must be terminated in front of it.',
      'Operator access only under a time-limited grant the organisation controls and can revoke (R-SEC-4).',
    ];
  }

  private async controllerOf(x: Executor, orgId: string): Promise<ControllerDetails> {
    const row = await new RopaRepo(x).getController(orgId);
    return row ? (JSON.parse(await this.core.keys.decrypt(x, orgId, 'ropa_controller.details', row.details_enc)) as ControllerDetails) : {};
  }

  /** Set the controller's details (Art. 30(1)(a)); absent fields stay, null clears. Audited by field name. */
  async setController(ctx: Ctx, orgId: string, patch: { [K in keyof ControllerDetails]?: string | null }): Promise<ControllerDetails> {
    const { db } = await this.core.access.enforce(ctx, 'portability', 'updateRecords', { orgId });
    return db.tx(async (x) => {
      const cur = await this.controllerOf(x, orgId);
      for (const k of ['name', 'contact', 'representative', 'dataProtectionOfficer'] as const) {
        if (!(k in patch)) continue;
        const v = text(patch[k], k);
        if (v === null) delete cur[k];
        else cur[k] = v;
      }
      await new RopaRepo(x).putController({ org_id: orgId, details_enc: await this.core.keys.encrypt(x, orgId, 'ropa_controller.details', JSON.stringify(cur)), updated_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'ropa.controller.update', `org:${orgId}`, { fields: Object.keys(patch).sort() });
      return cur;
    });
  }

  /** Record the legal basis the org chose for an activity (null clears it) and a note. */
  async setActivity(ctx: Ctx, orgId: string, activityId: string, input: { legalBasis: LegalBasis | null; note?: string | null }): Promise<{ activityId: string; legalBasis: LegalBasis | null; note: string | null }> {
    const { db } = await this.core.access.enforce(ctx, 'portability', 'updateRecords', { orgId });
    if (!this.core.activities.get(activityId)) throw new CairnError('CAIRN_ERR_VALIDATION', `Unknown processing activity; known: ${this.core.activities.list().map((a) => a.id).join(', ')}.`, { field: 'activityId' });
    if (input.legalBasis !== null && !LEGAL_BASES.includes(input.legalBasis)) throw new CairnError('CAIRN_ERR_VALIDATION', `legalBasis must be one of ${LEGAL_BASES.join(', ')}, or null.`, { field: 'legalBasis' });
    const note = text(input.note, 'note');
    await db.tx(async (x) => {
      await new RopaRepo(x).putActivity({ org_id: orgId, activity_id: activityId, legal_basis: input.legalBasis, note_enc: await this.core.keys.encryptOptional(x, orgId, 'ropa_activities.note', note), updated_at: this.core.clock.nowMs() });
      await this.core.audit.record(x, ctx, orgId, 'ropa.activity.update', `activity:${activityId}`, { legalBasis: input.legalBasis, note: note !== null });
    });
    return { activityId, legalBasis: input.legalBasis, note };
  }
}

const BASIS_TEXT: Record<LegalBasis, string> = {
  consent: 'Consent (Art. 6(1)(a))',
  contract: 'Contract (Art. 6(1)(b))',
  legal_obligation: 'Legal obligation (Art. 6(1)(c))',
  vital_interests: 'Vital interests (Art. 6(1)(d))',
  public_task: 'Public task (Art. 6(1)(e))',
  legitimate_interests: 'Legitimate interests (Art. 6(1)(f))',
};

/** Markdown text: no raw HTML, table cells without pipes or line breaks. */
function md(s: string | number | boolean | null | undefined): string {
  if (s === null || s === undefined || s === '') return '—';
  return String(s).replace(/[\\`*_{}[\]<>#|]/g, (c) => `\\${c}`).replace(/\s*[\r\n]+\s*/g, ' ');
}

function days(l: RetentionLine): string {
  return `${l.days === null ? 'until removed' : `${l.days} days`}${l.overridden ? ' (set by the organisation)' : ''}`;
}

/**
 * The records of processing as a Markdown document a person can read, print or file.
 * @example writeFileSync('ropa.md', ropaMarkdown(await ropa.generate(ctx, orgId)))
 */
export function ropaMarkdown(d: RecordsOfProcessing): string {
  const c = d.controller;
  const out: string[] = [
    `# Records of processing activities: ${md(c.orgName)}`,
    '',
    `GDPR Article 30(1). Generated by Cairn on ${d.generatedAt} from the organisation's settings; regenerate after changing them.`,
    '',
    '## Controller',
    '',
    `| | |`,
    `|---|---|`,
    `| Organisation | ${md(c.orgName)} (${md(c.country)}), id ${md(c.orgId)} |`,
    `| Controller | ${md(c.name ?? 'to be completed by the controller')} |`,
    `| Contact | ${md(c.contact ?? 'to be completed by the controller')} |`,
    `| Representative | ${md(c.representative)} |`,
    `| Data-protection officer | ${md(c.dataProtectionOfficer)} |`,
    '',
    '## Processor',
    '',
    md(d.processor.role),
    '',
    `Support access: ${d.processor.supportAccess.active ? `granted until ${d.processor.supportAccess.expiresAt}` : 'not granted'}.`,
    '',
    '## Storage and transfers',
    '',
    `Region: ${md(d.storage.region)}${d.storage.inEuEea ? ' (EU/EEA)' : ''}. ${md(d.storage.transfers)}`,
    '',
    '## Processing activities',
    '',
  ];
  for (const a of d.activities) {
    const lb = a.legalBasis;
    out.push(
      `### ${md(a.name)}`,
      '',
      `| | |`,
      `|---|---|`,
      `| Id | ${md(a.id)} |`,
      `| Purpose | ${md(a.purpose)} |`,
      `| Legal basis | ${lb.basis ? md(BASIS_TEXT[lb.basis]) : `**${md(lb.placeholder)}**${lb.suggested ? ` Commonly: ${md(BASIS_TEXT[lb.suggested])}.` : ''}`}${lb.note ? ` ${md(lb.note)}` : ''} |`,
      `| Data subjects | ${md(a.dataSubjects.join(', '))} |`,
      `| Personal data | ${md(a.dataCategories.join(', '))} |`,
      `| Source | ${md(a.source)} |`,
      `| Retention | ${md(a.retention.map((l) => `${l.name}: ${days(l)}`).join('; '))} |`,
      `| Recipients | ${md(a.recipients.length ? a.recipients.map((r) => `${r.name}${r.host ? ` (${r.host})` : ''}`).join('; ') : 'none outside the organisation')} |`,
    );
    const settings = Object.entries(a.settings);
    if (settings.length) out.push(`| Settings | ${md(settings.map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') || 'none' : v}`).join('; '))} |`);
    if (a.notes.length) out.push(`| Notes | ${md(a.notes.join(' '))} |`);
    out.push('');
  }
  if (d.notInUse.length) out.push('## Not in use', '', 'Offered by this server but off under the organisation\'s settings: ' + d.notInUse.map((a) => md(a.name)).join(', ') + '.', '');
  out.push('## Recipients', '');
  if (d.recipients.length === 0) out.push('None outside the organisation and its processor.', '');
  else {
    out.push('| Kind | Name | Host | Purpose |', '|---|---|---|---|');
    for (const r of d.recipients) out.push(`| ${md(r.kind)} | ${md(r.name)} | ${md(r.host)} | ${md(r.purpose)} |`);
    out.push('');
  }
  out.push('## Retention', '', '| Data class | Requirement | Period |', '|---|---|---|');
  for (const l of d.retention) out.push(`| ${md(l.name)} | ${md(l.requirement)} | ${md(days(l))} |`);
  out.push('', '## Security measures (Art. 30(1)(g))', '', ...d.security.map((s) => `- ${md(s)}`), '');
  return out.join('\n');
}
