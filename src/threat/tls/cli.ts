/**
 * `cairn threat pcap FILE…`: reads captures with the same streaming pipeline as the API and prints
 * one record per TLS handshake (addresses, ports, SNI, ALPN, JA3, JA4 and its raw and original-
 * order forms, score and reasons). Without `--org` nothing is stored and no store is opened; the
 * score uses the bundled known-bad JA3 list only. With `--org` each capture is uploaded to that org
 * as the CLI's system actor: scored against its lists, stored and audited, and refused when the
 * org has encrypted-traffic analysis turned off.
 */
import { Option, type Command } from 'commander';
import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { withApp } from '../../cli-kit.ts';
import { toIso } from '../../kernel/clock.ts';
import { CairnError, isCairnError } from '../../kernel/errors.ts';
import { systemCtx } from '../../privacy/index.ts';
import { LANGS, type Lang } from '../messages.ts';
import { buildIntel } from './intel.ts';
import { localiseTlsError, localiseTlsReasons } from './messages.ts';
import { analyzeScoredStream, type ScoredHandshake } from './pipeline.ts';
import type { ThreatReason } from './score.ts';

/** One element of `threat pcap --json` output. Personal data (R-DATA-9): printed, never logged. */
export interface PcapRecord {
  file: string;
  /** Stored record id (with --org). */
  id?: string;
  transport: string;
  /** Capture time of the ClientHello, ISO 8601. */
  time: string;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  sni: string | null;
  alpn: string[];
  ja3: string;
  ja3_hash: string;
  ja4: string;
  ja4_r: string;
  ja4_o: string;
  score: number;
  reasons: ThreatReason[];
}

/**
 * The printed form of a scored handshake.
 * @example pcapRecord('a.pcap', scored).ja4 // 't13d1516h2_8daaf6152771_e5627efa2ab1'
 */
export function pcapRecord(file: string, h: ScoredHandshake, id?: string, lang: Lang = 'en'): PcapRecord {
  const r = h.record;
  return {
    file,
    ...(id ? { id } : {}),
    transport: r.transport,
    time: toIso(Math.floor(r.timestampMs)),
    srcAddress: r.srcAddress,
    srcPort: r.srcPort,
    dstAddress: r.dstAddress,
    dstPort: r.dstPort,
    sni: r.sni,
    alpn: r.alpn,
    ja3: r.ja3,
    ja3_hash: r.ja3_hash,
    ja4: r.ja4,
    ja4_r: r.ja4_r,
    ja4_o: r.ja4_o,
    score: h.score,
    reasons: localiseTlsReasons(h.reasons, lang),
  };
}

function human(p: PcapRecord): string {
  const host = (a: string, port: number) => (a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`);
  const head = `${p.score.toFixed(1).padStart(4)}  ${p.time}  ${host(p.srcAddress, p.srcPort)} -> ${host(p.dstAddress, p.dstPort)}  ${p.ja4}  ${p.sni ?? '-'}  ${p.alpn.join(',') || '-'}  ${p.file}`;
  return [head, ...p.reasons.map((r) => `      ${r.code} (${r.weight}) ${r.detail}`)].join('\n');
}

/**
 * Writes records as they come: with --json a JSON array, one record per line, so a capture of
 * any size is printed without being held in memory.
 */
class Printer {
  private first = true;
  constructor(private readonly json: boolean) {
    if (json) process.stdout.write('[');
  }
  record(p: PcapRecord): void {
    process.stdout.write(this.json ? `${this.first ? '\n' : ',\n'}${JSON.stringify(p)}` : `${human(p)}\n`);
    this.first = false;
  }
  end(): void {
    if (this.json) process.stdout.write(this.first ? ']\n' : '\n]\n');
  }
}

function reportError(file: string, e: unknown, lang: Lang): void {
  if (!isCairnError(e)) throw e;
  process.stderr.write(`error ${e.code}: ${file}: ${localiseTlsError(e, lang).message}\n`);
  process.exitCode = 1;
}

/** Adds `pcap` to the `cairn threat` command. */
export function registerTlsCli(threat: Command): void {
  threat
    .command('pcap')
    .description('Read pcap/pcapng captures and print one record per TLS handshake: addresses, ports, SNI, ALPN, JA3, JA4 (ja4, ja4_r, ja4_o) and a score 0-10 with reasons. Only the hellos are read.')
    .argument('<files...>', 'capture files (pcap or pcapng)')
    .option('--org <id>', 'upload to this org: scored against its lists, stored and audited (needs encrypted-traffic analysis turned on); default: store nothing')
    .addOption(new Option('--lang <lang>', 'language of the reasons and errors').choices([...LANGS]).default('en'))
    .option('--json', 'print JSON (an array, one record per handshake)')
    .action(async (files: string[], o: { org?: string; lang: Lang; json?: boolean }) => {
      const printer = new Printer(!!o.json);
      const readable = async (file: string): Promise<AsyncIterable<Uint8Array>> => {
        // A missing or unreadable file is a clear validation error, not a stack trace.
        await access(file, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
          throw new CairnError('CAIRN_ERR_VALIDATION', `Cannot read ${file} (${e.code ?? 'error'}).`, { file });
        });
        return createReadStream(file, { highWaterMark: 1 << 20 });
      };
      try {
        if (!o.org) {
          const intel = buildIntel();
          for (const file of files) {
            try {
              await analyzeScoredStream(await readable(file), { intel, limitBytes: Number.MAX_SAFE_INTEGER, onHandshake: (h) => printer.record(pcapRecord(file, h, undefined, o.lang)) });
            } catch (e) {
              reportError(file, e, o.lang);
            }
          }
          return;
        }
        const org = o.org;
        await withApp(async (c) => {
          for (const file of files) {
            try {
              await c.services.tls.upload(systemCtx('cli'), org, await readable(file), { onHandshake: (h, id) => printer.record(pcapRecord(file, h, id, o.lang)) });
            } catch (e) {
              reportError(file, e, o.lang);
            }
          }
        });
      } finally {
        printer.end();
      }
    });
}
