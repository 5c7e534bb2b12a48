/**
 * The proximity question (R-CT-3): who was near one device, when, where and for how long. Three
 * kinds of evidence are gathered per contact device and merged:
 *
 *  - proximity: minutes in which the two devices' smoothed points were within the radius, widened
 *    by their accuracy (read from the index: the device's track, then only the cells within reach
 *    of each of its points; the open hours from memory);
 *  - co-presence: minutes in which both were known only by their AP and on the same AP
 *    (association-only fixes), and overlapping sessions at one AP from controller logs (the
 *    WiFiTrace model);
 *  - encounters: badge-to-badge encounters naming the device.
 *
 * A contact's cumulative time is the union of its evidence intervals, clipped to the window, so
 * evidence seen twice (a minute from fixes and from a session) counts once.
 */
import { MINUTE_MS } from '../../kernel/clock.ts';
import { AssociationSessionRepo, ProximityRepo, type Database } from '../../storage/index.ts';
import { CellReader, cellKey, CELL_METERS } from './codec.ts';
import type { ProximityIndex } from './indexer.ts';
import { ASSOCIATION, type MinutePoint } from './minutes.ts';

/** When two points are in contact. */
export interface ContactRule {
  radiusMeters: number;
  /** Radius grows by this × √(acc₁² + acc₂²)… */
  accuracyWidening: number;
  /** …by at most this, metres. */
  maxWideningMeters: number;
  /** Same AP counts for association-only data. */
  coPresence: boolean;
  /** Badge encounters count; `encounterMinRssiDbm` drops weaker ones. */
  encounters: boolean;
  encounterMinRssiDbm: number | null;
}

/** Which evidence a contact rests on. */
export type Evidence = 'proximity' | 'co-presence' | 'encounter';

/** What was found about one contact device (before thresholds). */
export interface ContactEvidence {
  /** Minutes of proximity or co-presence, with the distance (NaN: co-presence) and the index device's zone number. */
  minutes: Map<number, { distanceMeters: number; zone: number }>;
  /** Other intervals [startMs, endMs): encounters, association sessions. */
  intervals: [number, number][];
  kinds: Set<Evidence>;
}

function evidenceOf<K>(m: Map<K, ContactEvidence>, k: K): ContactEvidence {
  let e = m.get(k);
  if (!e) m.set(k, (e = { minutes: new Map(), intervals: [], kinds: new Set() }));
  return e;
}

/**
 * Distance of two points when they are in contact, NaN for co-presence at one AP, undefined when
 * they are not in contact.
 */
export function contactDistance(a: MinutePoint, bx: number, by: number, bAccuracy: number, bFlags: number, rule: ContactRule): number | undefined {
  const dx = a.xMeters - bx;
  const dy = a.yMeters - by;
  if (a.flags & ASSOCIATION || bFlags & ASSOCIATION) {
    if (!rule.coPresence || !(a.flags & ASSOCIATION && bFlags & ASSOCIATION)) return undefined;
    return Math.abs(dx) < 0.05 && Math.abs(dy) < 0.05 ? NaN : undefined;
  }
  const widen = Math.min(rule.maxWideningMeters, rule.accuracyWidening * Math.sqrt(a.accuracyMeters * a.accuracyMeters + bAccuracy * bAccuracy));
  const lim = rule.radiusMeters + widen;
  const d2 = dx * dx + dy * dy;
  return d2 <= lim * lim ? Math.sqrt(d2) : undefined;
}

function note(e: ContactEvidence, minute: number, d: number, zone: number): void {
  const prev = e.minutes.get(minute);
  if (!prev || d < prev.distanceMeters || (Number.isNaN(prev.distanceMeters) && !Number.isNaN(d))) e.minutes.set(minute, { distanceMeters: d, zone });
  e.kinds.add(Number.isNaN(d) ? 'co-presence' : 'proximity');
}

/**
 * Evidence from positions (index and live hours) for one device in [fromMs, toMs), keyed by
 * contact pseudonym. The index must be up to date (`ProximityIndex.catchUp`).
 *
 * @example const ev = await positionEvidence(index, db, orgId, device, fromMs, toMs, rule)
 */
