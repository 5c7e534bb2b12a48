/**
 * Notices to exposed people for data-subject requests (R-PRIV-4): the notices a person of the
 * org's directory got or would get (when, where, how long, the text, when it was queued), and
 * their devices among the unlinked contacts listed in a batch. Erasure deletes the person's
 * notices and sends and takes their devices out of the unlinked lists. The person's notice
 * language goes with the person (foreign key), which the people directory's handler erases.
 */
import { toIso } from '../../kernel/clock.ts';
import type { Core, SubjectDataHandler } from '../../privacy/index.ts';
import { NotifyRepo } from '../../storage/index.ts';
import { NOTICE_FIELDS } from './service.ts';

const PAGE = 500;

/** The handler for `notice_recipients`, `notice_sends` and the batches' unlinked lists; registered by the notify wiring. */
export function noticeSubjectHandlers(core: Core): SubjectDataHandler[] {
  const k = core.keys;
  return [
    {
      id: 'tracing.notices',
      dataClass: 'location',
      info: {
        purpose: 'Telling people that one of their devices was in close contact (when, where and for how long), after a contact trace the organisation ran.',
        categories: ['person record id', 'time, place and duration of the contact', 'the notice text', 'when it was sent'],
        source: 'Derived from a case report and the organisation\'s people directory',
        recipients: 'The person themself, through the channel the organisation chose (its e-mail server or webhook); the organisation\'s administrators',
      },
      async export(x, s, o) {
        const repo = new NotifyRepo(x);
        const rows: (string | number | null)[][] = [];
        for (const r of await repo.recipientsOfPeople(s.orgId, [...s.people])) {
          const n = JSON.parse(await k.decrypt(x, s.orgId, NOTICE_FIELDS.notice, r.notice_enc)) as { firstMs: number; lastMs: number; minutes: number; subject: string; text: string };
          if (n.lastMs < o.sinceMs) continue;
          const sent = (await repo.sendsOf(s.orgId, r.batch_id)).filter((x2) => x2.person_id === r.person_id).map((x2) => toIso(x2.queued_at));
          rows.push([r.batch_id, r.person_id, r.language, toIso(n.firstMs), toIso(n.lastMs), Math.round(n.minutes), n.subject, n.text, sent.join(' ')]);
        }
        return { columns: ['notice', 'person', 'language', 'first_contact', 'last_contact', 'minutes', 'subject', 'text', 'queued'], rows };
      },
      async erase(x, s) {
        const repo = new NotifyRepo(x);
        let n = await repo.deletePeople(s.orgId, [...s.people]);
        if (s.devices.size === 0) return n;
        for (let after = ''; ; ) {
          const page = await repo.batchesAfter(s.orgId, after, PAGE);
          for (const b of page) {
            const list = JSON.parse(await k.decrypt(x, s.orgId, NOTICE_FIELDS.unlinked, b.unlinked_enc)) as { device: string }[];
            const kept = list.filter((c) => !s.devices.has(c.device));
            if (kept.length === list.length) continue;
            await repo.setUnlinked(s.orgId, b.id, await k.encrypt(x, s.orgId, NOTICE_FIELDS.unlinked, JSON.stringify(kept)));
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
