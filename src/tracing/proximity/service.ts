/**
 * Proximity tracing and case reports (R-CT-3 … R-CT-8). A trace takes an index device (its
 * pseudonym, a MAC or a badge id, pseudonymised at once and then forgotten) or a person of the
 * org's directory (their linked devices, R-CT-5), a window and a purpose, and finds every device
 * that was within the org's radius for the org's cumulative time (R-CT-4), from fixes, from
 * co-presence at one AP for association-only data, and from badge encounters. The result is
 * stored as a case report (class `location`, 30 days by default, R-CT-7; purpose and report
 * encrypted under the org key) and can be read back as JSON, CSV or printable HTML.
 *
 * Access (R-CT-8): org admins, privacy officers and support under a grant; never site admins,
 * observers or sensors (policy `contactTrace`). Every trace and every view or export of a report
 * is audited with its purpose, in the transaction that stores or reads it. No health information
 * (R-CT-6): the purpose is checked (`purpose.ts`) and nothing else takes free text.
 */
import { CairnError, notFoundOrNoAccess } from '../../kernel/errors.ts';
import { DAY_MS, MINUTE_MS, toIso } from '../../kernel/clock.ts';
import { newId } from '../../kernel/ids.ts';
import { actorString, normaliseMac, type Core, type Ctx } from '../../privacy/index.ts';
import { ProximityRepo, reposFor, type Database, type Executor, type TraceCaseRow } from '../../storage/index.ts';
import type { PeopleService } from '../people/service.ts';
import type { ProximityIndex } from './indexer.ts';
import { checkPurpose } from './purpose.ts';
import { intervalEvidence, measure, mergeEvidence, positionEvidence, type ContactEvidence, type ContactRule, type MeasuredContact } from './query.ts';
import { caseCsv, caseHtml, type CaseContact, type CaseReport, type CaseSummary, type CaseThresholds, type SecondDegreeContact } from './report.ts';
import { applyProximityPatch, parseProximitySettings, type ProximitySettings } from './settings.ts';

/** Who and what a trace is about. Exactly one subject field. */
export interface TraceRequest {
  /** A device pseudonym (32 hex digits). */
  device?: string;
  /** A raw MAC (personal): pseudonymised at once, never stored, logged or audited. */
  mac?: string;
  /** A raw badge id (personal): pseudonymised the way ingest does. */
  badge?: string;
  /** Cairn's id of a person in the org's directory. */
  personId?: string;
  /** The org's own id of a person (personal): found by its keyed hash. */
  personRef?: string;
  /** Either of the two (the CLI's --person): Cairn's id first, then the org's id. */
  person?: string;
  /** Window, epoch ms: [fromMs, toMs). */
  fromMs: number;
  toMs: number;
  /** Why the trace is run: required, free text, never health information (R-CT-6). */
  purpose: string;
  /** This trace's thresholds instead of the org's (same bounds). */
  radiusMeters?: number;
  minMinutes?: number;
  /** Also trace the strongest contacts' contacts (after their first contact). */
  secondDegree?: boolean;
}

/** The export formats of a case report. */
export type CaseFormat = 'json' | 'csv' | 'html';

const PSEUDONYM = /^[0-9a-f]{32}$/;

export class ProximityService {
  constructor(
    private readonly core: Core,
    readonly index: ProximityIndex,
    private readonly people?: PeopleService,
  ) {}

  // ---- thresholds (R-CT-4) --------------------------------------------------------------------

