/** Fuzz: syslog lines (Aruba, hostapd, RFC 5424) and the framer, fixed seeds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzAdapter, mutateText, prng } from '../fuzz.ts';
import { readFormat } from '../testdata.ts';
import { parseSyslogAssociation } from './associations.ts';
import { SyslogFramer } from './framing.ts';

const SEEDS = [
  ...readFormat('aruba-syslog-examples.log').split('\n').filter(Boolean),
  '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appli\\"cation\\]"] \uFEFFmsg',
  '<30>Mar 10 11:58:00 office-ap hostapd: wlan0: AP-STA-CONNECTED 12:22:33:44:55:66 auth_alg=open',
  'Sun Mar 10 11:59:00 2024 daemon.notice hostapd: phy0-ap0: STA 11:22:33:44:55:66 IEEE 802.11: disassociated',
  'Jun  3 01:02:32 ctl stm[1]: <501044> <NOTI> <ctl 10.1.1.1>  Station 20:f8:5e:f4:44:0d: No authentication found trying to de-authenticate to BSSID 40:e3:d6:e3:74:61 on AP ap7',
];

test('fuzz: mutated syslog lines give an association, nothing, or a CairnError, quickly', () => {
  const r = fuzzAdapter({
    seed: 31,
    iterations: 6000,
    seeds: SEEDS,
    json: false,
    run: (line) => parseSyslogAssociation(line, { referenceMs: Date.UTC(2024, 2, 10), collect: ['ip', 'username', 'ssid'] }),
  });
  assert.ok(r.accepted > 500 && r.rejected > 100, JSON.stringify(r));
});

test('fuzz: the framer survives random bytes and mutated streams without throwing', () => {
  const rnd = prng(32);
  const f = new SyslogFramer({ maxFrameBytes: 4096 });
  for (let i = 0; i < 3000; i++) {
    const base = SEEDS[Math.floor(rnd() * SEEDS.length)]!;
    const text = rnd() < 0.5 ? `${Buffer.byteLength(base)} ${base}` : `${base}\n`;
    const chunk = rnd() < 0.2 ? Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256))) : Buffer.from(mutateText(text, rnd).slice(0, 20_000));
    for (const frame of f.push(chunk)) assert.equal(typeof frame, 'string');
  }
  f.end();
});
