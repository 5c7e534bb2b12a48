/**
 * From a delivery to the pipeline, per source: Mist webhooks (signature over the raw body),
 * Meraki Scanning API (validator GET, shared secret in the POST), Cairn's native batches (sensor
 * tokens), and recorded files for `cairn ingest`. Each uses the org's collection settings when
 * parsing, so a field that is not enabled is never copied out of the payload (R-PRIV-1).
 */
import { createHash } from 'node:crypto';
import { CairnError, notFoundOrNoAccess } from '../kernel/errors.ts';
import type { Ctx } from '../privacy/index.ts';
import { receiveMistWebhook, parseMistWebhook } from './mist/webhook.ts';
import { merakiValidatorResponse, parseMerakiScanning } from './meraki/scanning.ts';
import { parseNativeBatch } from './native/native.ts';
import { NATIVE_MAX_BATCH } from './native/schema.ts';
import { parseSpacesLine } from './spaces/firehose.ts';
import { parseSyslogLine } from './syslog/syslog.ts';
import { associationToObservation, syslogAssociation } from './syslog/associations.ts';
import { parseEncounterBatch } from './encounters/encounters.ts';
import { parseSocioPatternsContacts } from './encounters/sociopatterns.ts';
import { ingestReasonOf } from './errors.ts';
import { emptySummary, mergeSummary, webhookCtx, type IngestService, type IngestSummary } from './service.ts';
import type { EffectiveSettings } from './settings.ts';
import type { IngestSource, ParseOptions, PersonalField, RawObservation, ZoneTransition } from './types.ts';

