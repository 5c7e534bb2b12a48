/**
 * The one encrypted-traffic pipeline shared by the API and the CLI: a capture streams through
 * `TlsCaptureAnalyzer` chunk by chunk (never held whole, R-ATP-4: packets after the hellos are
 * skipped unread) and each handshake is scored against the compiled intelligence as soon as its
 * connection is finished. Pure: no storage; the caller decides what to keep.
 */
import { CairnError } from '../../kernel/errors.ts';
import { TlsCaptureAnalyzer, type AnalyzeOptions, type CaptureStats, type TlsHandshakeRecord } from './analyze.ts';
import type { CompiledIntel } from './intel.ts';
import { scoreClient, withAllowList, type ThreatScore } from './score.ts';

/** A handshake record with its threat score. Personal data (R-DATA-9): see `TlsHandshakeRecord`. */
export interface ScoredHandshake extends ThreatScore {
  record: TlsHandshakeRecord;
}

export interface ScoredStreamOptions {
  intel: CompiledIntel;
  /** Largest capture accepted, in bytes; more ends the read with CAIRN_ERR_BODY_TOO_LARGE. */
  limitBytes: number;
  /** Length the sender announced (Content-Length); over the limit → refused before reading. */
  declaredBytes?: number;
  /** Called for each handshake, in the order connections finish. */
  onHandshake: (h: ScoredHandshake) => void;
  /** Awaited after every chunk: the service stores a batch here, which paces the upload. */
  afterChunk?: () => Promise<void> | void;
  /** Analyzer limits (per-connection bytes, buffered bytes, connection table). */
  analyzer?: Omit<AnalyzeOptions, 'onRecord' | 'retainRecords'>;
}

export interface ScoredStreamResult {
  bytes: number;
  handshakes: number;
  warnings: string[];
  stats: CaptureStats;
}

/**
 * Scores one handshake: block lists (with the bundled known-bad JA3), then the allow list.
 * @example const { score, reasons } = scoreHandshake(record, buildIntel());
 */
export function scoreHandshake(record: TlsHandshakeRecord, intel: CompiledIntel): ScoredHandshake {
  const s = scoreClient(record, intel.block);
  return { record, ...(intel.allow ? withAllowList(s, record, intel.allow) : s) };
}

/** The chunks of a stream; an HTTP request is not destroyed when we stop early, so the error can still be answered. */
function chunksOf(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const withIterator = input as { iterator?: (o: { destroyOnReturn: boolean }) => AsyncIterable<Uint8Array> };
  return typeof withIterator.iterator === 'function' ? withIterator.iterator({ destroyOnReturn: false }) : input;
}

export function tooLarge(limitBytes: number): CairnError {
  return new CairnError('CAIRN_ERR_BODY_TOO_LARGE', `The capture is larger than ${limitBytes} bytes, the limit for encrypted-traffic analysis (tlsPcapLimitBytes).`, { limitBytes });
}

/**
 * Streams a capture through the analyzer and scores every handshake. Throws
 * `CAIRN_ERR_PCAP_CORRUPT` / `CAIRN_ERR_PCAP_UNSUPPORTED` for bad captures and
 * `CAIRN_ERR_BODY_TOO_LARGE` past the limit; handshakes already reported stay reported.
 *
 * @example
 * await analyzeScoredStream(createReadStream('capture.pcapng'), { intel: buildIntel(), limitBytes: 1 << 28, onHandshake: (h) => print(h) });
 */
export async function analyzeScoredStream(input: AsyncIterable<Uint8Array>, opts: ScoredStreamOptions): Promise<ScoredStreamResult> {
  if (opts.declaredBytes !== undefined && opts.declaredBytes > opts.limitBytes) throw tooLarge(opts.limitBytes);
  let handshakes = 0;
  const analyzer = new TlsCaptureAnalyzer({
    ...opts.analyzer,
    retainRecords: false,
    onRecord: (record) => {
      handshakes++;
      opts.onHandshake(scoreHandshake(record, opts.intel));
    },
  });
  let bytes = 0;
  for await (const chunk of chunksOf(input)) {
    bytes += chunk.length;
    if (bytes > opts.limitBytes) throw tooLarge(opts.limitBytes);
    analyzer.push(chunk);
    if (opts.afterChunk) await opts.afterChunk();
  }
  const { warnings, stats } = analyzer.end();
  if (opts.afterChunk) await opts.afterChunk();
  return { bytes, handshakes, warnings, stats };
}
