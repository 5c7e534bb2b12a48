/**
 * SQLite migrations of ingest (versions 140-149): the Cisco Spaces firehose per org (on/off,
 * stream URL, API key encrypted under the org key) and its resume cursor, and the vendor's zone
 * id a Cairn zone may carry (Mist `zone` webhooks are mapped through it). No device identifier.
 */
import type { Migration } from '../../db.ts';

export const INGEST_SPACES_ZONES_MIGRATIONS_SQLITE: Migration[] = [
  {
    version: 140,
    name: 'ingest: Cisco Spaces firehose settings and resume cursor',
    sql: `
-- One firehose per org. url is the partner endpoint (infrastructure, not personal); the API key
-- is AES-GCM under the org data key (field ingest.spaces_api_key) and never shown again.
CREATE TABLE spaces_firehose (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL,
  url TEXT,
  api_key_enc BLOB,
  updated_at INTEGER NOT NULL
);

-- Where the stream resumes: the highest recordTimestamp (epoch ms) committed, and the recordUids
-- committed at or after record_ms minus the resume overlap (JSON array), so the overlap replayed
-- after a restart is recognised. Written in the transaction of the batch it follows. recordUids
-- are Spaces' event ids, never built from a device identifier.
CREATE TABLE spaces_firehose_cursor (
  org_id TEXT PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  record_ms INTEGER NOT NULL,
  boundary_uids TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
  },
  {
    version: 141,
    name: 'zones: the vendor zone id a zone stands for',
    sql: `
-- The id of the vendor's own zone (Mist zone_id) this Cairn zone stands for: its enter/exit
-- webhooks become this zone's. Optional, unique per org. Infrastructure, not personal.
ALTER TABLE zones ADD COLUMN vendor_zone_id TEXT;
CREATE UNIQUE INDEX zones_vendor ON zones(org_id, vendor_zone_id) WHERE vendor_zone_id IS NOT NULL;
`,
  },
];