export async function positionEvidence(ix: ProximityIndex, db: Database, orgId: string, device: string, fromMs: number, toMs: number, rule: ContactRule): Promise<Map<string, ContactEvidence>> {
  const num = await ix.deviceNum(db, orgId, device);
  const pts = await ix.track(db, orgId, device, num, fromMs, toMs);
  const until = ix.indexedUntil(orgId) ?? -Infinity;
  const byNum = new Map<number, ContactEvidence>();
  const out = new Map<string, ContactEvidence>();
  const reach = rule.radiusMeters + rule.maxWideningMeters;
  const byMinute: (MinutePoint | undefined)[] = new Array(60);
  let i = 0;
  while (i < pts.length) {
    const hourMinute = Math.floor(pts[i]!.minute / 60) * 60;
    let j = i;
    while (j < pts.length && pts[j]!.minute < hourMinute + 60) j++;
    if (hourMinute * MINUTE_MS < until) {
      // Closed hour: the cells within reach of each point, per floor.
      byMinute.fill(undefined);
      const needs = new Map<number, Map<number, number[]>>();
      for (let k = i; k < j; k++) {
        const p = pts[k]!;
        const mh = p.minute - hourMinute;
        byMinute[mh] = p;
        let cells = needs.get(p.floor);
        if (!cells) needs.set(p.floor, (cells = new Map()));
        const r = p.flags & ASSOCIATION ? 0 : reach;
        const cx0 = Math.floor(Math.max(0, p.xMeters - r) / CELL_METERS), cx1 = Math.floor(Math.max(0, p.xMeters + r) / CELL_METERS);
        const cy0 = Math.floor(Math.max(0, p.yMeters - r) / CELL_METERS), cy1 = Math.floor(Math.max(0, p.yMeters + r) / CELL_METERS);
        for (let cx = cx0; cx <= cx1; cx++) {
          for (let cy = cy0; cy <= cy1; cy++) {
            const c = cellKey(cx, cy);
            let l = cells.get(c);
            if (!l) cells.set(c, (l = []));
            l.push(mh);
          }
        }
      }
      for (const [floor, cells] of needs) {
        for (const row of await ix.cells(db, orgId, floor, hourMinute * MINUTE_MS, [...cells.keys()])) {
          const minutes = cells.get(Number(row.cell));
          if (!minutes) continue;
          const r = new CellReader(row.data);
          for (const mh of minutes) {
            const q = byMinute[mh]!;
            if (q.floor !== floor) continue;
            for (let k = r.start(mh), end = r.end(mh); k < end; k++) {
              const dev = r.device(k);
              if (dev === num) continue;
              const d = contactDistance(q, r.x(k), r.y(k), r.accuracy(k), r.flags(k), rule);
              if (d !== undefined) note(evidenceOf(byNum, dev), q.minute, d, q.zone);
            }
          }
        }
      }
    } else {
      // Open hour: the live devices near each point of the device.
      for (let k = i; k < j; k++) {
        const q = pts[k]!;
        for (const o of ix.liveNear(orgId, q.minute, q.floor, q.xMeters, q.yMeters, q.flags & ASSOCIATION ? 0 : reach)) {
          if (o.device === device) continue;
          const d = contactDistance(q, o.point.xMeters, o.point.yMeters, o.point.accuracyMeters, o.point.flags, rule);
          if (d !== undefined) note(evidenceOf(out, o.device), q.minute, d, q.zone);
        }
      }
    }
    i = j;
  }
  const names = await ix.devicesOf(db, orgId, byNum.keys());
  for (const [n, e] of byNum) {
    const dev = names.get(n);
    if (dev === undefined) continue; // purged from the dictionary meanwhile
    const have = out.get(dev);
    if (!have) out.set(dev, e);
    else {
      for (const [m, v] of e.minutes) note(have, m, v.distanceMeters, v.zone);
      for (const k of e.kinds) have.kinds.add(k);
    }
  }
  return out;
}

/**
 * Evidence from badge encounters and association sessions for one device in [fromMs, toMs),
 * added to `into` (keyed by contact pseudonym).
 */
export async function intervalEvidence(db: Database, orgId: string, device: string, fromMs: number, toMs: number, rule: ContactRule, into: Map<string, ContactEvidence>): Promise<void> {
  if (rule.encounters) {
    for (const e of await new ProximityRepo(db).encountersOf(orgId, device, fromMs, toMs, 86_400_000)) {
      if (rule.encounterMinRssiDbm !== null && (e.rssi_dbm === null || e.rssi_dbm < rule.encounterMinRssiDbm)) continue;
      const ev = evidenceOf(into, e.a === device ? e.b : e.a);
      ev.intervals.push([Number(e.at_ms), Number(e.at_ms) + Number(e.duration_ms)]);
      ev.kinds.add('encounter');
    }
  }
  if (rule.coPresence) {
    for (const s of await new AssociationSessionRepo(db).coPresence(orgId, device, fromMs, toMs)) {
      const start = Math.max(Number(s.start_ms), Number(s.index_start_ms));
      const end = Math.min(Number(s.end_ms), Number(s.index_end_ms));
      if (end < start) continue;
      const ev = evidenceOf(into, s.device);
      // Closed intervals of sessions: a one-event overlap still counts as its instant.
      ev.intervals.push([start, Math.max(end, start + 1)]);
      ev.kinds.add('co-presence');
    }
  }
}

