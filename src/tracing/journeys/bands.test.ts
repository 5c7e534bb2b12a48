/** Dwell bands and the CSV writer of journeys. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDwellBands, dwellBand, MIST_DWELL_BANDS } from './bands.ts';
import { csvCell, toCsv } from './csv.ts';

test('Mist\'s default bands: passerby ≤ 5 min, bounce ≤ 4 h, engaged ≤ 8 h, stationed beyond (bounds inclusive)', () => {
  const at = (s: number) => dwellBand(s, MIST_DWELL_BANDS);
  assert.deepEqual([at(0), at(300), at(301), at(4 * 3600), at(4 * 3600 + 1), at(8 * 3600), at(8 * 3600 + 1), at(30 * 86400)], ['passerby', 'passerby', 'bounce', 'bounce', 'engaged', 'engaged', 'stationed', 'stationed']);
});

test('an org\'s bands must be whole minutes within a week and strictly increasing', () => {
  assert.deepEqual(checkDwellBands({ passerbyMaxMinutes: 2, bounceMaxMinutes: 30, engagedMaxMinutes: 120 }), { passerbyMaxMinutes: 2, bounceMaxMinutes: 30, engagedMaxMinutes: 120 });
  for (const bad of [
    { passerbyMaxMinutes: 0, bounceMaxMinutes: 30, engagedMaxMinutes: 120 },
    { passerbyMaxMinutes: 5, bounceMaxMinutes: 5, engagedMaxMinutes: 120 },
    { passerbyMaxMinutes: 5, bounceMaxMinutes: 60, engagedMaxMinutes: 30 },
    { passerbyMaxMinutes: 1.5, bounceMaxMinutes: 60, engagedMaxMinutes: 90 },
    { passerbyMaxMinutes: 5, bounceMaxMinutes: 60, engagedMaxMinutes: 8 * 24 * 60 },
  ]) assert.throws(() => checkDwellBands(bad), { code: 'CAIRN_ERR_VALIDATION' }, JSON.stringify(bad));
});

test('CSV cells are quoted when needed and formula-looking text is defused', () => {
  assert.equal(csvCell('Lobby'), 'Lobby');
  assert.equal(csvCell('Cafe, east'), '"Cafe, east"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=HYPERLINK("x")'), '"\'=HYPERLINK(""x"")"');
  assert.equal(csvCell('-1'), "'-1");
  assert.equal(csvCell(-1), '-1');
  assert.equal(csvCell(null), '');
  assert.equal(toCsv(['a', 'b'], [[1, 'x\ny']]), 'a,b\r\n1,"x\ny"\r\n');
});
