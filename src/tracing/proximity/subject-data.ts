/**
 * Proximity tracing for data-subject requests (R-PRIV-4): case reports (R-CT-3) where the subject
 * is the index (by device or person) or a contact, and the tracing index derived from fixes. A
 * case about the subject is theirs in full except the other people in it; a case where they were
 * a contact shows them only their own contact entry. Erasure deletes the subject's own cases,
 * strips them from other cases (contact entries, second-degree links), and takes their devices
 * out of the index (tracks deleted, hours rebuilt, dictionary numbers kept under a stand-in).
 */
import { randomBytes } from 'node:crypto';
import { toIso } from '../../kernel/clock.ts';
import type { Core, Subject, SubjectDataHandler } from '../../privacy/index.ts';
import { SubjectDataRepo, type Executor, type TraceCaseRow } from '../../storage/index.ts';
import type { CaseReport } from './report.ts';

const RECIPIENTS = 'The organisation\'s administrators and privacy officers, and people the organisation notifies about a contact; Cairn\'s operator only under a support grant';

type Role = { role: 'index' } | { role: 'contact'; report: CaseReport };

/** Whether the subject is the case's index, one of its contacts, or absent. */
async function roleIn(core: Core, x: Executor, s: Subject, c: TraceCaseRow): Promise<Role | null> {
  if ((c.subject_kind === 'device' && s.devices.has(c.subject)) || (c.subject_kind === 'person' && s.people.has(c.subject))) return { role: 'index' };
  const report = JSON.parse(await core.keys.decrypt(x, s.orgId, 'trace_cases.report', c.report_enc)) as CaseReport;
  if (report.subject.devices.some((d) => s.devices.has(d))) return { role: 'index' };
  const mine = (d: { device: string; personId: string | null }) => s.devices.has(d.device) || (d.personId !== null && s.people.has(d.personId));
  const named = report.contacts.some(mine) || (report.secondDegree ?? []).some((d) => mine(d) || s.devices.has(d.via));
  return named ? { role: 'contact', report } : null;
}

/** Handlers for `trace_cases` and the tracing index; registered by the proximity wiring. */
export function proximitySubjectHandlers(core: Core): SubjectDataHandler[] {
  return [
    {
      id: 'tracing.cases',
      dataClass: 'location',
      info: { purpose: 'Contact tracing: who was near a person, when, where and how long, to notify them (never health information).', categories: ['case window', 'purpose', 'contacts: first and last contact, time together, distance, zones'], source: 'Derived from location data, association sessions and badge encounters', recipients: RECIPIENTS },
      async export(x, s, o) {
        const rows: (string | number | null)[][] = [];
        let withheld = 0;
        for (const c of await new SubjectDataRepo(x).cases(s.orgId)) {
          if (c.created_at < o.sinceMs) continue;
          const r = await roleIn(core, x, s, c);
          if (!r) continue;
          if (r.role === 'index') {
            rows.push([c.id, 'index', toIso(c.created_at), toIso(c.from_ms), toIso(c.to_ms), c.contacts, null, null, null, null]);
            withheld += c.contacts;
            continue;
          }
          for (const e of [...r.report.contacts, ...(r.report.secondDegree ?? [])].filter((d) => s.devices.has(d.device) || (d.personId !== null && s.people.has(d.personId)))) {
            rows.push([c.id, 'contact', toIso(c.created_at), toIso(c.from_ms), toIso(c.to_ms), null, e.firstContact, e.lastContact, e.cumulativeMinutes, e.closestMeters]);
          }
        }
        return { columns: ['case', 'role', 'created', 'window_from', 'window_to', 'contacts_found', 'first_contact', 'last_contact', 'minutes_together', 'closest_m'], rows, withheld };
      },
      async erase(x, s) {
        const repo = new SubjectDataRepo(x);
        let n = 0;
        for (const c of await repo.cases(s.orgId)) {
          const r = await roleIn(core, x, s, c);
          if (!r) continue;
          if (r.role === 'index') {
            n += await repo.deleteCase(s.orgId, c.id);
            continue;
          }
          const mine = (d: { device: string; personId: string | null }) => s.devices.has(d.device) || (d.personId !== null && s.people.has(d.personId));
          const report: CaseReport = {
            ...r.report,
            contacts: r.report.contacts.filter((d) => !mine(d)).map((d, i) => ({ ...d, rank: i + 1 })),
            secondDegree: r.report.secondDegree === null ? null : r.report.secondDegree.filter((d) => !mine(d) && !s.devices.has(d.via)),
          };
          n += await repo.rewriteCase(s.orgId, c.id, report.contacts.length, await core.keys.encrypt(x, s.orgId, 'trace_cases.report', JSON.stringify(report)));
        }
        return n;
      },
    },
    {
      id: 'tracing.index',
      dataClass: 'location',
      info: { purpose: 'The contact-tracing index: the same positions as the fixes, arranged for fast look-up.', categories: ['device number', 'smoothed positions per minute'], source: 'Derived from the fixes', recipients: RECIPIENTS },
      erase: (x, s) => new SubjectDataRepo(x).eraseFromIndex(s.orgId, [...s.devices], () => `erased:${randomBytes(12).toString('hex')}`),
    },
  ];
}