/** Union of intervals [s, e) clipped to [fromMs, toMs): total length, first start and last end. */
export function unionOf(intervals: [number, number][], fromMs: number, toMs: number): { totalMs: number; firstMs: number; lastMs: number } {
  const clipped: [number, number][] = [];
  for (const [s, e] of intervals) {
    const a = Math.max(s, fromMs), b = Math.min(e, toMs);
    if (b > a) clipped.push([a, b]);
  }
  clipped.sort((p, q) => p[0] - q[0]);
  let total = 0, first = NaN, last = NaN;
  let cs = NaN, ce = NaN;
  for (const [s, e] of clipped) {
    if (Number.isNaN(first)) first = s;
    if (Number.isNaN(cs) || s > ce) {
      if (!Number.isNaN(cs)) total += ce - cs;
      cs = s;
      ce = e;
    } else if (e > ce) ce = e;
  }
  if (!Number.isNaN(cs)) {
    total += ce - cs;
    last = ce;
  }
  return { totalMs: total, firstMs: first, lastMs: last };
}

/** A contact as measured, before names and ranks. */
export interface MeasuredContact {
  device: string;
  firstMs: number;
  lastMs: number;
  totalMs: number;
  /** Closest measured distance, metres (null: co-presence or encounters only). */
  closestMeters: number | null;
  /** Minutes of proximity or co-presence per zone number of the index device. */
  zoneMinutes: Map<number, number>;
  evidence: Evidence[];
}

/**
 * Turn evidence into contacts: cumulative time (union of intervals, in [fromMs, toMs)) at least
 * `minMs`, strongest first (longest, then closest, then by pseudonym).
 *
 * @example measure(evidence, fromMs, toMs, 15 * 60_000)
 */
export function measure(evidence: Map<string, ContactEvidence>, fromMs: number, toMs: number, minMs: number): MeasuredContact[] {
  const out: MeasuredContact[] = [];
  for (const [device, e] of evidence) {
    const iv: [number, number][] = [...e.intervals];
    let closest = Infinity;
    const zoneMinutes = new Map<number, number>();
    for (const [m, v] of e.minutes) {
      iv.push([m * MINUTE_MS, (m + 1) * MINUTE_MS]);
      if (v.distanceMeters < closest) closest = v.distanceMeters;
      if (v.zone !== 0) zoneMinutes.set(v.zone, (zoneMinutes.get(v.zone) ?? 0) + 1);
    }
    const u = unionOf(iv, fromMs, toMs);
    if (u.totalMs <= 0 || u.totalMs < minMs) continue;
    out.push({ device, firstMs: u.firstMs, lastMs: u.lastMs, totalMs: u.totalMs, closestMeters: Number.isFinite(closest) ? Math.round(closest * 100) / 100 : null, zoneMinutes, evidence: [...e.kinds].sort() });
  }
  return out.sort((a, b) => b.totalMs - a.totalMs || (a.closestMeters ?? Infinity) - (b.closestMeters ?? Infinity) || (a.device < b.device ? -1 : 1));
}

/** Merge evidence of several index devices (a person's) per contact, leaving out `exclude`. */
export function mergeEvidence(parts: readonly Map<string, ContactEvidence>[], exclude: ReadonlySet<string>): Map<string, ContactEvidence> {
  const out = new Map<string, ContactEvidence>();
  for (const part of parts) {
    for (const [dev, e] of part) {
      if (exclude.has(dev)) continue;
      const have = out.get(dev);
      if (!have) {
        out.set(dev, { minutes: new Map(e.minutes), intervals: [...e.intervals], kinds: new Set(e.kinds) });
        continue;
      }
      for (const [m, v] of e.minutes) note(have, m, v.distanceMeters, v.zone);
      have.intervals.push(...e.intervals);
      for (const k of e.kinds) have.kinds.add(k);
    }
  }
  return out;
}