  /** The org's thresholds (defaults until it sets its own). */
  async settings(ctx: Ctx, orgId: string): Promise<ProximitySettings> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'readConfig', { orgId });
    return this.settingsOf(db, orgId);
  }

  /** Change the org's thresholds (audited); fields left out keep their value. */
  async updateSettings(ctx: Ctx, orgId: string, patch: Partial<ProximitySettings>): Promise<ProximitySettings> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'configure', { orgId });
    return db.tx(async (x) => {
      const repo = new ProximityRepo(x);
      const next = applyProximityPatch(parseProximitySettings(await repo.getSettings(orgId)), patch);
      await repo.setSettings(orgId, JSON.stringify(next), this.core.clock.nowMs());
      await this.core.audit.record(x, ctx, orgId, 'contactTrace.settings', `org:${orgId}`, { ...next });
      return next;
    });
  }

  private async settingsOf(db: Database, orgId: string): Promise<ProximitySettings> {
    return parseProximitySettings(await new ProximityRepo(db).getSettings(orgId));
  }

  // ---- trace -----------------------------------------------------------------------------------

  /**
   * Run a trace and store its case report (audited with the purpose). Brings the org's tracing
   * index up to date first, so every stored fix counts.
   *
   * @example await proximity.trace(ctx, orgId, { mac: 'aa:bb:cc:dd:ee:ff', fromMs, toMs, purpose: 'Exposure check, incident 17' })
   */
  async trace(ctx: Ctx, orgId: string, q: TraceRequest): Promise<CaseReport> {
    const started = performance.now();
    const given = (['device', 'mac', 'badge', 'personId', 'personRef', 'person'] as const).filter((k) => q[k] !== undefined);
    const target = q.device !== undefined && PSEUDONYM.test(q.device) ? `device:${q.device}` : q.personId !== undefined ? `person:${q.personId.slice(0, 64)}` : `org:${orgId}`;
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'run', { orgId }, target);
    if (given.length !== 1) throw new CairnError('CAIRN_ERR_VALIDATION', 'Name exactly one of device, mac, badge, personId, personRef or person.', { field: 'device' });
    const purpose = checkPurpose(q.purpose);
    const s = await this.settingsOf(db, orgId);
    const { fromMs, toMs } = q;
    if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || toMs <= fromMs) throw new CairnError('CAIRN_ERR_VALIDATION', 'The window must end after it starts.', { field: 'to' });
    if (toMs - fromMs > s.maxWindowDays * DAY_MS) throw new CairnError('CAIRN_ERR_VALIDATION', `A trace spans at most ${s.maxWindowDays} days (the org's setting).`, { field: 'from', maxDays: s.maxWindowDays });
    const t = applyProximityPatch(s, { ...(q.radiusMeters !== undefined ? { radiusMeters: q.radiusMeters } : {}), ...(q.minMinutes !== undefined ? { minMinutes: q.minMinutes } : {}) });
    const subject = await this.subjectOf(ctx, db, orgId, q, target);
    const rule: ContactRule = { radiusMeters: t.radiusMeters, accuracyWidening: t.accuracyWidening, maxWideningMeters: t.maxWideningMeters, coPresence: t.coPresence, encounters: t.encounters, encounterMinRssiDbm: t.encounterMinRssiDbm };
    const minMs = t.minMinutes * MINUTE_MS;

    await this.index.catchUp(db, orgId);
    const own = new Set(subject.devices);
    // R-PRIV-4: a device whose subject restricted processing is neither traced nor named.
    const allowed = (device: string) => !this.core.subjects.isRestricted(orgId, device);
    const first = measure(mergeEvidence(await Promise.all(subject.devices.filter(allowed).map((d) => this.evidence(db, orgId, d, fromMs, toMs, rule))), own), fromMs, toMs, minMs).filter((c) => allowed(c.device));
    let second: (MeasuredContact & { via: string })[] | null = null;
    if (q.secondDegree) {
      const known = new Set([...own, ...first.map((c) => c.device)]);
      const best = new Map<string, MeasuredContact & { via: string }>();
      for (const c of first.slice(0, t.secondDegreeContacts)) {
        const ev = mergeEvidence([await this.evidence(db, orgId, c.device, c.firstMs, toMs, rule)], known);
        for (const m of measure(ev, c.firstMs, toMs, minMs).filter((x) => allowed(x.device))) {
          const prev = best.get(m.device);
          if (!prev || m.totalMs > prev.totalMs) best.set(m.device, { ...m, via: c.device });
        }
      }
      second = [...best.values()].sort((a, b) => b.totalMs - a.totalMs || (a.closestMeters ?? Infinity) - (b.closestMeters ?? Infinity) || (a.device < b.device ? -1 : 1));
    }

    const owners = this.people ? await this.people.ownersOf(db, orgId, [...first, ...(second ?? [])].map((c) => c.device)) : new Map<string, string>();
    const zoneNames = new Map<string, string | null>();
    const contactOut = async (c: MeasuredContact, rank: number): Promise<CaseContact> => {
      const zones: CaseContact['zones'] = [];
      for (const [num, minutes] of c.zoneMinutes) {
        const place = this.index.place(orgId, num);
        if (!place || place.kind !== 'zone') continue;
        if (!zoneNames.has(place.id)) zoneNames.set(place.id, (await reposFor(db).tenancy.getZone(orgId, place.id))?.name ?? null);
        zones.push({ zoneId: place.id, name: zoneNames.get(place.id) ?? null, minutes });
      }
      zones.sort((a, b) => b.minutes - a.minutes || (a.zoneId < b.zoneId ? -1 : 1));
      return {
        rank,
        device: c.device,
        personId: owners.get(c.device) ?? null,
        firstContact: toIso(c.firstMs),
        lastContact: toIso(c.lastMs),
        cumulativeMinutes: Math.round(c.totalMs / 600) / 100,
        cumulativeSeconds: Math.round(c.totalMs / 1000),
        closestMeters: c.closestMeters,
        zones,
        evidence: c.evidence,
      };
    };
    const contacts: CaseContact[] = [];
    for (const [i, c] of first.entries()) contacts.push(await contactOut(c, i + 1));
    let secondOut: SecondDegreeContact[] | null = null;
    if (second) {
      secondOut = [];
      for (const [i, c] of second.entries()) secondOut.push({ ...(await contactOut(c, i + 1)), via: c.via });
    }
    const thresholds: CaseThresholds = { radiusMeters: t.radiusMeters, minMinutes: t.minMinutes, accuracyWidening: t.accuracyWidening, maxWideningMeters: t.maxWideningMeters, coPresence: t.coPresence, encounters: t.encounters, encounterMinRssiDbm: t.encounterMinRssiDbm };
    const now = this.core.clock.nowMs();
    const report: CaseReport = {
      id: newId(),
      orgId,
      createdAt: toIso(now),
      createdBy: actorString(ctx.actor),
      purpose,
      subject,
      from: toIso(fromMs),
      to: toIso(toMs),
      thresholds,
      contacts,
      secondDegree: secondOut,
      elapsedMs: 0,
    };
    report.elapsedMs = Math.round(performance.now() - started);
    await db.tx(async (x) => {
      const k = this.core.keys;
      const row: TraceCaseRow = {
        id: report.id,
        org_id: orgId,
        created_at: now,
        created_by: report.createdBy,
        subject_kind: subject.kind,
        subject: subject.kind === 'person' ? subject.personId! : subject.devices[0]!,
        from_ms: fromMs,
        to_ms: toMs,
        contacts: contacts.length,
        purpose_enc: await k.encrypt(x, orgId, 'trace_cases.purpose', purpose),
        report_enc: await k.encrypt(x, orgId, 'trace_cases.report', JSON.stringify(report)),
      };
      await new ProximityRepo(x).insertCase(row);
      await this.core.audit.record(x, ctx, orgId, 'contactTrace.run', `case:${report.id}`, {
        purpose,
        subject: `${subject.kind}:${row.subject}`,
        from: report.from,
        to: report.to,
        contacts: contacts.length,
        secondDegree: secondOut?.length ?? null,
        radiusMeters: t.radiusMeters,
        minMinutes: t.minMinutes,
      });
    });
    return report;
  }

  /** All evidence for one index device. */
  private async evidence(db: Database, orgId: string, device: string, fromMs: number, toMs: number, rule: ContactRule): Promise<Map<string, ContactEvidence>> {
    const ev = await positionEvidence(this.index, db, orgId, device, fromMs, toMs, rule);
    await intervalEvidence(db, orgId, device, fromMs, toMs, rule, ev);
    ev.delete(device);
    return ev;
  }

  private async subjectOf(ctx: Ctx, db: Database, orgId: string, q: TraceRequest, target: string): Promise<CaseReport['subject']> {
    if (q.device !== undefined) {
      if (!PSEUDONYM.test(q.device)) throw new CairnError('CAIRN_ERR_VALIDATION', 'device must be a device id (32 hex digits); give a MAC as mac or a badge id as badge.', { field: 'device' });
      return { kind: 'device', devices: [q.device] };
    }
    if (q.mac !== undefined) {
      const mac = normaliseMac(q.mac);
      if (!mac) throw new CairnError('CAIRN_ERR_VALIDATION', 'mac is not a MAC address.', { field: 'mac' });
      return { kind: 'device', devices: [await this.core.keys.pseudonym(db, orgId, 'mac', mac)] };
    }
    if (q.badge !== undefined) {
      if (q.badge.trim() === '' || q.badge.length > 128) throw new CairnError('CAIRN_ERR_VALIDATION', 'badge must be a badge id.', { field: 'badge' });
      return { kind: 'device', devices: [await this.core.keys.pseudonym(db, orgId, 'badge', q.badge)] };
    }
    const p = this.people ? await this.people.resolve(db, orgId, q.personId !== undefined ? { id: q.personId } : q.personRef !== undefined ? { personId: q.personRef } : { id: q.person!, personId: q.person! }) : undefined;
    if (!p) {
      await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'contactTrace.run', target, { found: false }, 'error'));
      throw notFoundOrNoAccess();
    }
    return { kind: 'person', devices: p.devices, personId: p.id };
  }

  // ---- case reports ----------------------------------------------------------------------------

  /** Stored case reports, newest first, without their contacts (audited: purposes are shown). */
  async list(ctx: Ctx, orgId: string, opts: { limit?: number; before?: string } = {}): Promise<CaseSummary[]> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'read', { orgId });
    const rows = await new ProximityRepo(db).listCases(orgId, Math.min(Math.max(1, opts.limit ?? 100), 500), opts.before);
    const out: CaseSummary[] = [];
    for (const r of rows) {
      out.push({
        id: r.id,
        createdAt: toIso(Number(r.created_at)),
        createdBy: r.created_by,
        purpose: await this.core.keys.decrypt(db, orgId, 'trace_cases.purpose', r.purpose_enc),
        subject: { kind: r.subject_kind, id: r.subject },
        from: toIso(Number(r.from_ms)),
        to: toIso(Number(r.to_ms)),
        contacts: Number(r.contacts),
      });
    }
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'contactTrace.list', `org:${orgId}`, { count: out.length }));
    return out;
  }

  /**
   * One case report: every view and export is audited with the case's purpose and the format.
   *
   * @example const { body, contentType } = await proximity.view(ctx, orgId, caseId, 'csv')
   */
  async view(ctx: Ctx, orgId: string, caseId: string, format: CaseFormat = 'json'): Promise<{ report: CaseReport; contentType: string; body: string }> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'read', { orgId }, `case:${caseId.slice(0, 64)}`);
    const report = await this.caseOf(db, orgId, caseId);
    if (!report) throw notFoundOrNoAccess();
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'contactTrace.view', `case:${caseId}`, { purpose: report.purpose, format }));
    if (format === 'csv') return { report, contentType: 'text/csv; charset=utf-8', body: caseCsv(report) };
    if (format === 'html') return { report, contentType: 'text/html; charset=utf-8', body: caseHtml(report) };
    return { report, contentType: 'application/json; charset=utf-8', body: JSON.stringify(report) };
  }

  /**
   * A stored case report, decrypted; undefined when there is none. No access check and no audit:
   * for services that did both for their own question (notices to exposed people).
   */
  async caseOf(x: Executor, orgId: string, caseId: string): Promise<CaseReport | undefined> {
    const row = await new ProximityRepo(x).getCase(orgId, caseId);
    return row ? (JSON.parse(await this.core.keys.decrypt(x, orgId, 'trace_cases.report', row.report_enc)) as CaseReport) : undefined;
  }

  /** Delete a case report before its retention ends (audited). */
  async remove(ctx: Ctx, orgId: string, caseId: string): Promise<void> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'delete', { orgId }, `case:${caseId.slice(0, 64)}`);
    await db.tx(async (x) => {
      if ((await new ProximityRepo(x).deleteCase(orgId, caseId)) === 0) throw notFoundOrNoAccess();
      await this.core.audit.record(x, ctx, orgId, 'contactTrace.delete', `case:${caseId}`);
    });
  }

  /** Drop and rebuild the org's tracing index from its stored fixes (audited; an org admin's). */
  async rebuildIndex(ctx: Ctx, orgId: string): Promise<{ tracks: number; cells: number; bytes: number }> {
    const { db } = await this.core.access.enforce(ctx, 'contactTrace', 'configure', { orgId });
    await this.index.rebuild(db, orgId);
    const size = await new ProximityRepo(db).indexSize(orgId);
    await db.tx((x) => this.core.audit.record(x, ctx, orgId, 'contactTrace.reindex', `org:${orgId}`, { tracks: size.tracks, cells: size.cells }));
    return { tracks: size.tracks, cells: size.cells, bytes: size.trackBytes + size.cellBytes };
  }
}

