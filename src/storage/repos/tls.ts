/**
 * Encrypted-traffic analysis storage (R-ATP-4): one row per TLS handshake found in an uploaded
 * capture, with its R-DATA-9 metadata. Addresses, the requested host name and the score reasons
 * arrive here already encrypted under the org key; the client is grouped by a keyed pseudonym.
 */
import type { Executor } from '../db.ts';

export interface TlsHandshakeRow {
  id: string;
  org_id: string;
  /** The capture upload the handshake came from (one id per upload). */
  upload_id: string;
  /** When Cairn stored it (UTC epoch ms); the tls_metadata retention counts from here. */
  received_at: number;
  /** Capture time of the packet that completed the ClientHello (UTC epoch ms). */
  seen_at: number;
  transport: string;
  /** R-DATA-9 personal: HMAC of the client address under the org pseudonym key (kind `ip`). */
  client_pseudonym: string;
  /** R-DATA-9 personal: client address, encrypted under the org key. */
  src_ip_enc: Buffer;
  src_port: number;
  /** R-DATA-9 personal: server address, encrypted under the org key. */
  dst_ip_enc: Buffer;
  dst_port: number;
  /** R-DATA-9 personal: requested host name (SNI), encrypted under the org key; null when none was sent. */
  sni_enc: Buffer | null;
  /** JSON array of the ALPN protocols offered. */
  alpn: string;
  legacy_version: number;
  /** JSON arrays of protocol parameters, wire order, GREASE included. */
  supported_versions: string;
  ciphers: string;
  extensions: string;
  signature_algorithms: string;
  supported_groups: string;
  ec_point_formats: string;
  ja3: string;
  ja3_hash: string;
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  ja4_ro: string;
  score: number;
  /** R-DATA-9 personal: the score reasons as JSON (their text names host and addresses), encrypted. */
  reasons_enc: Buffer;
  /** JSON of the ServerHello's choices (version, cipher, ALPN, extensions), or null. */
  server: string | null;
}

export interface TlsListFilter {
  /** Matches the sorted JA4 or the original-order JA4. */
  ja4?: string;
  ja3Hash?: string;
  client?: string;
  minScore?: number;
  /** Capture time bounds, UTC epoch ms (from inclusive, to exclusive). */
  fromMs?: number;
  toMs?: number;
  /** Only rows stored before this id (the cursor of the previous page; newest first). */
  before?: string;
  limit: number;
}

export interface TlsClientRow {
  client_pseudonym: string;
  handshakes: number;
  max_score: number;
  first_seen: number;
  last_seen: number;
  fingerprints: number;
}

const COLS =
  'id, org_id, upload_id, received_at, seen_at, transport, client_pseudonym, src_ip_enc, src_port, dst_ip_enc, dst_port, sni_enc, alpn, legacy_version, supported_versions, ciphers, extensions, signature_algorithms, supported_groups, ec_point_formats, ja3, ja3_hash, ja4, ja4_r, ja4_o, ja4_ro, score, reasons_enc, server';
const PLACEHOLDERS = COLS.split(', ')
  .map((_c, i) => `$${i + 1}`)
  .join(', ');

/** WHERE clause (after `org_id = $1`) and parameters for the time and score filters shared by the queries. */
function conditions(orgId: string, f: Omit<TlsListFilter, 'limit'>): { where: string; params: unknown[] } {
  const params: unknown[] = [orgId];
  const parts = ['org_id = $1'];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    parts.push(sql.replaceAll('?', `$${params.length}`));
  };
  if (f.ja4 !== undefined) add('(ja4 = ? OR ja4_o = ?)', f.ja4);
  if (f.ja3Hash !== undefined) add('ja3_hash = ?', f.ja3Hash);
  if (f.client !== undefined) add('client_pseudonym = ?', f.client);
  if (f.minScore !== undefined) add('score >= ?', f.minScore);
  if (f.fromMs !== undefined) add('seen_at >= ?', f.fromMs);
  if (f.toMs !== undefined) add('seen_at < ?', f.toMs);
  if (f.before !== undefined) add('id < ?', f.before);
  return { where: parts.join(' AND '), params };
}

export class TlsRepo {
  constructor(private readonly x: Executor) {}

  async insertMany(rows: readonly TlsHandshakeRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.x.many(
      `INSERT INTO tls_handshakes (${COLS}) VALUES (${PLACEHOLDERS})`,
      rows.map((r) => [
        r.id, r.org_id, r.upload_id, r.received_at, r.seen_at, r.transport, r.client_pseudonym, r.src_ip_enc, r.src_port, r.dst_ip_enc, r.dst_port, r.sni_enc, r.alpn, r.legacy_version,
        r.supported_versions, r.ciphers, r.extensions, r.signature_algorithms, r.supported_groups, r.ec_point_formats, r.ja3, r.ja3_hash, r.ja4, r.ja4_r, r.ja4_o, r.ja4_ro, r.score, r.reasons_enc, r.server,
      ]),
    );
  }

