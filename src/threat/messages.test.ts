/** The threat module's words: every reason code has Dutch, languages are negotiated, errors localised. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { CairnError } from '../kernel/errors.ts';
import { localiseError, localiseReasons, negotiateLang, reasonMessage, REASONS_NL, threatError, THREAT_ERRORS } from './messages.ts';

const here = new URL('./', import.meta.url);

/** Reason codes written in the sources: `code: 'X'`, `add('X'`, `code = "X"` in the bundled rules. */
function emittedCodes(): Set<string> {
  const codes = new Set<string>();
  const scan = (dir: URL, re: RegExp[]) => {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.test.ts') || f === 'testkit.ts' || f.startsWith('_')) continue;
      if (!/\.(ts|yar)$/.test(f)) continue;
      const src = readFileSync(new URL(f, dir), 'utf8');
      for (const r of re) for (const m of src.matchAll(r)) codes.add(m[1]!);
    }
  };
  scan(new URL('files/', here), [/\bcode: '([A-Z][A-Z0-9_]+)'/g, /\badd\('([A-Z][A-Z0-9_]+)'/g]);
  scan(new URL('rules/', here), [/\bcode = "([A-Z][A-Z0-9_]+)"/g]);
  scan(here, [/\b'((?:BLOCK|ALLOW)_LIST(?:_[A-Z]+)?|NOT_ANALYZED)'/g]);
  return codes;
}

test('every reason code the pipeline, the bundled rules and the service emit has a Dutch message', () => {
  const codes = emittedCodes();
  assert.ok(codes.size > 80, `found ${codes.size} codes`);
  const missing = [...codes].filter((c) => !(c in REASONS_NL));
  assert.deepEqual(missing, []);
});

test('Dutch messages keep language-neutral detail and drop English rule descriptions', () => {
  assert.equal(reasonMessage({ analyzer: 'pe', code: 'PE_INJECTION_APIS', message: 'Imports process-injection APIs: VirtualAllocEx, WriteProcessMemory.' }, 'nl'), "Importeert API's voor procesinjectie: VirtualAllocEx, WriteProcessMemory.");
  assert.equal(reasonMessage({ analyzer: 'yara', code: 'PE_PACKER', message: 'Rule PE_Packer_UPX: PE packed with UPX (UPX0/UPX1 sections)' }, 'nl'), 'Ingepakt door een packer.');
  assert.equal(reasonMessage({ analyzer: 'clamav', code: 'CLAMAV_FOUND', message: 'ClamAV signature Win.Test.EICAR_HDB-1.' }, 'nl'), 'ClamAV-signatuur Win.Test.EICAR_HDB-1.');
  assert.equal(reasonMessage({ analyzer: 'yara', code: 'ORG_RULE_X', message: 'Organisation rule X: our own rule' }, 'nl'), 'YARA-regel: X: our own rule');
  assert.equal(reasonMessage({ analyzer: 'pe', code: 'PE_OVERLAY', message: 'English stays English.' }, 'en'), 'English stays English.');
  const v = { reasons: [{ analyzer: 'classify' as const, code: 'EICAR', score: 10, message: 'EICAR anti-virus test file.' }] };
  assert.equal(localiseReasons(v, 'nl').reasons[0]!.message, 'EICAR-antivirustestbestand.');
  assert.equal(v.reasons[0]!.message, 'EICAR anti-virus test file.', 'the input is not changed');
});

test('the language comes from ?lang, else Accept-Language by preference, else English', () => {
  assert.equal(negotiateLang('nl', 'en'), 'nl');
  assert.equal(negotiateLang(undefined, 'nl-BE,nl;q=0.9,en;q=0.8'), 'nl');
  assert.equal(negotiateLang(undefined, 'de-DE, en;q=0.7, nl;q=0.8'), 'nl');
  assert.equal(negotiateLang(undefined, 'fr, de'), 'en');
  assert.equal(negotiateLang('fr', undefined), 'en');
  assert.equal(negotiateLang(undefined, 'nl;q=0, en'), 'en');
});

test('module errors and common codes have Dutch messages; code and details stay', () => {
  for (const [k, m] of Object.entries(THREAT_ERRORS) as [string, { en: string; nl: string }][]) assert.ok(m.en && m.nl && m.en !== m.nl, k);
  const e = threatError('CAIRN_ERR_FILE_TOO_LARGE', 'fileTooLarge', { limit: 1024 }, { limitBytes: 1024 });
  assert.equal(e.message, 'The file is larger than the analysis limit of 1024 bytes.');
  const nl = localiseError(e, 'nl');
  assert.deepEqual([nl.code, nl.message, nl.details], ['CAIRN_ERR_FILE_TOO_LARGE', 'Het bestand is groter dan de analysegrens van 1024 bytes.', { limitBytes: 1024 }]);
  assert.equal(localiseError(new CairnError('CAIRN_ERR_NOT_FOUND'), 'nl').message, 'Niet gevonden of geen toegang.');
  assert.equal(localiseError(new CairnError('CAIRN_ERR_VALIDATION', 'body/kind must be equal to one of the allowed values'), 'nl').message, 'Het verzoek is niet geldig. (body/kind must be equal to one of the allowed values)');
  assert.equal(localiseError(e, 'en'), e);
});
