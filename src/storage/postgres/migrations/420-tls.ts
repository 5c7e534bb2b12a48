/**
 * PostgreSQL migrations of encrypted-traffic analysis (versions 420-429): one row per TLS handshake
 * (ClientHello and the server's answer) found in an uploaded capture — R-DATA-9 TLS session
 * set-up metadata. Client and server addresses and the requested host name are ciphertext under
 * the org key; the client is grouped by a keyed pseudonym of its address. The capture itself is
 * never stored.
 */
import type { Migration } from '../../db.ts';

export const TLS_MIGRATIONS_PG: Migration[] = [
  {
    version: 420,
    name: 'tls: handshake records (R-DATA-9)',
    sql: `
-- R-DATA-9 TLS session set-up metadata, retention class tls_metadata (counted from received_at).
-- Personal: src_ip_enc, dst_ip_enc, sni_enc and reasons_enc (its text names the host and
-- addresses) are AES-256-GCM under the org key; client_pseudonym is HMAC(org pseudonym key, ip).
-- Fingerprints, versions, cipher and extension lists and ALPN are protocol parameters, in clear.
CREATE TABLE tls_handshakes (
  id TEXT PRIMARY KEY,
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  upload_id TEXT NOT NULL,
  received_at BIGINT NOT NULL,
  seen_at BIGINT NOT NULL,
  transport TEXT NOT NULL,
  client_pseudonym TEXT NOT NULL,
  src_ip_enc BYTEA NOT NULL,
  src_port INTEGER NOT NULL,
  dst_ip_enc BYTEA NOT NULL,
  dst_port INTEGER NOT NULL,
  sni_enc BYTEA,
  alpn TEXT NOT NULL,
  legacy_version INTEGER NOT NULL,
  supported_versions TEXT NOT NULL,
  ciphers TEXT NOT NULL,
  extensions TEXT NOT NULL,
  signature_algorithms TEXT NOT NULL,
  supported_groups TEXT NOT NULL,
  ec_point_formats TEXT NOT NULL,
  ja3 TEXT NOT NULL,
  ja3_hash TEXT NOT NULL,
  ja4 TEXT NOT NULL,
  ja4_r TEXT NOT NULL,
  ja4_o TEXT NOT NULL,
  ja4_ro TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  reasons_enc BYTEA NOT NULL,
  server TEXT
);
CREATE INDEX tls_handshakes_received ON tls_handshakes(org_id, received_at);
CREATE INDEX tls_handshakes_seen ON tls_handshakes(org_id, seen_at);
CREATE INDEX tls_handshakes_ja4 ON tls_handshakes(org_id, ja4);
CREATE INDEX tls_handshakes_client ON tls_handshakes(org_id, client_pseudonym);
CREATE INDEX tls_handshakes_upload ON tls_handshakes(org_id, upload_id);
`,
  },
];
