/** Aruba syslog: fields against the elastic-wifitrace reference output, association coding as WiFiTrace does it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { readFormat } from '../testdata.ts';
import { ARUBA_ASSOCIATION_IDS, ARUBA_DISASSOCIATION_IDS, arubaGrokFields, parseArubaMessage } from './aruba.ts';
import { parseSyslogAssociation } from './associations.ts';
import { parseSyslogLine } from './syslog.ts';

interface Example {
  line: string;
  source_line: number;
  msg_code: string;
  output_as_commented: Record<string, string>;
  output_matches_line: boolean;
}

const EXAMPLES = JSON.parse(readFormat('aruba-syslog-examples.expected.json')) as Example[];
const REF = Date.UTC(2020, 6, 1);

function grok(line: string): Record<string, string> {
  const sys = parseSyslogLine(line, { referenceMs: REF });
  const m = parseArubaMessage(sys.msg);
  assert.ok(m, line);
  return arubaGrokFields(sys, m);
}

/**
 * Where the reference output (grok results pasted under each example in elastic-wifitrace) is
 * itself wrong for its line, and what the line really says. Every other field must match.
 */
const REFERENCE_ERRATA: Record<number, (expected: Record<string, string>) => void> = {
  // 501093 "Auth success" has no reason text; the pasted `message` belongs to the 501102 example.
  190: (x) => { delete x['message']; },
  // 501095 likewise: no reason text in the line.
  222: (x) => { delete x['message']; },
  // The line ends "-MAIN-106-1"; the reference grok captured an empty AP name.
  256: (x) => { x['ap_name'] = 'MAIN-106-1'; },
};

test('Aruba examples: fields match the reference grok output for every line it belongs to', () => {
  const usable = EXAMPLES.filter((e) => e.output_matches_line);
  assert.equal(usable.length, 7);
  for (const e of usable) {
    const expected = { ...e.output_as_commented };
    REFERENCE_ERRATA[e.source_line]?.(expected);
    assert.deepEqual(grok(e.line), expected, `source line ${e.source_line} (${e.msg_code})`);
  }
});

test('Aruba examples whose reference output belongs elsewhere still parse to what the line says', () => {
  const byLine = new Map(EXAMPLES.map((e) => [e.source_line, e.line]));
  const ageout = grok(byLine.get(155)!);
  assert.equal(ageout['msg_code'], '501106');
  assert.equal(ageout['message'], 'wifi_deauth_sta');
  assert.equal(ageout['name'], 'ANIM-115-1');
  // Clear-text Instant-AP line with the copy-paste artefact "10.0.6.106More Information" as AP address, and no hostname.
  const clear = grok(byLine.get(323)!);
  assert.equal(clear['timestamp'], 'Jul 28 16:08:56 2020');
  assert.equal(clear['source_name'], undefined);
  assert.equal(clear['process'], 'stm');
  assert.equal(clear['mac'], '20:f8:5e:f4:44:0d');
  assert.equal(clear['ap_bssid'], '40:e3:d6:e3:74:61');
  assert.equal(clear['ap_name'], 'ap01hilli-2-cmn.itha.ny');
  assert.equal(clear['message'], 'Reason STA has left and is deauthenticated');
  const auth = grok(byLine.get(355)!);
  assert.equal(auth['source_name'], '7200-NH-L1');
  assert.equal(auth['user_name'], 'abcd');
  assert.equal(auth['ap_name'], 'NH4ParkingGarageStorage_AP2');
  assert.equal(auth['auth_server'], 'na-boxster-nh.quinnipiac.edu');
});

