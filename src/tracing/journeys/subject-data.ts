/**
 * Journeys and the people directory for data-subject requests (R-PRIV-4): zone visits of the
 * subject's devices (R-DATA-3), and the subject's entry in the people directory with its device
 * links (R-DATA-11). The directory is how an e-mail address leads to devices (and a device to its
 * person): its e-mail addresses are ciphertext, so the org's entries are decrypted to compare.
 * Correction rewrites name and e-mail; erasure deletes the person, their links and visits.
 */
import { toIso } from '../../kernel/clock.ts';
import type { Core, SubjectDataHandler } from '../../privacy/index.ts';
import { PeopleRepo, SubjectDataRepo } from '../../storage/index.ts';

const PAGE = 1000;
const RECIPIENTS = 'The organisation\'s administrators and privacy officers; Cairn\'s operator only under a support grant';

/** Handlers for `zone_visits` and `people`/`person_devices`; registered by the journeys wiring. */
export function journeySubjectHandlers(core: Core): SubjectDataHandler[] {
  const k = core.keys;
  return [
    {
      id: 'tracing.visits',
      dataClass: 'location',
      info: { purpose: 'Journeys: which zones a device visited, when and for how long (contact tracing).', categories: ['device pseudonym', 'zone', 'enter and exit time'], source: 'Derived from the fixes of the device', recipients: RECIPIENTS },
      async export(x, s, o) {
        const rows = await new SubjectDataRepo(x).visits(s.orgId, [...s.devices], o.sinceMs);
        return { columns: ['device', 'site_id', 'floor_id', 'zone_id', 'enter', 'last_seen', 'exit'], rows: rows.map((v) => [v.device, v.site_id, v.floor_id, v.zone_id, toIso(v.enter_ms), toIso(v.last_ms), v.exit_ms === null ? null : toIso(v.exit_ms)]) };
      },
      erase: (x, s) => new SubjectDataRepo(x).deleteVisits(s.orgId, [...s.devices]),
    },
    {
      id: 'tracing.people',
      dataClass: 'identity_links',
      info: { purpose: 'Linking devices to people, so that contact tracing can name whom to notify (only when the organisation keeps a people directory).', categories: ['the organisation\'s person id', 'name', 'e-mail address', 'linked device pseudonyms'], source: 'The organisation (its staff directory)', recipients: RECIPIENTS },
      async expand(x, s) {
        const repo = new PeopleRepo(x);
        if (s.emails.size > 0) {
          for (let after = ''; ; ) {
            const page = await repo.list(s.orgId, PAGE, after);
            for (const p of page) {
              const e = await k.decryptOptional(x, s.orgId, 'people.email', p.email_enc);
              if (e && s.emails.has(e.trim().toLowerCase())) s.people.add(p.id);
            }
            if (page.length < PAGE) break;
            after = page[page.length - 1]!.id;
          }
        }
        for (const o of await repo.owners(s.orgId, [...s.devices])) s.people.add(o.person_id);
        for (const id of s.people) {
          const p = await repo.get(s.orgId, id);
          if (!p) continue;
          s.tokens.add(p.ref_key);
          const e = await k.decryptOptional(x, s.orgId, 'people.email', p.email_enc);
          if (e) s.emails.add(e.trim().toLowerCase());
          for (const l of await repo.linksOf(s.orgId, id)) s.devices.add(l.device);
        }
      },
      async export(x, s) {
        const repo = new PeopleRepo(x);
        const rows: (string | number | null)[][] = [];
        for (const id of s.people) {
          const p = await repo.get(s.orgId, id);
          if (!p) continue;
          const links = await repo.linksOf(s.orgId, id);
          rows.push([p.id, await k.decrypt(x, s.orgId, 'people.ref', p.ref_enc), await k.decryptOptional(x, s.orgId, 'people.name', p.name_enc), await k.decryptOptional(x, s.orgId, 'people.email', p.email_enc), links.map((l) => `${l.kind}:${l.device}`).join(' '), toIso(p.created_at), toIso(p.updated_at)]);
        }
        return { columns: ['record', 'person_id', 'name', 'email', 'devices', 'created', 'updated'], rows };
      },
      async erase(x, s) {
        const repo = new PeopleRepo(x);
        let n = 0;
        for (const id of s.people) n += (await repo.linksOf(s.orgId, id)).length + (await repo.delete(s.orgId, id));
        return n;
      },
      async correct(x, s, c) {
        const repo = new PeopleRepo(x);
        let n = 0;
        for (const id of s.people) {
          const p = await repo.get(s.orgId, id);
          if (!p) continue;
          await repo.update({
            ...p,
            name_enc: c.name !== undefined ? await k.encrypt(x, s.orgId, 'people.name', c.name) : p.name_enc,
            email_enc: c.email !== undefined ? await k.encrypt(x, s.orgId, 'people.email', c.email) : p.email_enc,
            updated_at: core.clock.nowMs(),
          });
          n++;
        }
        return n;
      },
    },
  ];
}
