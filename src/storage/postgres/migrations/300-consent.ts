/**
 * PostgreSQL migrations of notice and consent (versions 300-309, R-PRIV-5, R-DATA-12 class `consent`):
 * versioned terms, the guest portal of each site, consent records by device or installation
 * pseudonym (never a MAC or app id), the SDK opt-in state the ingest pipeline reads, signed
 * portal results (single use), marketing subscriptions. Migration 301 moves the SDK opt-ins that
 * ingest kept in its settings JSON (`sdkOptIns`) into consent records.
 */
import type { Migration } from '../../db.ts';

export const CONSENT_MIGRATIONS_PG: Migration[] = [
  {
    version: 300,
    name: 'consent: terms, portals, records, SDK opt-ins, portal results, marketing',
    sql: `
-- Terms shown to guests (audience portal) or app users (audience sdk), per org or per site.
-- Not personal. A published version is immutable; site_id has no foreign key so that a deleted
-- site's terms still prove what its guests accepted.
CREATE TABLE consent_terms (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT,
  audience TEXT NOT NULL,
  version INTEGER,
  status TEXT NOT NULL,
  texts TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  published_at BIGINT
);
CREATE UNIQUE INDEX consent_terms_version ON consent_terms(org_id, audience, COALESCE(site_id, ''), version);
CREATE INDEX consent_terms_current ON consent_terms(org_id, audience, status, site_id, version);

-- The guest portal of a site: settings JSON (contact fields, marketing, result URL) and the
-- per-site secret that signs results (AES-256-GCM under the org key).
CREATE TABLE consent_portals (
  site_id TEXT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL,
  settings TEXT NOT NULL,
  secret_enc BYTEA,
  updated_at BIGINT NOT NULL
);

-- R-DATA-12 personal (class consent): one row per decision, append-only. subject is the org's
-- keyed pseudonym of the client MAC (kind mac) or SDK installation id (kind app); contact_enc the
-- contact fields the portal asked for, AES-256-GCM under the org key; email_key the org's keyed
-- pseudonym of the e-mail address (kind user), to find a person's records.
CREATE TABLE consent_records (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  subject TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  granted INTEGER NOT NULL,
  terms_id TEXT,
  terms_version INTEGER,
  language TEXT,
  contact_enc BYTEA,
  email_key TEXT,
  at_ms BIGINT NOT NULL
);
CREATE INDEX consent_records_subject ON consent_records(org_id, subject, at_ms);
CREATE INDEX consent_records_email ON consent_records(org_id, email_key);
CREATE INDEX consent_records_at ON consent_records(org_id, at_ms);

-- The latest SDK location-sharing decision per installation (what ingest's opt-in set is made of).
CREATE TABLE consent_sdk_state (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  subject TEXT NOT NULL,
  opted_in INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (org_id, subject)
);
CREATE INDEX consent_sdk_state_in ON consent_sdk_state(org_id, opted_in);

-- Per org: a counter bumped by every SDK opt-in change (caches compare it) and the key that signs
-- unsubscribe links (AES-256-GCM under the org key).
CREATE TABLE consent_org_state (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  sdk_version INTEGER NOT NULL,
  signing_key_enc BYTEA,
  updated_at BIGINT NOT NULL
);

-- Signed portal results handed to the controller: single use (used_at), short-lived. The nonce
-- is random; nothing here names a device.
CREATE TABLE consent_results (
  nonce TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT NOT NULL,
  record_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX consent_results_expiry ON consent_results(org_id, expires_at);

-- R-DATA-12 personal (class consent): marketing opt-ins. contact_enc under the org key; the
-- unsubscribe link names the row id and is signed with the org's signing key.
CREATE TABLE consent_marketing (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  site_id TEXT,
  subject TEXT NOT NULL,
  email_key TEXT NOT NULL,
  contact_enc BYTEA NOT NULL,
  record_id TEXT NOT NULL,
  subscribed_at BIGINT NOT NULL,
  unsubscribed_at BIGINT
);
CREATE INDEX consent_marketing_org ON consent_marketing(org_id, unsubscribed_at, subscribed_at);
CREATE INDEX consent_marketing_subject ON consent_marketing(org_id, subject);
CREATE INDEX consent_marketing_email ON consent_marketing(org_id, email_key);
`,
  },
  {
    version: 301,
    name: 'consent: SDK opt-ins move from the ingest settings into consent records',
    sql: `
INSERT INTO consent_records (id, org_id, site_id, channel, purpose, subject, subject_kind, granted, terms_id, terms_version, language, contact_enc, email_key, at_ms)
  SELECT 'migrated-' || s.org_id || '-' || j.value, s.org_id, NULL, 'migrated', 'location_sharing', j.value, 'app', 1, NULL, NULL, NULL, NULL, NULL, s.updated_at
  FROM ingest_settings s, jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.settings::jsonb -> 'sdkOptIns') = 'array' THEN s.settings::jsonb -> 'sdkOptIns' ELSE '[]'::jsonb END) AS j(value)
  ON CONFLICT (id) DO NOTHING;
INSERT INTO consent_sdk_state (org_id, subject, opted_in, record_id, updated_at)
  SELECT org_id, subject, 1, id, at_ms FROM consent_records WHERE channel = 'migrated'
  ON CONFLICT (org_id, subject) DO NOTHING;
INSERT INTO consent_org_state (org_id, sdk_version, signing_key_enc, updated_at)
  SELECT org_id, 1, NULL, MAX(at_ms) FROM consent_records WHERE channel = 'migrated' GROUP BY org_id
  ON CONFLICT (org_id) DO NOTHING;
UPDATE ingest_settings SET settings = (settings::jsonb - 'sdkOptIns')::text WHERE settings::jsonb ? 'sdkOptIns';
`,
  },
];