test('every example becomes the association event WiFiTrace would code it as', () => {
  const ids = JSON.parse(readFormat('aruba-message-ids.json')) as { association_message_ids: number[]; disassociation_message_ids: number[] };
  assert.deepEqual([...ARUBA_ASSOCIATION_IDS].sort(), [...ids.association_message_ids].sort());
  assert.deepEqual([...ARUBA_DISASSOCIATION_IDS].sort(), [...ids.disassociation_message_ids].sort());
  const got = EXAMPLES.map((e) => parseSyslogAssociation(e.line, { referenceMs: REF }));
  assert.deepEqual(got.map((a) => a?.type), ['disassociate', 'disassociate', 'associate', 'associate', 'associate', 'disassociate', 'disassociate', 'associate', 'disassociate', 'associate']);
  assert.deepEqual(got[4], {
    source: 'syslog',
    type: 'associate',
    deviceId: '.gwVFvOEEegdm2bB1k608w',
    idType: 'hashed',
    randomized: false,
    apKey: 'MAIN-106-1',
    apName: 'MAIN-106-1',
    atMs: Date.UTC(2020, 5, 3, 1, 2, 31),
    eventId: '501100',
  });
  // The clear-text line: a real MAC, normalised, and the BSSID as apMac.
  assert.equal(got[6]?.deviceId, '20:f8:5e:f4:44:0d');
  assert.equal(got[6]?.idType, 'mac');
  assert.equal(got[6]?.apMac, '40:e3:d6:e3:74:61');
  assert.equal(got[6]?.atMs, Date.UTC(2020, 6, 28, 16, 8, 56));
});

test('user authentication (522008) copies IP, user name and SSID only when collected', () => {
  const line = EXAMPLES.find((e) => e.source_line === 355)!.line;
  const plain = parseSyslogAssociation(line, { referenceMs: REF });
  assert.equal(plain?.ip, undefined);
  assert.equal(plain?.username, undefined);
  const full = parseSyslogAssociation(line, { referenceMs: REF, collect: ['ip', 'username', 'ssid'] });
  assert.equal(full?.ip, '10.13.17.26');
  assert.equal(full?.username, 'abcd');
  assert.equal(full?.ssid, 'BobcatNet');
});

test('other Aruba ids and non-Aruba lines are not associations; a broken association line is refused', () => {
  assert.equal(parseSyslogAssociation('Jun  3 01:02:32 ctl stm[1]: <501117> <NOTI> |AP x@1.2.3.4 stm|  Probe: 20:f8:5e:f4:44:0d: AP 1.2.3.4-40:e3:d6:e3:74:61-ap1', { referenceMs: REF }), undefined);
  assert.equal(parseSyslogAssociation('Jun  3 01:02:32 ctl sshd[22]: Accepted publickey for admin', { referenceMs: REF }), undefined);
  assert.equal(parseArubaMessage('hello'), undefined);
  assert.throws(
    () => parseSyslogAssociation('Jun  3 01:02:32 ctl stm[1]: <501100> <NOTI> |AP x@1.2.3.4 stm|  Assoc success', { referenceMs: REF }),
    (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_SYSLOG_MALFORMED' && e.details?.['reason'] === 'bad_message',
  );
  assert.throws(
    () => parseSyslogAssociation('Jun  3 01:02:32 ctl stm[1]: <501100> <NOTI> |AP x@1.2.3.4 stm|  Assoc success: 20:f8:5e:f4:44: AP 1.2.3.4-40:e3:d6:e3:74:61-ap1', { referenceMs: REF }),
    (e: unknown) => e instanceof CairnError && e.details?.['reason'] === 'bad_message' && !e.message.includes('20:f8'),
  );
});

test('501044 (no authentication found) names the station, BSSID and AP', () => {
  const a = parseSyslogAssociation('Jun  3 01:02:32 ctl stm[1]: <501044> <NOTI> <ctl 10.1.1.1>  Station 20:f8:5e:f4:44:0d: No authentication found trying to de-authenticate to BSSID 40:e3:d6:e3:74:61 on AP ap7', { referenceMs: REF });
  assert.equal(a?.type, 'disassociate');
  assert.equal(a?.apKey, 'ap7');
  assert.equal(a?.apMac, '40:e3:d6:e3:74:61');
});
