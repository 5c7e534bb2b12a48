/**
 * Quarantined e-mail for data-subject requests (R-PRIV-4, R-DATA-10): messages addressed to one of
 * the subject's e-mail addresses (found by the recipient's keyed pseudonym) or sent by one (the
 * sender is ciphertext without an index, so the org's held messages are compared after
 * decryption). The archive lists sender, recipient, subject line, size and verdict state; the
 * message itself stays out of it (it may hold other people's data). Erasure deletes the messages.
 */
import { toIso } from '../../kernel/clock.ts';
import type { Core, Subject, SubjectDataHandler } from '../../privacy/index.ts';
import { SubjectDataRepo, type Executor, type QuarantineMeta } from '../../storage/index.ts';

const PAGE = 1000;

async function matching(core: Core, x: Executor, s: Subject): Promise<QuarantineMeta[]> {
  if (s.emails.size === 0) return [];
  const repo = new SubjectDataRepo(x);
  const recipients = await Promise.all([...s.emails].map((e) => core.keys.pseudonym(x, s.orgId, 'user', e)));
  const byId = new Map((await repo.quarantineOf(s.orgId, recipients)).map((m) => [m.id, m]));
  const sent: string[] = [];
  for (let after = ''; ; ) {
    const page = await repo.quarantineSenders(s.orgId, after, PAGE);
    for (const m of page) if (!byId.has(m.id) && s.emails.has((await core.keys.decrypt(x, s.orgId, 'email_quarantine.sender', m.sender_enc)).trim().toLowerCase())) sent.push(m.id);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.id;
  }
  for (const m of await repo.quarantineByIds(s.orgId, sent)) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.received_at - b.received_at);
}

/** The handler of `email_quarantine`; registered by EmailService at start. */
export function quarantineSubjectHandler(core: Core): SubjectDataHandler {
  return {
    id: 'threat.quarantine',
    dataClass: 'quarantine',
    info: { purpose: 'Holding e-mail that threat analysis found dangerous, until an administrator releases or deletes it.', categories: ['sender', 'recipient', 'subject line', 'message content and attachments', 'verdict'], source: 'The organisation\'s mail flow (SMTP relay or IMAP mailbox)', recipients: 'The organisation\'s administrators; the recipient for their own mail' },
    async export(x, s, o) {
      const k = core.keys;
      const rows: (string | number | null)[][] = [];
      for (const m of await matching(core, x, s)) {
        if (m.received_at < o.sinceMs) continue;
        rows.push([m.id, toIso(m.received_at), m.status, await k.decryptOptional(x, s.orgId, 'email_quarantine.sender', m.sender_enc), await k.decrypt(x, s.orgId, 'email_quarantine.recipient', m.recipient_enc), await k.decryptOptional(x, s.orgId, 'email_quarantine.subject', m.subject_enc), m.size_bytes, m.state, m.attachment_count]);
      }
      return { columns: ['message', 'received', 'status', 'sender', 'recipient', 'subject', 'size_bytes', 'verdict', 'attachments'], rows };
    },
    async erase(x, s) {
      return new SubjectDataRepo(x).deleteQuarantine(s.orgId, (await matching(core, x, s)).map((m) => m.id));
    },
  };
}
