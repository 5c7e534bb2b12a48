/**
 * Device records (R-DATA-1/2) for data-subject requests (R-PRIV-4): a subject's devices are found
 * by pseudonym or, for a username, by decrypting the org's device usernames (there is no keyed
 * index of them); a device record tells the subject's usernames and IP addresses to the other
 * handlers (threat metadata, TLS handshakes are found by them). Exported decrypted; erased by
 * deleting the rows.
 */
import { toIso } from '../kernel/clock.ts';
import type { Core, SubjectDataHandler } from '../privacy/index.ts';
import { SubjectDataRepo } from '../storage/index.ts';

const PAGE = 1000;

/** The handler of table `devices`; registered by DeviceService at start. */
export function deviceSubjectHandler(core: Core): SubjectDataHandler {
  const k = core.keys;
  return {
    id: 'devices.records',
    dataClass: 'device',
    info: { purpose: 'Operating the organisation\'s Wi-Fi and wired network (which device, when, where roughly).', categories: ['device pseudonym', 'device kind', 'first and last seen', 'site', 'IP address', 'username', 'hostname'], source: 'The organisation\'s access points, switches and sensors', recipients: 'The organisation\'s network administrators; Cairn\'s operator only under a support grant' },
    async expand(x, s) {
      const repo = new SubjectDataRepo(x);
      if (s.usernames.size > 0) {
        for (let after = ''; ; ) {
          const page = await repo.devicesWithUsername(s.orgId, after, PAGE);
          for (const d of page) if (s.usernames.has((await k.decrypt(x, s.orgId, 'devices.username', d.username_enc)).trim().toLowerCase())) s.devices.add(d.pseudonym);
          if (page.length < PAGE) break;
          after = page[page.length - 1]!.pseudonym;
        }
      }
      for (const d of await repo.devices(s.orgId, [...s.devices])) {
        const u = await k.decryptOptional(x, s.orgId, 'devices.username', d.username_enc);
        if (u) s.usernames.add(u.trim().toLowerCase());
        const ip = await k.decryptOptional(x, s.orgId, 'devices.ip', d.ip_enc);
        if (ip) s.ips.add(ip.trim());
      }
    },
    async export(x, s, o) {
      const rows: (string | number | boolean | null)[][] = [];
      for (const d of await new SubjectDataRepo(x).devices(s.orgId, [...s.devices])) {
        if (d.last_seen < o.sinceMs) continue;
        rows.push([d.pseudonym, d.kind, d.randomized === 1, d.site_id, toIso(d.first_seen), toIso(d.last_seen), await k.decryptOptional(x, s.orgId, 'devices.ip', d.ip_enc), await k.decryptOptional(x, s.orgId, 'devices.username', d.username_enc), await k.decryptOptional(x, s.orgId, 'devices.hostname', d.hostname_enc)]);
      }
      return { columns: ['device', 'kind', 'randomized_mac', 'site_id', 'first_seen', 'last_seen', 'ip', 'username', 'hostname'], rows };
    },
    erase: (x, s) => new SubjectDataRepo(x).deleteDevices(s.orgId, [...s.devices]),
  };
}
