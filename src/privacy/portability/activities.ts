/**
 * What modules contribute to an org's records of processing (GDPR Art. 30): each registers its
 * processing activities at start-up (the privacy core imports no module). An activity says what it
 * is for, which data classes and categories of data and people it touches, where the data comes
 * from, and, from the org's actual settings, whether it is on, what exactly is collected and who
 * receives data (webhooks, mail servers). The records-of-processing service adds retention,
 * region, the controller's details and the legal basis the org chose.
 */
import type { Executor } from '../../storage/index.ts';

/** GDPR Art. 6(1) legal bases, (a) to (f). */
export const LEGAL_BASES = ['consent', 'contract', 'legal_obligation', 'vital_interests', 'public_task', 'legitimate_interests'] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

/** Who receives data of an activity. Never credentials or URL paths: a kind, a name and a host. */
export interface Recipient {
  /** `processor`, `webhook`, `email`, `smtp`, `imap`, `other`. */
  kind: string;
  name: string;
  /** Host (or origin) data goes to, when known. */
  host?: string | null;
  purpose: string;
}

/** An activity as the org's settings make it. */
export interface ActivityState {
  enabled: boolean;
  /** Categories of personal data actually collected under the org's settings (R-PRIV-1). */
  collected?: string[];
  /** Settings that shape the activity (safe values only: no secrets, no personal data). */
  settings?: Record<string, string | number | boolean | null | string[]>;
  recipients?: Recipient[];
  notes?: string[];
}

export interface ProcessingActivity {
  /** Stable id, `<module>.<what>`; the org's chosen legal basis is stored under it. */
  id: string;
  name: string;
  purpose: string;
  /** Retention data classes (R-DATA) of what it stores. */
  dataClasses: string[];
  /** Categories of personal data it may process (what `collected` narrows). */
  dataCategories: string[];
  subjectCategories: string[];
  source: string;
  /** The basis most controllers choose, shown as a hint until the org sets its own. */
  suggestedLegalBasis?: LegalBasis;
  /** Reads the org's settings: on or off, what is collected, recipients. */
  state(x: Executor, orgId: string): Promise<ActivityState>;
}

/** Every module's activities, in registration order (a re-registered id replaces the old one). */
export class ProcessingRegistry {
  private readonly activities: ProcessingActivity[] = [];

  /** @example core.activities.register({ id: 'location.tracking', name: 'Indoor location', … state: async (x, orgId) => ({ enabled: true }) }) */
  register(a: ProcessingActivity): void {
    if (!/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/.test(a.id)) throw new Error(`activity id ${a.id} must be <module>.<what>`);
    const i = this.activities.findIndex((x) => x.id === a.id);
    if (i >= 0) this.activities[i] = a;
    else this.activities.push(a);
  }

  list(): readonly ProcessingActivity[] {
    return this.activities;
  }

  get(id: string): ProcessingActivity | undefined {
    return this.activities.find((a) => a.id === id);
  }
}

/** The host of a URL, or null (never the path or query: they may carry tokens). */
export function hostOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host || null;
  } catch {
    return null;
  }
}
