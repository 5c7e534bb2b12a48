/** Purposes: required, bounded, never health information or identifiers (R-CT-6). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPurpose } from './purpose.ts';
import { applyProximityPatch, DEFAULT_PROXIMITY_SETTINGS, parseProximitySettings } from './settings.ts';
import { caseCsv, caseHtml, type CaseReport } from './report.ts';

test('a plain purpose passes, trimmed and without control characters', () => {
  assert.equal(checkPurpose('  Exposure check\nfor incident 17  '), 'Exposure check for incident 17');
  assert.equal(checkPurpose('Health and safety review of the lab (blootstellingscheck)'), 'Health and safety review of the lab (blootstellingscheck)');
});

test('health information is refused, in English and Dutch', () => {
  for (const p of ['Employee tested positive', 'COVID-19 exposure', 'he is ill', 'flu season check', 'besmetting op de afdeling', 'collega is ziek', 'symptoms reported']) {
    assert.throws(() => checkPurpose(p), /health information/, p);
  }
});

test('identifiers and empty purposes are refused', () => {
  for (const p of ['device 3c:22:fb:9a:41:07', 'from jan@x.example', 'host 10.0.0.4', 'laptop 3c22.fb9a.4107']) assert.throws(() => checkPurpose(p), /must not name devices/, p);
  assert.throws(() => checkPurpose(''), /3 to 500/);
  assert.throws(() => checkPurpose(undefined), /needs a purpose/);
});

test('thresholds are checked against their bounds; stored values out of bounds fall back to defaults', () => {
  assert.equal(applyProximityPatch(DEFAULT_PROXIMITY_SETTINGS, { radiusMeters: 1.5 }).radiusMeters, 1.5);
  assert.throws(() => applyProximityPatch(DEFAULT_PROXIMITY_SETTINGS, { maxWindowDays: 1.5 }), /whole number/);
  assert.deepEqual(parseProximitySettings('{"radiusMeters": 99, "minMinutes": 5}'), { ...DEFAULT_PROXIMITY_SETTINGS, minMinutes: 5 });
  assert.deepEqual(parseProximitySettings('not json'), DEFAULT_PROXIMITY_SETTINGS);
});

test('CSV and HTML exports escape what the org typed (zone names)', () => {
  const report: CaseReport = {
    id: 'c1', orgId: 'o1', createdAt: '2024-03-04T10:00:00.000Z', createdBy: 'user:u1', purpose: 'Check <b>17</b>',
    subject: { kind: 'device', devices: ['d'.repeat(32)] }, from: '2024-03-04T08:00:00.000Z', to: '2024-03-04T18:00:00.000Z',
    thresholds: { radiusMeters: 2, minMinutes: 15, accuracyWidening: 0.15, maxWideningMeters: 1, coPresence: true, encounters: true, encounterMinRssiDbm: null },
    contacts: [{ rank: 1, device: 'e'.repeat(32), personId: null, firstContact: '2024-03-04T09:00:00.000Z', lastContact: '2024-03-04T09:30:00.000Z', cumulativeMinutes: 30, cumulativeSeconds: 1800, closestMeters: 1.1, zones: [{ zoneId: 'z', name: '=HYPERLINK("x")<script>', minutes: 30 }], evidence: ['proximity'] }],
    secondDegree: null, elapsedMs: 3,
  };
  const csv = caseCsv(report);
  assert.ok(csv.includes(`"'=HYPERLINK(""x"")<script> (30 min)"`), csv);
  const html = caseHtml(report);
  assert.ok(!html.includes('<script>') && html.includes('&lt;script&gt;') && html.includes('Check &lt;b&gt;17&lt;/b&gt;'));
});
