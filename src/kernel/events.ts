/**
 * The typed in-process event bus. Cross-module reactions (a new fix updates occupancy; an org
 * created starts its retention schedule) go through here, never through direct imports.
 * Handlers run after the emitting transaction has committed; a throwing handler is logged and
 * does not affect the emitter or other handlers.
 */
export interface CairnEvents {
  'org.created': { orgId: string; region: string };
  'org.deleted': { orgId: string };
  'audit.appended': { orgId: string; seq: number };
  'retention.purged': { orgId: string; dataClass: string; rows: number };
  /** Zones of a floor (or the floor) changed; `floorId` null: anything in the org may have. */
  'tenancy.plan.changed': { orgId: string; floorId: string | null };
  /** A device entered a zone (from ingested fixes, after their commit). */
  'location.zone.entered': ZoneEvent;
  /** A device left a zone: it was seen elsewhere, or not seen for a while (`atMs` its last sighting there). */
  'location.zone.exited': ZoneEvent;
}

/**
 * A zone transition. `device` is the org's pseudonym (R-LOC-5) when the device is tracked
 * specifically, and null when only aggregates may be kept for it (R-LOC-3/4): occupancy still
 * counts it, nobody can follow it.
 */
export interface ZoneEvent {
  orgId: string;
  siteId: string;
  floorId: string;
  zoneId: string;
  device: string | null;
  randomized: boolean;
  atMs: number;
}

type Handler<T> = (payload: T) => void | Promise<void>;

export class EventBus<E extends object = CairnEvents> {
  private handlers = new Map<keyof E, Handler<never>[]>();
  constructor(private onError: (err: unknown, event: string) => void = () => {}) {}

  on<K extends keyof E>(event: K, handler: Handler<E[K]>): () => void {
    const list = this.handlers.get(event) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(event, list);
    return () => {
      const l = this.handlers.get(event);
      if (l) this.handlers.set(event, l.filter((h) => h !== (handler as Handler<never>)));
    };
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const h of this.handlers.get(event) ?? []) {
      try {
        const r = (h as Handler<E[K]>)(payload);
        if (r && typeof (r as Promise<void>).catch === 'function') {
          (r as Promise<void>).catch((e) => this.onError(e, String(event)));
        }
      } catch (e) {
        this.onError(e, String(event));
      }
    }
  }
}
