/**
 * Encrypted-traffic analysis (R-ATP-4, R-DATA-9): reads pcap/pcapng captures, reassembles the
 * set-up of TLS-over-TCP, QUIC and DTLS sessions, fingerprints each client with JA3 and JA4,
 * and scores it against threat-intelligence block lists (R-ATP-6). Pure code: no storage, no
 * network. Only the client and server hellos are analysed; the rest of a session is skipped.
 *
 * @example
 * const { records } = await analyzeCapture(createReadStream('capture.pcapng'));
 * const intel = compileThreatIntel({ ja4: ['t13d1516h2_8daaf6152771_e5627efa2ab1'] });
 * for (const r of records) console.log(r.sni, r.ja4, scoreClient(r, intel).score);
 */
export {
  analyzeCapture,
  analyzeCaptureBytes,
  TlsCaptureAnalyzer,
  type AnalyzeOptions,
  type CaptureAnalysis,
  type CaptureStats,
  type TlsHandshakeRecord,
} from './analyze.ts';
export { CaptureReader, LinkType, isSupportedLinkType, type CaptureFormat, type CaptureReaderOptions, type CapturedPacket, type PacketHandler } from './capture.ts';
export { DecodedPacket, DecodeStatus, decodePacket, formatAddress, IPPROTO_TCP, IPPROTO_UDP } from './decode.ts';
export { isGrease, parseClientHello, parseServerHello, type ClientHello, type ServerHello } from './hello.ts';
export {
  ja3,
  ja3HashOf,
  ja4,
  ja4AlpnCode,
  ja4VersionCode,
  type Ja3Fingerprint,
  type Ja4AlpnStyle,
  type Ja4Fingerprints,
  type Ja4Transport,
} from './fingerprint.ts';
export { quicInitialKeys, QUIC_V1, QUIC_V2, type QuicInitialKeys } from './quic.ts';
export { buildIntel, bundledJa3, parseJa3Csv, BUNDLED_JA3_SEVERITY, type CompiledIntel, type OrgIntelLists } from './intel.ts';
export { analyzeScoredStream, scoreHandshake, type ScoredHandshake, type ScoredStreamOptions, type ScoredStreamResult } from './pipeline.ts';
export {
  compileThreatIntel,
  parseIp,
  scoreClient,
  withAllowList,
  type IntelEntry,
  type ThreatIntel,
  type ThreatIntelLists,
  type ThreatReason,
  type ThreatReasonCode,
  type ThreatScore,
} from './score.ts';
