/**
 * Live counts from the presence tracker's in-memory state (R-LOC-4): per cell (a zone, or a
 * floor's area outside every zone) the devices whose last sighting, within the window, put them
 * there; floors and sites are the sums of their cells (a device is in one cell at a time). The
 * randomised-address policy is applied when a figure is read, so the counts themselves keep both
 * parts. Nothing here keeps or returns a device identifier, except `identitiesIn` for an alert of
 * an org that turned identities on.
 */
import type { RandomizedPolicy } from './settings.ts';

/** What the counter reads of one device's presence (the tracker's state, structurally). */
export interface PresenceView {
  siteId: string;
  floorId: string;
  /** '' = on the floor, in no zone. */
  zoneId: string;
  lastMs: number;
  randomized: boolean;
  /** Pseudonym when the device is tracked individually, else null. */
  eventDevice: string | null;
}

/** Devices in one cell. */
export interface CellCount {
  siteId: string;
  floorId: string;
  zoneId: string;
  devices: number;
  randomized: number;
}

/** `floorId|zoneId`. */
export function cellKey(floorId: string, zoneId: string): string {
  return `${floorId}|${zoneId}`;
}

/**
 * Count devices per cell whose last sighting is at or after `sinceMs` (a sighting time-stamped
 * ahead of the counter's clock counts as now).
 *
 * @example countCells(tracker.state.values(), now - 5 * MINUTE_MS)
 */
export function countCells(devices: Iterable<PresenceView>, sinceMs: number): Map<string, CellCount> {
  const out = new Map<string, CellCount>();
  for (const d of devices) {
    if (d.lastMs < sinceMs) continue;
    const k = cellKey(d.floorId, d.zoneId);
    let c = out.get(k);
    if (c === undefined) {
      c = { siteId: d.siteId, floorId: d.floorId, zoneId: d.zoneId, devices: 0, randomized: 0 };
      out.set(k, c);
    }
    c.devices++;
    if (d.randomized) c.randomized++;
  }
  return out;
}

/**
 * The figure limits are compared with: every address (`count`), or only the non-randomised ones
 * (`skip`, `separate`).
 *
 * @example policyFigure({ devices: 10, randomized: 3 }, 'skip') === 7
 */
export function policyFigure(c: { devices: number; randomized: number }, policy: RandomizedPolicy): number {
  return policy === 'count' ? c.devices : c.devices - c.randomized;
}

/** Pseudonyms of the tracked devices in a cell now (for an alert that may name them), sorted, at most `max`. */
export function identitiesIn(devices: Iterable<PresenceView>, floorId: string, zoneId: string, sinceMs: number, policy: RandomizedPolicy, max = 500): string[] {
  const out: string[] = [];
  for (const d of devices) {
    if (d.lastMs < sinceMs || d.zoneId !== zoneId || d.floorId !== floorId || d.eventDevice === null) continue;
    if (policy !== 'count' && d.randomized) continue;
    out.push(d.eventDevice);
  }
  return out.sort().slice(0, max);
}