/** Formats `cairn ingest` reads. */
export const FILE_FORMATS = ['mist', 'meraki', 'spaces', 'syslog', 'native', 'encounters'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

function skips(): { skipped: Record<string, number>; onSkip: (reason: string) => void } {
  const skipped: Record<string, number> = {};
  return { skipped, onSkip: (reason) => void (skipped[reason] = (skipped[reason] ?? 0) + 1) };
}

/** SHA-256 of a delivery, hex: its identity for re-delivery (the pipeline keys it before storing). */
function digest(raw: Buffer | string): string {
  return createHash('sha256').update(raw).digest('hex');
}

function collectOf(eff: EffectiveSettings, source: IngestSource): PersonalField[] {
  return [...(eff.collect.get(source) ?? [])];
}

/**
 * A Mist webhook delivery: the org must have a webhook secret (an org without one is not a
 * receiver: "not found"), the signature must match the raw body, then the events are ingested.
 */
export async function receiveMist(ingest: IngestService, orgId: string, raw: Buffer, headers: Readonly<Record<string, string | readonly string[] | undefined>>, requestId: string, maxBodyBytes: number): Promise<IngestSummary> {
  const { db, eff } = await ingest.webhookSettings(orgId);
  if (!eff.mistSecret) throw notFoundOrNoAccess();
  const { skipped, onSkip } = skips();
  const r = receiveMistWebhook(raw, headers, { secret: eff.mistSecret, collect: collectOf(eff, 'mist'), bleKind: eff.settings.bleTags, onSkip, maxBodyBytes });
  if (r.ping) return emptySummary();
  return ingest.run(db, webhookCtx('mist', requestId), orgId, eff, { source: 'mist', observations: r.observations, skipped, zoneTransitions: r.zoneTransitions, deliveryId: digest(raw) });
}

/** The validator string for Meraki's GET; "not found" until the org sets one. */
export async function merakiValidator(ingest: IngestService, orgId: string): Promise<{ status: 200; contentType: 'text/plain'; body: string }> {
  const { eff } = await ingest.webhookSettings(orgId);
  if (!eff.settings.merakiValidator || !eff.merakiSecret) throw notFoundOrNoAccess();
  return merakiValidatorResponse(eff.settings.merakiValidator);
}

/** A Meraki Scanning API v3 POST: the shared secret in the body must match the org's. */
export async function receiveMeraki(ingest: IngestService, orgId: string, raw: Buffer, requestId: string, maxBodyBytes: number): Promise<IngestSummary> {
  const { db, eff } = await ingest.webhookSettings(orgId);
  if (!eff.merakiSecret) throw notFoundOrNoAccess();
  const { skipped, onSkip } = skips();
  const observations = parseMerakiScanning(raw, { secret: eff.merakiSecret, collect: collectOf(eff, 'meraki'), bleKind: eff.settings.bleTags, onSkip, maxBodyBytes });
  return ingest.run(db, webhookCtx('meraki', requestId), orgId, eff, { source: 'meraki', observations, skipped, deliveryId: digest(raw) });
}

/**
 * A native batch from a sensor token (or an org admin). The org is the caller's; a token bound to
 * one site writes to that site only. The whole batch is refused on the first invalid observation.
 */
export async function receiveNative(ingest: IngestService, ctx: Ctx, orgIdQuery: string | undefined, siteIdQuery: string | undefined, raw: Buffer | string, maxBodyBytes: number): Promise<IngestSummary> {
  const orgId = ingest.resolveOrg(ctx, orgIdQuery);
  const siteId = siteIdQuery ?? ingest.callerSite(ctx, orgId);
  const { db, eff } = await ingest.open(ctx, orgId, siteId);
  const observations = parseNativeBatch(raw, { collect: collectOf(eff, 'native'), maxBodyBytes });
  return ingest.run(db, ctx, orgId, eff, { source: 'native', observations, siteId, deliveryId: digest(raw) });
}

// ---- recorded files (cairn ingest) ------------------------------------------------------

/** What `cairn ingest` reports: the pipeline's summary, plus encounters stored. */
export interface FileSummary extends IngestSummary {
  encounters: number;
  /** Syslog: association sessions stored (WiFiTrace: association to disassociation at one AP). */
  sessions?: number;
}

/** JSON documents in a file: one document, an array of them, or one per line (NDJSON). */
function documents(text: string): { docs: unknown[]; bad: number } {
  const trimmed = text.trim();
  if (trimmed.length === 0) return { docs: [], bad: 0 };
  try {
    const whole = JSON.parse(trimmed) as unknown;
    return { docs: Array.isArray(whole) ? whole : [whole], bad: 0 };
  } catch {
    // not one document: read it line by line
  }
  const docs: unknown[] = [];
  let bad = 0;
  for (const line of trimmed.split('\n')) {
    if (line.trim().length === 0) continue;
    try {
      docs.push(JSON.parse(line));
    } catch {
      bad++;
    }
  }
  return { docs, bad };
}

export interface FileOptions {
  format: FileFormat;
  siteId: string | null;
  /** Year and time reference for RFC 3164 syslog timestamps (which have no year). */
  referenceMs: number;
  /** Device pseudonyms seen, for a distinct count across files. */
  seen?: Set<string>;
  /** Told now and then (every 100 documents or lines, and at the end) how many of how many are done. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Load a recorded file through the same pipeline as the live receivers, in batches of at most
 * 1 000 observations, each committed on its own. Signatures and shared secrets are for the
 * network: a file the operator loads is trusted as the org's own.
 *
 * @example await ingestFile(ingest, systemCtx('cli'), orgId, text, { format: 'mist', siteId, referenceMs: Date.now() })
 */
export async function ingestFile(ingest: IngestService, ctx: Ctx, orgId: string, text: string, opts: FileOptions): Promise<FileSummary> {
  const source: IngestSource = opts.format === 'encounters' ? 'encounter' : opts.format;
  const { db, eff } = await ingest.open(ctx, orgId, opts.siteId);
  const total: FileSummary = { ...emptySummary(), encounters: 0 };
  const reject = (reason: string, n = 1) => void (total.rejected[reason] = (total.rejected[reason] ?? 0) + n);
  const parseOpts = (): ParseOptions & { onSkip: (r: string) => void; skipped: Record<string, number> } => {
    const s = skips();
    return { collect: collectOf(eff, source), onSkip: s.onSkip, skipped: s.skipped };
  };
  const pending: RawObservation[] = [];
  let skipped: Record<string, number> = {};
  const transitions: ZoneTransition[] = [];
  let done = 0;
  let units = 0;
  // The same file loads as the same batches: each is a delivery identified by the file and its number.
  const fileDigest = digest(text);
  let batchNo = 0;
  const flush = async (force: boolean) => {
    while (pending.length >= NATIVE_MAX_BATCH || transitions.length >= NATIVE_MAX_BATCH || (force && (pending.length > 0 || Object.keys(skipped).length > 0 || transitions.length > 0))) {
      const observations = pending.splice(0, NATIVE_MAX_BATCH);
      const zoneTransitions = transitions.splice(0, NATIVE_MAX_BATCH);
      mergeSummary(total, await ingest.run(db, ctx, orgId, eff, { source, observations, siteId: opts.siteId, skipped, zoneTransitions, deliveryId: `${fileDigest}:${batchNo++}` }, opts.seen));
      skipped = {};
    }
  };
  const step = async () => {
    await flush(false);
    done++;
    if (done % 100 === 0 || done === units) opts.onProgress?.(done, units);
  };
  const take = (p: { skipped: Record<string, number> }) => {
    for (const [k, v] of Object.entries(p.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
  };
  const guard = async (fn: () => void | Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof CairnError) || (e.code !== 'CAIRN_ERR_INGEST_MALFORMED' && e.code !== 'CAIRN_ERR_INGEST_UNSUPPORTED' && e.code !== 'CAIRN_ERR_SIGNATURE' && e.code !== 'CAIRN_ERR_SYSLOG_MALFORMED')) throw e;
      reject(ingestReasonOf(e));
    }
  };

  switch (opts.format) {
    case 'mist':
    case 'meraki':
    case 'spaces':
    case 'native': {
      const { docs, bad } = documents(text);
      if (bad > 0) reject('bad_json', bad);
      units = docs.length;
      for (const doc of docs) {
        await guard(() => {
          const p = parseOpts();
          const body = JSON.stringify(doc);
          if (opts.format === 'mist') {
            const r = parseMistWebhook(body, { ...p, bleKind: eff.settings.bleTags, maxBodyBytes: Number.MAX_SAFE_INTEGER });
            pending.push(...r.observations);
            transitions.push(...r.zoneTransitions);
          } else if (opts.format === 'meraki') {
            const secret = doc !== null && typeof doc === 'object' && typeof (doc as { secret?: unknown }).secret === 'string' ? (doc as { secret: string }).secret : '';
            if (!secret) throw new CairnError('CAIRN_ERR_INGEST_MALFORMED', 'The Meraki body has no secret.', { reason: 'missing_field', source: 'meraki' });
            pending.push(...parseMerakiScanning(body, { ...p, secret, bleKind: eff.settings.bleTags, maxBodyBytes: Number.MAX_SAFE_INTEGER }));
          } else if (opts.format === 'spaces') {
            pending.push(...parseSpacesLine(body, { ...p, coordinateUnit: eff.settings.spacesCoordinateUnit, maxLineBytes: Number.MAX_SAFE_INTEGER }).observations);
          } else {
            // Native: a batch object, or a bare observation per line; large batches are split.
            const list = doc !== null && typeof doc === 'object' && Array.isArray((doc as { observations?: unknown }).observations) ? (doc as { observations: unknown[] }).observations : [doc];
            for (let i = 0; i < list.length; i += NATIVE_MAX_BATCH) pending.push(...parseNativeBatch({ observations: list.slice(i, i + NATIVE_MAX_BATCH) }, { collect: p.collect ?? [] }));
          }
          take(p);
        });
        await step();
      }
      break;
    }
    case 'syslog': {
      const lines = text.split('\n');
      units = lines.length;
      const collect = collectOf(eff, 'syslog');
      // Association sessions go to their own feed, committed every 1 000 events and closed at the end of the file.
      const feed = ingest.sessions?.fileFeed(orgId, opts.siteId, fileDigest);
      const sessions = async (final: boolean) => {
        if (feed) total.sessions = (total.sessions ?? 0) + (await feed.commit(db, ctx, eff, { final })).opened;
      };
      for (const line of lines) {
        if (line.trim().length === 0) {
          done++;
          continue;
        }
        await guard(() => {
          const a = syslogAssociation(parseSyslogLine(line, { referenceMs: opts.referenceMs }), { collect });
          if (!a) return;
          feed?.push(a);
          const o = associationToObservation(a);
          if (o) pending.push(o);
          else if (a.idType === 'hashed') reject('hashed_client');
        });
        if (feed && feed.pending >= NATIVE_MAX_BATCH) await sessions(false);
        await step();
      }
      await sessions(true);
      break;
    }
    case 'encounters': {
      // Badge-to-badge encounters (Cairn's JSON or SocioPatterns tij lines), stored pseudonymised.
      await guard(async () => {
        const list = text.trimStart().startsWith('{') || text.trimStart().startsWith('[') ? parseEncounterBatch(text, { maxBodyBytes: Number.MAX_SAFE_INTEGER, maxEncounters: Number.MAX_SAFE_INTEGER, onSkip: (r) => reject(r) }) : parseSocioPatternsContacts(text);
        if (!ingest.encounters) {
          total.encounters += list.length;
          return;
        }
        const r = await ingest.encounters.store(ctx, orgId, opts.siteId, list);
        total.accepted += r.accepted;
        total.duplicates += r.duplicates;
        total.encounters += r.stored;
      });
      break;
    }
  }
  await flush(true);
  opts.onProgress?.(units, units);
  return total;
}
