/**
 * Association sessions, as WiFiTrace builds them: a device's session at an AP starts when it
 * associates and ends when it disassociates from that same AP. Roaming to another AP closes the
 * previous session at the moment of the new association. Repeated association events at the
 * same AP (auth, assoc request, assoc success, user authentication…) extend one session instead
 * of starting new ones. A disassociation from an AP the device is not in a session with (the old
 * AP's late "moved out" after a roam) is ignored. Sessions with no event for `idleTimeoutMs`
 * are closed at their last event, the last moment there is evidence for.
 *
 * Streaming and bounded: open sessions live in a Map in order of last activity, so expiry only
 * looks at the stale end, and beyond `maxOpenSessions` the least recently active is evicted.
 */
import type { Association, AssociationSession, SessionEndReason } from './types.ts';

export interface SessionBuilderOptions {
  /** Close a session after this long without an event, ms. Default 1 hour. */
  idleTimeoutMs?: number;
  /** Most sessions kept open at once; the least recently active is closed (`evicted`) beyond it. Default 1 000 000. */
  maxOpenSessions?: number;
}

interface Open {
  session: AssociationSession;
  lastMs: number;
}

/**
 * Turns a stream of associate/disassociate events (in roughly time order) into sessions.
 *
 * @example
 * const b = new AssociationSessionBuilder({ idleTimeoutMs: 30 * MINUTE_MS });
 * for (const a of associations) for (const s of b.push(a)) store(s);
 * for (const s of b.flush()) store(s);
 */
export class AssociationSessionBuilder {
  private readonly open = new Map<string, Open>();
  private readonly idleMs: number;
  private readonly maxOpen: number;
  /** Disassociations that matched no open session (for metrics). */
  strayDisassociations = 0;

  constructor(opts: SessionBuilderOptions = {}) {
    this.idleMs = opts.idleTimeoutMs ?? 3_600_000;
    this.maxOpen = opts.maxOpenSessions ?? 1_000_000;
  }

  /** How many sessions are open now. */
  get openCount(): number {
    return this.open.size;
  }

  private key(a: Pick<Association, 'idType' | 'deviceId'>): string {
    return `${a.idType}\u0000${a.deviceId}`;
  }

  private close(k: string, o: Open, endMs: number, reason: SessionEndReason): AssociationSession {
    this.open.delete(k);
    o.session.endMs = Math.max(o.session.startMs, endMs);
    o.session.endReason = reason;
    return o.session;
  }

  /**
   * Apply one event; returns the sessions it closed (by roam or disassociation, or because the
   * device's previous session had already idled out), oldest first.
   */
  push(a: Association): AssociationSession[] {
    const closed: AssociationSession[] = [];
    const k = this.key(a);
    const cur = this.open.get(k);
    // Events slightly out of order never move time backwards within a session.
    const t = cur ? Math.max(a.atMs, cur.lastMs) : a.atMs;
    if (cur && t - cur.lastMs > this.idleMs) closed.push(this.close(k, cur, cur.lastMs, 'timeout'));
    const live = this.open.get(k);
    if (a.type === 'disassociate') {
      if (live && live.session.apKey === a.apKey) {
        live.session.eventCount++;
        closed.push(this.close(k, live, t, 'disassociation'));
      } else {
        this.strayDisassociations++;
      }
      return closed;
    }
    if (live && live.session.apKey === a.apKey) {
      live.session.eventCount++;
      live.lastMs = t;
      if (!live.session.apMac && a.apMac) live.session.apMac = a.apMac;
      this.open.delete(k); // re-insert: the Map's order is last-activity order
      this.open.set(k, live);
      return closed;
    }
    if (live) closed.push(this.close(k, live, t, 'roam'));
    const s: AssociationSession = {
      source: a.source,
      deviceId: a.deviceId,
      idType: a.idType,
      randomized: a.randomized,
      apKey: a.apKey,
      startMs: t,
      endMs: t,
      endReason: 'flush',
      eventCount: 1,
    };
    if (a.apName) s.apName = a.apName;
    if (a.apMac) s.apMac = a.apMac;
    this.open.set(k, { session: s, lastMs: t });
    if (this.open.size > this.maxOpen) {
      const [oldestKey, oldest] = this.open.entries().next().value as [string, Open];
      closed.push(this.close(oldestKey, oldest, oldest.lastMs, 'evicted'));
    }
    return closed;
  }

  /**
   * The device's open session and its last event time, if it has one.
   *
   * @example b.current({ idType: 'mac', deviceId })?.session.apKey // 'ap01'
   */
  current(ref: Pick<Association, 'idType' | 'deviceId'>): { session: AssociationSession; lastMs: number } | undefined {
    const o = this.open.get(this.key(ref));
    return o ? { session: o.session, lastMs: o.lastMs } : undefined;
  }

  /** Last event time (ms) of `session` while it is open; undefined once it has been closed. */
  lastActivityMs(session: AssociationSession): number | undefined {
    const o = this.open.get(this.key(session));
    return o && o.session === session ? o.lastMs : undefined;
  }

  /**
   * Put back a session that was open before a restart (read from the store), with its last event
   * time. Restore in order of last activity, oldest first, before pushing new events; a device
   * restored twice keeps the later one.
   *
   * @example for (const r of openRows) b.restore(sessionOf(r), r.end_ms)
   */
  restore(session: AssociationSession, lastMs: number): void {
    const k = this.key(session);
    this.open.delete(k);
    this.open.set(k, { session, lastMs });
  }

  /**
   * Close the sessions idle since before `nowMs - idleTimeoutMs`, at their last event. Call it
   * periodically (with the stream's clock) so sessions of silent devices end.
   */
  expire(nowMs: number): AssociationSession[] {
    const closed: AssociationSession[] = [];
    for (const [k, o] of this.open) {
      if (nowMs - o.lastMs <= this.idleMs) break; // the rest were active later
      closed.push(this.close(k, o, o.lastMs, 'timeout'));
    }
    return closed;
  }

  /** Close every open session at its last event (end of input), reason `flush`. */
  flush(): AssociationSession[] {
    const closed: AssociationSession[] = [];
    for (const [k, o] of this.open) closed.push(this.close(k, o, o.lastMs, 'flush'));
    return closed;
  }
}
