/**
 * Shapes of the e-mail side of threat analysis (R-ATP-5): what a message verdict says, the
 * per-org policy that turns a verdict into an action, and the limits that keep one message's
 * analysis bounded.
 *
 * Data classes: a message (envelope, headers, body, attachments) is R-DATA-10 personal data. A
 * verdict names attachments (R-DATA-10) and link domains; it is stored only encrypted.
 */
import type { FileVerdict, VerdictState } from '../files/index.ts';

/** What happens to a message of a given state. */
export type MailAction = 'quarantine' | 'deliver-with-warning' | 'pass';
export const MAIL_ACTIONS: readonly MailAction[] = ['quarantine', 'deliver-with-warning', 'pass'];

/** Languages of the subject tag and notices. */
export type MailLanguage = 'en' | 'nl';
export const MAIL_LANGUAGES: readonly MailLanguage[] = ['en', 'nl'];

/** Where a finding came from. */
export type MailFindingSource = 'attachment' | 'link' | 'mime' | 'limits';

/** One finding about a message. Scores are on the file verdict's 0-10 scale. */
export interface MailReason {
  source: MailFindingSource;
  /** Stable UPPER_SNAKE code: `ATTACHMENT_MALICIOUS`, `LINK_BLOCKED_DOMAIN`, `LINK_TEXT_MISMATCH`, ... */
  code: string;
  message: string;
  score: number;
  /** MIME position (`2`, `2/1` inside an embedded message). R-DATA-10 when it names a file. */
  part?: string;
  /** True when this finding says part of the message could not be inspected. */
  incomplete?: boolean;
}

/** One attachment (or embedded message) and its file verdict. */
export interface AttachmentReport {
  /** Position in the message: `1`, `2`, `3/1` (first attachment of the embedded message at 3). */
  part: string;
  /** R-DATA-10 personal: the attachment's file name as the sender gave it. */
  name: string | null;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  /** Type found by content (`pe-exe`, `docx`, `eicar`, `eml`). */
  subtype: string;
  score: number;
  state: VerdictState;
  /** Reason codes of the file verdict, strongest first (no messages, no paths). */
  codes: string[];
}

/** The verdict on one message (R-ATP-5). */
export interface MessageVerdict {
  /** 0-10, one decimal: the strongest finding, at least UNKNOWN_FLOOR when not fully inspected. */
  score: number;
  /** malicious ≥ 7, suspicious ≥ 4, unknown when incomplete, else clean. */
  state: VerdictState;
  complete: boolean;
  reasons: MailReason[];
  attachments: AttachmentReport[];
  /** Distinct link hosts found in text and HTML bodies (at most `maxLinks`). */
  linkHosts: string[];
  durationMs: number;
}

/** Bounds on one message's analysis. */
export interface MailLimits {
  /** Largest message analysed, in bytes (the relay refuses larger ones before this). */
  maxMessageBytes: number;
  /** Embedded messages opened inside each other. */
  maxDepth: number;
  /** MIME parts (all levels) before the message counts as malformed. */
  maxParts: number;
  /** Link URLs examined per message. */
  maxLinks: number;
  /** Wall-clock budget for the whole message, in milliseconds. */
  timeoutMs: number;
}

export const DEFAULT_MAIL_LIMITS: Readonly<MailLimits> = Object.freeze({
  maxMessageBytes: 25 * 1024 * 1024,
  maxDepth: 5,
  maxParts: 1000,
  maxLinks: 2000,
  timeoutMs: 60_000,
});

/** The per-org policy the relay and IMAP watcher apply. */
export interface MailPolicy {
  maliciousAction: MailAction;
  suspiciousAction: MailAction;
  language: MailLanguage;
}

/** The file verdict a scanner returns for one attachment (the file pipeline's own type). */
export type { FileVerdict, VerdictState };
