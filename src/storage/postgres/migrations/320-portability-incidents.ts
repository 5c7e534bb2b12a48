/**
 * PostgreSQL migrations of records of processing and incidents (R-PRIV-8, GDPR Art. 30 and 33;
 * versions 320-329). Free text that may name people (an incident's description, the controller's
 * contacts, notes) is AES-256-GCM under the org data key; recipients of incident notices are user
 * ids, never addresses.
 */
import type { Migration } from '../../db.ts';

export const PORTABILITY_INCIDENT_MIGRATIONS_PG: Migration[] = [
  {
    version: 320,
    name: 'records of processing (controller details, legal bases) and incidents with their notices',
    sql: `
-- R-PRIV-8 personal-data breaches, retention class incidents (closed ones kept 2 years by default, GDPR Art.
-- 33(5)). details_enc: title, description, likely consequences and measures (org key, JSON).
-- deadline_at = detected_at + 72 h. created_by is an actor string (user:<id>), never an e-mail.
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('open', 'notified', 'closed')),
  detected_at BIGINT NOT NULL,
  occurred_at BIGINT,
  deadline_at BIGINT NOT NULL,
  data_classes TEXT NOT NULL,
  subject_categories TEXT NOT NULL,
  approx_subjects BIGINT,
  approx_records BIGINT,
  details_enc BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  notified_at BIGINT,
  closed_at BIGINT,
  close_reason TEXT
);
CREATE INDEX incidents_org ON incidents(org_id, detected_at);
CREATE INDEX incidents_open ON incidents(status, deadline_at) WHERE status = 'open';
CREATE INDEX incidents_closed ON incidents(org_id, closed_at) WHERE closed_at IS NOT NULL;

-- Each notice of an incident: an e-mail to one admin (user id; outcome and SMTP code) or a notice
-- given another way (note_enc: how and to whom, org key).
CREATE TABLE incident_notices (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'manual')),
  user_id TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'failed', 'recorded')),
  smtp_code BIGINT,
  note_enc BYTEA,
  sent_at BIGINT NOT NULL,
  sent_by TEXT NOT NULL
);
CREATE INDEX incident_notices_incident ON incident_notices(incident_id, sent_at);
CREATE INDEX incident_notices_org ON incident_notices(org_id, sent_at);

-- GDPR Art. 30(1)(a): the controller, its representative and data-protection officer (names and
-- contacts: personal, org key, JSON). Configuration, deleted with the org.
CREATE TABLE ropa_controller (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  details_enc BYTEA NOT NULL,
  updated_at BIGINT NOT NULL
);
-- The legal basis (GDPR Art. 6(1)) the controller chose for each processing activity, and a note.
CREATE TABLE ropa_activities (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  activity_id TEXT NOT NULL,
  legal_basis TEXT,
  note_enc BYTEA,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, activity_id)
);
`,
  },
];
