/**
 * The case report (R-CT-3): who the case is about, the window, the purpose, the thresholds used,
 * and per contact the first and last contact, the cumulative time, the closest distance, the
 * zones where it happened, the evidence and a rank; optionally the second degree. Exported as
 * JSON (the report itself), CSV (one line per contact) and a printable HTML page. Contacts are
 * device pseudonyms, with the person's id only where the org linked the device (R-CT-5). No
 * health information anywhere (R-CT-6): a case is a subject and a window.
 */
import { toCsv } from '../journeys/csv.ts';
import type { Evidence } from './query.ts';

/** A zone where a contact happened, with the minutes of contact there. */
export interface ContactZone {
  zoneId: string;
  name: string | null;
  minutes: number;
}

/** One contact of the case. Personal (R-DATA-3): device pseudonyms, linked person ids. */
export interface CaseContact {
  /** 1 = strongest (longest cumulative time, then closest). */
  rank: number;
  /** The contact's device pseudonym. */
  device: string;
  /** The person the device is linked to in the org's directory, when linked. */
  personId: string | null;
  firstContact: string;
  lastContact: string;
  /** Cumulative time of contact in the window (union of the evidence), minutes to 2 decimals. */
  cumulativeMinutes: number;
  /** The same, whole seconds. */
  cumulativeSeconds: number;
  /** Closest measured distance, metres; null when only co-presence or encounters show the contact. */
  closestMeters: number | null;
  zones: ContactZone[];
  evidence: Evidence[];
}

/** A second-degree contact: a contact of a first-degree contact, after their first contact. */
export interface SecondDegreeContact extends CaseContact {
  /** The first-degree contact (device pseudonym) it was found through. */
  via: string;
}

/** The thresholds a trace ran with (R-CT-4). */
export interface CaseThresholds {
  radiusMeters: number;
  minMinutes: number;
  accuracyWidening: number;
  maxWideningMeters: number;
  coPresence: boolean;
  encounters: boolean;
  encounterMinRssiDbm: number | null;
}

export interface CaseReport {
  id: string;
  orgId: string;
  createdAt: string;
  /** Who ran it (`user:<id>`, `system:cli`). */
  createdBy: string;
  /** Why it was run (free text, never health information). */
  purpose: string;
  subject: { kind: 'device' | 'person'; devices: string[]; personId?: string };
  from: string;
  to: string;
  thresholds: CaseThresholds;
  contacts: CaseContact[];
  /** Null unless a second-degree trace was asked for. */
  secondDegree: SecondDegreeContact[] | null;
  /** How long the trace took, ms. */
  elapsedMs: number;
}

/** A stored case as listed (no contacts). */
export interface CaseSummary {
  id: string;
  createdAt: string;
  createdBy: string;
  purpose: string;
  subject: { kind: 'device' | 'person'; id: string };
  from: string;
  to: string;
  contacts: number;
}

export const CASE_CSV_HEADER = ['degree', 'rank', 'device', 'person_id', 'via', 'first_contact', 'last_contact', 'cumulative_minutes', 'closest_m', 'zones', 'evidence'] as const;

/** A case report as CSV: one line per contact (first degree, then second). */
export function caseCsv(r: CaseReport): string {
  const line = (degree: number, c: CaseContact, via: string | null) => [
    degree, c.rank, c.device, c.personId, via, c.firstContact, c.lastContact, c.cumulativeMinutes, c.closestMeters,
    c.zones.map((z) => `${z.name ?? z.zoneId} (${z.minutes} min)`).join('; '), c.evidence.join(' '),
  ];
  return toCsv(CASE_CSV_HEADER, [...r.contacts.map((c) => line(1, c, null)), ...(r.secondDegree ?? []).map((c) => line(2, c, c.via))]);
}

/** `s` with the five HTML metacharacters escaped. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function when(iso: string): string {
  return escapeHtml(iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC'));
}

function table(rows: readonly CaseContact[], second: boolean): string {
  if (rows.length === 0) return '<p class="none">No contacts met the thresholds.</p>';
  const head = ['#', 'Device', 'Person', ...(second ? ['Via'] : []), 'First contact', 'Last contact', 'Minutes', 'Closest (m)', 'Zones', 'Evidence'];
  const body = rows
    .map((c) => {
      const cells = [
        String(c.rank),
        `<code>${escapeHtml(c.device)}</code>`,
        c.personId ? escapeHtml(c.personId) : '',
        ...(second ? [`<code>${escapeHtml((c as SecondDegreeContact).via)}</code>`] : []),
        when(c.firstContact),
        when(c.lastContact),
        c.cumulativeMinutes.toFixed(1),
        c.closestMeters === null ? '' : c.closestMeters.toFixed(2),
        escapeHtml(c.zones.map((z) => `${z.name ?? z.zoneId} (${z.minutes})`).join(', ')),
        escapeHtml(c.evidence.join(', ')),
      ];
      return `<tr>${cells.map((x) => `<td>${x}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/**
 * A printable, self-contained HTML page of the report (no script, no external resources; every
 * value escaped).
 */
export function caseHtml(r: CaseReport): string {
  const t = r.thresholds;
  const subject = r.subject.kind === 'person' ? `person ${escapeHtml(r.subject.personId ?? '')} (${r.subject.devices.length} linked devices)` : `device <code>${escapeHtml(r.subject.devices[0] ?? '')}</code>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Contact trace ${escapeHtml(r.id)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:2em;color:#111}h1{font-size:18px}table{border-collapse:collapse;width:100%;margin:1em 0}
th,td{border:1px solid #999;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eee}code{font-size:11px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}dt{font-weight:600}.note{font-size:11px;color:#444}
@media print{body{margin:0}}
</style></head><body>
<h1>Contact trace report</h1>
<dl>
<dt>Case</dt><dd><code>${escapeHtml(r.id)}</code></dd>
<dt>Subject</dt><dd>${subject}</dd>
<dt>Window</dt><dd>${when(r.from)} – ${when(r.to)}</dd>
<dt>Purpose</dt><dd>${escapeHtml(r.purpose)}</dd>
<dt>Run</dt><dd>${when(r.createdAt)} by ${escapeHtml(r.createdBy)}</dd>
<dt>Thresholds</dt><dd>within ${t.radiusMeters} m (widened by ${t.accuracyWidening} × the fixes' accuracy, at most ${t.maxWideningMeters} m) for at least ${t.minMinutes} minutes in total;
co-presence at one AP ${t.coPresence ? 'counted' : 'not counted'}; badge encounters ${t.encounters ? 'counted' : 'not counted'}${t.encounterMinRssiDbm !== null ? ` from ${t.encounterMinRssiDbm} dBm` : ''}</dd>
</dl>
<h2>Contacts (${r.contacts.length})</h2>
${table(r.contacts, false)}
${r.secondDegree ? `<h2>Second degree (${r.secondDegree.length})</h2>\n${table(r.secondDegree, true)}` : ''}
<p class="note">Devices are pseudonyms; a person is named only where the organisation linked the device. This report holds no health information.
Contact-tracing data is kept for the organisation's retention period (30 days unless it set otherwise). Every view of this report is recorded in the audit log.</p>
</body></html>
`;
}
