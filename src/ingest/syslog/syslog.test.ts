/** RFC 3164 / RFC 5424 line parsing, timestamps and years, refusals; hostapd events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CairnError } from '../../kernel/errors.ts';
import { parseSyslogAssociation } from './associations.ts';
import { parseHostapdMessage } from './hostapd.ts';
import { parseSyslogLine } from './syslog.ts';

const REF = Date.UTC(2024, 2, 10, 12, 0, 0);

function malformed(line: string, why: string): void {
  assert.throws(() => parseSyslogLine(line, { referenceMs: REF }), (e: unknown) => e instanceof CairnError && e.code === 'CAIRN_ERR_SYSLOG_MALFORMED' && e.details?.['reason'] === why, line);
}

test('RFC 3164: PRI, timestamp, hostname, tag with pid, message', () => {
  assert.deepEqual(parseSyslogLine("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8", { referenceMs: Date.UTC(2023, 9, 12) }), {
    format: 'rfc3164',
    facility: 4,
    severity: 2,
    atMs: Date.UTC(2023, 9, 11, 22, 14, 15),
    receivedTime: false,
    timestampText: 'Oct 11 22:14:15',
    hostname: 'mymachine',
    appName: 'su',
    procId: '230',
    msg: "'su root' failed for lonvick on /dev/pts/8",
  });
});

test('RFC 3164: the year is the one nearest the receive time; the zone comes from tzOffsetMinutes', () => {
  assert.equal(parseSyslogLine('Dec 31 23:59:59 h app: x', { referenceMs: Date.UTC(2024, 0, 1, 0, 0, 5) }).atMs, Date.UTC(2023, 11, 31, 23, 59, 59));
  assert.equal(parseSyslogLine('Jan  1 00:00:01 h app: x', { referenceMs: Date.UTC(2023, 11, 31, 23, 59, 0) }).atMs, Date.UTC(2024, 0, 1, 0, 0, 1));
  assert.equal(parseSyslogLine('Mar 10 13:00:00 h app: x', { referenceMs: REF, tzOffsetMinutes: 60 }).atMs, Date.UTC(2024, 2, 10, 12, 0, 0));
});

test('RFC 3164 variants: fractions, a year before or after the time, ISO timestamps, no hostname, logread', () => {
  const frac = parseSyslogLine('Mar  5 12:47:39.915 ap1 hostapd: wlan0: AP-STA-CONNECTED 11:22:33:44:55:66', { referenceMs: REF });
  assert.equal(frac.atMs, Date.UTC(2024, 2, 5, 12, 47, 39, 915));
  assert.equal(frac.hostname, 'ap1');
  const after = parseSyslogLine('Jul 28 16:08:56 2020 7200-NH-L1 authmgr[4134]: hi', { referenceMs: REF });
  assert.equal(after.atMs, Date.UTC(2020, 6, 28, 16, 8, 56));
  assert.equal(after.hostname, '7200-NH-L1');
  const noHost = parseSyslogLine('Jul 28 16:08:56 2020 stm[1787]: hi', { referenceMs: REF });
  assert.equal(noHost.hostname, undefined);
  assert.equal(noHost.appName, 'stm');
  const before = parseSyslogLine('<13>Mar  1 2021 12:00:00 sw1 app: x', { referenceMs: REF });
  assert.equal(before.atMs, Date.UTC(2021, 2, 1, 12, 0, 0));
  const iso = parseSyslogLine('<13>2024-03-01T09:15:30.123+01:00 host app: x', { referenceMs: REF });
  assert.equal(iso.atMs, Date.UTC(2024, 2, 1, 8, 15, 30, 123));
  const logread = parseSyslogLine('Sun Mar 10 11:59:00 2024 daemon.notice hostapd: phy0-ap0: AP-STA-DISCONNECTED 11:22:33:44:55:66', { referenceMs: REF });
  assert.equal(logread.hostname, undefined);
  assert.equal(logread.appName, 'hostapd');
  assert.equal(logread.msg, 'phy0-ap0: AP-STA-DISCONNECTED 11:22:33:44:55:66');
  const bare = parseSyslogLine('<13>just some text', { referenceMs: REF });
  assert.equal(bare.receivedTime, true);
  assert.equal(bare.atMs, REF);
  assert.equal(bare.msg, 'just some text');
});

test('RFC 5424: header fields, NILVALUE, structured data with escapes, BOM', () => {
  const m = parseSyslogLine('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appli\\"cation\\]" eventID="1011"][examplePriority@32473 class="high"] \uFEFFAn application event log entry...\r\n');
  assert.deepEqual(m, {
    format: 'rfc5424',
    facility: 20,
    severity: 5,
    atMs: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
    receivedTime: false,
    timestampText: '2003-10-11T22:14:15.003Z',
    hostname: 'mymachine.example.com',
    appName: 'evntslog',
    msgId: 'ID47',
    structuredData: [
      { id: 'exampleSDID@32473', params: [['iut', '3'], ['eventSource', 'Appli"cation]'], ['eventID', '1011']] },
      { id: 'examplePriority@32473', params: [['class', 'high']] },
    ],
    msg: 'An application event log entry...',
  });
  const nil = parseSyslogLine('<34>1 - - - - - -', { referenceMs: REF });
  assert.equal(nil.receivedTime, true);
  assert.equal(nil.hostname, undefined);
  assert.equal(nil.msg, '');
  const offset = parseSyslogLine('<34>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.');
  assert.equal(offset.atMs, Date.UTC(2003, 7, 24, 12, 14, 15, 0));
  assert.equal(offset.procId, '8710');
});

test('garbage and broken headers are refused with a reason', () => {
  malformed('', 'bad_line');
  malformed('\r\n', 'bad_line');
  malformed('hello world', 'bad_timestamp');
  malformed('<999>Oct 11 22:14:15 h a: x', 'bad_pri');
  malformed('<12Oct 11 22:14:15 h a: x', 'bad_pri');
  malformed('<>x', 'bad_pri');
  malformed('Oct 41 22:14:15 h a: x', 'bad_timestamp');
  malformed('Oct 11 25:14:15 h a: x', 'bad_timestamp');
  malformed('<34>1 2003-10-11 22:14:15Z h a - - -', 'bad_timestamp');
  malformed('<34>1 2003-10-11T22:14:15 h a - - -', 'bad_timestamp');
  malformed('<34>1 2003-10-11T22:14:15Z h a - - [x a="1"', 'bad_structured_data');
  malformed('<34>1 2003-10-11T22:14:15Z h a - - [x a=1]', 'bad_structured_data');
  malformed('<34>1 2003-10-11T22:14:15Z h a - - oops', 'bad_structured_data');
  malformed('<34>1 2003-10-11T22:14:15Z h', 'bad_header');
  malformed('<34>1 2003-10-11T22:14:15Z h\u0001st a - - -', 'bad_header');
  malformed(`<34>Oct 11 22:14:15 ${'h'.repeat(20_000)}`, 'line_too_long');
});

test('hostapd: AP-STA-CONNECTED / DISCONNECTED and IEEE 802.11 lines become associations keyed by the logging host', () => {
  assert.deepEqual(parseHostapdMessage('wlan0: AP-STA-CONNECTED 11:22:33:44:55:66 auth_alg=open'), { eventId: 'AP-STA-CONNECTED', type: 'associate', mac: '11:22:33:44:55:66', iface: 'wlan0' });
  assert.equal(parseHostapdMessage('wlan1: STA 11:22:33:44:55:66 IEEE 802.11: deauthenticated due to local deauth request')?.type, 'disassociate');
  assert.equal(parseHostapdMessage('wlan1: STA 11:22:33:44:55:66 WPA: pairwise key handshake completed (RSN)'), undefined);
  const a = parseSyslogAssociation('<30>Mar 10 11:58:00 office-ap hostapd: wlan0: AP-STA-CONNECTED 12:22:33:44:55:66', { referenceMs: REF });
  assert.deepEqual(a, {
    source: 'syslog',
    type: 'associate',
    deviceId: '12:22:33:44:55:66',
    idType: 'mac',
    randomized: true,
    apKey: 'office-ap',
    atMs: Date.UTC(2024, 2, 10, 11, 58, 0),
    eventId: 'AP-STA-CONNECTED',
  });
  const d = parseSyslogAssociation('Sun Mar 10 11:59:00 2024 daemon.notice hostapd: phy0-ap0: AP-STA-DISCONNECTED 11:22:33:44:55:66', { referenceMs: REF });
  assert.equal(d?.type, 'disassociate');
  assert.equal(d?.apKey, 'phy0-ap0');
  assert.equal(parseSyslogAssociation('<30>Mar 10 11:58:00 ap dnsmasq[1]: AP-STA-CONNECTED 11:22:33:44:55:66', { referenceMs: REF }), undefined);
  assert.throws(() => parseSyslogAssociation('<30>Mar 10 11:58:00 ap hostapd: wlan0: AP-STA-CONNECTED 11:22:33', { referenceMs: REF }), CairnError);
});
