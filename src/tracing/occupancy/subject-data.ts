/**
 * Hot-zone alerts and outgoing messages for data-subject requests (R-PRIV-4). An alert names the
 * devices in the zone only when the org turned identities on, as an encrypted list of pseudonyms;
 * a queued or sent message may carry such a list in its encrypted payload. The subject sees the
 * alerts that counted their devices (not the others in them); erasure takes their pseudonyms out
 * of both, leaving the counts as they were.
 */
import { toIso } from '../../kernel/clock.ts';
import type { Core, SubjectDataHandler } from '../../privacy/index.ts';
import { SubjectDataRepo } from '../../storage/index.ts';

const PAGE = 500;

/** Handlers for `occupancy_alerts` identities and `delivery_queue` payloads; registered by the occupancy wiring. */
export function occupancySubjectHandlers(core: Core): SubjectDataHandler[] {
  const k = core.keys;
  return [
    {
      id: 'tracing.alerts',
      dataClass: 'location',
      info: { purpose: 'Hot-zone alerts: telling the organisation when a zone is more crowded than it set (identities only if it turned them on).', categories: ['device pseudonym', 'zone', 'time'], source: 'Derived from live presence', recipients: 'The organisation\'s administrators and the channels they configured (webhooks, e-mail)' },
      async export(x, s, o) {
        const rows: (string | number)[][] = [];
        for (const a of await new SubjectDataRepo(x).alertIdentities(s.orgId)) {
          if (a.at_ms < o.sinceMs) continue;
          const devices = JSON.parse(await k.decrypt(x, s.orgId, 'occupancy_alerts.identities', a.identities_enc)) as string[];
          for (const d of devices) if (s.devices.has(d)) rows.push([a.id, toIso(a.at_ms), a.zone_id, a.kind, d]);
        }
        return { columns: ['alert', 'at', 'zone_id', 'kind', 'device'], rows };
      },
      async erase(x, s) {
        const repo = new SubjectDataRepo(x);
        let n = 0;
        for (const a of await repo.alertIdentities(s.orgId)) {
          const devices = JSON.parse(await k.decrypt(x, s.orgId, 'occupancy_alerts.identities', a.identities_enc)) as string[];
          const kept = devices.filter((d) => !s.devices.has(d));
          if (kept.length === devices.length) continue;
          await repo.setAlertIdentities(s.orgId, a.id, await k.encrypt(x, s.orgId, 'occupancy_alerts.identities', JSON.stringify(kept)));
          n++;
        }
        return n;
      },
    },
    {
      id: 'tracing.deliveries',
      dataClass: 'location',
      info: { purpose: 'Delivering alerts and notices to the channels the organisation configured.', categories: ['the alert or notice as sent'], source: 'Cairn\'s alerts and notices', recipients: 'The channels the organisation configured' },
      async erase(x, s) {
        if (s.devices.size === 0 && s.people.size === 0) return 0;
        const repo = new SubjectDataRepo(x);
        const needles = [...s.devices, ...s.people];
        let n = 0;
        for (let after = ''; ; ) {
          const page = await repo.deliveryPayloads(s.orgId, after, PAGE);
          for (const m of page) {
            const text = await k.decrypt(x, s.orgId, 'delivery_queue.payload', m.payload_enc);
            let out = text;
            for (const needle of needles) out = out.split(needle).join('[erased]');
            if (out === text) continue;
            await repo.setDeliveryPayload(s.orgId, m.id, await k.encrypt(x, s.orgId, 'delivery_queue.payload', out));
            n++;
          }
          if (page.length < PAGE) break;
          after = page[page.length - 1]!.id;
        }
        return n;
      },
    },
  ];
}