  /** Newest stored first; page on with `before` = the last id returned. */
  list(orgId: string, f: TlsListFilter): Promise<TlsHandshakeRow[]> {
    const { where, params } = conditions(orgId, f);
    return this.x.all<TlsHandshakeRow>(`SELECT ${COLS} FROM tls_handshakes WHERE ${where} ORDER BY id DESC LIMIT $${params.length + 1}`, [...params, f.limit]);
  }

  /** Per client pseudonym: handshakes, highest score, first and last capture time; highest score first. */
  async clients(orgId: string, f: { fromMs?: number; toMs?: number; minScore?: number; limit: number; offset: number }): Promise<TlsClientRow[]> {
    const { where, params } = conditions(orgId, { fromMs: f.fromMs, toMs: f.toMs });
    const n = params.length;
    const rows = await this.x.all<TlsClientRow>(
      `SELECT client_pseudonym, COUNT(*) AS handshakes, MAX(score) AS max_score, MIN(seen_at) AS first_seen, MAX(seen_at) AS last_seen, COUNT(DISTINCT ja4) AS fingerprints
       FROM tls_handshakes WHERE ${where} GROUP BY client_pseudonym HAVING MAX(score) >= $${n + 1}
       ORDER BY MAX(score) DESC, MAX(seen_at) DESC, client_pseudonym LIMIT $${n + 2} OFFSET $${n + 3}`,
      [...params, f.minScore ?? 0, f.limit, f.offset],
    );
    return rows.map((r) => ({ ...r, handshakes: Number(r.handshakes), max_score: Number(r.max_score), first_seen: Number(r.first_seen), last_seen: Number(r.last_seen), fingerprints: Number(r.fingerprints) }));
  }

  /** JA4 fingerprints of the given clients with their handshake counts, most used first. */
  async clientFingerprints(orgId: string, clients: readonly string[], f: { fromMs?: number; toMs?: number }): Promise<{ client_pseudonym: string; ja4: string; handshakes: number }[]> {
    if (clients.length === 0) return [];
    const { where, params } = conditions(orgId, { fromMs: f.fromMs, toMs: f.toMs });
    const n = params.length;
    const inList = clients.map((_c, i) => `$${n + i + 1}`).join(', ');
    const rows = await this.x.all<{ client_pseudonym: string; ja4: string; handshakes: number }>(
      `SELECT client_pseudonym, ja4, COUNT(*) AS handshakes FROM tls_handshakes WHERE ${where} AND client_pseudonym IN (${inList})
       GROUP BY client_pseudonym, ja4 ORDER BY client_pseudonym, COUNT(*) DESC, ja4`,
      [...params, ...clients],
    );
    return rows.map((r) => ({ ...r, handshakes: Number(r.handshakes) }));
  }

  /** Aggregate counts only (no pseudonyms): handshakes, clients, distinct JA4, clients at or above `flagAt`. */
  async summary(orgId: string, f: { fromMs?: number; toMs?: number; flagAt: number }): Promise<{ handshakes: number; clients: number; fingerprints: number; flaggedClients: number }> {
    const { where, params } = conditions(orgId, { fromMs: f.fromMs, toMs: f.toMs });
    const totals = await this.x.get<{ handshakes: number; clients: number; fingerprints: number }>(
      `SELECT COUNT(*) AS handshakes, COUNT(DISTINCT client_pseudonym) AS clients, COUNT(DISTINCT ja4) AS fingerprints FROM tls_handshakes WHERE ${where}`,
      params,
    );
    const flagged = await this.x.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM (SELECT client_pseudonym FROM tls_handshakes WHERE ${where} GROUP BY client_pseudonym HAVING MAX(score) >= $${params.length + 1}) AS flagged`,
      [...params, f.flagAt],
    );
    return { handshakes: Number(totals?.handshakes ?? 0), clients: Number(totals?.clients ?? 0), fingerprints: Number(totals?.fingerprints ?? 0), flaggedClients: Number(flagged?.n ?? 0) };
  }

  /** Every handshake of one upload (a refused upload is taken back). */
  async deleteUpload(orgId: string, uploadId: string): Promise<number> {
    return (await this.x.run('DELETE FROM tls_handshakes WHERE org_id = $1 AND upload_id = $2', [orgId, uploadId])).changes;
  }

  /** Delete at most `limit` handshakes received before `beforeMs`; returns rows deleted. */
  async purgeBefore(orgId: string, beforeMs: number, limit: number): Promise<number> {
    return (await this.x.run('DELETE FROM tls_handshakes WHERE id IN (SELECT id FROM tls_handshakes WHERE org_id = $1 AND received_at < $2 ORDER BY received_at LIMIT $3)', [orgId, beforeMs, limit])).changes;
  }
}

/** The TLS repository on an executor (a store, or an open transaction on it). */
export function tlsRepo(x: Executor): TlsRepo {
  return new TlsRepo(x);
}
