/**
 * A ClamAV daemon client speaking the INSTREAM protocol over a unix socket or TCP:
 * `zINSTREAM\0`, then chunks each prefixed by a 4-byte big-endian length, then a zero-length
 * chunk; the reply is NUL-terminated (`stream: OK`, `stream: Eicar-Signature FOUND`,
 * `INSTREAM size limit exceeded. ERROR`). Writes respect back-pressure, and every call has a
 * deadline, so a stuck daemon cannot hold an analysis.
 */
import { connect, type Socket } from 'node:net';
import { CairnError } from '../../kernel/errors.ts';

/** Where clamd listens. Give `socketPath` or `host` + `port`. */
export interface ClamdTarget {
  socketPath?: string;
  host?: string;
  port?: number;
  /** Whole-call deadline in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Bytes per INSTREAM chunk. Default 64 KiB (clamd's StreamMaxLength still applies to the total). */
  chunkBytes?: number;
  /**
   * When true (default) an unreachable daemon or a scan error makes the verdict incomplete
   * (`unknown`, never `clean`); when false it is only noted.
   */
  required?: boolean;
}

export interface ClamdResult {
  status: 'clean' | 'infected' | 'error';
  /** Signature name when infected, e.g. `Eicar-Signature` or `Win.Test.EICAR_HDB-1`. */
  signature?: string;
  /** The daemon's reply without the `stream: ` prefix. */
  reply: string;
}

function open(target: ClamdTarget): Socket {
  if (target.socketPath) return connect({ path: target.socketPath });
  if (target.host && target.port) return connect({ host: target.host, port: target.port });
  throw new CairnError('CAIRN_ERR_CONFIG', 'clamd needs a socketPath or a host and port.');
}

/** Sends one command and collects the NUL-terminated reply. */
function exchange(target: ClamdTarget, send: (sock: Socket) => Promise<void>): Promise<string> {
  const timeoutMs = target.timeoutMs ?? 30_000;
  return new Promise<string>((resolve, reject) => {
    let sock: Socket;
    try {
      sock = open(target);
    } catch (e) {
      reject(e);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: Error | undefined, reply?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply ?? '');
    };
    const unavailable = (why: string): CairnError => new CairnError('CAIRN_ERR_SCANNER_UNAVAILABLE', `ClamAV is not available: ${why}.`, { target: target.socketPath ?? `${target.host}:${target.port}` });
    const timer = setTimeout(() => finish(unavailable(`no reply within ${timeoutMs} ms`)), timeoutMs);
    sock.on('error', (e) => finish(unavailable((e as NodeJS.ErrnoException).code ?? e.message)));
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      if (size > 64 * 1024) finish(unavailable('reply too long'));
      else if (d.includes(0)) finish(undefined, Buffer.concat(chunks).toString('utf8').split('\0')[0]?.trim());
    });
    sock.on('end', () => finish(undefined, Buffer.concat(chunks).toString('utf8').replace(/\0[\s\S]*$/, '').trim()));
    sock.on('connect', () => {
      send(sock).catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
    });
  });
}

function write(sock: Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = sock.write(data, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else sock.once('drain', () => resolve());
  });
}

/**
 * Parses a clamd INSTREAM reply. Exported for tests and for callers that talk to clamd their own
 * way.
 *
 * @example parseClamdReply('stream: Eicar-Signature FOUND') // { status: 'infected', signature: 'Eicar-Signature', ... }
 */
export function parseClamdReply(raw: string): ClamdResult {
  const reply = raw.replace(/\0+$/, '').trim().replace(/^stream:\s*/, '');
  if (reply === 'OK') return { status: 'clean', reply };
  const found = /^(.+?)\s+FOUND$/.exec(reply);
  if (found) return { status: 'infected', signature: found[1] as string, reply };
  return { status: 'error', reply: reply || 'empty reply' };
}

/**
 * Scans bytes with clamd (INSTREAM). Resolves with clean / infected / error (the daemon's own
 * errors, e.g. a size limit); rejects with CAIRN_ERR_SCANNER_UNAVAILABLE when the daemon cannot be
 * reached or does not answer in time.
 *
 * @example await clamdScan(bytes, { socketPath: '/var/run/clamav/clamd.ctl' }) // { status: 'clean', reply: 'OK' }
 */
export async function clamdScan(bytes: Uint8Array, target: ClamdTarget): Promise<ClamdResult> {
  const chunkBytes = Math.max(1, Math.min(target.chunkBytes ?? 64 * 1024, 0x7fffffff));
  const raw = await exchange(target, async (sock) => {
    await write(sock, Buffer.from('zINSTREAM\0', 'latin1'));
    for (let off = 0; off < bytes.length; off += chunkBytes) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + chunkBytes));
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(part.length, 0);
      await write(sock, len);
      await write(sock, part);
    }
    await write(sock, Buffer.alloc(4)); // zero-length chunk ends the stream
  });
  return parseClamdReply(raw);
}

/**
 * Checks that clamd answers `PONG` to `zPING`. Never throws; false when unreachable.
 *
 * @example if (await clamdPing({ host: '127.0.0.1', port: 3310 })) { ... }
 */
export async function clamdPing(target: ClamdTarget): Promise<boolean> {
  try {
    return (await exchange({ ...target, timeoutMs: target.timeoutMs ?? 5000 }, (sock) => write(sock, Buffer.from('zPING\0', 'latin1')))) === 'PONG';
  } catch {
    return false;
  }
}

/** The daemon's version line (`ClamAV 1.0.7/27500/...`), or undefined when unreachable. */
export async function clamdVersion(target: ClamdTarget): Promise<string | undefined> {
  try {
    return await exchange({ ...target, timeoutMs: target.timeoutMs ?? 5000 }, (sock) => write(sock, Buffer.from('zVERSION\0', 'latin1')));
  } catch {
    return undefined;
  }
}
